"""Ledger records turned into plain, redacted dictionaries for templates and JSON.

Everything shown passes through :func:`paysync_core.redact` here, once, so no template or
endpoint can render a PAN, CSC, token or password even if one slipped into a step's error
text or a dead-letter's evidence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import cast
from urllib.parse import quote

from paysync_core import AuditRecord, DeadLetter, FlowRecord, StepRecord, redact

__all__ = ["dead_letter_view", "duration", "flow_view", "safe_json", "safe_text", "step_view"]


def safe_text(value: object) -> str:
    if value is None:
        return ""
    return str(redact(str(value)))


def safe_json(value: object) -> str:
    return json.dumps(redact(value), indent=2, sort_keys=True, default=str)


def duration(seconds: float | None) -> str:
    """``42 s``, ``7 min``, ``3.5 h``, ``2.0 d``: a stream's lag at a glance."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def flow_view(flow: FlowRecord) -> dict[str, object]:
    return {
        "flow_id": flow.flow_id,
        "flow_key": flow.flow_key,
        "use_case": flow.use_case,
        "source_system": flow.source_system,
        "source_id": safe_text(flow.source_id),
        "version": flow.version,
        "state": flow.state.value,
        "current_step": flow.current_step,
        "created_at": _ts(flow.created_at),
        "updated_at": _ts(flow.updated_at),
        "not_before": _ts(flow.not_before),
        "last_error": safe_text(flow.last_error) or None,
        "input": redact(dict(flow.input)),
    }


def _link(template: str | None, external_id: str) -> str | None:
    # only web links: a configured "javascript:" template must not become a clickable script
    if not template or not template.startswith(("https://", "http://")):
        return None
    return template.replace("{id}", quote(external_id, safe=""))


def step_view(step: StepRecord, *, system: str, links: Mapping[str, str]) -> dict[str, object]:
    started = step.requested_at or step.intended_at
    seconds = (step.finished_at - started).total_seconds() if step.finished_at else None
    ids = cast(Mapping[str, object], redact(dict(step.external_ids)))
    return {
        "index": step.index,
        "name": step.name,
        "system": system,
        "state": step.state.value,
        "attempts": step.attempts,
        "intended_at": _ts(step.intended_at),
        "requested_at": _ts(step.requested_at),
        "finished_at": _ts(step.finished_at),
        "seconds": seconds,
        "last_error": safe_text(step.last_error) or None,
        "request": redact(dict(step.request_summary)),
        "external_ids": [
            {"name": k, "id": str(v), "url": _link(links.get(system), str(v))}
            for k, v in sorted(ids.items())
        ],
    }


def dead_letter_view(entry: DeadLetter) -> dict[str, object]:
    return {
        "entry_id": entry.entry_id,
        "flow_id": entry.flow_id,
        "step_name": entry.step_name,
        "reason": safe_text(entry.reason),
        "last_error": safe_text(entry.last_error) or None,
        "occurrences": entry.occurrences,
        "status": entry.status.value,
        "note": safe_text(entry.note) or None,
        "created_at": _ts(entry.created_at),
        "updated_at": _ts(entry.updated_at),
        "evidence": redact(list(entry.evidence)),
    }


def audit_view(record: AuditRecord) -> dict[str, object]:
    return {
        "seq": record.seq,
        "at": record.at,
        "flow_id": record.flow_id,
        "kind": record.kind,
        "detail": redact(dict(record.detail)),
        "hash": record.hash,
    }


def audit_rows(rows: Sequence[tuple[object, ...]]) -> list[dict[str, object]]:
    """Rows of ``seq, at, flow_id, kind, detail_json, hash`` as :func:`audit_view` dicts."""
    found: list[dict[str, object]] = []
    for seq, at, flow_id, kind, detail, digest in rows:
        found.append(
            {
                "seq": int(str(seq)),
                "at": str(at),
                "flow_id": None if flow_id is None else str(flow_id),
                "kind": str(kind),
                "detail": redact(json.loads(str(detail))),
                "hash": str(digest),
            }
        )
    return found
