"""Records returned by the export endpoints: transactions, customers, batches.

Parse them with the export time zone in the validation context::

    ExportedTransaction.model_validate(record, context={"tz": ZoneInfo("America/Chicago")})

Without a context the zone is :data:`DEFAULT_EXPORT_TIMEZONE` (US Pacific). Only
``transaction_id``, ``approval_code``, ``status_code``, ``status_message``, ``settled`` and
``created.at`` are confirmed by public fixtures; the other fields are PayTrace's documented
names and optional, and anything else PayTrace sends is kept as an extra field.
"""

from __future__ import annotations

from typing import Any

from ._base import ExportTimestamp, Money, ResponseModel

__all__ = [
    "Batch",
    "CustomerRecord",
    "ExportedAddress",
    "ExportedCheck",
    "ExportedCheckTransaction",
    "ExportedCreditCard",
    "ExportedTransaction",
    "TransactionCreated",
]


class ExportedCreditCard(ResponseModel):
    """The card as exports show it: masked (first 6 + last 4 with ``include_bin``)."""

    masked_number: str | None = None
    expiration_month: int | None = None
    expiration_year: int | None = None
    type: str | None = None


class ExportedCheck(ResponseModel):
    """A vault profile's bank account, as exports show it (masked)."""

    masked_account_number: str | None = None
    routing_number: str | None = None


class ExportedAddress(ResponseModel):
    name: str | None = None
    street_address: str | None = None
    street_address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class TransactionCreated(ResponseModel):
    """``created``: when, by which user and through which channel (API, virtual terminal)."""

    at: ExportTimestamp = None
    by: str | None = None
    through: str | None = None


class ExportedTransaction(ResponseModel):
    """One ``transactions[]`` record of ``transactions/export/*`` or ``batches/transaction_list``.

    ``status_code`` ``Y`` means pending settlement tonight, ``N`` voided / declined / auth only;
    a settled transaction's status names its batch. ``settled`` is ``None`` until it settles.
    """

    transaction_id: int
    transaction_type: str | None = None
    amount: Money | None = None
    status_code: str | None = None
    status_message: str | None = None
    approval_code: str | None = None
    approval_message: str | None = None
    avs_response: str | None = None
    csc_response: str | None = None
    invoice_id: str | None = None
    description: str | None = None
    customer_id: str | None = None
    credit_card: ExportedCreditCard | None = None
    billing_address: ExportedAddress | None = None
    shipping_address: ExportedAddress | None = None
    settled: ExportTimestamp = None
    created: TransactionCreated | None = None
    batch_number: int | None = None
    discretionary_data: dict[str, Any] | None = None


class ExportedCheckTransaction(ResponseModel):
    """One ``checks[]`` record of ``checks/export/by_date_range``: an ACH sale, hold or refund.

    **Inferred** (no public fixture; modelled on the transaction export and the legacy
    ``ExportCheck`` method): every field but ``check_transaction_id`` is optional, the bank
    account is masked, and ``status_message`` reads ``Processed``, ``Held``, ``Declined``,
    ``Voided`` or ``Refunded``.
    """

    check_transaction_id: int
    transaction_type: str | None = None
    amount: Money | None = None
    status_message: str | None = None
    invoice_id: str | None = None
    description: str | None = None
    customer_id: str | None = None
    check: ExportedCheck | None = None
    ach_code: int | str | None = None
    ach_message: str | None = None
    created: TransactionCreated | None = None


class CustomerRecord(ResponseModel):
    """One ``customers[]`` record of ``customer/export``."""

    customer_id: str
    credit_card: ExportedCreditCard | None = None
    check: ExportedCheck | None = None
    billing_address: ExportedAddress | None = None
    shipping_address: ExportedAddress | None = None
    email: str | None = None
    phone: str | None = None
    discretionary_data: dict[str, Any] | None = None


class Batch(ResponseModel):
    """A settlement batch summary (``batch`` / ``batches[]``). Only ``number`` is confirmed by
    public sources; the counts and totals PayTrace adds are kept as extra fields
    (``batch.model_extra``) rather than guessed at."""

    number: int | None = None
