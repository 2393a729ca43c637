"""PayTrace port: vault profiles and sales, each with its lookup by correlation.

PayTrace v1 has no idempotency key, so a sale carries the flow's correlation in ``invoice_id``
and an unknown outcome is resolved through the transaction exports
(:meth:`paytrace_client.PayTraceClient.find_transaction`), never by charging again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from paysync_core import NeedsHumanError
from paytrace_client import (
    Address,
    ExportTransactionType,
    LookupHint,
    LookupOutcome,
    PayTraceClient,
    PayTraceDeclinedError,
    PayTraceDuplicateError,
    PayTraceNotFoundError,
    PayTraceStateError,
    PayTraceValidationError,
    ProtectToken,
)
from paytrace_client.models import (
    Batch,
    CustomerRecord,
    ExportedCheckTransaction,
    ExportedTransaction,
    TransactionResult,
)

__all__ = ["PayTracePort", "SaleOutcome", "VaultProfile"]

_SALE_PATH = "transactions/sale/by_customer"
_AUTHORIZE_PATH = "transactions/authorization/by_customer"
_CAPTURE_PATH = "transactions/authorization/capture"
_REFUND_PATH = "transactions/refund/for_transaction"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _last4(masked: str | None) -> str:
    digits = (masked or "")[-4:]
    return digits if digits.isdigit() else ""


@dataclass(frozen=True)
class VaultProfile:
    customer_id: str
    card_type: str
    last4: str
    bank_last4: str = ""
    """Last 4 of the profile's bank account (ACH), empty when it holds none."""


@dataclass(frozen=True)
class SaleOutcome:
    """What a sale did: approved or declined (a decline is data, not an error)."""

    transaction_id: str
    approved: bool
    response_code: int
    message: str
    last4: str
    processed_at: datetime
    details: Mapping[str, str] = field(default_factory=dict[str, str])
    """Reference / answer fields PayTrace returned (``approval_code``, ``avs_response``, ...,
    from the export also ``invoice_id``, ``description``); for custom-field mapping."""


_ANSWER_FIELDS = ("approval_code", "approval_message", "avs_response", "csc_response")
_EXPORT_FIELDS = (
    *_ANSWER_FIELDS,
    "status_message",
    "transaction_type",
    "invoice_id",
    "description",
    "customer_id",
)


def _details(record: object, names: tuple[str, ...]) -> dict[str, str]:
    values = {name: getattr(record, name, None) for name in names}
    return {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}


def _reference_extras(reference: Mapping[str, str] | None) -> dict[str, object]:
    """``customer_reference_id`` and ``discretionary_data.<NAME>`` as client extras (the
    description is composed by the caller)."""
    extras: dict[str, object] = {}
    data: dict[str, str] = {}
    for target, value in (reference or {}).items():
        if target.startswith("discretionary_data."):
            data[target.removeprefix("discretionary_data.")] = value
        elif target == "customer_reference_id":
            extras[target] = value
    if data:
        extras["discretionary_data"] = data
    return extras


class PayTracePort:
    """``token_source`` supplies a Protect token for a customer that has no vault profile
    yet (from the hosted payment fields); it is never stored by paysync."""

    def __init__(
        self,
        client: PayTraceClient,
        *,
        token_source: Callable[[str], ProtectToken | None] = lambda _customer: None,
        lookback: timedelta = timedelta(days=3),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.client = client
        self._token_source = token_source
        self._lookback = lookback
        self._clock = clock

    # -- vault ---------------------------------------------------------------------------
    def find_profile(self, customer_id: str) -> VaultProfile | None:
        """Lookup by correlation: ``customer/export`` by the vault customer id."""
        try:
            records = self.client.customers.export(customer_id)
        except PayTraceNotFoundError:  # code 30: no such profile
            return None
        matching = [r for r in records if r.customer_id == customer_id]
        return _profile(matching[0]) if matching else None

    def ensure_profile(self, customer_id: str) -> VaultProfile:
        """Find the profile, or create it from a Protect token (171 means it exists)."""
        found = self.find_profile(customer_id)
        if found is not None:
            return found
        token = self._token_source(customer_id)
        if token is None:
            raise NeedsHumanError(
                f"vault profile {customer_id} does not exist and no payment token was provided"
            )
        # 171: created by an earlier attempt whose answer was lost.
        with contextlib.suppress(PayTraceDuplicateError):
            self.client.customers.create_protect(customer_id, token)
        created = self.find_profile(customer_id)
        if created is None:
            raise NeedsHumanError(f"vault profile {customer_id} not visible after creation")
        return created

    # -- sales ---------------------------------------------------------------------------
    def sale(
        self,
        *,
        amount: Decimal,
        customer_id: str,
        invoice_id: str,
        description: str,
        reference: Mapping[str, str] | None = None,
    ) -> SaleOutcome:
        """A sale on the vault profile; ``reference`` adds ``customer_reference_id`` /
        ``discretionary_data.<NAME>`` values (custom-field mapping)."""
        return self._money(
            self.client.transactions.sale_by_customer,
            amount=amount,
            customer_id=customer_id,
            invoice_id=invoice_id,
            description=description,
            reference=reference,
        )

    def authorize(
        self,
        *,
        amount: Decimal,
        customer_id: str,
        invoice_id: str,
        description: str,
        reference: Mapping[str, str] | None = None,
    ) -> SaleOutcome:
        """Authorization only on the vault profile (approved = 101); :meth:`capture` takes it."""
        return self._money(
            self.client.transactions.authorize_by_customer,
            amount=amount,
            customer_id=customer_id,
            invoice_id=invoice_id,
            description=description,
            reference=reference,
        )

    def _money(
        self,
        call: Callable[..., TransactionResult],
        *,
        amount: Decimal,
        customer_id: str,
        invoice_id: str,
        description: str,
        reference: Mapping[str, str] | None,
    ) -> SaleOutcome:
        extras = _reference_extras(reference)
        try:
            result = call(
                amount, customer_id, invoice_id=invoice_id, description=description, **extras
            )
        except PayTraceDeclinedError as declined:
            return SaleOutcome(
                transaction_id=str(declined.transaction_id or ""),
                approved=False,
                response_code=declined.response_code,
                message=declined.approval_message or declined.status_message,
                last4="",
                processed_at=self._clock(),
                details=_details(declined, ("approval_message", "status_message")),
            )
        return SaleOutcome(
            transaction_id=str(result.transaction_id),
            approved=True,
            response_code=result.response_code,
            message=(result.approval_message or result.status_message or "").strip(),
            last4=_last4(result.masked_card_number),
            processed_at=self._clock(),
            details=_details(result, (*_ANSWER_FIELDS, "status_message")),
        )

    def find_sale(
        self, *, invoice_id: str, amount: Decimal, customer_id: str
    ) -> SaleOutcome | None:
        """Lookup by correlation: the exports filtered by ``invoice_id``, amount and customer."""
        return self._find_charge(_SALE_PATH, "sales", invoice_id, amount, customer_id)

    def find_authorization(
        self, *, invoice_id: str, amount: Decimal, customer_id: str
    ) -> SaleOutcome | None:
        """Lookup by correlation: the AUTHORIZATION in the exports carrying ``invoice_id``."""
        return self._find_charge(_AUTHORIZE_PATH, "authorizations", invoice_id, amount, customer_id)

    def _find_charge(
        self, path: str, what: str, invoice_id: str, amount: Decimal, customer_id: str
    ) -> SaleOutcome | None:
        now = self._clock()
        found = self._find_one(
            LookupHint(
                path=path,
                started_at=now - self._lookback,
                finished_at=now,
                invoice_id=invoice_id,
                amount=amount,
                customer_id=customer_id,
            ),
            what,
        )
        return None if found is None else _sale_from_export(found, now)

    def capture(self, transaction_id: str) -> str:
        """Capture an authorization in full (112); returns the transaction id (a capture
        creates no transaction of its own)."""
        result = self.client.transactions.capture(int(transaction_id))
        return str(result.transaction_id or transaction_id)

    def capture_status(self, transaction_id: str) -> bool | None:
        """Lookup of a capture: ``True`` when the authorization's export shows it captured
        (pending settlement or settled), ``False`` while it is still authorization only,
        ``None`` when PayTrace has no such transaction. A voided or declined authorization
        can never be captured: a human decides."""
        now = self._clock()
        found = self.client.find_transaction(
            LookupHint(
                path=_CAPTURE_PATH,
                started_at=now - self._lookback,
                finished_at=now,
                transaction_id=int(transaction_id),
            )
        )
        if found.outcome is LookupOutcome.NOT_FOUND:
            return None
        record = found.matches[0]
        status = (record.status_message or "").lower()
        if "authorization only" in status:
            return False
        if "declined" in status or "voided" in status:
            raise NeedsHumanError(
                f"PayTrace authorization {transaction_id} is {record.status_message}: "
                "it cannot be captured"
            )
        return True

    def _find_one(self, hint: LookupHint, what: str) -> ExportedTransaction | None:
        """The one export ``hint`` matches; ``None`` for none; several need a human."""
        found = self.client.find_transaction(hint)
        if found.outcome is LookupOutcome.NOT_FOUND:
            return None
        if found.outcome is LookupOutcome.AMBIGUOUS:
            ids = ", ".join(str(m.transaction_id) for m in found.matches)
            raise NeedsHumanError(f"several PayTrace {what} carry invoice {hint.invoice_id}: {ids}")
        return found.matches[0]

    # -- single transactions, declines and profiles (use cases 4 and 5) ---------------------
    def find_transaction(self, transaction_id: str) -> ExportedTransaction | None:
        """``transactions/export/by_id``: ``None`` when PayTrace has no such transaction."""
        try:
            return self.client.exports.transaction(int(transaction_id))
        except PayTraceNotFoundError:  # 58 / 811: unknown transaction id
            return None

    def declined_transactions(self, start: date, end: date) -> list[ExportedTransaction]:
        """Declined transactions from ``start`` to ``end`` (``transaction_type=DECLINED``)."""
        return list(self.client.exports.transactions(start, end, transaction_type="DECLINED"))

    def find_profile_record(self, customer_id: str) -> CustomerRecord | None:
        """The whole vault record (masked card data only) for a field-by-field comparison."""
        try:
            records = self.client.customers.export(customer_id)
        except PayTraceNotFoundError:
            return None
        return next((r for r in records if r.customer_id == customer_id), None)

    def profile_records(self) -> list[CustomerRecord]:
        """Every vault profile (``customer/export`` without ``customer_id``; masked card data
        only), for finding profiles changed in PayTrace."""
        return list(self.client.customers.export())

    def token_for(self, customer_id: str) -> ProtectToken | None:
        """A Protect token for a new profile from ``token_source`` (never stored)."""
        return self._token_source(customer_id)

    def create_profile(
        self,
        customer_id: str,
        token: ProtectToken,
        *,
        billing_address: Address,
        email: str | None,
        phone: str | None = None,
    ) -> None:
        """``customer/pt_protect_create``; 171 (taken) means an earlier attempt created it."""
        with contextlib.suppress(PayTraceDuplicateError):
            self.client.customers.create_protect(
                customer_id, token, billing_address=billing_address, email=email, phone=phone
            )

    def update_profile(
        self,
        customer_id: str,
        *,
        billing_address: Address,
        email: str | None,
        phone: str | None = None,
    ) -> None:
        """``customer/update`` of the contact fields only: the card stays as PayTrace has it
        (``phone`` none: not sent, PayTrace keeps its own)."""
        self.client.customers.update(
            customer_id, billing_address=billing_address, email=email, phone=phone
        )

    # -- ACH (checks) ----------------------------------------------------------------------
    def check_sale(
        self, *, amount: Decimal, customer_id: str, invoice_id: str, description: str
    ) -> SaleOutcome:
        """ACH debit of the vault profile's bank account (``checks/sale/by_customer``,
        processed = 120); a 125 is returned as a decline with ``ach_code`` / ``ach_message``.
        paysync never sees the account number: the profile holds it."""
        try:
            result = self.client.checks.sale_by_customer(
                amount, customer_id, invoice_id=invoice_id, description=description
            )
        except PayTraceDeclinedError as declined:
            ach = _ach_details(declined.body)
            return SaleOutcome(
                transaction_id=str(declined.transaction_id or ""),
                approved=False,
                response_code=declined.response_code,
                message=ach.get("ach_message") or declined.status_message,
                last4="",
                processed_at=self._clock(),
                details={"status_message": declined.status_message, **ach},
            )
        return SaleOutcome(
            transaction_id=str(result.check_transaction_id or ""),
            approved=True,
            response_code=result.response_code,
            message=(result.status_message or "").strip(),
            last4="",
            processed_at=self._clock(),
            details=_details(result, ("status_message",)),
        )

    def find_check_sale(
        self, *, invoice_id: str, amount: Decimal, customer_id: str
    ) -> SaleOutcome | None:
        """Lookup by correlation: the ACH sale carrying ``invoice_id`` in the check export
        (``checks/export/by_date_range``, an inferred endpoint: an error from it propagates,
        so "cannot tell" never reads as "not there"); several need a human."""
        now = self._clock()
        tz = self.client.export_timezone
        records = self.client.checks.export(
            (now - self._lookback).astimezone(tz).date(),
            now.astimezone(tz).date(),
            customer_id=customer_id,
        )
        found = [
            r
            for r in records
            if r.invoice_id == invoice_id
            and (r.transaction_type or "SALE").upper() == "SALE"
            and (r.amount is None or r.amount == amount)
        ]
        if not found:
            return None
        if len(found) > 1:
            ids = ", ".join(str(r.check_transaction_id) for r in found)
            raise NeedsHumanError(f"several PayTrace ACH sales carry invoice {invoice_id}: {ids}")
        record = found[0]
        status = (record.status_message or "").lower()
        code = 125 if "declined" in status else 120
        ach = {
            k: str(v)
            for k, v in (("ach_code", record.ach_code), ("ach_message", record.ach_message))
            if v not in (None, "")
        }
        return SaleOutcome(
            transaction_id=str(record.check_transaction_id),
            approved=code == 120,
            response_code=code,
            message=(record.ach_message or record.status_message or "").strip(),
            last4=_last4(record.check.masked_account_number if record.check else None),
            processed_at=record.created.at if record.created and record.created.at else now,
            details={**_details(record, ("status_message", "invoice_id", "description")), **ach},
        )

    # -- ACH refunds and voids (use case 3) -------------------------------------------------
    def check_record(
        self, check_transaction_id: int, *, start: date, end: date
    ) -> ExportedCheckTransaction | None:
        """One check as the (inferred) check export shows it, created from ``start`` to
        ``end``; ``None`` when it has none (an export error propagates: "cannot tell")."""
        records = self.client.checks.export(start, end, check_transaction_id=check_transaction_id)
        found = [r for r in records if r.check_transaction_id == check_transaction_id]
        return found[0] if found else None

    def check_refunds(
        self, customer_id: str, *, start: date, end: date
    ) -> list[ExportedCheckTransaction]:
        """The REFUND checks of a vault customer created from ``start`` to ``end``. A check
        refund carries no ``invoice_id`` of its own (``checks/refund/by_transaction`` takes only
        the check id and amount), so the customer is what links it back."""
        records = self.client.checks.export(start, end, customer_id=customer_id)
        return [r for r in records if (r.transaction_type or "").upper() == "REFUND"]

    def void_check(self, check_transaction_id: int) -> bool:
        """``checks/manage/void`` (managed = 124): ``True`` once voided, ``False`` when PayTrace
        refuses it because the check is past voiding (processed, refunded: error 821 [inferred]
        or a lifecycle error); nothing happened then, so a refund may follow."""
        try:
            self.client.checks.void(check_transaction_id)
        except PayTraceStateError:
            return False
        except PayTraceValidationError as refused:
            if "821" in refused.errors:
                return False
            raise
        return True

    def refund_check(self, check_transaction_id: int, amount: Decimal) -> str:
        """``checks/refund/by_transaction`` (refunded = 122), fully or partly; returns the
        refund's ``check_transaction_id``."""
        result = self.client.checks.refund_transaction(check_transaction_id, amount)
        return str(result.check_transaction_id or "")

    # -- refunds, voids and activity ----------------------------------------------------
    def void(self, transaction_id: str) -> str:
        """Void a sale pending settlement (109); returns the voided transaction id."""
        result = self.client.transactions.void(int(transaction_id))
        return str(result.transaction_id or transaction_id)

    def refund(self, *, transaction_id: str, amount: Decimal, invoice_id: str) -> str:
        """Refund (part of) a settled sale (106), labelled with ``invoice_id``; returns the
        refund's transaction id."""
        result = self.client.transactions.refund_transaction(
            int(transaction_id), amount, invoice_id=invoice_id
        )
        return str(result.transaction_id)

    def find_refund(self, *, invoice_id: str, amount: Decimal) -> str | None:
        """Lookup by correlation: the REFUND in the exports carrying ``invoice_id``."""
        now = self._clock()
        found = self._find_one(
            LookupHint(
                path=_REFUND_PATH,
                started_at=now - self._lookback,
                finished_at=now,
                invoice_id=invoice_id,
                amount=amount,
            ),
            "refunds",
        )
        return None if found is None else str(found.transaction_id)

    def activity(
        self, start: date, end: date, *, transaction_type: ExportTransactionType | None = None
    ) -> list[ExportedTransaction]:
        """Transactions created from ``start`` to ``end`` (dates in PayTrace's export zone)."""
        return list(self.client.exports.transactions(start, end, transaction_type=transaction_type))

    @property
    def export_timezone(self) -> tzinfo:
        return self.client.export_timezone

    # -- settlement batches (use case 6) ---------------------------------------------------
    def settlement_batch(self, batch_number: int | None = None) -> Batch | None:
        """One batch summary (the latest when ``batch_number`` is None): read only."""
        return self.client.batches.export_one(batch_number)

    def settlement_batches(self, start: date, end: date) -> list[Batch]:
        """The batches settled from ``start`` to ``end`` (inclusive)."""
        return self.client.batches.export(start, end)

    def batch_transactions(self, batch_number: int) -> list[ExportedTransaction]:
        """The transactions settled in one batch (``batches/transaction_list``)."""
        return self.client.batches.transactions(batch_number)


def _profile(record: CustomerRecord) -> VaultProfile:
    card, check = record.credit_card, record.check
    return VaultProfile(
        customer_id=record.customer_id,
        card_type=(card.type or "") if card is not None else "",
        last4=_last4(card.masked_number if card is not None else None),
        bank_last4=_last4(check.masked_account_number if check is not None else None),
    )


def _ach_details(body: Mapping[str, object]) -> dict[str, str]:
    """``ach_code`` / ``ach_message`` of an ACH failure (the return reason), when given."""
    values = {name: body.get(name) for name in ("ach_code", "ach_message")}
    return {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}


def _sale_from_export(record: ExportedTransaction, now: datetime) -> SaleOutcome:
    """An export row -> outcome. Exports carry no response code: a ``Declined`` status reads
    as 102, ``Voided`` as 103 (auto-void), anything else as approved (101)."""
    status = (record.status_message or "").lower()
    code = 102 if "declined" in status else 103 if "voided" in status else 101
    card = record.credit_card
    return SaleOutcome(
        transaction_id=str(record.transaction_id),
        approved=code == 101,
        response_code=code,
        message=(record.approval_message or record.status_message or "").strip(),
        last4=_last4(card.masked_number if card is not None else None),
        processed_at=record.created.at if record.created and record.created.at else now,
        details=_details(record, _EXPORT_FIELDS),
    )
