"""Use case 3: refunds and voids -> Fusion credit memo or receipt reversal -> Salesforce.

A refund is requested from Salesforce (:meth:`Refunds.submit_request`: the ``Payment__c``
record, an amount and the request's id) or found in PayTrace by polling the exports
(:meth:`Refunds.submit_observed`: a refund made in the virtual terminal). Steps:

1. ``paytrace_reverse``  the sale as it is now decides: pending settlement and the full
   amount -> ``transactions/void``; settled -> ``transactions/refund/for_transaction`` (partial
   allowed) labelled ``invoice_id = RF-<sale>-<request>``; a partial refund of an unsettled
   sale waits for settlement (retryable). Lookup: the sale shows ``Voided``, or a REFUND with
   that ``invoice_id`` is in the exports; not (yet) in the exports answers ``pending`` (export
   lag), never "absent", so an unknown outcome is never refunded twice. A refund found by
   polling is taken as done.
2. ``fusion_reverse``    refund -> on-account credit memo ``CM-<refund id>`` (lookup by
   ``TransactionNumber``); void -> the sale's receipt ``PT-<sale>`` reversed (lookup: the
   receipt's ``State`` is ``Reversed``; no receipt -> nothing to reverse, recorded as skipped).
3. ``salesforce_payment`` ``Payment__c`` upserted by ``Payment_ID__c``: status and the refunded
   amount netted over every refund of the sale in the exports (so partial refunds add up, and a
   repeated update writes the same values).

Refunds of one sale run one at a time (entity ``refund:<sale>``), so netting sees the previous
ones.

ACH payments (``Payment_ID__c`` = ``ACH-<check id>``, use case 1) take the same steps through
PayTrace's check endpoints (:mod:`._ach_refunds`): the whole amount is voided
(``checks/manage/void``) while PayTrace still allows it, else refunded
(``checks/refund/by_transaction``); the credit memo is ``CM-ACH-<refund check id>`` and the
reversed receipt ``PT-ACH-<check id>``.

With a ``currency`` whose ledger currency is not USD, the credit memo stays in USD and carries
the Fusion daily rate of its date (``ConversionRateType`` / ``ConversionDate`` /
``ConversionRate``, as Oracle's foreign-currency credit memo example); a receipt reversal
needs none (it reverses the receipt at the receipt's own rate).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from oracle_fusion_client import NewCreditMemo
from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LookupResult,
    PermanentError,
    RetryableError,
    Step,
    StepContext,
    SubmitHook,
)
from paysync_core.canonical import PaymentStatus, RefundKind, RefundRequest
from paysync_core.mapping import (
    CurrencyConversionConfig,
    CustomerXref,
    Decision,
    FusionReceivablesConfig,
    FusionState,
    FusionStatusMap,
    GlRule,
    GlTable,
    PaymentCustomFieldMap,
    ProductLineMapping,
    RefundFieldMap,
    VaultXref,
    credit_memo_to_fusion,
    paytrace_record_fields,
    refund_status,
    salesforce_custom_values,
)
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paytrace_client.models import ExportedTransaction

from ._ach_refunds import AchReversal, ach_check_id, ach_name
from ._fusion_cash import conversion_note, conversion_summary, credit_memo_conversion
from ._summaries import fusion_payload, known, result, salesforce_upsert

__all__ = ["REFUNDS_USE_CASE", "RefundRequestFields", "Refunds", "RefundsConfig"]

REFUNDS_USE_CASE = "refunds_and_voids"
_SKIPPED = "skipped"


class RefundRequestFields(BaseModel):
    """``Payment__c`` fields through which a refund is asked in Salesforce (``paysync run``
    polls the records whose amount field is above zero)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    amount: str = "Refund_Requested_Amount__c"
    """``Payment__c`` field holding the refund amount asked."""
    request_id: str | None = "Refund_Request_ID__c"
    """Names the request (a new value asks for another refund); empty: the record's Id."""


class RefundsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    accounts: CustomerXref = CustomerXref()
    """Salesforce Account -> Fusion customer account (refunds requested from Salesforce)."""
    vaults: VaultXref = VaultXref()
    """PayTrace vault customer -> Fusion customer account (refunds found by polling)."""
    invoice_prefix: str = "RF-"
    """``invoice_id`` prefix of the refunds paysync makes (the poller ignores them)."""
    gl: GlTable = GlTable(
        rules=(GlRule(account="01-000-4100-0000", transaction_type="REFUND"),),
        default="01-000-4999-0000",
    )
    """Revenue account the credit memo reverses."""
    fusion: FusionReceivablesConfig = FusionReceivablesConfig()
    """How credit memos and receipt reversals are made in Fusion Receivables."""
    credit_memo_type: str = "Credit Memo"
    """Receivables transaction type of the credit memos."""
    reversal_reason: str = "PAYMENT VOIDED"
    """Reason code of a receipt reversal (a void)."""
    currency: CurrencyConversionConfig = CurrencyConversionConfig()
    """The Fusion ledger's currency; other than USD, the credit memo carries the Fusion daily
    rate of its date (a receipt reversal needs no rate)."""
    product_lines: ProductLineMapping | None = None
    """Where the refunded card sale's product line comes from (its PayTrace record), for
    credit memo accounts keyed on it (none by default; ACH payments have none)."""
    fusion_status: FusionStatusMap = FusionStatusMap()
    """What a void (``voided``) and a refund (``refunded``) post to Fusion: by default a void
    reverses the sale's receipt and a refund creates an on-account credit memo."""
    payment_fields: RefundFieldMap = RefundFieldMap()
    """Field names of the ``Payment__c`` record updated."""
    channel: str = "refund"
    """Channel of refunds, as the GL rules see it."""
    lookback: timedelta = timedelta(days=120)
    """How far back the sale that a polled refund belongs to is searched."""
    salesforce_requests: RefundRequestFields | None = None
    """Refunds asked on ``Payment__c`` (opt-in: the org needs the fields)."""
    detect_voids: bool = True
    """Poll PayTrace for sales voided there (``transaction_type=VOID``) under ``paysync run``."""
    void_lookback: timedelta = timedelta(days=3)
    """How far back (sale creation) voids are looked for: a sale can be voided only while it
    is pending settlement, so a few days cover weekends and a late batch."""
    payment_custom_fields: PaymentCustomFieldMap = Field(default_factory=dict[str, str])
    """PayTrace field of the refunded sale's export record (``description``,
    ``customer_reference_id``, ``discretionary_data.<NAME>``, ...) -> ``Payment__c`` field,
    written with the refund's status (custom-field mapping; card sales only: an ACH check
    record carries no such fields)."""


def _request(ctx: StepContext) -> RefundRequest:
    return RefundRequest.model_validate(ctx.input["request"])


def _is_ach(ctx: StepContext) -> bool:
    """A refund of an ACH payment (flows recorded before ACH refunds: card)."""
    return ctx.input.get("payment_method") == "ach"


def _sale_name(ctx: StepContext) -> str:
    """The payment as Salesforce and the receipt number name it (``ACH-<id>`` for ACH)."""
    request = _request(ctx)
    return ach_name(request) if _is_ach(ctx) else request.original_transaction_id


def _is_voided(record: ExportedTransaction) -> bool:
    return "voided" in (record.status_message or "").lower()


def _is_settled(record: ExportedTransaction) -> bool:
    # ``Y`` = pending settlement tonight; a settled record names its batch / has ``settled``.
    return record.settled is not None or (record.status_code or "").upper() not in ("Y", "N")


class Refunds:
    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        fusion: FusionPort,
        salesforce: SalesforcePort,
        config: RefundsConfig | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.paytrace = paytrace
        self.fusion = fusion
        self.salesforce = salesforce
        self.config = config or RefundsConfig()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._ach = AchReversal(paytrace, lookback=self.config.lookback, clock=self._clock)

    # -- triggers --------------------------------------------------------------------------
    def submit_request(
        self,
        engine: Engine,
        payment: Mapping[str, Any],
        *,
        request_id: str,
        amount: Decimal,
        reason: str = "customer refund",
    ) -> FlowRecord:
        """A refund requested in Salesforce for a ``Payment__c`` record (its
        ``Payment_ID__c`` is the PayTrace sale's transaction id, ``Account__c`` its Account).

        ``request_id`` identifies the request (e.g. the Salesforce refund record id): the same
        id submitted again returns the same flow. An ACH payment (``ACH-<check id>``) is
        reversed through PayTrace's check endpoints; a malformed ``ACH-`` id is refused.
        """
        fields = self.config.payment_fields
        for name in (fields.external_id, fields.account):
            if not payment.get(name):
                raise ValueError(f"Payment__c record: {name} is missing")
        key = str(payment[fields.external_id])
        linked = payment.get(fields.transaction_id) if fields.transaction_id else None
        transaction_id = str(linked or key)
        check = ach_check_id(transaction_id)  # an ACH payment (use case 1): ACH-<check id>
        fusion = self.config.accounts.fusion_account(str(payment[fields.account]))
        request = RefundRequest(
            request_id=request_id,
            original_transaction_id=check or transaction_id,
            amount=amount,
            salesforce_payment_key=key,
            fusion_customer_account=fusion.value,
            requested_at=self._clock(),
            reason=reason,
        )
        return self._submit(
            engine, request, "salesforce", fusion.reason, None, ach=check is not None
        )

    def accepts_observed(self, record: ExportedTransaction) -> bool:
        """A REFUND made outside paysync (paysync's own carry ``invoice_prefix``)."""
        return (
            (record.transaction_type or "").upper() == "REFUND"
            and not (record.invoice_id or "").startswith(self.config.invoice_prefix)
            and not _is_voided(record)
        )

    def submit_observed(
        self,
        engine: Engine,
        record: ExportedTransaction,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """A refund found in PayTrace's exports: linked to its sale by ``invoice_id`` (PayTrace
        copies the sale's onto a referenced refund); ``None`` if it is not ours to post."""
        if not self.accepts_observed(record) or not record.invoice_id or record.amount is None:
            return None
        sale = self._sale_for(record)
        if sale is None:
            return None
        fusion = self.config.vaults.fusion_account(sale.customer_id)
        created = record.created.at if record.created is not None else None
        request = RefundRequest(
            request_id=str(record.transaction_id),
            original_transaction_id=str(sale.transaction_id),
            amount=record.amount,
            salesforce_payment_key=str(sale.transaction_id),
            fusion_customer_account=fusion.value,
            requested_at=created or self._clock(),
            reason=record.description or "refund made in PayTrace",
            observed_transaction_id=str(record.transaction_id),
            observed_kind=RefundKind.REFUND,
        )
        return self._submit(engine, request, "paytrace", fusion.reason, checkpoint)

    def accepts_observed_void(self, record: ExportedTransaction) -> bool:
        """A sale (or authorization) whose record shows ``Voided``."""
        kind = (record.transaction_type or "").upper()
        return kind in ("SALE", "AUTHORIZATION") and _is_voided(record)

    def submit_observed_void(
        self,
        engine: Engine,
        record: ExportedTransaction,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """A sale voided in PayTrace (found by :class:`PayTraceVoidPoller`: the sale's own
        record, now ``Voided``): its receipt is reversed and its ``Payment__c`` set Voided.

        ``None`` (nothing to post) for a void paysync made or is making itself (a refund flow
        of the sale for its full amount: that flow posts the void), and for a sale with no
        ``Payment__c`` (not one paysync recorded, or not yet: the poller looks again).
        The flow key is (use case, ``paytrace``, ``V-<sale>``, 1): one flow per void.
        """
        if not self.accepts_observed_void(record) or record.amount is None:
            return None
        sale_id = str(record.transaction_id)
        amount = record.amount.quantize(Decimal("0.01"))
        if self._own_void(engine, sale_id, amount):
            return None
        fields = self.config.payment_fields
        if self.salesforce.find_id(fields.sobject, fields.external_id, sale_id) is None:
            return None
        try:
            fusion = self.config.vaults.fusion_account(record.customer_id)
            account, mapping = fusion.value, fusion.reason
        except LookupError:
            # a void posts no credit memo: only the receipt is reversed, found by number
            account, mapping = "", "void: no Fusion customer account needed"
        request = RefundRequest(
            request_id=f"V-{sale_id}",
            original_transaction_id=sale_id,
            amount=amount,
            salesforce_payment_key=sale_id,
            fusion_customer_account=account,
            requested_at=self._clock(),  # the export does not say when the void was made
            reason="voided in PayTrace",
            observed_transaction_id=sale_id,
            observed_kind=RefundKind.VOID,
        )
        return self._submit(engine, request, "paytrace", mapping, checkpoint)

    @staticmethod
    def _own_void(engine: Engine, sale_id: str, amount: Decimal) -> bool:
        """A refund flow of the sale for its whole amount exists: paysync voided it (or will
        find it voided and post the void itself)."""
        for flow in engine.flows_for_entity(REFUNDS_USE_CASE, f"refund:{sale_id}"):
            if flow.source_system == "paytrace":  # refunds found by polling are not voids
                continue
            request: object = flow.input.get("request")
            if isinstance(request, dict):
                asked = cast("dict[str, object]", request).get("amount")
                if asked is not None and Decimal(str(asked)) == amount:
                    return True
        return False

    def _sale_for(self, refund: ExportedTransaction) -> ExportedTransaction | None:
        now = self._clock()
        tz = self.paytrace.export_timezone
        start = (now - self.config.lookback).astimezone(tz).date()
        sales = [
            r
            for r in self.paytrace.activity(
                start, now.astimezone(tz).date(), transaction_type="SALE"
            )
            if r.invoice_id == refund.invoice_id and not _is_voided(r)
        ]
        return sales[0] if len(sales) == 1 else None

    def _submit(
        self,
        engine: Engine,
        request: RefundRequest,
        source: str,
        mapping: str,
        checkpoint: SubmitHook | None,
        *,
        ach: bool = False,
    ) -> FlowRecord:
        sale = ach_name(request) if ach else request.original_transaction_id
        method: dict[str, object] = {"payment_method": "ach"} if ach else {}
        return engine.submit(
            REFUNDS_USE_CASE,
            source_system=source,
            source_id=request.request_id,
            version=1,
            entity_key=f"refund:{sale}",
            input={"request": request.model_dump(mode="json"), "mapping": mapping, **method},
            checkpoint=checkpoint,
        )

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            REFUNDS_USE_CASE,
            [
                Step(
                    "paytrace_reverse",
                    self._reverse,
                    self._find_reverse,
                    system="paytrace",
                    summarize=self._summary,
                ),
                Step(
                    "fusion_reverse",
                    self._fusion,
                    self._find_fusion,
                    system="fusion",
                    summarize=self._fusion_summary,
                ),
                Step(
                    "salesforce_payment",
                    self._sf_payment,
                    self._find_sf_payment,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._sf_payment_summary,
                ),
            ],
        )

    # 1. PayTrace
    def _invoice_id(self, request: RefundRequest) -> str:
        return f"{self.config.invoice_prefix}{request.original_transaction_id}-{request.request_id}"

    def _summary(self, ctx: StepContext) -> Mapping[str, object]:
        request = _request(ctx)
        if _is_ach(ctx):
            ach = int(request.original_transaction_id)
            return {
                "sale": ach_name(request),
                "amount": str(request.amount),
                # the void is tried for the whole amount; PayTrace refusing it -> the refund
                "void": {"endpoint": "checks/manage/void", "check_transaction_id": ach},
                "refund": {
                    "endpoint": "checks/refund/by_transaction",
                    "check_transaction_id": ach,
                    "amount": str(request.amount),
                },
            }
        return {
            "sale": request.original_transaction_id,
            "amount": str(request.amount),
            "invoice_id": self._invoice_id(request),
            # which one is decided at run time from the sale's settlement state
            "void": {
                "endpoint": "transactions/void",
                "transaction_id": request.original_transaction_id,
            },
            "refund": {
                "endpoint": "transactions/refund/for_transaction",
                "transaction_id": request.original_transaction_id,
                "amount": str(request.amount),
                "invoice_id": self._invoice_id(request),
            },
        }

    def _sale(self, request: RefundRequest) -> ExportedTransaction:
        sale = self.paytrace.find_transaction(request.original_transaction_id)
        if sale is None or sale.amount is None:
            raise PermanentError(
                f"original_transaction_id {request.original_transaction_id}: "
                "no such PayTrace transaction"
            )
        # exports carry amounts as JSON numbers: back to cents
        sale = sale.model_copy(update={"amount": sale.amount.quantize(Decimal("0.01"))})
        if sale.amount is None or request.amount > sale.amount:
            raise PermanentError(
                f"amount {request.amount} exceeds the sale's {sale.amount} "
                f"(original_transaction_id {request.original_transaction_id})"
            )
        return sale

    def _ids(
        self, kind: RefundKind, transaction_id: str, sale: ExportedTransaction
    ) -> dict[str, str]:
        ids = {
            "kind": kind.value,
            "transaction_id": transaction_id,
            "sale_amount": str((sale.amount or Decimal(0)).quantize(Decimal("0.01"))),
            "sale_invoice_id": sale.invoice_id or "",
            "sale_created": sale.created.at.isoformat() if sale.created and sale.created.at else "",
        }
        if self.config.product_lines is not None:
            # the sale's product line, for credit memo accounts keyed on it
            line = self.config.product_lines.classify(sale)
            ids["product_line"] = line.value.product_line or ""
            ids["product_line_mapping"] = line.reason
        if self.config.payment_custom_fields:
            # the sale's mapped fields, for the Payment__c update (step results are strings)
            ids["paytrace_fields"] = json.dumps(paytrace_record_fields(sale), sort_keys=True)
        return ids

    def _reverse(self, ctx: StepContext) -> Mapping[str, str]:
        request = _request(ctx)
        if _is_ach(ctx):
            return self._ach.reverse(request)
        sale = self._sale(request)
        if request.observed_transaction_id is not None:
            kind = request.observed_kind or RefundKind.REFUND
            return self._ids(kind, request.observed_transaction_id, sale)
        sale_id = request.original_transaction_id
        if _is_voided(sale):
            return self._ids(RefundKind.VOID, sale_id, sale)
        if not _is_settled(sale):
            if request.amount != sale.amount:
                raise RetryableError(
                    f"partial refund of sale {sale_id} waits for its settlement "
                    "(a void cannot be partial)"
                )
            return self._ids(RefundKind.VOID, self.paytrace.void(sale_id), sale)
        refund_id = self.paytrace.refund(
            transaction_id=sale_id, amount=request.amount, invoice_id=self._invoice_id(request)
        )
        return self._ids(RefundKind.REFUND, refund_id, sale)

    def _find_reverse(self, ctx: StepContext) -> LookupResult:
        request = _request(ctx)
        if _is_ach(ctx):
            return self._ach.find(request)
        sale = self._sale(request)
        if _is_voided(sale) and request.amount == sale.amount:
            ids = self._ids(RefundKind.VOID, request.original_transaction_id, sale)
            return LookupResult.found(ids, "sale shows Voided in the exports")
        invoice_id = self._invoice_id(request)
        found = self.paytrace.find_refund(invoice_id=invoice_id, amount=request.amount)
        if found is None:
            # Money goes out: "not in the exports" may only be export lag, so never refund
            # again on it. The engine re-checks on its bounded schedule, then a person decides.
            return LookupResult.pending(
                f"no PayTrace refund with invoice_id {invoice_id} in the exports (yet)"
            )
        ids = self._ids(RefundKind.REFUND, found, sale)
        return LookupResult.found(ids, f"PayTrace refund {found} found by invoice_id")

    # 2. Fusion
    def _kind(self, ctx: StepContext) -> RefundKind:
        return RefundKind(ctx.results["paytrace_reverse"]["kind"])

    def _memo_number(self, ctx: StepContext) -> str:
        return f"CM-{ctx.results['paytrace_reverse']['transaction_id']}"

    def _receipt_number(self, ctx: StepContext) -> str:
        return f"PT-{_sale_name(ctx)}"

    def _fusion_state(self, kind: RefundKind) -> Decision[FusionState]:
        status = PaymentStatus.VOIDED if kind is RefundKind.VOID else PaymentStatus.REFUNDED
        return self.config.fusion_status.decide(status)

    def _fusion(self, ctx: StepContext) -> Mapping[str, str]:
        state = self._fusion_state(self._kind(ctx))
        if state.value.action == "none":
            return {_SKIPPED: state.reason}
        if state.value.action == "reverse_receipt":
            number = self._receipt_number(ctx)
            receipt = self.fusion.find_receipt(number)
            if receipt is None or receipt.StandardReceiptId is None:
                return {_SKIPPED: f"no receipt {number} in Fusion; nothing to reverse"}
            if receipt.State != "Reversed":
                self.fusion.reverse_receipt(receipt.StandardReceiptId, self.config.reversal_reason)
            return {"receipt_id": str(receipt.StandardReceiptId), "reversed_receipt": number}
        request, number = _request(ctx), self._memo_number(ctx)
        if not request.fusion_customer_account:
            # a void found by polling may have no customer account (a reversal needs none);
            # the status map asks for a credit memo, which does
            raise PermanentError(
                f"{state.reason}, but the request has no Fusion customer account "
                "(map the PayTrace customer in vaults)"
            )
        gl = self._gl(ctx)
        memo = self._credit_memo(
            ctx, number, ctx.results["paytrace_reverse"]["transaction_id"], gl.value
        )
        conversion = credit_memo_conversion(
            self.fusion, self.config.currency, memo.CreditMemoCurrency, memo.TransactionDate
        )
        if conversion is not None:
            memo = memo.model_copy(update=conversion.value.document_fields())
        created = self.fusion.create_credit_memo(memo)
        done = {
            "credit_memo_id": str(created.CustomerTransactionId),
            "credit_memo_number": number,
            "mapping": gl.reason,
        }
        if conversion is not None:
            done["currency_conversion"] = conversion_note(
                conversion, request.amount, memo.CreditMemoCurrency
            )
        return done

    def _gl(self, ctx: StepContext) -> Decision[str]:
        """The credit memo's revenue account: a refund, the refund channel, the receivables
        business unit and (``product_lines``) the sale's product line, recorded by step 1 (in
        a dry run not known yet: derived without one)."""
        line = ctx.results["paytrace_reverse"].get("product_line") or None
        return self.config.gl.derive(
            card_type=None,
            channel=self.config.channel,
            transaction_type="REFUND",
            product_line=line if line is not None and known(line) else None,
            business_unit=self.config.fusion.business_unit,
        )

    def _credit_memo(
        self, ctx: StepContext, number: str, refund_id: str, account: str
    ) -> NewCreditMemo:
        request = _request(ctx)
        memo = credit_memo_to_fusion(
            request,
            number=number,
            refund_transaction_id=refund_id,
            revenue_account=account,
            credit_date=request.requested_at,
            config=self.config.fusion,
            credit_memo_type=self.config.credit_memo_type,
        )
        if not _is_ach(ctx):
            return memo
        # the comment names the payment as Salesforce and the receipt do: ACH-<check id>
        name = _sale_name(ctx)
        comment = f"PayTrace ACH refund {refund_id} of payment {name} (receipt PT-{name})"
        return memo.model_copy(update={"CreditMemoComments": comment})

    def _find_fusion(self, ctx: StepContext) -> LookupResult:
        state = self._fusion_state(self._kind(ctx))
        if state.value.action == "none":
            return LookupResult.found({_SKIPPED: state.reason})
        if state.value.action == "reverse_receipt":
            number = self._receipt_number(ctx)
            receipt = self.fusion.find_receipt(number)
            if receipt is None:
                return LookupResult.found({_SKIPPED: f"no receipt {number} in Fusion"})
            if receipt.State == "Reversed":
                ids = {"receipt_id": str(receipt.StandardReceiptId), "reversed_receipt": number}
                return LookupResult.found(ids, f"receipt {number} reversed")
            return LookupResult.absent(f"receipt {number} not reversed")
        number = self._memo_number(ctx)
        found = self.fusion.find_credit_memo(number)
        if found is None:
            return LookupResult.absent(f"no credit memo {number}")
        return LookupResult.found(
            {"credit_memo_id": str(found.CustomerTransactionId), "credit_memo_number": number}
        )

    # 3. Salesforce
    def _refunded_total(self, ctx: StepContext) -> Decimal:
        """Every live refund of the sale in the exports: paysync's (``RF-<sale>-*``) and those
        made in PayTrace (carrying the sale's ``invoice_id``); this one counted even if the
        exports lag behind."""
        request, done = _request(ctx), ctx.results["paytrace_reverse"]
        own_prefix = f"{self.config.invoice_prefix}{request.original_transaction_id}-"
        sale_invoice = done.get("sale_invoice_id", "")
        tz = self.paytrace.export_timezone
        now = self._clock()
        created = done.get("sale_created")
        since = datetime.fromisoformat(created) if created else now - self.config.lookback
        total, seen = Decimal("0.00"), False
        for record in self.paytrace.activity(
            since.astimezone(tz).date(), now.astimezone(tz).date(), transaction_type="REFUND"
        ):
            invoice = record.invoice_id or ""
            ours = invoice.startswith(own_prefix) or bool(sale_invoice and invoice == sale_invoice)
            if not ours or _is_voided(record) or record.amount is None:
                continue
            total += record.amount
            seen = seen or str(record.transaction_id) == done["transaction_id"]
        return total if seen else total + request.amount

    def _sf_payment(self, ctx: StepContext) -> Mapping[str, str]:
        request, fields = _request(ctx), self.config.payment_fields
        kind = self._kind(ctx)
        sale_amount = Decimal(ctx.results["paytrace_reverse"]["sale_amount"])
        if kind is RefundKind.VOID:
            refunded = Decimal("0.00")
        elif _is_ach(ctx):
            refunded = self._ach.refunded_total(request, ctx.results["paytrace_reverse"])
        else:
            refunded = self._refunded_total(ctx)
        status = refund_status(kind, sale_amount=sale_amount, refunded_total=refunded)
        values: dict[str, Any] = {fields.status: status.value}
        if fields.refunded_amount:
            values[fields.refunded_amount] = refunded
        if fields.status_reason:
            values[fields.status_reason] = status.reason
        custom = self._custom(ctx)
        if custom is not None:
            values.update(custom.value)
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, request.salesforce_payment_key, values
        )
        return {
            "payment_id": record_id,
            "status": status.value,
            "refunded_amount": str(refunded),
            "status_mapping": status.reason,
            **({"custom_mapping": custom.reason} if custom is not None else {}),
        }

    def _custom(self, ctx: StepContext) -> Decision[dict[str, str]] | None:
        """The sale's mapped PayTrace fields for ``Payment__c`` (``None``: no map)."""
        mapping = self.config.payment_custom_fields
        if not mapping:
            return None
        stored = ctx.results["paytrace_reverse"].get("paytrace_fields") or "{}"
        answer = cast("dict[str, str]", json.loads(stored)) if known(stored) else {}
        return salesforce_custom_values(answer, mapping, sobject=self.config.payment_fields.sobject)

    def _find_sf_payment(self, ctx: StepContext) -> LookupResult:
        fields = self.config.payment_fields
        found = self.salesforce.find_id(
            fields.sobject, fields.external_id, _request(ctx).salesforce_payment_key
        )
        return LookupResult.absent() if found is None else LookupResult.found({"payment_id": found})

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _fusion_summary(self, ctx: StepContext) -> Mapping[str, object]:
        kind = result(ctx, "paytrace_reverse", "kind")
        refund_id = result(ctx, "paytrace_reverse", "transaction_id")
        gl = self._gl(ctx)
        memo = self._credit_memo(ctx, f"CM-{refund_id}", refund_id, gl.value)
        kinds = [RefundKind(kind)] if known(kind) else [RefundKind.REFUND, RefundKind.VOID]
        states = {k: self._fusion_state(k) for k in kinds}
        actions = {state.value.action for state in states.values()}
        summary: dict[str, object] = {
            "fusion_status": {k.value: state.reason for k, state in states.items()}
        }
        if "credit_memo" in actions:
            summary["credit_memo"] = fusion_payload(
                "receivablesCreditMemos",
                memo,
                mapping=gl.reason,
                **conversion_summary(
                    self.config.currency, memo.CreditMemoCurrency, memo.TransactionDate
                ),
            )
        if "reverse_receipt" in actions:
            summary["receipt_reversal"] = {
                "resource": "standardReceipts/{id}/action/reverseReceipt",
                "receipt_number": self._receipt_number(ctx),
                "reason": self.config.reversal_reason,
            }
        return summary

    def _sf_payment_summary(self, ctx: StepContext) -> Mapping[str, object]:
        request, fields = _request(ctx), self.config.payment_fields
        names = [fields.status, fields.refunded_amount, fields.status_reason]
        values = {name: "<netted over the sale's refunds at run time>" for name in names if name}
        custom = self._custom(ctx)
        extra: dict[str, object] = {}
        if custom is not None:
            stored = ctx.results["paytrace_reverse"].get("paytrace_fields") or "{}"
            if known(stored):
                values.update(custom.value)
            else:  # dry run: the sale is read when the step runs
                mapping = self.config.payment_custom_fields
                values.update({target: f"<sale.{source}>" for source, target in mapping.items()})
            extra["custom_mapping"] = custom.reason if known(stored) else "mapped from the sale"
        return salesforce_upsert(
            fields.sobject, fields.external_id, request.salesforce_payment_key, values, **extra
        )
