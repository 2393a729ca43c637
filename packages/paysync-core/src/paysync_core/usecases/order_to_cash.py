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

Steps 4-6 run only when the Fusion status map (``fusion_status``) says ``receipt`` for the
charge's canonical status (by default: captured); otherwise they are recorded as ``skipped``
with the map's reason and nothing is posted to Fusion (by default declines and auto-voids).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import to_jsonable_python

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LookupResult,
    NeedsHumanError,
    Step,
    StepContext,
    SubmitHook,
)
from paysync_core.canonical import Invoice, Order, PaymentStatus, Receipt
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
    PaymentFieldMap,
    ReferenceFieldMap,
    fusion_date,
    invoice_to_fusion,
    order_from_opportunity,
    order_from_salesforce_order,
    payment_from_paytrace,
    payment_to_salesforce,
    paytrace_reference_values,
    receipt_to_fusion,
    salesforce_custom_values,
)
from paysync_core.ports import FusionPort, PayTracePort, SaleOutcome, SalesforcePort, VaultProfile

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
from ._invoice_split import SplitLine, allocate, describe_lines, split_invoice
from ._opportunity_products import OpportunityProductLines
from ._summaries import fusion_payload, known, salesforce_upsert

__all__ = ["USE_CASE", "OrderToCash", "OrderToCashConfig"]

USE_CASE = "salesforce_order_to_cash"
_SKIPPED = "skipped"
_MODE = "mode"


def _mode(authorize: bool) -> str:
    return "authorization" if authorize else "sale"


class OrderToCashConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    xref: CustomerXref = CustomerXref()
    """Salesforce Account -> PayTrace customer and Fusion customer account."""
    gl: GlTable = GlTable(
        rules=(GlRule(account="01-000-4100-0000", channel="sales"),), default="01-000-4999-0000"
    )
    """Revenue account of the Fusion invoice, derived per card type and channel."""
    fusion: FusionReceivablesConfig = FusionReceivablesConfig()
    """How invoices and receipts are created in Fusion Receivables."""
    currency: CurrencyConversionConfig = CurrencyConversionConfig()
    """The Fusion ledger's currency; other than USD, the invoice and receipt carry the Fusion
    daily rate of their date."""
    fusion_status: FusionStatusMap = FusionStatusMap()
    """What the charge's canonical status posts to Fusion: the invoice, receipt and application
    are posted only when its action is ``receipt`` (by default: captured); any other action
    posts nothing here (a reversal or credit memo is use case 3's), recorded as skipped."""
    payment_fields: PaymentFieldMap = PaymentFieldMap()
    """Field names of the ``Payment__c`` record written back."""
    ledger_timezone: str = "America/Los_Angeles"
    """IANA time zone whose calendar day is the Fusion accounting date."""
    channel: str = "sales"
    """Channel of these orders, as the GL rules see it."""
    closed_won_stage: str = "Closed Won"
    """Opportunity ``StageName`` that starts a flow."""
    correlation_prefix: str = Field(default="SF", max_length=4)
    """Prefix of the PayTrace ``invoice_id`` and Fusion invoice number (``<prefix>-<Opportunity
    id>``)."""
    triggers: tuple[Literal["opportunity", "order"], ...] = ("opportunity",)
    """What starts a flow under ``paysync run``: an Opportunity reaching Closed Won, a created
    Order, or both (only when Orders are not created from those same Opportunities: each
    trigger charges its own record)."""
    payment_mode: Literal["sale", "authorize_capture"] = "sale"
    """``sale`` charges at once; ``authorize_capture`` authorizes in ``charge`` and captures
    the authorization in ``capture`` (each resolved through the exports when unknown)."""
    custom_fields: ReferenceFieldMap = Field(default_factory=dict[str, str])
    """Salesforce Opportunity / Order field -> PayTrace reference field of the charge:
    ``description`` (appended), ``customer_reference_id`` or ``discretionary_data.<NAME>``.
    The trigger's record must carry the field (add it to the event handler's / poller's SOQL)."""
    payment_custom_fields: PaymentCustomFieldMap = Field(default_factory=dict[str, str])
    """PayTrace answer field (``approval_code``, ``avs_response``, ...) -> ``Payment__c`` field."""
    payment_method: Literal["card", "ach"] = "card"
    """How the vault profile is charged: ``card`` (sale / authorization) or ``ach``
    (``checks/sale/by_customer`` on the bank account the profile holds; ACH has no
    authorization, so ``payment_mode`` does not apply)."""
    payment_method_field: str | None = None
    """Opportunity / Order field choosing the method per record (``ACH``, ``Check`` or
    ``eCheck`` -> ach, any other value -> card, empty -> ``payment_method``); the trigger's
    record must carry it."""
    payment_method_target: str | None = None
    """``Payment__c`` field that receives ``Card`` or ``ACH`` (none: not written; the card type
    field reads ``ACH`` for an ACH payment either way)."""
    ach_receipt_method: str = "ACH"
    """Fusion receipt method of the receipts of ACH payments (cards use ``fusion``'s)."""
    source_fields: dict[str, str] = Field(default_factory=dict[str, str])
    """Payment value -> field of the Opportunity / Order that started the flow, written in
    the last step: ``transaction_id``, ``status`` (the ``Payment__c`` status), ``amount``,
    ``processed_at`` or ``method`` (``Card`` / ``ACH``). Empty: that record is not updated."""
    product_lines: OpportunityProductLines | None = None
    """The product line GL rules see, from the Opportunity's line items
    (``OpportunityLineItem`` -> ``Product2.Family``; an Order: its Opportunity's). None (the
    default): not read, no product line."""

    @field_validator("source_fields")
    @classmethod
    def _source_values(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            if name not in _SOURCE_VALUES:
                raise ValueError(
                    f"source_fields.{name}: not a payment value "
                    f"(one of {', '.join(sorted(_SOURCE_VALUES))})"
                )
            if not target.strip():
                raise ValueError(f"source_fields.{name}: the Salesforce field name is empty")
        return value


_SOURCE_VALUES = frozenset({"transaction_id", "status", "amount", "processed_at", "method"})


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


_ACH_VALUES = frozenset({"ach", "check", "echeck", "bank", "bank account"})


def _is_ach(ctx: StepContext) -> bool:
    """Whether this flow pays by ACH (flows recorded before ACH: card)."""
    return ctx.input.get("payment_method") == "ach"


def _vault_ids(profile: VaultProfile, *, ach: bool) -> dict[str, str]:
    """The vault step's result: for ACH the bank account stands where the card would (card
    type ``ACH``, last 4 of the account), so the GL rules, ``Payment__c`` and the receipt
    read it as they read a card."""
    if not ach:
        return {
            "customer_id": profile.customer_id,
            "card_type": profile.card_type,
            "last4": profile.last4,
        }
    if not profile.bank_last4:
        raise NeedsHumanError(
            f"vault profile {profile.customer_id} holds no bank account: ACH cannot be charged"
        )
    return {
        "customer_id": profile.customer_id,
        "card_type": "ACH",
        "last4": profile.bank_last4,
        "method": "ach",
    }


def _ach_ids(sale: SaleOutcome, profile: Mapping[str, str], order: Order) -> dict[str, str]:
    """An ACH sale's result: its id is ``ACH-<check_transaction_id>`` (checks are numbered
    apart from card transactions, so the prefix keeps ``Payment_ID__c`` and ``PT-<id>``
    receipts apart)."""
    check_id = sale.transaction_id
    named = replace(sale, transaction_id=f"ACH-{check_id}" if check_id else "")
    ids = _sale_ids(named, profile, order)
    return {**ids, "check_transaction_id": check_id, _MODE: "ach_sale"}


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
                **self._method_input(record),
                **self._product_line_input(order.value.source_id),
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
                **self._method_input(record),
                **self._product_line_input(opportunity),
                "links": {
                    "order": order.value.source_id,
                    "opportunity": str(opportunity) if opportunity else None,
                },
            },
            checkpoint=checkpoint,
        )

    def _product_line_input(self, opportunity_id: object) -> dict[str, object]:
        """The Opportunity's product line, read once and stored with the flow (none when
        ``product_lines`` is unset or there is no Opportunity)."""
        if self.config.product_lines is None or not opportunity_id:
            return {}
        return {
            "product_line": self.config.product_lines.stored(self.salesforce, str(opportunity_id))
        }

    def _reference_input(self, record: Mapping[str, Any], what: str) -> dict[str, object]:
        """The custom reference values of the trigger record (nothing when none are mapped)."""
        if not self.config.custom_fields:
            return {}
        values = paytrace_reference_values(record, self.config.custom_fields, what=what)
        return {"reference": values.value, "reference_mapping": values.reason}

    def _method_input(self, record: Mapping[str, Any]) -> dict[str, object]:
        """The payment method of this record, stored with the flow (card: nothing stored)."""
        method: str = self.config.payment_method
        field = self.config.payment_method_field
        if field and str(record.get(field) or "").strip():
            chosen = str(record[field]).strip().lower().replace("-", "")
            method = "ach" if chosen in _ACH_VALUES else "card"
        return {"payment_method": method} if method == "ach" else {}

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            USE_CASE,
            [
                Step(
                    "vault_profile",
                    self._vault,
                    self._find_vault,
                    system="paytrace",
                    summarize=self._vault_summary,
                ),
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
                    summarize=self._payment_summary,
                ),
                *fusion_cash_steps(
                    invoice=(self._invoice, self._find_invoice, self._invoice_summary),
                    receipt=(self._receipt, self._find_receipt, self._receipt_summary),
                    apply=(self._apply, self._find_apply, self._apply_summary),
                ),
                # last, so flows recorded before it keep their step numbers
                Step(
                    "salesforce_source",
                    self._update_source,
                    self._find_source,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._source_summary,
                ),
            ],
        )

    # 1. vault profile
    def _vault(self, ctx: StepContext) -> Mapping[str, str]:
        customer_id = _order(ctx).customer.paytrace_customer_id or ""
        if _is_ach(ctx):
            # the bank account reaches the vault outside paysync (never a raw account number)
            found = self.paytrace.find_profile(customer_id)
            if found is None:
                raise NeedsHumanError(
                    f"vault profile {customer_id} does not exist: an ACH payment needs a "
                    "profile holding the customer's bank account"
                )
            return _vault_ids(found, ach=True)
        return _vault_ids(self.paytrace.ensure_profile(customer_id), ach=False)

    def _find_vault(self, ctx: StepContext) -> LookupResult:
        customer_id = _order(ctx).customer.paytrace_customer_id or ""
        profile = self.paytrace.find_profile(customer_id)
        if profile is None:
            return LookupResult.absent(f"no vault profile {customer_id}")
        return LookupResult.found(_vault_ids(profile, ach=_is_ach(ctx)))

    # 2. charge
    def _charge_summary(self, ctx: StepContext) -> Mapping[str, object]:
        order = _order(ctx)
        summary: dict[str, object] = {
            "amount": str(order.amount),
            "invoice_id": _correlation(ctx, self.config.correlation_prefix),
        }
        if _is_ach(ctx):
            summary["endpoint"] = "checks/sale/by_customer"
        # the custom-field mapping's values and why (the ACH debit takes none of them)
        reference = {k: v for k, v in _reference(ctx).items() if not _is_ach(ctx)}
        if reference:
            summary["reference"] = reference
        if "reference_mapping" in ctx.input:
            summary["reference_mapping"] = str(ctx.input["reference_mapping"])
        return summary

    def _charge(self, ctx: StepContext) -> Mapping[str, str]:
        order = _order(ctx)
        if _is_ach(ctx):
            sale = self.paytrace.check_sale(
                amount=order.amount,
                customer_id=ctx.results["vault_profile"]["customer_id"],
                invoice_id=_correlation(ctx, self.config.correlation_prefix),
                description=f"Salesforce {_trigger(ctx)} {order.source_id}",
            )
            return _ach_ids(sale, ctx.results["vault_profile"], order)
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
        if _is_ach(ctx):
            found = self.paytrace.find_check_sale(
                invoice_id=invoice_id,
                amount=order.amount,
                customer_id=ctx.results["vault_profile"]["customer_id"],
            )
            if found is None:
                return LookupResult.absent(f"no PayTrace ACH sale with invoice_id {invoice_id}")
            ids = _ach_ids(found, ctx.results["vault_profile"], order)
            return LookupResult.found(
                ids, f"PayTrace ACH sale {found.transaction_id} found by invoice_id"
            )
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
        mode = ctx.results["charge"].get(_MODE)
        if mode not in ("authorization", "sale", "ach_sale"):  # a dry run: no charge yet
            authorize = self.config.payment_mode == "authorize_capture" and not _is_ach(ctx)
            mode = _mode(authorize)
        if mode != "authorization":  # `plan` shows it as skipped, like the run records it
            return {_SKIPPED: "sale mode: the sale captured the payment"}
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

    def _payment_record(
        self, ctx: StepContext, charge: Mapping[str, str] | None = None
    ) -> tuple[dict[str, Any], str, str | None]:
        """The ``Payment__c`` fields, the status mapping's reason and the custom mapping's
        (``charge`` stands in for the charge step's result in a dry run)."""
        order, profile = _order(ctx), ctx.results["vault_profile"]
        charge = ctx.results["charge"] if charge is None else charge
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
            # the answer, over the reference values sent (a sale's answer does not echo its
            # discretionary_data, so ``discretionary_data.<NAME>`` maps back from what was sent)
            {**_reference(ctx), **json.loads(charge.get("paytrace_details") or "{}")},
            self.config.payment_custom_fields,
            sobject=fields.sobject,
        )
        custom_reason = custom.reason if self.config.payment_custom_fields else None
        values = {**record.value, **custom.value}
        if self.config.payment_method_target:
            values[self.config.payment_method_target] = "ACH" if _is_ach(ctx) else "Card"
        return values, record.reason, custom_reason

    def _upsert_payment(self, ctx: StepContext) -> Mapping[str, str]:
        fields = self.config.payment_fields
        values, status_reason, custom_reason = self._payment_record(ctx)
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, self._payment_key(ctx), values
        )
        return {
            "payment_id": record_id,
            "status": str(values[fields.status]),
            "status_mapping": status_reason,
            **({"custom_mapping": custom_reason} if custom_reason is not None else {}),
        }

    def _find_payment(self, ctx: StepContext) -> LookupResult:
        fields = self.config.payment_fields
        found = self.salesforce.find_id(fields.sobject, fields.external_id, self._payment_key(ctx))
        return LookupResult.absent() if found is None else LookupResult.found({"payment_id": found})

    # 4.-6. Fusion (posted as the Fusion status map says)
    @staticmethod
    def _declined(ctx: StepContext) -> str | None:
        """Why the authorization is not captured (anything but an approved charge)."""
        charge = ctx.results["charge"]
        if charge["status"] == PaymentStatus.CAPTURED.value:
            return None
        return f"payment {charge['status']}: {charge['status_reason']}; not posted to Fusion"

    def _fusion_state(self, status: str) -> Decision[FusionState]:
        return self.config.fusion_status.decide(PaymentStatus(status))

    def _not_posted(self, ctx: StepContext) -> str | None:
        """Why steps 4-6 post nothing (the status map's decision for the charge's status), or
        ``None`` when its action is ``receipt``."""
        charge = ctx.results["charge"]
        state = self._fusion_state(charge["status"])
        if state.value.action == "receipt":
            return None
        why = f"payment {charge['status']}: {charge['status_reason']}; {state.reason}"
        if state.value.action != "none":  # nothing was receipted here to reverse or credit
            why += "; use case 1 posts receipts only"
        return f"{why}; not posted to Fusion"

    def _canonical_invoice(self, ctx: StepContext) -> tuple[Invoice, str]:
        order = _order(ctx)
        card_type = ctx.results["vault_profile"].get("card_type")
        recorded: object = ctx.input.get("product_line")
        line = cast("dict[str, str | None]", recorded) if isinstance(recorded, dict) else {}
        gl = self.config.gl.derive(
            card_type=card_type,
            channel=order.channel,
            product_line=line.get("value"),
            business_unit=self.config.fusion.business_unit,  # GL rules may key on the AR BU
        )
        if line.get("split"):
            # not booked: each invoice line has its own account (the step's invoice_lines)
            gl = Decision(gl.value, f"revenue account per invoice line ({line['reason']})")
        elif line.get("reason"):
            gl = Decision(gl.value, f"{gl.reason} ({line['reason']})")
        zone = ZoneInfo(self.config.ledger_timezone)
        processed_at = ctx.results["charge"]["processed_at"]
        # a dry run has no charge yet: the order's date stands in (the summary says so)
        processed = (
            datetime.fromisoformat(processed_at)
            if known(processed_at)
            else datetime.combine(order.order_date, time(12), tzinfo=zone)
        )
        day = fusion_date(processed, ledger_zone=zone)
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
        skipped = self._not_posted(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        invoice, reason = self._canonical_invoice(ctx)
        return post_invoice(
            self.fusion,
            self.config.fusion,
            invoice,
            reason,
            currency=self.config.currency,
            lines=self._split_lines(ctx, invoice),
        )

    def _split_lines(self, ctx: StepContext, invoice: Invoice) -> list[SplitLine]:
        """One line per product family (``several = "split"``, recorded at submit); none: the
        invoice's single line."""
        recorded: object = ctx.input.get("product_line")
        stored = cast("dict[str, object]", recorded) if isinstance(recorded, dict) else {}
        split = stored.get("split")
        if not isinstance(split, list) or not split:
            return []
        pairs = cast("list[list[str]]", split)
        families = [(str(family), Decimal(str(total))) for family, total in pairs]
        shares = allocate(invoice.amount, families)
        lines: list[SplitLine] = []
        for family, amount in shares.value:
            gl = self.config.gl.derive(
                card_type=ctx.results["vault_profile"].get("card_type"),
                channel=_order(ctx).channel,
                product_line=family or None,
                business_unit=self.config.fusion.business_unit,
            )
            lines.append(SplitLine(family, amount, gl.value, f"{gl.reason}; {shares.reason}"))
        return lines

    def _find_invoice(self, ctx: StepContext) -> LookupResult:
        skipped = self._not_posted(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        return find_invoice(self.fusion, *self._canonical_invoice(ctx))

    def _receivables(self, ctx: StepContext) -> FusionReceivablesConfig:
        """The receivables settings of the receipt: ACH payments have their receipt method."""
        if not _is_ach(ctx):
            return self.config.fusion
        return self.config.fusion.model_copy(
            update={"receipt_method": self.config.ach_receipt_method}
        )

    def _canonical_receipt(self, ctx: StepContext) -> Receipt:
        invoice, _ = self._canonical_invoice(ctx)
        return receipt_for(invoice, ctx.results["charge"]["transaction_id"])

    def _receipt(self, ctx: StepContext) -> Mapping[str, str]:
        skipped = self._not_posted(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        return post_receipt(
            self.fusion,
            self._receivables(ctx),
            self._canonical_receipt(ctx),
            currency=self.config.currency,
        )

    def _find_receipt(self, ctx: StepContext) -> LookupResult:
        skipped = self._not_posted(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        return find_receipt(self.fusion, self._canonical_receipt(ctx).number)

    def _apply(self, ctx: StepContext) -> Mapping[str, str]:
        skipped = self._not_posted(ctx)
        if skipped:
            return {_SKIPPED: skipped}
        return apply_receipt(self.fusion, ctx.results, _order(ctx).amount)

    def _find_apply(self, ctx: StepContext) -> LookupResult:
        skipped = self._not_posted(ctx)
        if skipped:
            return LookupResult.found({_SKIPPED: skipped})
        return find_applied(self.fusion, ctx.results, _order(ctx).amount)

    # 7. the Opportunity / Order that started the flow (``source_fields``)
    def _source_record(self, ctx: StepContext) -> tuple[str, str, dict[str, object]]:
        """The trigger's object, its id and the configured payment values."""
        order, charge = _order(ctx), ctx.results["charge"]
        values: dict[str, object] = {
            "transaction_id": charge["transaction_id"],
            "status": ctx.results["salesforce_payment"]["status"],
            "amount": order.amount,
            "processed_at": charge["processed_at"],
            "method": "ACH" if _is_ach(ctx) else "Card",
        }
        fields = {target: values[name] for name, target in self.config.source_fields.items()}
        return _trigger(ctx), order.source_id, fields

    def _update_source(self, ctx: StepContext) -> Mapping[str, str]:
        if not self.config.source_fields:
            return {_SKIPPED: "no source_fields configured"}
        sobject, record_id, fields = self._source_record(ctx)
        self.salesforce.update(sobject, record_id, fields)
        return {"updated": f"{sobject} {record_id}", "fields": ", ".join(sorted(fields))}

    def _find_source(self, ctx: StepContext) -> LookupResult:
        if not self.config.source_fields:
            return LookupResult.found({_SKIPPED: "no source_fields configured"})
        sobject, record_id, fields = self._source_record(ctx)
        names = ", ".join(["Id", *fields])
        # names come from the validated configuration; the id is quoted by the bridge
        rows = self.salesforce.records(f"SELECT {names} FROM {sobject} WHERE Id = {{}}", record_id)  # noqa: S608
        if rows and all(_same(rows[0].get(k), v) for k, v in fields.items()):
            return LookupResult.found(
                {"updated": f"{sobject} {record_id}", "fields": ", ".join(sorted(fields))}
            )
        # not (yet) written: writing the same values again is harmless
        return LookupResult.absent(f"{sobject} {record_id} does not show the payment yet")

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _source_summary(self, ctx: StepContext) -> Mapping[str, object]:
        if not self.config.source_fields:
            return {_SKIPPED: "no source_fields configured: the trigger's record is not updated"}
        sobject, record_id, fields = self._source_record(ctx)
        return {"sobject": sobject, "id": record_id, "fields": to_jsonable_python(fields)}

    def _vault_summary(self, ctx: StepContext) -> Mapping[str, object]:
        customer_id = _order(ctx).customer.paytrace_customer_id or ""
        find = {"endpoint": "customer/export", "customer_id": customer_id}
        if _is_ach(ctx):  # the bank account reaches the vault outside paysync
            return {"find": find, "needs": "a profile holding a bank account"}
        return {
            "find": find,
            # only when the export has no such profile; the token is never stored
            "create": {"endpoint": "customer/pt_protect_create", "customer_id": customer_id},
        }

    def _payment_summary(self, ctx: StepContext) -> Mapping[str, object]:
        fields, charge = self.config.payment_fields, ctx.results["charge"]
        if known(charge["status"]):
            values, _, _ = self._payment_record(ctx)
            return salesforce_upsert(
                fields.sobject, fields.external_id, self._payment_key(ctx), values
            )
        # dry run: build the record as for an approved charge, then show the fields the
        # charge's answer decides as its placeholders
        stand_in = {
            "transaction_id": charge["transaction_id"],
            "status": PaymentStatus.CAPTURED.value,
            "status_reason": charge["status_reason"],
            "processed_at": datetime.combine(_order(ctx).order_date, time(12)).isoformat()
            + "+00:00",
            "last4": "",
            "paytrace_details": "{}",
        }
        values, _, _ = self._payment_record(ctx, stand_in)
        decided = {
            fields.status: charge["status"],
            fields.status_reason: charge["status_reason"],
            fields.processed_at: charge["processed_at"],
            fields.last4: charge["last4"],
        }
        values.update({name: value for name, value in decided.items() if name})
        for source, target in self.config.payment_custom_fields.items():
            values[target] = f"<charge.{source}>"
        return salesforce_upsert(fields.sobject, fields.external_id, self._payment_key(ctx), values)

    def _status_summary(self, ctx: StepContext) -> str:
        """The status map's decision; in a dry run the charge's status is not known yet."""
        status = ctx.results["charge"]["status"]
        if known(status):
            return self._fusion_state(status).reason
        approved = self._fusion_state(PaymentStatus.CAPTURED.value).reason
        return f"decided by the charge's status when the step runs; approved: {approved}"

    def _skipped_summary(self, ctx: StepContext) -> Mapping[str, object] | None:
        """The status map posts nothing for the charge's status (unknown in a dry run: the
        payload is shown in full)."""
        if not known(ctx.results["charge"]["status"]):
            return None
        skipped = self._not_posted(ctx)
        return {_SKIPPED: skipped, "fusion_status": self._status_summary(ctx)} if skipped else None

    def _conversion_summary(self, ctx: StepContext, invoice: Invoice) -> dict[str, str]:
        known_date = known(ctx.results["charge"]["processed_at"])
        return conversion_summary(
            self.config.currency, invoice.currency, invoice.invoice_date if known_date else None
        )

    def _invoice_summary(self, ctx: StepContext) -> Mapping[str, object]:
        skipped = self._skipped_summary(ctx)
        if skipped is not None:
            return skipped
        invoice, reason = self._canonical_invoice(ctx)
        body = invoice_to_fusion(invoice, self.config.fusion)
        lines = self._split_lines(ctx, invoice)
        split: dict[str, object] = {}
        if lines:
            body = split_invoice(body, invoice.number, lines)
            split["invoice_lines"] = describe_lines(lines)
        payload = fusion_payload(
            "receivablesInvoices",
            body,
            mapping=reason,
            fusion_status=self._status_summary(ctx),
            **self._conversion_summary(ctx, invoice),
            **split,
        )
        return _dated(ctx, payload, "TransactionDate")

    def _receipt_summary(self, ctx: StepContext) -> Mapping[str, object]:
        skipped = self._skipped_summary(ctx)
        if skipped is not None:
            return skipped
        invoice, _ = self._canonical_invoice(ctx)
        receipt = receipt_to_fusion(self._canonical_receipt(ctx), self._receivables(ctx))
        payload = fusion_payload(
            "standardReceipts",
            receipt,
            fusion_status=self._status_summary(ctx),
            **self._conversion_summary(ctx, invoice),
        )
        return _dated(ctx, payload, "ReceiptDate")

    def _apply_summary(self, ctx: StepContext) -> Mapping[str, object]:
        skipped = self._skipped_summary(ctx)
        if skipped is not None:
            return skipped
        return {
            **apply_summary(ctx, _order(ctx).amount),
            "fusion_status": self._status_summary(ctx),
        }


def _same(stored: object, wanted: object) -> bool:
    """A value read back from Salesforce equals the one written (numbers as numbers)."""
    if isinstance(wanted, Decimal):
        try:
            return Decimal(str(stored)) == wanted
        except ArithmeticError:
            return False
    return str(stored) == str(wanted)


def _dated(ctx: StepContext, payload: dict[str, object], name: str) -> dict[str, object]:
    """In a dry run the ledger date comes from the charge's time, not known yet."""
    processed_at = ctx.results["charge"]["processed_at"]
    body = payload.get("body")
    if not known(processed_at) and isinstance(body, dict):
        cast("dict[str, object]", body)[name] = f"<ledger date of {processed_at[1:-1]}>"
    return payload


_STATUS_CODES: Mapping[str, int] = {
    PaymentStatus.CAPTURED.value: 101,
    PaymentStatus.DECLINED.value: 102,
    PaymentStatus.VOIDED.value: 103,
}


def _status_code(status: str) -> int:
    """Stored canonical status -> a PayTrace code for :func:`payment_from_paytrace`."""
    return _STATUS_CODES.get(status, 0)
