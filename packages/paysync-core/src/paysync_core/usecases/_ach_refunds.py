"""Use case 3 for ACH payments: the PayTrace half of a refund or void of an ``ACH-<check id>``
payment (use case 1 names ACH payments so; ``Payment_ID__c`` and the receipt ``PT-ACH-<id>``).
The flow's canonical request holds the check id itself as ``original_transaction_id`` and the
flow input says ``payment_method = "ach"`` (check ids are numbered apart from card
transactions, so the method is what tells them apart).

What PayTrace offers (``/work/shared/reference/paytrace-api.md`` section 2):
``checks/manage/void`` for a check not processed yet and ``checks/refund/by_transaction`` (full
or partial, answer 122 with the refund's own ``check_transaction_id``). Inferred, because the
reference does not say: when a check stops being voidable (the bank's cut-off), so a request
for the whole amount tries the void first and refunds when PayTrace refuses it (a refusal did
nothing, so refunding then cannot pay twice); and the check export
(``checks/export/by_date_range``, itself inferred) as the way to see a check's state.

A check refund carries no ``invoice_id`` (the endpoint takes the check id and amount only), so
an unknown outcome is resolved by the vault customer's REFUND checks of the requested amount
created since the request: exactly one is this refund; none answers ``pending`` (export lag is
never "absent" when money goes out); several need a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

from paysync_core import LookupResult, NeedsHumanError, PermanentError, RetryableError
from paysync_core.canonical import RefundKind, RefundRequest
from paysync_core.ports import PayTracePort
from paytrace_client.models import ExportedCheckTransaction

__all__ = ["ACH_PREFIX", "AchReversal", "ach_check_id", "ach_name"]

ACH_PREFIX = "ACH-"
_CENT = Decimal("0.01")


def ach_check_id(payment_id: str) -> str | None:
    """The check id of an ``ACH-<id>`` payment name, ``None`` for a card payment; a malformed
    one is refused naming the field."""
    if not payment_id.startswith(ACH_PREFIX):
        return None
    digits = payment_id.removeprefix(ACH_PREFIX)
    if not digits.isdigit():
        raise ValueError(f"Payment__c record: {payment_id!r} is not ACH-<check id>")
    return digits


def ach_name(request: RefundRequest) -> str:
    """``ACH-<check id>``: the payment's name in Salesforce and in its receipt number."""
    return f"{ACH_PREFIX}{request.original_transaction_id}"


def _status(record: ExportedCheckTransaction) -> str:
    return (record.status_message or "").strip().lower()


def _created(record: ExportedCheckTransaction) -> datetime | None:
    return record.created.at if record.created is not None else None


def _not_before(record: ExportedCheckTransaction, moment: datetime) -> bool:
    at = _created(record)
    return at is None or at >= moment


class AchReversal:
    """Void or refund an ACH payment, with the lookup and the refunded total."""

    def __init__(
        self, paytrace: PayTracePort, *, lookback: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.paytrace = paytrace
        self.lookback = lookback
        self.clock = clock

    def _window(self, since: datetime | None = None) -> tuple[date, date]:
        now = self.clock()
        tz = self.paytrace.export_timezone
        start = since if since is not None else now - self.lookback
        return start.astimezone(tz).date(), now.astimezone(tz).date()

    def sale(self, request: RefundRequest) -> ExportedCheckTransaction:
        """The ACH payment being reversed, as the check export shows it (amount in cents)."""
        ident = int(request.original_transaction_id)
        start, end = self._window()
        sale = self.paytrace.check_record(ident, start=start, end=end)
        if sale is None or sale.amount is None:
            raise PermanentError(
                f"original_transaction_id {ach_name(request)}: no such PayTrace "
                f"ACH payment in the check export of the last {self.lookback.days} days"
            )
        sale = sale.model_copy(update={"amount": sale.amount.quantize(_CENT)})
        if (sale.transaction_type or "SALE").upper() == "REFUND":
            raise PermanentError(
                f"original_transaction_id {ach_name(request)} is an ACH refund, not a payment"
            )
        if "declined" in _status(sale):
            raise PermanentError(
                f"original_transaction_id {ach_name(request)}: the ACH payment "
                "was declined; there is nothing to refund"
            )
        if sale.amount is None or request.amount > sale.amount:
            raise PermanentError(
                f"amount {request.amount} exceeds the ACH payment's {sale.amount} "
                f"(original_transaction_id {ach_name(request)})"
            )
        return sale

    @staticmethod
    def ids(
        kind: RefundKind, transaction_id: str, sale: ExportedCheckTransaction
    ) -> dict[str, str]:
        created = _created(sale)
        return {
            "kind": kind.value,
            "transaction_id": transaction_id,
            "sale_amount": str((sale.amount or Decimal(0)).quantize(_CENT)),
            "sale_invoice_id": sale.invoice_id or "",
            "sale_created": created.isoformat() if created else "",
            "method": "ach",
            "customer_id": sale.customer_id or "",
        }

    def reverse(self, request: RefundRequest) -> dict[str, str]:
        sale = self.sale(request)
        ident, status = sale.check_transaction_id, _status(sale)
        payment = ach_name(request)
        if "voided" in status:
            return self.ids(RefundKind.VOID, payment, sale)
        if request.amount == sale.amount and self.paytrace.void_check(ident):
            return self.ids(RefundKind.VOID, payment, sale)
        if "held" in status:
            raise RetryableError(
                f"ACH payment {payment} is held: a partial refund waits until it is funded "
                "(a held check is voided in full or not at all)"
            )
        refund_id = self.paytrace.refund_check(ident, request.amount)
        return self.ids(RefundKind.REFUND, f"{ACH_PREFIX}{refund_id}", sale)

    def find(self, request: RefundRequest) -> LookupResult:
        sale = self.sale(request)
        if "voided" in _status(sale) and request.amount == sale.amount:
            ids = self.ids(RefundKind.VOID, ach_name(request), sale)
            return LookupResult.found(ids, "ACH payment shows Voided in the check export")
        start, end = self._window(request.requested_at)
        after = _created(sale) or request.requested_at
        mine = [
            r
            for r in self.paytrace.check_refunds(sale.customer_id or "", start=start, end=end)
            if r.amount is not None
            and r.amount.quantize(_CENT) == request.amount
            and "voided" not in _status(r)
            and _not_before(r, after)
        ]
        if not mine:
            return LookupResult.pending(
                f"no ACH refund of {request.amount} for customer {sale.customer_id} in the "
                "check export (yet)"
            )
        if len(mine) > 1:
            found = ", ".join(str(r.check_transaction_id) for r in mine)
            raise NeedsHumanError(
                f"several ACH refunds of {request.amount} for customer {sale.customer_id} since "
                f"the request ({found}): which one is this request's cannot be told"
            )
        refund_id = f"{ACH_PREFIX}{mine[0].check_transaction_id}"
        return LookupResult.found(
            self.ids(RefundKind.REFUND, refund_id, sale),
            f"PayTrace ACH refund {mine[0].check_transaction_id} found by customer and amount",
        )

    def refunded_total(self, request: RefundRequest, done: Mapping[str, str]) -> Decimal:
        """The ACH payment's refunds netted: the whole amount once the check export shows the
        payment ``Refunded``; else the customer's live REFUND checks since the payment (capped at
        its amount: the export does not link a refund to its payment), this one counted even if
        the export lags."""
        sale = self.sale(request)
        amount = sale.amount or Decimal(0)
        if "refunded" in _status(sale):
            return amount
        created = _created(sale)
        start, end = self._window(created)
        total, seen = Decimal("0.00"), False
        for record in self.paytrace.check_refunds(sale.customer_id or "", start=start, end=end):
            if record.amount is None or "voided" in _status(record):
                continue
            if created is not None and not _not_before(record, created):
                continue
            total += record.amount.quantize(_CENT)
            seen = seen or f"{ACH_PREFIX}{record.check_transaction_id}" == done["transaction_id"]
        total = total if seen else total + request.amount
        return min(total, amount)
