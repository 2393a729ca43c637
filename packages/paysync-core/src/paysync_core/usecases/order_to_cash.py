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

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    order_from_salesforce_order,
    payment_from_paytrace,
    payment_to_salesforce,
    paytrace_reference_values,
    salesforce_custom_values,
    validate_payment_custom_fields,
    validate_reference_fields,
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
_MODE = "mode"


def _mode(authorize: bool) -> str:
    return "authorization" if authorize else "sale"


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
    triggers: tuple[Literal["opportunity", "order"], ...] = ("opportunity",)
    """What starts a flow under ``paysync run``: an Opportunity reaching Closed Won, a created
    Order, or both (only when Orders are not created from those same Opportunities: each
    trigger charges its own record)."""
    payment_mode: Literal["sale", "authorize_capture"] = "sale"
    """``sale`` charges at once; ``authorize_capture`` authorizes in ``charge`` and captures
    the authorization in ``capture`` (each resolved through the exports when unknown)."""
    custom_fields: dict[str, str] = Field(default_factory=dict[str, str])
    """Salesforce Opportunity / Order field -> PayTrace reference field of the charge:
    ``description`` (appended), ``customer_reference_id`` or ``discretionary_data.<NAME>``.
    The trigger's record must carry the field (add it to the event handler's / poller's SOQL)."""
    payment_custom_fields: dict[str, str] = Field(default_factory=dict[str, str])
    """PayTrace answer field (``approval_code``, ``avs_response``, ...) -> ``Payment__c`` field."""

    @field_validator("custom_fields")
    @classmethod
    def _reference_targets(cls, value: dict[str, str]) -> dict[str, str]:
        return validate_reference_fields(value)

    @field_validator("payment_custom_fields")
    @classmethod
    def _payment_targets(cls, value: dict[str, str]) -> dict[str, str]:
        return validate_payment_custom_fields(value)


def _order(ctx: StepContext) -> Order:
    return Order.model_validate(ctx.input["order"])


def _trigger(ctx: StepContext) -> str:
    """The Salesforce object that started the flow (flows recorded before Orders: Opportunity)."""
    return str(ctx.input.get("trigger") or "Opportunity")


def _links(ctx: StepContext) -> Mapping[str, str | None]:
    """The records ``Payment__c`` points at: the Opportunity, and the Order when one started it."""
    links: object = ctx.input.get("links")
    if isinstance(links, dict):
        stored = cast("dict[str, object]", links)
        return {k: (None if v is None else str(v)) for k, v in stored.items()}
    return {"opportunity": _order(ctx).source_id, "order": None}


def _reference(ctx: StepContext) -> dict[str, str]:
    """The custom PayTrace reference values stored with the flow (custom-field mapping)."""
    stored: object = ctx.input.get("reference")
    if not isinstance(stored, dict):
        return {}
    return {str(k): str(v) for k, v in cast("dict[str, object]", stored).items()}


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
        "paytrace_details": json.dumps(dict(sale.details), sort_keys=True),
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
            input={
                "order": order.value.model_dump(mode="json"),
                "mapping": order.reason,
                **self._reference_input(record, "Opportunity"),
            },
            checkpoint=checkpoint,
        )

    def submit_order(
        self,
        engine: Engine,
        record: Mapping[str, Any],
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """Submit a flow for a created Salesforce ``Order`` (its ``TotalAmount`` is charged);
        ``None`` while the Order has no total yet (no products: ``TotalAmount`` empty or 0).

        Same canonical order and steps as an Opportunity; the flow key is (use case,
        ``salesforce``, Order id, version 1), so the Order arriving by Change Data Capture, by
        the ``Order_Event__e`` platform event and by polling makes one flow. ``Payment__c`` is
        linked to the Order, its Opportunity (``OpportunityId``, when set) and the Account.
        """
        if record.get("TotalAmount") in (None, "", 0, "0", 0.0):
            return None
        order = order_from_salesforce_order(record, self.config.xref, channel=self.config.channel)
        opportunity = record.get("OpportunityId")
        return engine.submit(
            USE_CASE,
            source_system="salesforce",
            source_id=order.value.source_id,
            version=1,
            input={
                "order": order.value.model_dump(mode="json"),
                "mapping": order.reason,
                "trigger": "Order",
                **self._reference_input(record, "Order"),
                "links": {
                    "order": order.value.source_id,
                    "opportunity": str(opportunity) if opportunity else None,
                },
            },
            checkpoint=checkpoint,
        )

    def _reference_input(self, record: Mapping[str, Any], what: str) -> dict[str, object]:
        """The custom reference values of the trigger record (nothing when none are mapped)."""
        if not self.config.custom_fields:
            return {}
        values = paytrace_reference_values(record, self.config.custom_fields, what=what)
        return {"reference": values.value, "reference_mapping": values.reason}

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
                    "capture",
                    self._capture,
                    self._find_capture,
                    system="paytrace",
                    summarize=self._capture_summary,
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
        authorize = self.config.payment_mode == "authorize_capture"
        call = self.paytrace.authorize if authorize else self.paytrace.sale
        reference = _reference(ctx)
        description = f"Salesforce {_trigger(ctx)} {order.source_id}"
        if "description" in reference:
            description = f"{description}; {reference['description']}"
        sale = call(
            amount=order.amount,
            customer_id=ctx.results["vault_profile"]["customer_id"],
            invoice_id=_correlation(ctx, self.config.correlation_prefix),
            description=description,
            reference=reference,
        )
        ids = {**_sale_ids(sale, ctx.results["vault_profile"], order), _MODE: _mode(authorize)}
        if "reference_mapping" in ctx.input:
            ids["reference_mapping"] = str(ctx.input["reference_mapping"])
        return ids

    def _find_charge(self, ctx: StepContext) -> LookupResult:
        order = _order(ctx)
        invoice_id = _correlation(ctx, self.config.correlation_prefix)
        authorize = self.config.payment_mode == "authorize_capture"
        find = self.paytrace.find_authorization if authorize else self.paytrace.find_sale
        sale = find(
            invoice_id=invoice_id,
            amount=order.amount,
            customer_id=ctx.results["vault_profile"]["customer_id"],
        )
        what = "authorization" if authorize else "sale"
        if sale is None:
            return LookupResult.absent(f"no PayTrace {what} with invoice_id {invoice_id}")
        ids = {**_sale_ids(sale, ctx.results["vault_profile"], order), _MODE: _mode(authorize)}
        return LookupResult.found(ids, f"PayTrace {what} {sale.transaction_id} found by invoice_id")

    # 2b. capture (authorize_capture mode only)
    def _to_capture(self, ctx: StepContext) -> str | None:
        """Why there is nothing to capture, or ``None`` when the authorization is to be taken.

        The mode the charge ran in decides (stored with it), so a configuration change does not
        strand a flow that is already past its charge."""
        charge = ctx.results["charge"]
        if charge.get(_MODE) != "authorization":
            return "sale mode: the sale captured the payment"
        return self._declined(ctx)

    def _capture_summary(self, ctx: StepContext) -> Mapping[str, object]:
        return {"transaction_id": ctx.results["charge"].get("transaction_id", "")}

    def _capture(self, ctx: StepContext) -> Mapping[str, str]:
        skipped = self._to_capture(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        transaction_id = self.paytrace.capture(ctx.results["charge"]["transaction_id"])
        return {"transaction_id": transaction_id, "captured": "true"}

    def _find_capture(self, ctx: StepContext) -> LookupResult:
        skipped = self._to_capture(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        transaction_id = ctx.results["charge"]["transaction_id"]
        captured = self.paytrace.capture_status(transaction_id)
        if not captured:
            return LookupResult.absent(f"PayTrace authorization {transaction_id} not captured")
        return LookupResult.found(
            {"transaction_id": transaction_id, "captured": "true"},
            f"PayTrace authorization {transaction_id} shows captured in the exports",
        )

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
        record = payment_to_salesforce(payment, order, fields, links=_links(ctx))
        custom = salesforce_custom_values(
            json.loads(charge.get("paytrace_details") or "{}"),
            self.config.payment_custom_fields,
            sobject=fields.sobject,
        )
        record_id = self.salesforce.upsert(
            fields.sobject,
            fields.external_id,
            self._payment_key(ctx),
            {**record.value, **custom.value},
        )
        return {
            "payment_id": record_id,
            "status": str(record.value[fields.status]),
            "status_mapping": record.reason,
            **({"custom_mapping": custom.reason} if self.config.payment_custom_fields else {}),
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
