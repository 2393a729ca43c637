"""The batch dimension of reconciliation reports, read from their JSON form.

``paysync_core.reconcile.write_report(..., "x.json")`` writes ``batches`` (reported and
computed totals per settlement batch) and ``discrepancies`` (each naming its ``batch``). The
reports page lists each JSON report's batches; a batch page lists that batch's discrepancies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import cast

from ._present import safe_text

__all__ = ["BatchRow", "BatchTotals", "ReportBatches", "read_batches"]

#: Larger JSON reports are not parsed for the listing (their files are still served).
MAX_JSON_BYTES = 50_000_000


@dataclass(frozen=True)
class BatchTotals:
    batch: str
    reported: str
    computed: str
    reported_count: int | None
    computed_count: int | None
    ok: bool
    discrepancies: int


@dataclass(frozen=True)
class BatchRow:
    """One discrepancy of a batch, every text through redaction."""

    kind: str
    key: str
    day: str
    paytrace: str
    fusion: str
    salesforce: str
    evidence: str
    fix: str


@dataclass(frozen=True)
class ReportBatches:
    totals: tuple[BatchTotals, ...]
    rows: dict[str, tuple[BatchRow, ...]]


def read_batches(folder: Path, name: str) -> ReportBatches | None:
    """The batches of the JSON report ``name`` under ``folder``; ``None`` if it has none.

    ``None`` too for a path escaping the folder, a missing, oversized or malformed file:
    a report the listing cannot read is still downloadable as a file.
    """
    root = folder.resolve()
    file = (root / name).resolve()
    if not name.lower().endswith(".json") or not file.is_relative_to(root) or not file.is_file():
        return None
    stat = file.stat()
    if stat.st_size > MAX_JSON_BYTES:
        return None
    return _parse(str(file), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _parse(path: str, mtime_ns: int, size: int) -> ReportBatches | None:
    # keyed on mtime and size so a rewritten report is read again
    del mtime_ns, size
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    doc = cast(dict[str, object], body)
    batches = _dicts(doc.get("batches"))
    if not batches:
        return None
    rows: dict[str, list[BatchRow]] = {}
    for d in _dicts(doc.get("discrepancies")):
        batch = _text(d.get("batch"))
        if batch:
            rows.setdefault(batch, []).append(_row(d))
    totals = tuple(
        BatchTotals(
            batch=_text(b.get("batch")),
            reported=_text(b.get("reported")),
            computed=_text(b.get("computed")),
            reported_count=_int(b.get("reported_count")),
            computed_count=_int(b.get("computed_count")),
            ok=b.get("ok") is True,
            discrepancies=len(rows.get(_text(b.get("batch")), [])),
        )
        for b in batches
    )
    return ReportBatches(totals, {k: tuple(v) for k, v in rows.items()})


def _row(d: dict[str, object]) -> BatchRow:
    fix = " ".join(
        part
        for part in (_text(d.get(f"fix_{k}")) for k in ("action", "system", "source_id", "step"))
        if part
    )
    return BatchRow(
        kind=_text(d.get("class")),
        key=_text(d.get("key")),
        day=_text(d.get("day")),
        paytrace=_text(d.get("paytrace_amount")),
        fusion=_text(d.get("fusion_amount")),
        salesforce=_text(d.get("salesforce_amount")),
        evidence=_text(d.get("evidence")),
        fix=fix,
    )


def _dicts(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        return []
    return [cast(dict[str, object], v) for v in cast(list[object], value) if isinstance(v, dict)]


def _text(value: object) -> str:
    return "" if value is None else safe_text(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
