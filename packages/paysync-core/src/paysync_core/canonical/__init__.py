"""The canonical model every use case speaks (ARCHITECTURE.md 2.4).

Each system's records are translated into and out of these entities by
:mod:`paysync_core.mapping`; no use case handles two systems' shapes directly. Entities are
frozen pydantic models: money is ``Decimal``, instants are timezone-aware, and a payment
method is only ever a gateway token (never a card number or CSC).
"""

from __future__ import annotations

import enum
import re
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "Address",
    "BillingInterval",
    "CanonicalModel",
    "Customer",
    "Invoice",
    "Journal",
    "JournalLine",
    "Money",
    "Order",
    "OrderLine",
    "Payment",
    "PaymentMethodToken",
    "PaymentStatus",
    "Receipt",
    "Refund",
    "RefundKind",
    "RefundRequest",
    "SettledTransaction",
    "SettlementBatch",
    "Subscription",
    "SubscriptionStatus",
]


def _money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("money must be finite")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("money has at most two decimal places")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("currency must be an ISO 4217 code such as USD")
    return value


Money = Annotated[Decimal, AfterValidator(_money)]
Currency = Annotated[str, AfterValidator(_currency)]


class CanonicalModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class PaymentStatus(str, enum.Enum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    SETTLED = "settled"
    DECLINED = "declined"
    VOIDED = "voided"
    REFUNDED = "refunded"
    ERROR = "error"


class Address(CanonicalModel):
    name: str | None = None
    street: str | None = None
    street2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str = "US"


class PaymentMethodToken(CanonicalModel):
    """A stored payment method: the gateway's vault reference plus masked display data."""

    gateway: str
    vault_id: str
    card_type: str | None = None
    last4: str | None = Field(default=None, pattern=r"^[0-9]{4}$")


class Customer(CanonicalModel):
    customer_id: str
    """paysync's own id (the cross-reference key)."""
    name: str
    salesforce_account_id: str | None = None
    paytrace_customer_id: str | None = None
    fusion_customer_account: str | None = None
    billing_address: Address | None = None
    email: str | None = None


class OrderLine(CanonicalModel):
    description: str
    quantity: Decimal = Decimal(1)
    unit_price: Money
    product_line: str | None = None


class Order(CanonicalModel):
    """A sale to be paid: an Opportunity Closed Won, a Salesforce Order, a web order."""

    source_system: str
    source_id: str
    customer: Customer
    amount: Money
    currency: Currency = "USD"
    order_date: date
    channel: str = "sales"
    lines: tuple[OrderLine, ...] = ()
    description: str | None = None


class Payment(CanonicalModel):
    gateway: str
    transaction_id: str
    order_source_id: str
    amount: Money
    currency: Currency = "USD"
    status: PaymentStatus
    status_reason: str
    method: PaymentMethodToken | None = None
    processed_at: AwareDatetime


class Refund(CanonicalModel):
    gateway: str
    transaction_id: str
    original_transaction_id: str
    amount: Money
    currency: Currency = "USD"
    processed_at: AwareDatetime


class Invoice(CanonicalModel):
    number: str
    customer_account: str
    amount: Money
    currency: Currency = "USD"
    invoice_date: date
    revenue_account: str


class Receipt(CanonicalModel):
    number: str
    customer_account: str
    amount: Money
    currency: Currency = "USD"
    receipt_date: date
    invoice_number: str | None = None


class SettlementBatch(CanonicalModel):
    gateway: str
    batch_number: str
    settled_at: AwareDatetime
    sale_amount: Money
    refund_amount: Money
    fee_amount: Money = Decimal("0.00")
    currency: Currency = "USD"


class JournalLine(CanonicalModel):
    account: str
    debit: Money = Decimal("0.00")
    credit: Money = Decimal("0.00")
    description: str = ""


class Journal(CanonicalModel):
    ledger: str
    accounting_date: date
    currency: Currency = "USD"
    source: str
    category: str
    lines: tuple[JournalLine, ...]


from ._billing import (  # noqa: E402  (needs CanonicalModel, Money, Currency defined above)
    BillingInterval,
    SettledTransaction,
    Subscription,
    SubscriptionStatus,
)
from ._refund import RefundKind, RefundRequest  # noqa: E402  (needs the entities above)
