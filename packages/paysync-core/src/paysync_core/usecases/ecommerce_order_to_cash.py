"""Use case 2: a web order paid in PayTrace -> Fusion Order Hub -> shipment -> cash applied.

The trigger is a PayTrace SALE found by polling the exports (PayTrace has no webhooks; see
:mod:`paysync_core.usecases._paytrace_poller`): the web store puts its order number in
``invoice_id``. The export record becomes a canonical :class:`~paysync_core.canonical.Order`
and :class:`~paysync_core.canonical.Payment` (the flow's input), then:

1. ``fusion_order``        sales order in Order Hub, ``SourceTransactionId`` = PayTrace
   transaction id, ``Upsert-Mode: true`` (safe to repeat); lookup by OrderKey;
2. ``salesforce_order``    ``Order`` upserted by ``External_Order_ID__c`` = web order number,
   status booked;
3. ``salesforce_payment``  ``Payment__c`` upserted by ``Payment_ID__c`` = transaction id,
   linked to the Order;
4. ``await_shipment``      waits for Fusion to ship the order: not shipped yet is an unknown
   outcome whose lookup answers ``pending``, so the engine re-checks on its bounded
   ``lookup_delays`` schedule and parks the flow between checks (never spins);
5. ``fusion_invoice``      AR invoice ``WEB-<transaction id>``;
6. ``fusion_receipt``      standard receipt ``PT-<transaction id>``;
7. ``fusion_apply``        the receipt applied to the invoice;
8. ``salesforce_status``   the Order mirrored as shipped and paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LookupResult,
    Step,
    StepContext,
    SubmitHook,
    UnknownOutcomeError,
)
from paysync_core.canonical import Invoice, Order, Payment, PaymentStatus, Receipt
from paysync_core.mapping import (
    CurrencyConversionConfig,
    Decision,
    FusionReceivablesConfig,
    FusionState,
    FusionStatusMap,
    GlRule,
    GlTable,
    OrderCustomFieldMap,
    OrderFieldMap,
    OrderHubConfig,
    PaymentCustomFieldMap,
    PaymentFieldMap,
    ProductLineMapping,
    VaultXref,
    fusion_date,
    invoice_to_fusion,
    order_to_fusion,
    order_to_salesforce,
    payment_to_salesforce,
    paytrace_export_status,
    paytrace_record_fields,
    receipt_to_fusion,
    salesforce_custom_values,
    web_order_from_paytrace,
)
from paysync_core.ports import FusionPort, SalesforcePort
from paytrace_client.models import ExportedTransaction

from ._fusion_cash import (
    apply_receipt,
    apply_summary,
    conversion_summary,
    find_applied,
    find_invoice,
    find_receipt,
    fusion_cash_steps,
    post_invoice,
    post_receipt,
    receipt_for,
)
from ._summaries import fusion_payload, result, salesforce_upsert

__all__ = ["ECOMMERCE_USE_CASE", "EcommerceConfig", "EcommerceOrderToCash"]

ECOMMERCE_USE_CASE = "ecommerce_order_to_cash"
SHIPPED_STATUSES = frozenset({"CLOSED", "SHIPPED", "FULFILLED"})


class EcommerceConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    xref: VaultXref = VaultXref()
    """PayTrace vault customer -> Salesforce Account and Fusion customer account."""
    order_prefix: str = Field(default="WEB-", min_length=1)
    """Only SALEs whose ``invoice_id`` starts with this are web orders."""
    order_hub: OrderHubConfig = OrderHubConfig()
    """How the web order is booked in Fusion Order Hub."""
    gl: GlTable = GlTable(
        rules=(GlRule(account="01-000-4100-0000", channel="web"),), default="01-000-4999-0000"
    )
    """Revenue account of the Fusion invoice, derived per card type and channel."""
    fusion: FusionReceivablesConfig = FusionReceivablesConfig()
    """How invoices and receipts are created in Fusion Receivables."""
    currency: CurrencyConversionConfig = CurrencyConversionConfig()
    """The Fusion ledger's currency; other than USD, the invoice and receipt carry the Fusion
    daily rate of their date."""
    order_fields: OrderFieldMap = OrderFieldMap()
    """Field names of the Salesforce ``Order`` written."""
    payment_fields: PaymentFieldMap = PaymentFieldMap(opportunity=None)
    """Field names of the ``Payment__c`` record written."""
    payment_order_field: str | None = "Order__c"
    """``Payment__c`` lookup to the Salesforce Order (unset: not linked)."""
    ledger_timezone: str = "America/Los_Angeles"
    """IANA time zone whose calendar day is the Fusion accounting date."""
    channel: str = "web"
    """Channel of web orders, as the GL rules see it."""
    fusion_status: FusionStatusMap = FusionStatusMap()
    """What the sale's PayTrace status posts to Fusion: a flow starts only for the statuses
    whose action is ``receipt`` (by default captured and settled); ``order_status`` picks the
    Order Hub status the order is booked in."""
    product_lines: ProductLineMapping | None = None
    """Where the web order's product line comes from, for GL rules keyed on it (none by
    default). The invoice's business unit is ``fusion.business_unit``."""
    payment_custom_fields: PaymentCustomFieldMap = Field(default_factory=dict[str, str])
    """PayTrace field of the web sale's export record (``approval_code``, ``description``,
    ``customer_reference_id``, ``discretionary_data.<NAME>``, ...) -> ``Payment__c`` field
    (custom-field mapping; a value the record lacks is left out, and the reason says so)."""
    order_custom_fields: OrderCustomFieldMap = Field(default_factory=dict[str, str])
    """PayTrace field of the web sale's export record -> field of the Salesforce ``Order``
    (as ``payment_custom_fields``)."""


def _order(ctx: StepContext) -> Order:
    return Order.model_validate(ctx.input["order"])


def _payment(ctx: StepContext) -> Payment:
    return Payment.model_validate(ctx.input["payment"])


def _paytrace_fields(ctx: StepContext) -> dict[str, str]:
    """The web sale's PayTrace fields stored at submit (custom-field mapping; flows submitted
    before it or without a map: none)."""
    stored: object = ctx.input.get("paytrace_fields")
    if not isinstance(stored, dict):
        return {}
    return {str(k): str(v) for k, v in cast("dict[str, object]", stored).items()}


class EcommerceOrderToCash:
    """Builds the flow; :meth:`submit_sale` is the trigger (called by the PayTrace poller)."""

    def __init__(
        self,
        *,
        fusion: FusionPort,
        salesforce: SalesforcePort,
        config: EcommerceConfig | None = None,
    ) -> None:
        self.fusion = fusion
        self.salesforce = salesforce
        self.config = config or EcommerceConfig()

    # -- trigger ---------------------------------------------------------------------------
    def fusion_state(self, record: ExportedTransaction) -> Decision[FusionState]:
        """What the record's PayTrace status posts to Fusion (``fusion_status`` map)."""
        status = paytrace_export_status(record)
        state = self.config.fusion_status.decide(status.value)
        return Decision(state.value, f"{status.reason}: {state.reason}")

    def accepts(self, record: ExportedTransaction) -> bool:
        """A web-store SALE whose status the Fusion status map posts as a receipt (by default
        approved or settled; declines and voids start nothing)."""
        return (
            (record.transaction_type or "").upper() == "SALE"
            and (record.invoice_id or "").startswith(self.config.order_prefix)
            and self.fusion_state(record).value.action == "receipt"
        )

    def submit_sale(
        self,
        engine: Engine,
        record: ExportedTransaction,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """Submit the flow for a web sale; ``None`` if the record is not one.

        The flow key is (use case, ``paytrace``, transaction id, 1): the poller seeing the same
        transaction again (overlap window, restart) gets the existing flow back.
        """
        if not self.accepts(record):
            return None
        mapped = web_order_from_paytrace(record, self.config.xref, channel=self.config.channel)
        order, payment = mapped.value
        status = paytrace_export_status(record)
        extra: dict[str, object] = {
            "fusion_status": {
                "status": status.value.value,
                "reason": self.fusion_state(record).reason,
            }
        }
        if self.config.product_lines is not None:
            line = self.config.product_lines.classify(record)
            extra["product_line"] = {"value": line.value.product_line, "reason": line.reason}
        if self.config.payment_custom_fields or self.config.order_custom_fields:
            # the export record is not read again: its mapped fields travel with the flow
            extra["paytrace_fields"] = paytrace_record_fields(record)
        return engine.submit(
            ECOMMERCE_USE_CASE,
            source_system="paytrace",
            source_id=payment.transaction_id,
            version=1,
            entity_key=f"paytrace:{payment.transaction_id}",
            input={
                "order": order.model_dump(mode="json"),
                "payment": payment.model_dump(mode="json"),
                "mapping": mapped.reason,
                **extra,
            },
            checkpoint=checkpoint,
        )

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            ECOMMERCE_USE_CASE,
            [
                Step(
                    "fusion_order",
                    self._book,
                    self._find_order,
                    safe_to_retry=True,  # Upsert-Mode on the OrderKey
                    system="fusion",
                    summarize=self._order_summary,
                ),
                Step(
                    "salesforce_order",
                    self._sf_booked,
                    self._find_sf_order,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=lambda ctx: self._sf_order_summary(ctx, "booked"),
                ),
                Step(
                    "salesforce_payment",
                    self._sf_payment,
                    self._find_sf_payment,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._sf_payment_summary,
                ),
                Step(
                    "await_shipment",
                    self._await,
                    self._find_shipment,
                    system="fusion",
                    summarize=self._await_summary,
                ),
                *fusion_cash_steps(
                    invoice=(self._invoice, self._find_invoice, self._invoice_summary),
                    receipt=(self._receipt, self._find_receipt, self._receipt_summary),
                    apply=(self._apply, self._find_apply, self._apply_summary),
                ),
                Step(
                    "salesforce_status",
                    self._sf_paid,
                    self._find_sf_order,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=lambda ctx: self._sf_order_summary(ctx, "paid"),
                ),
            ],
        )

    # 1. Fusion Order Hub
    def _source(self, ctx: StepContext) -> tuple[str, str]:
        return self.config.order_hub.source_system, _payment(ctx).transaction_id

    def _state(self, ctx: StepContext) -> Decision[FusionState]:
        """The Fusion state of the flow's payment (recorded at submit; flows submitted before
        the map existed use the payment's canonical status)."""
        recorded: object = ctx.input.get("fusion_status")
        status = _payment(ctx).status
        if isinstance(recorded, dict) and "status" in recorded:
            status = PaymentStatus(str(cast("dict[str, object]", recorded)["status"]))
        return self.config.fusion_status.decide(status)

    def _order_hub(self, ctx: StepContext) -> OrderHubConfig:
        wanted = self._state(ctx).value.order_status
        if wanted is None:
            return self.config.order_hub
        # SubmittedFlag is the wire field that makes an Order Hub order OPEN (else DRAFT)
        return self.config.order_hub.model_copy(update={"submit": wanted == "OPEN"})

    def _book(self, ctx: StepContext) -> Mapping[str, str]:
        order = self.fusion.upsert_order(
            order_to_fusion(_order(ctx), _payment(ctx), self._order_hub(ctx))
        )
        return {"order_key": str(order.OrderKey), "order_number": str(order.OrderNumber)}

    def _find_order(self, ctx: StepContext) -> LookupResult:
        found = self.fusion.order(*self._source(ctx))
        if found is None:
            return LookupResult.absent("no Order Hub order {}:{}".format(*self._source(ctx)))
        return LookupResult.found(
            {"order_key": str(found.OrderKey), "order_number": str(found.OrderNumber)}
        )

    # 2./8. Salesforce Order
    def _custom(self, ctx: StepContext, *, order: bool) -> Decision[dict[str, str]] | None:
        """The mapped PayTrace fields for the Order (``order``) or the Payment; ``None`` when
        no map is configured."""
        option = "order_custom_fields" if order else "payment_custom_fields"
        mapping = self.config.order_custom_fields if order else self.config.payment_custom_fields
        if not mapping:
            return None
        sobject = self.config.order_fields.sobject if order else self.config.payment_fields.sobject
        return salesforce_custom_values(
            _paytrace_fields(ctx), mapping, sobject=sobject, option=option
        )

    def _sf_order_values(self, ctx: StepContext, stage: str) -> tuple[dict[str, object], str]:
        record = order_to_salesforce(_order(ctx), self.config.order_fields, stage)
        custom = self._custom(ctx, order=True)
        values: dict[str, object] = dict(record.value)
        if custom is not None:
            values.update(custom.value)
        return values, record.reason

    def _sf_order(self, ctx: StepContext, stage: str) -> Mapping[str, str]:
        order, fields = _order(ctx), self.config.order_fields
        values, reason = self._sf_order_values(ctx, stage)
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, order.source_id, values
        )
        custom = self._custom(ctx, order=True)
        return {
            "order_id": record_id,
            "status": reason,
            **({"custom_mapping": custom.reason} if custom is not None else {}),
        }

    def _sf_booked(self, ctx: StepContext) -> Mapping[str, str]:
        return self._sf_order(ctx, "booked")

    def _sf_paid(self, ctx: StepContext) -> Mapping[str, str]:
        return self._sf_order(ctx, "paid")

    def _find_sf_order(self, ctx: StepContext) -> LookupResult:
        fields = self.config.order_fields
        found = self.salesforce.find_id(fields.sobject, fields.external_id, _order(ctx).source_id)
        return LookupResult.absent() if found is None else LookupResult.found({"order_id": found})

    # 3. Salesforce Payment__c
    def _sf_payment(self, ctx: StepContext) -> Mapping[str, str]:
        order, payment, fields = _order(ctx), _payment(ctx), self.config.payment_fields
        record = payment_to_salesforce(payment, order, fields)
        values = dict(record.value)
        if self.config.payment_order_field:
            values[self.config.payment_order_field] = ctx.results["salesforce_order"]["order_id"]
        custom = self._custom(ctx, order=False)
        if custom is not None:
            values.update(custom.value)
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, payment.transaction_id, values
        )
        return {
            "payment_id": record_id,
            "status_mapping": record.reason,
            **({"custom_mapping": custom.reason} if custom is not None else {}),
        }

    def _find_sf_payment(self, ctx: StepContext) -> LookupResult:
        fields = self.config.payment_fields
        found = self.salesforce.find_id(
            fields.sobject, fields.external_id, _payment(ctx).transaction_id
        )
        return LookupResult.absent() if found is None else LookupResult.found({"payment_id": found})

    # 4. shipment
    def _shipped(self, ctx: StepContext) -> str | None:
        found = self.fusion.order(*self._source(ctx))
        status = (found.StatusCode or "") if found is not None else ""
        return status if status.upper() in SHIPPED_STATUSES else None

    def _await(self, ctx: StepContext) -> Mapping[str, str]:
        status = self._shipped(ctx)
        if status is None:
            # Not an error: the warehouse has not shipped yet. Reported as an unknown outcome
            # so the engine re-checks through the lookup on its bounded, parking schedule.
            key = "{}:{}".format(*self._source(ctx))
            raise UnknownOutcomeError(f"order {key} not shipped yet; re-checking")
        return {"order_status": status}

    def _find_shipment(self, ctx: StepContext) -> LookupResult:
        status = self._shipped(ctx)
        if status is None:
            return LookupResult.pending("order not shipped yet")
        return LookupResult.found({"order_status": status}, f"order {status}")

    # 5.-7. receivables
    def _canonical_invoice(self, ctx: StepContext) -> tuple[Invoice, str]:
        order, payment = _order(ctx), _payment(ctx)
        method = payment.method
        recorded: object = ctx.input.get("product_line")
        product_line = None
        if isinstance(recorded, dict):
            product_line = cast("dict[str, str | None]", recorded).get("value")
        gl = self.config.gl.derive(
            card_type=method.card_type if method else None,
            channel=order.channel,
            product_line=product_line,
            business_unit=self.config.fusion.business_unit,
        )
        day = fusion_date(payment.processed_at, ledger_zone=ZoneInfo(self.config.ledger_timezone))
        invoice = Invoice(
            number=f"WEB-{payment.transaction_id}",
            customer_account=order.customer.fusion_customer_account or "",
            amount=order.amount,
            currency=order.currency,
            invoice_date=day.value,
            revenue_account=gl.value,
        )
        return invoice, f"{gl.reason}; date {day.reason}"

    def _invoice(self, ctx: StepContext) -> Mapping[str, str]:
        return post_invoice(
            self.fusion,
            self.config.fusion,
            *self._canonical_invoice(ctx),
            currency=self.config.currency,
        )

    def _find_invoice(self, ctx: StepContext) -> LookupResult:
        return find_invoice(self.fusion, *self._canonical_invoice(ctx))

    def _canonical_receipt(self, ctx: StepContext) -> Receipt:
        return receipt_for(self._canonical_invoice(ctx)[0], _payment(ctx).transaction_id)

    def _receipt(self, ctx: StepContext) -> Mapping[str, str]:
        return post_receipt(
            self.fusion,
            self.config.fusion,
            self._canonical_receipt(ctx),
            currency=self.config.currency,
        )

    def _find_receipt(self, ctx: StepContext) -> LookupResult:
        return find_receipt(self.fusion, self._canonical_receipt(ctx).number)

    def _apply(self, ctx: StepContext) -> Mapping[str, str]:
        return apply_receipt(self.fusion, ctx.results, _order(ctx).amount)

    def _find_apply(self, ctx: StepContext) -> LookupResult:
        return find_applied(self.fusion, ctx.results, _order(ctx).amount)

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _order_summary(self, ctx: StepContext) -> Mapping[str, object]:
        body = order_to_fusion(_order(ctx), _payment(ctx), self._order_hub(ctx))
        return fusion_payload(
            "salesOrdersForOrderHub", body, upsert_mode=True, fusion_status=self._state(ctx).reason
        )

    def _sf_order_summary(self, ctx: StepContext, stage: str) -> Mapping[str, object]:
        order, fields = _order(ctx), self.config.order_fields
        values, _ = self._sf_order_values(ctx, stage)
        summary = dict(
            salesforce_upsert(fields.sobject, fields.external_id, order.source_id, values)
        )
        custom = self._custom(ctx, order=True)
        if custom is not None:
            summary["custom_mapping"] = custom.reason
        return summary

    def _sf_payment_summary(self, ctx: StepContext) -> Mapping[str, object]:
        order, payment, fields = _order(ctx), _payment(ctx), self.config.payment_fields
        values = dict(payment_to_salesforce(payment, order, fields).value)
        if self.config.payment_order_field:
            values[self.config.payment_order_field] = result(ctx, "salesforce_order", "order_id")
        custom = self._custom(ctx, order=False)
        if custom is not None:
            values.update(custom.value)
        summary = dict(
            salesforce_upsert(fields.sobject, fields.external_id, payment.transaction_id, values)
        )
        if custom is not None:
            summary["custom_mapping"] = custom.reason
        return summary

    def _await_summary(self, ctx: StepContext) -> Mapping[str, object]:
        return {"waits_for": "Order Hub order {}:{} shipped".format(*self._source(ctx))}

    def _conversion_summary(self, invoice: Invoice) -> dict[str, str]:
        return conversion_summary(self.config.currency, invoice.currency, invoice.invoice_date)

    def _invoice_summary(self, ctx: StepContext) -> Mapping[str, object]:
        invoice, reason = self._canonical_invoice(ctx)
        body = invoice_to_fusion(invoice, self.config.fusion)
        return fusion_payload(
            "receivablesInvoices", body, mapping=reason, **self._conversion_summary(invoice)
        )

    def _receipt_summary(self, ctx: StepContext) -> Mapping[str, object]:
        receipt = self._canonical_receipt(ctx)
        body = receipt_to_fusion(receipt, self.config.fusion)
        return fusion_payload(
            "standardReceipts",
            body,
            fusion_status=self._state(ctx).reason,
            **conversion_summary(self.config.currency, receipt.currency, receipt.receipt_date),
        )

    def _apply_summary(self, ctx: StepContext) -> Mapping[str, object]:
        return apply_summary(ctx, _order(ctx).amount)
