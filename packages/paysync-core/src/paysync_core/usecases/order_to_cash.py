"""Use case 1: Salesforce Opportunity Closed Won -> cash applied in Fusion.

Data flows one way (ARCHITECTURE.md 2.4): the Opportunity record becomes a canonical
:class:`~paysync_core.canonical.Order` (stored as the flow's input), and each step translates
canonical entities to one system's shape through :mod:`paysync_core.mapping`:

1. ``vault_profile``  PayTrace vault profile found (``customer/export``) or created from a
   Protect token (token only);
2. ``charge``         PayTrace sale on the profile, ``invoice_id`` = correlation, description
   naming the Opportunity; lookup through the exports by ``invoice_id``;
3. ``salesforce_payment``  ``Payment__c`` upserted by ``Payment_ID__c`` (= PayTrace
   transaction id), declines included with their reason;
4. ``fusion_invoice`` AR invoice, ``TransactionNumber`` = correlation;
5. ``fusion_receipt`` standard receipt, ``ReceiptNumber`` = ``PT-<transaction id>``;
6. ``fusion_apply``   the receipt applied to the invoice's installment.

Declined payments skip steps 4-6 (recorded as ``skipped`` with the reason): nothing is posted
to Fusion.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
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
)
from paysync_core.canonical import Invoice, Order, PaymentStatus, Receipt
from paysync_core.mapping import (
    CustomerXref,
    FusionReceivablesConfig,
    GlRule,
    GlTable,
    PaymentFieldMap,
    fusion_date,
    order_from_opportunity,
    payment_from_paytrace,
    payment_to_salesforce,
)
from paysync_core.ports import FusionPort, PayTracePort, SaleOutcome, SalesforcePort

from ._fusion_cash import (
    apply_receipt,
    find_applied,
    find_invoice,
    find_receipt,
    post_invoice,
    post_receipt,
    receipt_for,
)

__all__ = ["USE_CASE", "OrderToCash", "OrderToCashConfig"]

USE_CASE = "salesforce_order_to_cash"
_SKIPPED = "skipped"


class OrderToCashConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    xref: CustomerXref = CustomerXref()
    gl: GlTable = GlTable(
        rules=(GlRule(account="01-000-4100-0000", channel="sales"),), default="01-000-4999-0000"
    )
    fusion: FusionReceivablesConfig = FusionReceivablesConfig()
    payment_fields: PaymentFieldMap = PaymentFieldMap()
    ledger_timezone: str = "America/Los_Angeles"
    channel: str = "sales"
    closed_won_stage: str = "Closed Won"
    correlation_prefix: str = Field(default="SF", max_length=4)


def _order(ctx: StepContext) -> Order:
    return Order.model_validate(ctx.input["order"])


def _correlation(ctx: StepContext, prefix: str) -> str:
    """Searchable business identity of this flow: ``<prefix>-<Opportunity id>``."""
    return f"{prefix}-{_order(ctx).source_id}"


def _sale_ids(sale: SaleOutcome, profile: Mapping[str, str], order: Order) -> dict[str, str]:
    payment = payment_from_paytrace(
        order,
        transaction_id=sale.transaction_id,
        response_code=sale.response_code,
        message=sale.message,
        processed_at=sale.processed_at,
        vault_id=profile["customer_id"],
        card_type=profile.get("card_type", ""),
        last4=sale.last4 or profile.get("last4", ""),
    )
    return {
        "transaction_id": sale.transaction_id,
        "status": payment.value.status.value,
        "status_reason": payment.reason,
        "last4": sale.last4 or profile.get("last4", ""),
        "processed_at": sale.processed_at.isoformat(),
    }


class OrderToCash:
    """Builds the flow from the three ports; ``submit_opportunity`` is the trigger (event
    sources come with issue 6)."""

    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        fusion: FusionPort,
        salesforce: SalesforcePort,
        config: OrderToCashConfig | None = None,
    ) -> None:
        self.paytrace = paytrace
        self.fusion = fusion
        self.salesforce = salesforce
        self.config = config or OrderToCashConfig()

    # -- trigger ---------------------------------------------------------------------------
    def submit_opportunity(
        self,
        engine: Engine,
        record: Mapping[str, Any],
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """Submit a flow for an Opportunity record; ``None`` unless it is Closed Won.

        The flow key is (use case, ``salesforce``, Opportunity id, version 1): submitting the
        same Opportunity again returns the existing flow, so a re-run is a no-op.
        ``checkpoint`` runs in the submitting transaction (an event stream's replay id).
        """
        if record.get("StageName") != self.config.closed_won_stage:
            return None
        order = order_from_opportunity(record, self.config.xref, channel=self.config.channel)
        return engine.submit(
            USE_CASE,
            source_system="salesforce",
            source_id=order.value.source_id,
            version=1,
            input={"order": order.value.model_dump(mode="json"), "mapping": order.reason},
            checkpoint=checkpoint,
        )

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            USE_CASE,
            [
                Step("vault_profile", self._vault, self._find_vault, system="paytrace"),
                Step(
                    "charge",
                    self._charge,
                    self._find_charge,
                    system="paytrace",
                    summarize=self._charge_summary,
                ),
                Step(
                    "salesforce_payment",
                    self._upsert_payment,
                    self._find_payment,
                    safe_to_retry=True,
                    system="salesforce",
                ),
                Step("fusion_invoice", self._invoice, self._find_invoice, system="fusion"),
                Step("fusion_receipt", self._receipt, self._find_receipt, system="fusion"),
                Step("fusion_apply", self._apply, self._find_apply, system="fusion"),
            ],
        )

    # 1. vault profile
    def _vault(self, ctx: StepContext) -> Mapping[str, str]:
        customer_id = _order(ctx).customer.paytrace_customer_id or ""
        profile = self.paytrace.ensure_profile(customer_id)
        return {
            "customer_id": profile.customer_id,
            "card_type": profile.card_type,
            "last4": profile.last4,
        }

    def _find_vault(self, ctx: StepContext) -> LookupResult:
        customer_id = _order(ctx).customer.paytrace_customer_id or ""
        profile = self.paytrace.find_profile(customer_id)
        if profile is None:
            return LookupResult.absent(f"no vault profile {customer_id}")
        ids = {
            "customer_id": profile.customer_id,
            "card_type": profile.card_type,
            "last4": profile.last4,
        }
        return LookupResult.found(ids)

    # 2. charge
    def _charge_summary(self, ctx: StepContext) -> Mapping[str, object]:
        order = _order(ctx)
        return {
            "amount": str(order.amount),
            "invoice_id": _correlation(ctx, self.config.correlation_prefix),
        }

    def _charge(self, ctx: StepContext) -> Mapping[str, str]:
        order = _order(ctx)
        sale = self.paytrace.sale(
            amount=order.amount,
            customer_id=ctx.results["vault_profile"]["customer_id"],
            invoice_id=_correlation(ctx, self.config.correlation_prefix),
            description=f"Salesforce Opportunity {order.source_id}",
        )
        return _sale_ids(sale, ctx.results["vault_profile"], order)

    def _find_charge(self, ctx: StepContext) -> LookupResult:
        order = _order(ctx)
        invoice_id = _correlation(ctx, self.config.correlation_prefix)
        sale = self.paytrace.find_sale(
            invoice_id=invoice_id,
            amount=order.amount,
            customer_id=ctx.results["vault_profile"]["customer_id"],
        )
        if sale is None:
            return LookupResult.absent(f"no PayTrace sale with invoice_id {invoice_id}")
        ids = _sale_ids(sale, ctx.results["vault_profile"], order)
        return LookupResult.found(ids, f"PayTrace sale {sale.transaction_id} found by invoice_id")

    # 3. Salesforce Payment__c
    def _payment_key(self, ctx: StepContext) -> str:
        charge = ctx.results["charge"]
        return charge["transaction_id"] or f"DECLINED-{_order(ctx).source_id}"

    def _upsert_payment(self, ctx: StepContext) -> Mapping[str, str]:
        order, charge, profile = _order(ctx), ctx.results["charge"], ctx.results["vault_profile"]
        payment = payment_from_paytrace(
            order,
            transaction_id=charge["transaction_id"],
            response_code=_status_code(charge["status"]),
            message=charge["status_reason"],
            processed_at=datetime.fromisoformat(charge["processed_at"]),
            vault_id=profile["customer_id"],
            card_type=profile.get("card_type", ""),
            last4=charge.get("last4", ""),
        ).value.model_copy(update={"status_reason": charge["status_reason"]})
        fields = self.config.payment_fields
        record = payment_to_salesforce(payment, order, fields)
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, self._payment_key(ctx), record.value
        )
        return {
            "payment_id": record_id,
            "status": str(record.value[fields.status]),
            "status_mapping": record.reason,
        }

    def _find_payment(self, ctx: StepContext) -> LookupResult:
        fields = self.config.payment_fields
        found = self.salesforce.find_id(fields.sobject, fields.external_id, self._payment_key(ctx))
        return LookupResult.absent() if found is None else LookupResult.found({"payment_id": found})

    # 4.-6. Fusion (skipped for declines)
    @staticmethod
    def _declined(ctx: StepContext) -> str | None:
        charge = ctx.results["charge"]
        if charge["status"] == PaymentStatus.CAPTURED.value:
            return None
        return f"payment {charge['status']}: {charge['status_reason']}; not posted to Fusion"

    def _canonical_invoice(self, ctx: StepContext) -> tuple[Invoice, str]:
        order = _order(ctx)
        card_type = ctx.results["vault_profile"].get("card_type")
        gl = self.config.gl.derive(card_type=card_type, channel=order.channel)
        processed = datetime.fromisoformat(ctx.results["charge"]["processed_at"])
        day = fusion_date(processed, ledger_zone=ZoneInfo(self.config.ledger_timezone))
        invoice = Invoice(
            number=_correlation(ctx, self.config.correlation_prefix),
            customer_account=order.customer.fusion_customer_account or "",
            amount=order.amount,
            currency=order.currency,
            invoice_date=day.value,
            revenue_account=gl.value,
        )
        return invoice, f"{gl.reason}; date {day.reason}"

    def _invoice(self, ctx: StepContext) -> Mapping[str, str]:
        skipped = self._declined(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        return post_invoice(self.fusion, self.config.fusion, *self._canonical_invoice(ctx))

    def _find_invoice(self, ctx: StepContext) -> LookupResult:
        skipped = self._declined(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        return find_invoice(self.fusion, *self._canonical_invoice(ctx))

    def _canonical_receipt(self, ctx: StepContext) -> Receipt:
        invoice, _ = self._canonical_invoice(ctx)
        return receipt_for(invoice, ctx.results["charge"]["transaction_id"])

    def _receipt(self, ctx: StepContext) -> Mapping[str, str]:
        skipped = self._declined(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        return post_receipt(self.fusion, self.config.fusion, self._canonical_receipt(ctx))

    def _find_receipt(self, ctx: StepContext) -> LookupResult:
        skipped = self._declined(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        return find_receipt(self.fusion, self._canonical_receipt(ctx).number)

    def _apply(self, ctx: StepContext) -> Mapping[str, str]:
        skipped = self._declined(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        return apply_receipt(self.fusion, ctx.results, _order(ctx).amount)

    def _find_apply(self, ctx: StepContext) -> LookupResult:
        skipped = self._declined(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        return find_applied(self.fusion, ctx.results, _order(ctx).amount)


_STATUS_CODES: Mapping[str, int] = {
    PaymentStatus.CAPTURED.value: 101,
    PaymentStatus.DECLINED.value: 102,
    PaymentStatus.VOIDED.value: 103,
}


def _status_code(status: str) -> int:
    """Stored canonical status -> a PayTrace code for :func:`payment_from_paytrace`."""
    return _STATUS_CODES.get(status, 0)
