"""Journal batches in the emulator: a successful Journal Import turns its ``GlInterface.csv``
rows into ``journalBatches`` records, one per batch name (``REFERENCE1``, else the source
and group id), so an integration can find its journal again by name."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from oracle_fusion_client._gl_journals import GL_REFERENCE1_INDEX

from ._state import State

__all__ = ["JOURNAL_BATCHES", "check_ledgers", "record_journal_batches"]

JOURNAL_BATCHES = "journalBatches"
_LEDGER, _SOURCE, _DR, _CR, _GROUP = 1, 3, 38, 39, 62


def _cell(row: Sequence[str], index: int) -> str:
    return row[index] if len(row) > index else ""


def check_ledgers(state: State, rows: Sequence[Sequence[str]]) -> list[str]:
    """Errors for rows naming an unknown ``LEDGER_ID``, when the seed lists ``ledgers``
    (``[{"LedgerId": 1, ...}]``); the default seed has none and accepts any ledger."""
    ledgers = state.ref.get("ledgers")
    if not isinstance(ledgers, list):
        return []
    known = {str(item.get("LedgerId")) for item in cast(list[dict[str, Any]], ledgers)}
    return [
        f"line {number}: the ledger {_cell(row, _LEDGER)} doesn't exist"
        for number, row in enumerate(rows, start=1)
        if _cell(row, _LEDGER) not in known
    ]


def record_journal_batches(state: State, request_id: str, rows: Sequence[Sequence[str]]) -> None:
    """Add one unposted journal batch per batch name found in ``rows`` (already balanced)."""
    batches: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = _cell(row, GL_REFERENCE1_INDEX) or f"{row[_SOURCE]} {_cell(row, _GROUP)}".strip()
        batch = batches.setdefault(
            name,
            {
                "BatchName": name,
                "JournalSource": row[_SOURCE],
                "Status": "Unposted",
                "RequestId": request_id,
                "GroupId": _cell(row, _GROUP) or None,
                "LineCount": 0,
                "RunningTotalEnteredDr": Decimal("0.00"),
                "RunningTotalEnteredCr": Decimal("0.00"),
            },
        )
        batch["LineCount"] += 1
        batch["RunningTotalEnteredDr"] += Decimal(_cell(row, _DR) or 0)
        batch["RunningTotalEnteredCr"] += Decimal(_cell(row, _CR) or 0)
    for batch in batches.values():
        key = state.new_id()
        state.put(JOURNAL_BATCHES, str(key), {"JeBatchId": key, **batch})
