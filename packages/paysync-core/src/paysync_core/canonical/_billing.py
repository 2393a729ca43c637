"""Canonical entities of settlement (use case 6) and recurring billing (use case 7)."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from pydantic import AwareDatetime, Field

from paysync_core.canonical import CanonicalModel, Currency, Money

__all__ = [
    "BillingInterval",
    "SettledTransaction",
    "Subscription",
    "SubscriptionStatus",
]


class SettledTransaction(CanonicalModel):
    """One transaction of a settlement batch: a sale adds to the deposit, a refund takes away."""

    gateway: str
    transaction_id: str
    transaction_type: str
    """``SALE`` or ``REFUND`` (upper case, as PayTrace names them)."""
    amount: Money = Field(ge=Decimal(0))
    currency: Currency = "USD"
    card_type: str | None = None
    invoice_id: str | None = None
    settled_at: AwareDatetime | None = None
    product_line: str | None = None
    """The product line the GL table may key on (derived from the PayTrace record by the
    configured source; ``None`` when none is derived)."""
    business_unit: str | None = None
    """The business unit of this transaction: its product-line rule's, else the use case's
    default (``None`` when neither is configured)."""


class BillingInterval(str, enum.Enum):
    WEEKLY = "Weekly"
    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"
    YEARLY = "Yearly"


class SubscriptionStatus(str, enum.Enum):
    ACTIVE = "Active"
    PAST_DUE = "Past Due"
    CANCELLED = "Cancelled"


class Subscription(CanonicalModel):
    """A recurring charge on a vaulted payment method; ``next_charge_date`` is the period
    being billed, ``failed_attempts`` the failed attempts for that period so far."""

    source_system: str
    source_id: str
    account_id: str | None = None
    amount: Money = Field(gt=Decimal(0))
    currency: Currency = "USD"
    interval: BillingInterval
    next_charge_date: date
    vault_customer_id: str = Field(min_length=1)
    status: SubscriptionStatus
    failed_attempts: int = Field(default=0, ge=0)
