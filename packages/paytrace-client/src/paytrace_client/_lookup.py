"""Resolving a write of unknown outcome by looking it up in PayTrace's exports.

PayTrace v1 has no idempotency key, so after a timeout the only way to know whether a sale
happened is to search the transaction exports for it: same invoice id, same amount, same
customer, created inside the window in which the request was in flight. Zero matches means
"not visible (yet)", one means it happened, several mean the correlation was not specific
enough (use unique invoice ids) and a human or a stricter rule must decide.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ._errors import LookupHint
from .models import ExportedTransaction
from .resources import Exports

__all__ = ["LookupOutcome", "LookupResult", "find_transaction"]

#: Which export ``transaction_type`` a creating write produces, by endpoint prefix.
_EXPECTED_TYPE = (
    ("transactions/sale/", "SALE"),
    ("transactions/authorization/keyed", "AUTHORIZATION"),
    ("transactions/authorization/by_customer", "AUTHORIZATION"),
    ("transactions/authorization/pt_protect", "AUTHORIZATION"),
    ("transactions/refund/", "REFUND"),
)
#: Writes that act on an existing transaction rather than creating one.
_FOLLOW_UPS = ("transactions/authorization/capture", "transactions/void")


class LookupOutcome(enum.Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class LookupResult:
    outcome: LookupOutcome
    matches: tuple[ExportedTransaction, ...]

    @property
    def transaction(self) -> ExportedTransaction | None:
        """The one matching transaction, if exactly one matched."""
        return self.matches[0] if self.outcome is LookupOutcome.FOUND else None


def _result(matches: Iterable[ExportedTransaction]) -> LookupResult:
    found = tuple(matches)
    if not found:
        return LookupResult(LookupOutcome.NOT_FOUND, found)
    if len(found) == 1:
        return LookupResult(LookupOutcome.FOUND, found)
    return LookupResult(LookupOutcome.AMBIGUOUS, found)


def _expected_type(path: str) -> str | None:
    for prefix, kind in _EXPECTED_TYPE:
        if path.startswith(prefix):
            return kind
    return None


def _matches(
    record: ExportedTransaction,
    hint: LookupHint,
    expected_type: str | None,
    earliest: datetime,
    latest: datetime,
) -> bool:
    if hint.invoice_id is not None and record.invoice_id != hint.invoice_id:
        return False
    if hint.amount is not None and record.amount is not None and record.amount != hint.amount:
        return False
    if hint.customer_id is not None and record.customer_id not in {None, hint.customer_id}:
        return False
    record_type = (record.transaction_type or "").upper()
    if expected_type and record_type and expected_type not in record_type:
        return False
    created = record.created.at if record.created is not None else None
    return created is None or earliest <= created <= latest


def find_transaction(
    exports: Exports, hint: LookupHint, *, tz: tzinfo, slack: timedelta = timedelta(minutes=10)
) -> LookupResult:
    """Search the exports for the transaction a lost write may have created.

    ``slack`` widens the in-flight window on both sides for clock differences between this
    machine and PayTrace. For a capture or void (which create no transaction) the referenced
    transaction is returned as it is now; inspect its ``status_code`` / ``status_message``.
    """
    if hint.path in _FOLLOW_UPS and hint.transaction_id is not None:
        record = exports.transaction(hint.transaction_id)
        return _result([record] if record is not None else [])
    earliest, latest = hint.started_at - slack, hint.finished_at + slack
    start, end = earliest.astimezone(tz).date(), latest.astimezone(tz).date()
    expected_type = _expected_type(hint.path)
    records = exports.transactions(start, end, customer_id=hint.customer_id)
    return _result(r for r in records if _matches(r, hint, expected_type, earliest, latest))
