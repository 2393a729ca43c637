"""The canonical chargeback (a dispute of a PayTrace payment)."""

from __future__ import annotations

from datetime import date

from paysync_core.canonical import CanonicalModel, Currency, Money

__all__ = ["Chargeback"]


class Chargeback(CanonicalModel):
    case_number: str
    """The acquirer's dispute case number: the correlation of every effect."""
    transaction_id: str
    """The disputed PayTrace transaction."""
    amount: Money
    currency: Currency = "USD"
    reason_code: str
    dispute_date: date
    reason: str | None = None
