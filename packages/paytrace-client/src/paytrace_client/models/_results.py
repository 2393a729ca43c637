"""Models of the answers to card, vault, ACH and Protect calls (reference 3.2)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import PayTraceResponse, ResponseModel

__all__ = ["CheckResult", "ClientKey", "CustomerResult", "TransactionResult"]


class TransactionResult(PayTraceResponse):
    """A card transaction: sale (101), authorization (101), capture (112), void (109), refund
    (106). Capture, refund and void omit the approval / AVS / CSC fields, so they are optional;
    ``approval_message`` is kept exactly as PayTrace sends it (with its padding)."""

    transaction_id: int | None = None
    approval_code: str | None = None
    approval_message: str | None = None
    avs_response: str | None = None
    csc_response: str | None = None
    external_transaction_id: str | None = None
    masked_card_number: str | None = None
    #: Set by the Protect "sale and create profile" call.
    customer_id: str | None = None
    discretionary_data: dict[str, Any] | None = None


class CustomerResult(PayTraceResponse):
    """A vault profile created (160), updated (161) or deleted (162)."""

    customer_id: str | None = None
    masked_card_number: str | None = None


class CheckResult(PayTraceResponse):
    """An ACH check processed (120), refunded (122) or managed (124)."""

    check_transaction_id: int | None = None
    #: Only on ACH failures, which the client raises; kept for completeness.
    ach_code: int | str | None = None
    ach_message: str | None = None


class ClientKey(ResponseModel):
    """``payment_fields/token/create``: the key handed to PayTrace Protect's browser JS."""

    client_key: str = Field(alias="clientKey")
