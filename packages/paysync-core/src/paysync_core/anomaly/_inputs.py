"""What a detection run reads, and the small files both engines read the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from paysync_core.reconcile import read_csv_rows

from ._detect import BatchRow
from ._model import AnomalyInputError
from ._schema import BATCH_FILE_COLUMNS

__all__ = ["Inputs", "parse_day", "read_batches"]

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT = re.compile(r"-?[0-9]+")
_COUNT = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Inputs:
    transactions: Path
    receipts: Path | None = None
    batches: Path | None = None
    start: date | None = None
    end: date | None = None

    def in_window(self, day: str) -> bool:
        """The date window compares ``day`` as text, as the reconciliation engines do."""
        if self.start is not None and day < self.start.isoformat():
            return False
        return self.end is None or day <= self.end.isoformat()


def parse_day(value: str, field: str) -> date:
    text = value.strip()
    if not _DAY.fullmatch(text):
        raise AnomalyInputError(field, f"{value!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise AnomalyInputError(field, f"{value!r} is not a valid day") from exc


def read_batches(inputs: Inputs) -> list[BatchRow]:
    """The batch file (small: one row per settlement), filtered to the date window when it
    has a ``day`` column."""
    path = inputs.batches
    if path is None:
        return []
    rows: list[BatchRow] = []
    for line, row in enumerate(read_csv_rows(path, BATCH_FILE_COLUMNS), start=2):
        where = f"{path}:{line}"
        net = (row.get("net_cents") or "").strip()
        if not _INT.fullmatch(net):
            raise AnomalyInputError(f"{where}:net_cents", f"{net!r} is not whole cents")
        count = (row.get("count") or "").strip()
        if count and not _COUNT.fullmatch(count):
            raise AnomalyInputError(f"{where}:count", f"{count!r} is not a count")
        raw_day = (row.get("day") or "").strip()
        day = parse_day(raw_day, f"{where}:day") if raw_day else None
        if day is not None and not inputs.in_window(raw_day):
            continue
        rows.append(
            BatchRow((row.get("batch") or "").strip(), int(net), int(count) if count else None, day)
        )
    return rows
