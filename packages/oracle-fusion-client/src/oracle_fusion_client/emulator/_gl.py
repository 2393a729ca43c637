"""Journal batches in the emulator: a successful Journal Import turns its ``GlInterface.csv``
rows into ``journalBatches`` records, one per batch name (``REFERENCE1``, else the source
and group id), so an integration can find its journal again by name."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from oracle_fusion_client import _gl_interface as cols
from oracle_fusion_client._gl_journals import GL_REFERENCE1_INDEX

from ._state import State

__all__ = ["JOURNAL_BATCHES", "check_ledgers", "record_journal_batches"]

JOURNAL_BATCHES = "journalBatches"
_LEDGER, _SOURCE, _CURRENCY, _GROUP = cols.LEDGER_ID, cols.SOURCE, cols.CURRENCY_CODE, cols.GROUP_ID
_DR, _CR, _ACC_DR, _ACC_CR = cols.ENTERED_DR, cols.ENTERED_CR, cols.ACCOUNTED_DR, cols.ACCOUNTED_CR
_CONV_TYPE, _CONV_DATE, _CONV_RATE = (
    cols.CONVERSION_TYPE,
    cols.CONVERSION_DATE,
    cols.CONVERSION_RATE,
)


def _cell(row: Sequence[str], index: int) -> str:
    return row[index] if len(row) > index else ""


def check_ledgers(state: State, rows: Sequence[Sequence[str]]) -> list[str]:
    """Errors for rows naming an unknown ``LEDGER_ID``, when the seed lists ``ledgers``
    (``[{"LedgerId": 1, ...}]``); the default seed has none and accepts any ledger."""
    ledgers = state.ref.get("ledgers")
    if not isinstance(ledgers, list):
        return []
    items = cast(list[dict[str, Any]], ledgers)
    known = {str(item.get("LedgerId")) for item in items}
    errors = [
        f"line {number}: the ledger {_cell(row, _LEDGER)} doesn't exist"
        for number, row in enumerate(rows, start=1)
        if _cell(row, _LEDGER) not in known
    ]
    currencies = {str(i.get("LedgerId")): i.get("CurrencyCode") for i in items}
    for number, row in enumerate(rows, start=1):
        ledger_currency = currencies.get(_cell(row, _LEDGER))
        if ledger_currency and _cell(row, _CURRENCY) != ledger_currency:
            errors += _conversion_errors(number, row)
    return errors


def _conversion_errors(number: int, row: Sequence[str]) -> list[str]:
    """A foreign-currency line needs its conversion type and date; ``User`` also a rate."""
    rate_type = _cell(row, _CONV_TYPE)
    if not rate_type:
        return [f"line {number}: a foreign currency journal needs a conversion rate type"]
    if not _cell(row, _CONV_DATE):
        return [f"line {number}: a foreign currency journal needs a conversion date"]
    if rate_type == "User" and not _cell(row, _CONV_RATE):
        return [f"line {number}: the conversion rate type User needs a conversion rate"]
    return []


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
                "RunningTotalAccountedDr": Decimal("0.00"),
                "RunningTotalAccountedCr": Decimal("0.00"),
            },
        )
        batch["LineCount"] += 1
        batch["RunningTotalEnteredDr"] += Decimal(_cell(row, _DR) or 0)
        batch["RunningTotalEnteredCr"] += Decimal(_cell(row, _CR) or 0)
        # accounted amounts left empty are the entered ones (a ledger-currency journal)
        batch["RunningTotalAccountedDr"] += Decimal(_cell(row, _ACC_DR) or _cell(row, _DR) or 0)
        batch["RunningTotalAccountedCr"] += Decimal(_cell(row, _ACC_CR) or _cell(row, _CR) or 0)
    for batch in batches.values():
        key = state.new_id()
        state.put(JOURNAL_BATCHES, str(key), {"JeBatchId": key, **batch})
