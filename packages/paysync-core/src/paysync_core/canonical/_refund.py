"""Canonical refund requests (use case 3): what should be given back, and for which sale."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from paysync_core.canonical import CanonicalModel, Currency, Money

__all__ = ["RefundKind", "RefundRequest"]


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("a refund amount must be positive")
    return value


class RefundKind(str, enum.Enum):
    """How the money goes back: a void before settlement, a refund after it."""

    VOID = "void"
    REFUND = "refund"


class RefundRequest(CanonicalModel):
    """One refund or void of a captured sale, from Salesforce or found in PayTrace.

    ``request_id`` names this request (a Salesforce record id, or the PayTrace refund's
    transaction id when it was found by polling); ``observed_transaction_id`` is set when the
    refund already happened in PayTrace and only needs to be posted to Fusion and Salesforce.
    """

    request_id: str = Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_-]+$")
    original_transaction_id: str = Field(pattern=r"^[0-9]+$")
    amount: Annotated[Money, AfterValidator(_positive)]
    currency: Currency = "USD"
    salesforce_payment_key: str
    """``Payment_ID__c`` of the Salesforce payment (the PayTrace sale's transaction id)."""
    fusion_customer_account: str
    requested_at: AwareDatetime
    reason: str = "customer refund"
    observed_transaction_id: str | None = None
    observed_kind: RefundKind | None = None
