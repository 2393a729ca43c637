"""Use case 4: PayTrace declines and chargebacks.

**Declines** are data, not errors. :meth:`DeclinesChargebacks.import_declines` reads PayTrace's
declined transactions (``transactions/export/by_date_range`` with ``transaction_type =
DECLINED``; every channel: API, virtual terminal ...). One flow per transaction:

1. ``salesforce_payment``  ``Payment__c`` upserted by ``Payment_ID__c`` (= transaction id,
   the same record use case 1 writes for its own declines): status ``Failed`` and the reason
   (code, processor text, category and follow-up action from :func:`decline_reason`);
2. ``salesforce_task``     a follow-up ``Task`` upserted by ``Paysync_Key__c`` =
   ``DECLINE-<transaction id>``.

Nothing is posted to Fusion: a declined payment creates no receivable entry (the ledger
records this decision in the payment step's ids).

**Chargebacks** come from PayTrace's dispute file (:mod:`paysync_core.chargebacks`; PayTrace
has no dispute API). :meth:`DeclinesChargebacks.import_dispute_file` validates every row
first, then submits one flow per dispute case (flow key = case number, so re-importing a
file submits nothing new):

1. ``original_payment`` (read) the disputed PayTrace transaction: its ``invoice_id`` is the
   Fusion invoice number use case 1 wrote (``SF-<Opportunity id>``);
2. ``original_invoice`` (read) that Fusion invoice and its bill-to customer account;
3. ``fusion_credit_memo``  an on-account credit memo ``CB-<case number>`` naming the invoice
   (lookup: ``TransactionNumber``);
4. ``salesforce_case``  a follow-up ``Case`` upserted by ``Dispute_Case_Number__c``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LookupResult,
    NeedsHumanError,
    Step,
    StepContext,
)
from paysync_core.canonical import Payment, PaymentMethodToken, PaymentStatus
from paysync_core.chargebacks import (
    Chargeback,
    ChargebackConfig,
    chargeback_to_case,
    chargeback_to_credit_memo,
    parse_dispute_file,
)
from paysync_core.mapping import PaymentFieldMap, decline_reason, salesforce_status
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.xref import CustomerXrefTable
from paytrace_client.models import ExportedTransaction

from ._summaries import fusion_payload, salesforce_upsert

__all__ = [
    "CHARGEBACKS_USE_CASE",
    "DECLINES_USE_CASE",
    "DeclinesChargebacks",
    "DeclinesChargebacksConfig",
    "TaskFields",
]

DECLINES_USE_CASE = "paytrace_declines"
CHARGEBACKS_USE_CASE = "paytrace_chargebacks"
_NOT_POSTED = "not posted to Fusion: a declined payment creates no receivable"


class TaskFields(BaseModel):
    """The Salesforce follow-up ``Task`` of a decline; ``None`` leaves a field out."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Task"
    """Salesforce object of the follow-up."""
    external_id: str = "Paysync_Key__c"
    """External id field the follow-up is upserted by (one per decline)."""
    subject: str = "Subject"
    """Subject field."""
    description: str | None = "Description"
    """Description field (decline reason and payment details)."""
    status: str | None = "Status"
    """Status field."""
    status_value: str = "Not Started"
    """Status given to a new follow-up."""
    priority: str | None = "Priority"
    """Priority field."""
    priority_value: str = "Normal"
    """Priority given to a new follow-up."""
    what: str | None = "WhatId"
    """Related record: the customer's Account (when the cross-reference knows it)."""


class DeclinesChargebacksConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    payment_fields: PaymentFieldMap = PaymentFieldMap()
    """Field names of the ``Payment__c`` record of a declined payment."""
    task: TaskFields = TaskFields()
    """The follow-up ``Task`` created for a decline."""
    chargebacks: ChargebackConfig = ChargebackConfig()
    """Fusion credit memo and Salesforce ``Case`` of a chargeback."""


def _payment(ctx: StepContext) -> Payment:
    return Payment.model_validate(ctx.input["payment"])


def _chargeback(ctx: StepContext) -> Chargeback:
    return Chargeback.model_validate(ctx.input["chargeback"])


def _text(value: object) -> str:
    return "" if value is None else str(value)


class DeclinesChargebacks:
    """Both flows of use case 4 over the three ports; ``xref`` (optional) links PayTrace vault
    customers back to Salesforce Accounts."""

    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        fusion: FusionPort,
        salesforce: SalesforcePort,
        xref: CustomerXrefTable | None = None,
        config: DeclinesChargebacksConfig | None = None,
    ) -> None:
        self.paytrace = paytrace
        self.fusion = fusion
        self.salesforce = salesforce
        self.xref = xref
        self.config = config or DeclinesChargebacksConfig()

    def definitions(self) -> list[FlowDefinition]:
        return [self.declines_definition(), self.chargebacks_definition()]

    def _account_of(self, paytrace_customer_id: str | None) -> str | None:
        if self.xref is None or not paytrace_customer_id:
            return None
        entry = self.xref.by_paytrace(paytrace_customer_id)
        return entry.salesforce_account_id if entry else None

    # == declines ==========================================================================
    def import_declines(self, engine: Engine, start: date, end: date) -> list[FlowRecord]:
        """Submit one flow per declined PayTrace transaction from ``start`` to ``end``."""
        return [
            self.submit_decline(engine, record)
            for record in self.paytrace.declined_transactions(start, end)
        ]

    def submit_decline(self, engine: Engine, record: ExportedTransaction) -> FlowRecord:
        # Exports carry no response code: a declined record reads as 102 (as in use case 1).
        message = (record.approval_message or record.status_message or "").strip()
        decision = decline_reason(102, message)
        card = record.credit_card
        masked = (card.masked_number or "") if card is not None else ""
        last4 = masked[-4:] if masked[-4:].isdigit() else None
        method = (
            PaymentMethodToken(
                gateway="paytrace",
                vault_id=record.customer_id,
                card_type=(card.type or None) if card is not None else None,
                last4=last4,
            )
            if record.customer_id
            else None
        )
        created = record.created.at if record.created and record.created.at else None
        payment = Payment(
            gateway="paytrace",
            transaction_id=str(record.transaction_id),
            order_source_id=record.invoice_id or "",
            amount=record.amount if record.amount is not None else Decimal("0.00"),
            status=PaymentStatus.DECLINED,
            status_reason=decision.value.status_reason,
            method=method,
            processed_at=created or datetime.now(timezone.utc),
        )
        return engine.submit(
            DECLINES_USE_CASE,
            source_system="paytrace",
            source_id=str(record.transaction_id),
            version=1,
            input={
                "payment": payment.model_dump(mode="json"),
                "account_id": self._account_of(record.customer_id),
                "category": decision.value.category,
                "action": decision.value.action,
                "mapping": decision.reason,
                # what the decline rule read, so `paysync replay` can apply today's rules
                "raw": {"response_code": 102, "message": message},
            },
        )

    def declines_definition(self) -> FlowDefinition:
        return FlowDefinition(
            DECLINES_USE_CASE,
            [
                Step(
                    "salesforce_payment",
                    self._upsert_declined_payment,
                    self._find_declined_payment,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._declined_payment_summary,
                ),
                Step(
                    "salesforce_task",
                    self._upsert_task,
                    self._find_task,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._task_summary,
                ),
            ],
        )

    def _declined_record(self, ctx: StepContext) -> dict[str, Any]:
        payment, fields = _payment(ctx), self.config.payment_fields
        picklist = salesforce_status(payment.status)
        method = payment.method
        reason = f"{payment.status_reason}; {ctx.input['category']}: {ctx.input['action']}"
        candidates: dict[str | None, Any] = {
            fields.amount: payment.amount,
            fields.currency: payment.currency,
            fields.status: picklist.value,
            fields.last4: method.last4 if method else None,
            fields.transaction_id: payment.transaction_id,
            fields.account: ctx.input.get("account_id"),
            fields.processed_at: payment.processed_at.isoformat(),
            fields.card_type: method.card_type if method else None,
            fields.vault_id: method.vault_id if method else None,
            fields.status_reason: reason[:255],
        }
        return {k: v for k, v in candidates.items() if k is not None and v is not None}

    def _upsert_declined_payment(self, ctx: StepContext) -> Mapping[str, str]:
        fields = self.config.payment_fields
        record = self._declined_record(ctx)
        key = _payment(ctx).transaction_id
        record_id = self.salesforce.upsert(fields.sobject, fields.external_id, key, record)
        return {
            "payment_id": record_id,
            "status": str(record[fields.status]),
            "mapping": _text(ctx.input.get("mapping")),
            "fusion": _NOT_POSTED,
        }

    def _find_declined_payment(self, ctx: StepContext) -> LookupResult:
        fields = self.config.payment_fields
        key = _payment(ctx).transaction_id
        found = self.salesforce.find_id(fields.sobject, fields.external_id, key)
        if found is None:
            return LookupResult.absent(f"no {fields.sobject} {key}")
        return LookupResult.found({"payment_id": found, "fusion": _NOT_POSTED})

    def _task_key(self, ctx: StepContext) -> str:
        return f"DECLINE-{_payment(ctx).transaction_id}"

    def _task_record(self, ctx: StepContext) -> dict[str, Any]:
        payment, task = _payment(ctx), self.config.task
        description = (
            f"PayTrace transaction {payment.transaction_id} for {payment.amount} "
            f"{payment.currency} was declined: {payment.status_reason}. "
            f"Next: {ctx.input['action']}."
        )
        candidates: dict[str | None, Any] = {
            task.subject: f"Payment declined ({ctx.input['category']})",
            task.description: description,
            task.status: task.status_value,
            task.priority: task.priority_value,
            task.what: ctx.input.get("account_id"),
        }
        return {k: v for k, v in candidates.items() if k is not None and v is not None}

    def _upsert_task(self, ctx: StepContext) -> Mapping[str, str]:
        task, record = self.config.task, self._task_record(ctx)
        task_id = self.salesforce.upsert(
            task.sobject, task.external_id, self._task_key(ctx), record
        )
        return {"task_id": task_id}

    def _find_task(self, ctx: StepContext) -> LookupResult:
        task = self.config.task
        found = self.salesforce.find_id(task.sobject, task.external_id, self._task_key(ctx))
        if found is None:
            return LookupResult.absent(f"no {task.sobject} {self._task_key(ctx)}")
        return LookupResult.found({"task_id": found})

    # == chargebacks =======================================================================
    def import_dispute_file(self, engine: Engine, text: str) -> list[FlowRecord]:
        """Validate the whole file (:class:`~paysync_core.chargebacks.DisputeFileError` lists
        every bad row and column; nothing is submitted then), then submit one flow per case.
        A case already imported returns its existing flow: nothing new happens."""
        return [
            engine.submit(
                CHARGEBACKS_USE_CASE,
                source_system="paytrace_dispute_file",
                source_id=chargeback.case_number,
                version=1,
                input={"chargeback": chargeback.model_dump(mode="json")},
            )
            for chargeback in parse_dispute_file(text)
        ]

    def chargebacks_definition(self) -> FlowDefinition:
        return FlowDefinition(
            CHARGEBACKS_USE_CASE,
            [
                # Two reads first: repeating them cannot duplicate anything.
                Step(
                    "original_payment",
                    self._original_payment,
                    self._reread,
                    safe_to_retry=True,
                    system="paytrace",
                    summarize=lambda ctx: {
                        "reads": "transactions/export/by_id",
                        "transaction_id": _chargeback(ctx).transaction_id,
                    },
                ),
                Step(
                    "original_invoice",
                    self._original_invoice,
                    self._reread,
                    safe_to_retry=True,
                    system="fusion",
                    summarize=lambda ctx: {
                        "reads": "receivablesInvoices",
                        "TransactionNumber": ctx.results["original_payment"]["invoice_id"],
                    },
                ),
                Step(
                    "fusion_credit_memo",
                    self._credit_memo,
                    self._find_credit_memo,
                    system="fusion",
                    summarize=self._credit_memo_summary,
                ),
                Step(
                    "salesforce_case",
                    self._upsert_case,
                    self._find_case,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._case_summary,
                ),
            ],
        )

    @staticmethod
    def _reread(_ctx: StepContext) -> LookupResult:
        return LookupResult.absent("a read: perform it again")

    def _original_payment(self, ctx: StepContext) -> Mapping[str, str]:
        chargeback = _chargeback(ctx)
        record = self.paytrace.find_transaction(chargeback.transaction_id)
        if record is None:
            raise NeedsHumanError(
                f"dispute {chargeback.case_number}: PayTrace transaction "
                f"{chargeback.transaction_id} not found"
            )
        if record.amount is not None and chargeback.amount > record.amount:
            raise NeedsHumanError(
                f"dispute {chargeback.case_number}: disputed {chargeback.amount} exceeds the "
                f"transaction's {record.amount}"
            )
        if not record.invoice_id:
            raise NeedsHumanError(
                f"dispute {chargeback.case_number}: transaction {chargeback.transaction_id} "
                "carries no invoice_id to find the Fusion invoice by"
            )
        return {
            "invoice_id": record.invoice_id,
            "customer_id": record.customer_id or "",
            "amount": _text(record.amount),
        }

    def _original_invoice(self, ctx: StepContext) -> Mapping[str, str]:
        number = ctx.results["original_payment"]["invoice_id"]
        invoice = self.fusion.find_invoice(number)
        if invoice is None or not invoice.BillToCustomerNumber:
            raise NeedsHumanError(
                f"dispute {_chargeback(ctx).case_number}: no Fusion invoice {number}"
            )
        return {
            "invoice_number": number,
            "invoice_id": _text(invoice.CustomerTransactionId),
            "customer_account": invoice.BillToCustomerNumber,
        }

    def _credit_memo_number(self, ctx: StepContext) -> str:
        return f"{self.config.chargebacks.number_prefix}{_chargeback(ctx).case_number}"

    def _credit_memo_summary(self, ctx: StepContext) -> Mapping[str, object]:
        chargeback, invoice = _chargeback(ctx), ctx.results["original_invoice"]
        memo = chargeback_to_credit_memo(
            chargeback,
            invoice_number=invoice["invoice_number"],
            customer_account=invoice["customer_account"],
            config=self.config.chargebacks,
        )
        return {
            "number": self._credit_memo_number(ctx),
            "amount": str(chargeback.amount),
            **fusion_payload("receivablesCreditMemos", memo.value, mapping=memo.reason),
        }

    def _credit_memo(self, ctx: StepContext) -> Mapping[str, str]:
        invoice = ctx.results["original_invoice"]
        memo = chargeback_to_credit_memo(
            _chargeback(ctx),
            invoice_number=invoice["invoice_number"],
            customer_account=invoice["customer_account"],
            config=self.config.chargebacks,
        )
        created = self.fusion.create_credit_memo(memo.value)
        return {
            "credit_memo_id": _text(created.CustomerTransactionId),
            "credit_memo_number": self._credit_memo_number(ctx),
            "mapping": memo.reason,
        }

    def _find_credit_memo(self, ctx: StepContext) -> LookupResult:
        number = self._credit_memo_number(ctx)
        found = self.fusion.find_credit_memo(number)
        if found is None:
            return LookupResult.absent(f"no credit memo {number}")
        ids = {"credit_memo_id": _text(found.CustomerTransactionId), "credit_memo_number": number}
        return LookupResult.found(ids, f"credit memo {number} found by TransactionNumber")

    def _upsert_case(self, ctx: StepContext) -> Mapping[str, str]:
        chargeback, fields = _chargeback(ctx), self.config.chargebacks.case
        record = chargeback_to_case(
            chargeback,
            account_id=self._account_of(ctx.results["original_payment"]["customer_id"]),
            invoice_number=ctx.results["original_invoice"]["invoice_number"],
            fields=fields,
        )
        case_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, chargeback.case_number, record.value
        )
        return {"case_id": case_id, "mapping": record.reason}

    def _find_case(self, ctx: StepContext) -> LookupResult:
        fields = self.config.chargebacks.case
        number = _chargeback(ctx).case_number
        found = self.salesforce.find_id(fields.sobject, fields.external_id, number)
        if found is None:
            return LookupResult.absent(f"no {fields.sobject} {number}")
        return LookupResult.found({"case_id": found})

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _declined_payment_summary(self, ctx: StepContext) -> Mapping[str, object]:
        fields = self.config.payment_fields
        key = _payment(ctx).transaction_id
        record = self._declined_record(ctx)
        return salesforce_upsert(fields.sobject, fields.external_id, key, record)

    def _task_summary(self, ctx: StepContext) -> Mapping[str, object]:
        task = self.config.task
        return salesforce_upsert(
            task.sobject, task.external_id, self._task_key(ctx), self._task_record(ctx)
        )

    def _case_summary(self, ctx: StepContext) -> Mapping[str, object]:
        chargeback, fields = _chargeback(ctx), self.config.chargebacks.case
        # the Account comes from the cross-reference at run time (a ledger read)
        record = chargeback_to_case(
            chargeback,
            account_id=None,
            invoice_number=ctx.results["original_invoice"]["invoice_number"],
            fields=fields,
        )
        customer = ctx.results["original_payment"]["customer_id"]
        return salesforce_upsert(
            fields.sobject,
            fields.external_id,
            chargeback.case_number,
            record.value,
            account="Account of PayTrace customer " + customer + " (cross-reference)",
        )
