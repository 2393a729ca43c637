"""Use case 7: recurring billing and dunning of Salesforce subscriptions from the PayTrace vault.

``RecurringBilling.submit_due`` (the scheduler, run as often as wanted) reads the active
``Subscription__c`` records, asks the :class:`~paysync_core.mapping.DunningPolicy` which
attempt is due today (injectable clock) and submits one flow per (subscription, period,
attempt); the flow key makes a second run, or a run after a crash, return the same flow.
Steps of one attempt:

1. ``charge``                  PayTrace sale on the vault profile, ``invoice_id`` =
   ``SUB-<subscription id>-<period yyyymmdd>-<attempt>``; lookup through the exports by it;
2. ``salesforce_payment``      ``Payment__c`` upserted by the PayTrace transaction id (declines
   included, with their reason);
3. ``salesforce_subscription`` ``Subscription__c`` updated: next charge date and attempts reset
   after an approval; failed attempts counted after a decline, and Past Due (or Cancelled)
   once the retry cadence is spent.

An attempt is submitted only once the previous attempt of the period has recorded its decline
in Salesforce (step 3 of its flow), so an approved period is never charged again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from paysync_core import Engine, FlowDefinition, FlowRecord, LookupResult, Step, StepContext
from paysync_core.canonical import Customer, Order, PaymentStatus, Subscription
from paysync_core.mapping import (
    Decision,
    DunningPolicy,
    PaymentCustomFieldMap,
    PaymentFieldMap,
    ReferenceFieldMap,
    SubscriptionFieldMap,
    SubscriptionOutcome,
    payment_from_paytrace,
    payment_to_salesforce,
    paytrace_reference_values,
    salesforce_custom_values,
    soql_source_fields,
    subscription_from_salesforce,
)
from paysync_core.ports import PayTracePort, SaleOutcome, SalesforcePort

from ._summaries import known, salesforce_upsert

__all__ = ["USE_CASE", "RecurringBilling", "RecurringBillingConfig"]

USE_CASE = "salesforce_recurring_billing"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RecurringBillingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    fields: SubscriptionFieldMap = SubscriptionFieldMap()
    """Field names of the Salesforce ``Subscription__c`` records."""
    payment_fields: PaymentFieldMap = PaymentFieldMap(opportunity=None)
    """Field names of the ``Payment__c`` record of each attempt."""
    dunning: DunningPolicy = DunningPolicy()
    """Retry cadence after a failed charge."""
    billing_timezone: str = "America/Los_Angeles"
    """The zone whose calendar day decides what is due."""
    correlation_prefix: str = Field(default="SUB", max_length=4)
    """Prefix of each attempt's PayTrace ``invoice_id`` (``<prefix>-<Subscription
    id>-<period>-<attempt>``)."""
    max_per_run: int = Field(default=500, ge=1)
    """Most subscriptions read per pass of ``paysync run``."""
    payment_method: Literal["card", "ach"] = "card"
    """How the vault profile is charged: ``card`` (sale) or ``ach`` (``checks/sale/by_customer``
    on the bank account the profile holds)."""
    payment_method_field: str | None = None
    """``Subscription__c`` field choosing the method per subscription (``ACH``, ``Check`` or
    ``eCheck`` -> ach, any other value -> card, empty -> ``payment_method``)."""
    custom_fields: ReferenceFieldMap = Field(default_factory=dict[str, str])
    """``Subscription__c`` field -> PayTrace reference field of each charge: ``description``
    (appended), ``customer_reference_id`` or ``discretionary_data.<NAME>`` (the scheduler's
    SOQL selects these fields itself; an ACH debit takes the description only)."""
    payment_custom_fields: PaymentCustomFieldMap = Field(default_factory=dict[str, str])
    """PayTrace answer field of the charge (``approval_code``, ``avs_response``, the
    ``discretionary_data.<NAME>`` sent, ...) -> ``Payment__c`` field."""


def _reference(ctx: StepContext) -> dict[str, str]:
    """The custom PayTrace reference values stored with the attempt (none when unmapped)."""
    stored: object = ctx.input.get("reference")
    if not isinstance(stored, dict):
        return {}
    return {str(k): str(v) for k, v in cast("dict[str, object]", stored).items()}


def _description(ctx: StepContext) -> str:
    """The charge's description (the same on a card sale and an ACH debit), with the mapped
    ``description`` value appended."""
    subscription = _subscription(ctx)
    text = (
        f"Subscription {subscription.source_id} period "
        f"{subscription.next_charge_date} attempt {_attempt(ctx)}"
    )
    mapped = _reference(ctx).get("description")
    return f"{text}; {mapped}" if mapped else text


def _subscription(ctx: StepContext) -> Subscription:
    return Subscription.model_validate(ctx.input["subscription"])


def _attempt(ctx: StepContext) -> int:
    return int(str(ctx.input["attempt"]))


def _invoice_id(ctx: StepContext) -> str:
    return str(ctx.input["invoice_id"])


_ACH_VALUES = frozenset({"ach", "check", "echeck", "bank", "bank account"})


def _is_ach(ctx: StepContext) -> bool:
    """Whether this attempt pays by ACH (attempts recorded before ACH: card)."""
    return ctx.input.get("payment_method") == "ach"


def _order(subscription: Subscription, invoice_id: str) -> Order:
    """The attempt as a canonical order (what the payment mapping translates from)."""
    customer = Customer(
        customer_id=f"sf:{subscription.account_id or subscription.source_id}",
        name=subscription.account_id or subscription.source_id,
        salesforce_account_id=subscription.account_id,
        paytrace_customer_id=subscription.vault_customer_id,
    )
    return Order(
        source_system=subscription.source_system,
        source_id=subscription.source_id,
        customer=customer,
        amount=subscription.amount,
        currency=subscription.currency,
        order_date=subscription.next_charge_date,
        channel="recurring",
        description=invoice_id,
    )


def _ach(debit: SaleOutcome) -> SaleOutcome:
    """An ACH sale named ``ACH-<check_transaction_id>`` (checks are numbered apart from card
    transactions: the prefix keeps ``Payment_ID__c`` values apart)."""
    check_id = debit.transaction_id
    return replace(debit, transaction_id=f"ACH-{check_id}" if check_id else "")


class RecurringBilling:
    """Builds the flow from the ports; ``submit_due`` is the scheduler's trigger.

    ``clock`` gives "now" (injectable for tests); the day is read in ``billing_timezone``.
    """

    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        salesforce: SalesforcePort,
        config: RecurringBillingConfig | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.paytrace = paytrace
        self.salesforce = salesforce
        self.config = config or RecurringBillingConfig()
        self._clock = clock

    def today(self) -> date:
        return self._clock().astimezone(ZoneInfo(self.config.billing_timezone)).date()

    # -- the scheduler ---------------------------------------------------------------------
    def submit_due(self, engine: Engine) -> list[FlowRecord]:
        """Submit a flow for every attempt due today; safe to run any number of times."""
        fields = self.config.fields
        names = dict.fromkeys(
            [
                *fields.soql_fields(),
                self.config.payment_method_field or "",
                *soql_source_fields(self.config.custom_fields),
            ]
        )
        soql = (
            f"SELECT {', '.join(n for n in names if n)} FROM {fields.sobject} "  # noqa: S608
            f"WHERE {fields.status} = {{}} ORDER BY {fields.next_charge_date} LIMIT {{}}"
        )
        # names are configuration, values are quoted by the bridge's format_soql
        rows = self.salesforce.records(soql, "Active", self.config.max_per_run)
        today = self.today()
        flows: list[FlowRecord] = []
        for row in rows:
            subscription = subscription_from_salesforce(row, fields)
            flow = self.submit(engine, subscription.value, today, raw=row)
            if flow is not None:
                flows.append(flow)
        return flows

    def submit(
        self,
        engine: Engine,
        subscription: Subscription,
        today: date,
        *,
        raw: Mapping[str, Any] | None = None,
    ) -> FlowRecord | None:
        """Submit the attempt due ``today`` for ``subscription`` (None if nothing is due).

        ``raw`` is the ``Subscription__c`` row it was read from: kept in the flow input (its
        mapped fields and ``today``) so ``paysync replay`` can re-derive the decisions."""
        due = self.config.dunning.due_attempt(subscription, today)
        if due.value is None:
            return None
        period = subscription.next_charge_date
        invoice_id = (
            f"{self.config.correlation_prefix}-{subscription.source_id}-{period:%Y%m%d}-{due.value}"
        )
        return engine.submit(
            USE_CASE,
            source_system=subscription.source_system,
            source_id=f"{subscription.source_id}:{period.isoformat()}:{due.value}",
            version=1,
            # attempts of one subscription run one at a time, in order
            entity_key=f"{subscription.source_system}:{subscription.source_id}",
            input={
                "subscription": subscription.model_dump(mode="json"),
                "attempt": due.value,
                "invoice_id": invoice_id,
                "schedule": due.reason,
                **self._method_input(raw),
                **self._reference_input(raw),
                "raw": {
                    "today": today.isoformat(),
                    "row": None
                    if raw is None
                    else {
                        k: raw[k]
                        for k in (*self.config.fields.soql_fields(), *self.config.custom_fields)
                        if k in raw
                    },
                },
            },
        )

    def _reference_input(self, raw: Mapping[str, Any] | None) -> dict[str, object]:
        """The custom reference values of the ``Subscription__c`` row (none when unmapped)."""
        if not self.config.custom_fields or raw is None:
            return {}
        values = paytrace_reference_values(raw, self.config.custom_fields, what="Subscription__c")
        return {"reference": values.value, "reference_mapping": values.reason}

    def _method_input(self, raw: Mapping[str, Any] | None) -> dict[str, object]:
        """The payment method of the attempt, stored with the flow (card: nothing stored)."""
        method: str = self.config.payment_method
        field = self.config.payment_method_field
        if field and raw is not None and str(raw.get(field) or "").strip():
            chosen = str(raw[field]).strip().lower().replace("-", "")
            method = "ach" if chosen in _ACH_VALUES else "card"
        return {"payment_method": method} if method == "ach" else {}

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            USE_CASE,
            [
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
                    summarize=self._payment_summary,
                ),
                Step(
                    "salesforce_subscription",
                    self._update_subscription,
                    self._find_subscription,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._subscription_summary,
                ),
            ],
        )

    # 1. charge
    def _charge_summary(self, ctx: StepContext) -> Mapping[str, object]:
        subscription = _subscription(ctx)
        return {
            "amount": str(subscription.amount),
            "invoice_id": _invoice_id(ctx),
            "attempt": _attempt(ctx),
            "endpoint": "checks/sale/by_customer"
            if _is_ach(ctx)
            else "transactions/sale/by_customer",
            "customer_id": subscription.vault_customer_id,
            "description": _description(ctx),
            **self._reference_summary(ctx),
        }

    def _reference_summary(self, ctx: StepContext) -> dict[str, object]:
        """The mapped reference fields the charge sends, with the mapping's explanation."""
        reference = {k: v for k, v in _reference(ctx).items() if k != "description"}
        if _is_ach(ctx):  # an ACH debit carries the description only
            reference = {}
        extra: dict[str, object] = {"reference": reference} if reference else {}
        if "reference_mapping" in ctx.input:
            extra["reference_mapping"] = str(ctx.input["reference_mapping"])
        return extra

    def _with_details(
        self, ids: dict[str, str], sale: SaleOutcome, ctx: StepContext
    ) -> dict[str, str]:
        """The answer's fields and the reference values sent, for ``payment_custom_fields``."""
        if self.config.payment_custom_fields:
            answer = {**_reference(ctx), **sale.details}
            ids["paytrace_details"] = json.dumps(answer, sort_keys=True)
        if "reference_mapping" in ctx.input:
            ids["reference_mapping"] = str(ctx.input["reference_mapping"])
        return ids

    @staticmethod
    def _sale_ids(sale: SaleOutcome, ctx: StepContext) -> dict[str, str]:
        subscription = _subscription(ctx)
        payment = payment_from_paytrace(
            _order(subscription, _invoice_id(ctx)),
            transaction_id=sale.transaction_id,
            response_code=sale.response_code,
            message=sale.message,
            processed_at=sale.processed_at,
            vault_id=subscription.vault_customer_id,
            card_type="ACH" if _is_ach(ctx) else "",
            last4=sale.last4,
        )
        return {
            "transaction_id": sale.transaction_id,
            "response_code": str(sale.response_code),
            "status": payment.value.status.value,
            "status_reason": payment.reason,
            "last4": sale.last4,
            "processed_at": sale.processed_at.isoformat(),
        }

    def _charge(self, ctx: StepContext) -> Mapping[str, str]:
        subscription = _subscription(ctx)
        description = _description(ctx)
        if _is_ach(ctx):
            debit = self.paytrace.check_sale(
                amount=subscription.amount,
                customer_id=subscription.vault_customer_id,
                invoice_id=_invoice_id(ctx),
                description=description,
            )
            return self._with_details(self._sale_ids(_ach(debit), ctx), debit, ctx)
        sale = self.paytrace.sale(
            amount=subscription.amount,
            customer_id=subscription.vault_customer_id,
            invoice_id=_invoice_id(ctx),
            description=description,
            reference=_reference(ctx),
        )
        return self._with_details(self._sale_ids(sale, ctx), sale, ctx)

    def _find_charge(self, ctx: StepContext) -> LookupResult:
        subscription = _subscription(ctx)
        if _is_ach(ctx):
            debit = self.paytrace.find_check_sale(
                invoice_id=_invoice_id(ctx),
                amount=subscription.amount,
                customer_id=subscription.vault_customer_id,
            )
            if debit is None:
                return LookupResult.absent(
                    f"no PayTrace ACH sale with invoice_id {_invoice_id(ctx)}"
                )
            return LookupResult.found(
                self._with_details(self._sale_ids(_ach(debit), ctx), debit, ctx),
                f"PayTrace ACH sale {debit.transaction_id} found by invoice_id",
            )
        sale = self.paytrace.find_sale(
            invoice_id=_invoice_id(ctx),
            amount=subscription.amount,
            customer_id=subscription.vault_customer_id,
        )
        if sale is None:
            return LookupResult.absent(f"no PayTrace sale with invoice_id {_invoice_id(ctx)}")
        return LookupResult.found(
            self._with_details(self._sale_ids(sale, ctx), sale, ctx),
            f"PayTrace sale {sale.transaction_id} found by invoice_id",
        )

    # 2. Payment__c
    def _payment_key(self, ctx: StepContext) -> str:
        return ctx.results["charge"]["transaction_id"] or f"DECLINED-{_invoice_id(ctx)}"

    def _payment_record(self, ctx: StepContext) -> dict[str, object]:
        subscription, charge = _subscription(ctx), ctx.results["charge"]
        order = _order(subscription, _invoice_id(ctx))
        payment = payment_from_paytrace(
            order,
            transaction_id=charge["transaction_id"],
            response_code=int(charge["response_code"]),
            message=charge["status_reason"],
            processed_at=datetime.fromisoformat(charge["processed_at"]),
            vault_id=subscription.vault_customer_id,
            card_type="ACH" if _is_ach(ctx) else "",
            last4=charge["last4"],
        ).value.model_copy(update={"status_reason": charge["status_reason"]})
        fields = self.config.payment_fields
        record = dict(payment_to_salesforce(payment, order, fields).value)
        lookup = self.config.fields.payment_lookup
        if lookup:
            record[lookup] = subscription.source_id
        custom = self._custom(ctx)
        if custom is not None:
            record.update(custom.value)
        return record

    def _custom(self, ctx: StepContext) -> Decision[dict[str, str]] | None:
        """The charge's mapped PayTrace fields for ``Payment__c`` (``None``: no map)."""
        if not self.config.payment_custom_fields:
            return None
        stored = ctx.results["charge"].get("paytrace_details") or "{}"
        answer = cast("dict[str, str]", json.loads(stored)) if known(stored) else {}
        return salesforce_custom_values(
            answer, self.config.payment_custom_fields, sobject=self.config.payment_fields.sobject
        )

    def _upsert_payment(self, ctx: StepContext) -> Mapping[str, str]:
        fields, record = self.config.payment_fields, self._payment_record(ctx)
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, self._payment_key(ctx), record
        )
        custom = self._custom(ctx)
        return {
            "payment_id": record_id,
            "status": str(record[fields.status]),
            **({"custom_mapping": custom.reason} if custom is not None else {}),
        }

    def _find_payment(self, ctx: StepContext) -> LookupResult:
        fields = self.config.payment_fields
        found = self.salesforce.find_id(fields.sobject, fields.external_id, self._payment_key(ctx))
        return LookupResult.absent() if found is None else LookupResult.found({"payment_id": found})

    # 3. Subscription__c
    def _outcome(self, ctx: StepContext) -> SubscriptionOutcome:
        charge = ctx.results["charge"]
        return self.config.dunning.after_attempt(
            _subscription(ctx),
            _attempt(ctx),
            approved=charge["status"] == PaymentStatus.CAPTURED.value,
            detail=charge["status_reason"],
        )

    def _subscription_fields(self, outcome: SubscriptionOutcome) -> dict[str, object]:
        fields = self.config.fields
        return {
            fields.status: outcome.status.value,
            fields.next_charge_date: outcome.next_charge_date.isoformat(),
            fields.failed_attempts: outcome.failed_attempts,
        }

    def _update_subscription(self, ctx: StepContext) -> Mapping[str, str]:
        outcome = self._outcome(ctx)
        subscription = _subscription(ctx)
        self.salesforce.update(
            self.config.fields.sobject,
            subscription.source_id,
            self._subscription_fields(outcome),
        )
        return {
            "status": outcome.status.value,
            "next_charge_date": outcome.next_charge_date.isoformat(),
            "failed_attempts": str(outcome.failed_attempts),
            "reason": outcome.reason,
        }

    def _find_subscription(self, ctx: StepContext) -> LookupResult:
        outcome = self._outcome(ctx)
        fields = self.config.fields
        soql = f"SELECT {', '.join(fields.soql_fields())} FROM {fields.sobject} WHERE Id = {{}}"  # noqa: S608
        rows = self.salesforce.records(soql, _subscription(ctx).source_id)
        if not rows:
            return LookupResult.absent("subscription not found")
        current = subscription_from_salesforce(rows[0], fields).value
        if (current.status, current.next_charge_date, current.failed_attempts) == (
            outcome.status,
            outcome.next_charge_date,
            outcome.failed_attempts,
        ):
            return LookupResult.found({"status": outcome.status.value, "reason": outcome.reason})
        return LookupResult.absent("subscription not updated yet")

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _payment_summary(self, ctx: StepContext) -> Mapping[str, object]:
        fields, charge = self.config.payment_fields, ctx.results["charge"]
        if known(charge["processed_at"]):
            record = self._payment_record(ctx)
        else:  # dry run: the sale's outcome is not known yet
            subscription = _subscription(ctx)
            candidates: dict[str | None, object] = {
                fields.amount: subscription.amount,
                fields.currency: subscription.currency,
                fields.status: "<from the charge: Captured, or Failed with the reason>",
                self.config.fields.payment_lookup: subscription.source_id,
            }
            record = {k: v for k, v in candidates.items() if k is not None}
            for source, target in self.config.payment_custom_fields.items():
                record[target] = f"<charge.{source}>"
        return salesforce_upsert(fields.sobject, fields.external_id, self._payment_key(ctx), record)

    def _subscription_summary(self, ctx: StepContext) -> Mapping[str, object]:
        subscription, fields = _subscription(ctx), self.config.fields
        status = ctx.results["charge"]["status"]
        outcomes = (True, False) if not known(status) else (status == PaymentStatus.CAPTURED.value,)
        summary: dict[str, object] = {"sobject": fields.sobject, "id": subscription.source_id}
        for approved in outcomes:
            outcome = self.config.dunning.after_attempt(
                subscription, _attempt(ctx), approved=approved, detail="declined"
            )
            key = "if_approved" if approved else "if_declined"
            summary[key] = to_jsonable_python(self._subscription_fields(outcome))
        return summary
