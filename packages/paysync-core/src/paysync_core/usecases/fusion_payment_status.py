"""Fusion -> Salesforce: receivables state changed in Fusion shown on ``Payment__c``.

Fed by the Fusion change poller (:mod:`paysync_core.sources.fusion_changes`):

* a **standard receipt reversed** in Fusion (``State`` ``Reversed``) whose number is paysync's
  ``PT-<PayTrace transaction id>`` -> the ``Payment__c`` of that transaction gets
  ``Fusion_Status__c = Reversed`` and the reason and date in ``Fusion_Status_Detail__c``;
* an **invoice paid** (``InvoiceBalanceAmount`` dropped to zero) that paysync posted for a
  PayTrace payment (found in the ledger by its ``fusion_invoice`` step) -> that payment's
  ``Payment__c`` gets ``Fusion_Status__c = Paid``.

Field names and status values are options (``[usecases.fusion_payment_status]``). One flow
per change (key: the record and its ``LastUpdateDate``), one step: the ``Payment__c`` is looked
up by its external id first; a payment Salesforce does not know is skipped (paysync never
creates one from Fusion), a record already showing the values is left alone, else the two
fields are upserted by external id.

paysync's own Fusion writes start nothing: with ``own_users`` set (paysync's Fusion integration
user), changes whose ``LastUpdatedBy`` is one of them are skipped, and any other author is a
person; without it, the ledger decides: a receipt that paysync's refunds flow reversed
(``fusion_reverse`` done) or an invoice that paysync's own receipt paid (``fusion_apply`` done,
and that receipt not reversed since) is paysync's own change.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LedgerTransaction,
    LookupResult,
    Step,
    StepContext,
    StepState,
    SubmitHook,
)
from paysync_core._audit_hash import canonical_json
from paysync_core.ports import FusionPort, SalesforcePort
from paysync_core.sources.fusion_changes import FusionChange, FusionResource

from .refunds import REFUNDS_USE_CASE

__all__ = [
    "FUSION_PAYMENT_STATUS_USE_CASE",
    "FusionPaymentStatus",
    "FusionPaymentStatusConfig",
    "FusionPaymentStatusFields",
]

FUSION_PAYMENT_STATUS_USE_CASE = "fusion_payment_status"
RECEIPTS = "standardReceipts"
INVOICES = "receivablesInvoices"
_SKIPPED = "skipped"


class FusionPaymentStatusFields(BaseModel):
    """Where the Fusion state goes on ``Payment__c`` (an org adds these fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Payment__c"
    """Salesforce object holding payments."""
    external_id: str = "Payment_ID__c"
    """The PayTrace transaction id, as use cases 1 and 2 write it."""
    status: str = "Fusion_Status__c"
    """Field given the Fusion state (``reversed_status`` or ``paid_status``)."""
    detail: str | None = "Fusion_Status_Detail__c"
    """Why, in words (reversal reason and date, the invoice paid); ``None`` or ``""``: not
    written."""


class FusionPaymentStatusConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    fields: FusionPaymentStatusFields = FusionPaymentStatusFields()
    """Where the Fusion state goes on ``Payment__c``."""
    receipt_prefix: str = "PT-"
    """Receipt numbers paysync gives PayTrace payments (``PT-<transaction id>``)."""
    reversed_status: str = "Reversed"
    """Value written when the receipt is reversed in Fusion."""
    paid_status: str = "Paid"
    """Value written when the invoice is paid in Fusion."""
    receipts: bool = True
    """Mirror receipts reversed in Fusion."""
    invoices: bool = True
    """Mirror invoices paid in Fusion."""
    own_users: tuple[str, ...] = Field(default=())
    """Fusion users whose changes are paysync's own (its integration user): skipped by the
    poller. Empty: the ledger decides (see the module documentation)."""


def _amount(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _step_ids(tx: LedgerTransaction, flow_id: str) -> dict[str, Mapping[str, str]]:
    """The external ids of the flow's finished steps, by step name."""
    return {s.name: s.external_ids for s in tx.get_steps(flow_id) if s.state is StepState.SUCCEEDED}


class FusionPaymentStatus:
    """The handlers the Fusion poller calls and the flow that writes ``Payment__c``."""

    def __init__(
        self,
        *,
        salesforce: SalesforcePort,
        fusion: FusionPort | None = None,
        config: FusionPaymentStatusConfig | None = None,
    ) -> None:
        """``fusion``: to tell an invoice paid again by a person (paysync's receipt for it
        reversed) from one paid by paysync's receipt; without it the ledger alone decides."""
        self.salesforce = salesforce
        self.fusion = fusion
        self.config = config or FusionPaymentStatusConfig()

    def resources(self) -> list[FusionResource]:
        """The Fusion collections to poll, each with its handler."""
        found: list[FusionResource] = []
        if self.config.receipts:
            found.append(FusionResource(RECEIPTS, "StandardReceiptId", (self.submit_receipt,)))
        if self.config.invoices:
            found.append(FusionResource(INVOICES, "CustomerTransactionId", (self.submit_invoice,)))
        return found

    # -- triggers --------------------------------------------------------------------------
    def submit_receipt(
        self, engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None = None
    ) -> FlowRecord | None:
        """A receipt reversed in Fusion -> a flow; ``None`` for any other receipt change, a
        receipt paysync did not post, or a reversal paysync made itself."""
        record = change.record
        number = str(record.get("ReceiptNumber") or "")
        prefix = self.config.receipt_prefix
        if record.get("State") != "Reversed" or not number.startswith(prefix):
            return None
        if self._own_user(change):
            return None
        transaction_id = number[len(prefix) :]
        if not transaction_id or self._reversed_by_paysync(engine, change, transaction_id):
            return None
        reason = record.get("ReversalReason") or "no reason given"
        when = record.get("ReversalDate") or change.last_update.date().isoformat()
        detail = f"receipt {number} reversed in Fusion on {when}: {reason}"
        return self._submit(
            engine,
            change,
            transaction_id=transaction_id,
            status=self.config.reversed_status,
            detail=detail,
            checkpoint=checkpoint,
        )

    def submit_invoice(
        self, engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None = None
    ) -> FlowRecord | None:
        """An invoice paid in Fusion (balance zero) that paysync posted for a PayTrace payment
        -> a flow; ``None`` otherwise, or when paysync's own receipt paid it."""
        record = change.record
        balance, total = (
            _amount(record.get("InvoiceBalanceAmount")),
            _amount(record.get("EnteredAmount")),
        )
        number = str(record.get("TransactionNumber") or "")
        if balance != 0 or not total or not number or self._own_user(change):
            return None
        with engine.store.transaction() as tx:
            found = self._invoice_payment(tx, number)
        if found is None:
            return None
        transaction_id, applied_by_paysync = found
        if applied_by_paysync and self._paid_by_paysync(change, transaction_id):
            return None
        detail = f"invoice {number} paid in Fusion ({change.last_update.date().isoformat()})"
        return self._submit(
            engine,
            change,
            transaction_id=transaction_id,
            status=self.config.paid_status,
            detail=detail,
            checkpoint=checkpoint,
        )

    def _submit(
        self,
        engine: Engine,
        change: FusionChange,
        *,
        transaction_id: str,
        status: str,
        detail: str,
        checkpoint: SubmitHook | None,
    ) -> FlowRecord:
        return engine.submit(
            FUSION_PAYMENT_STATUS_USE_CASE,
            source_system="fusion",
            source_id=f"{change.resource}:{change.key}",
            version=change.version,
            input={
                "transaction_id": transaction_id,
                "status": status,
                "detail": detail,
                # the record's key is in source_id: a 15-digit Fusion id can look like a PAN
                "resource": change.resource,
                "last_update": change.version,
                "last_updated_by": change.last_updated_by or "",
            },
            # one Payment__c is written by one flow at a time, in the order of the changes
            entity_key=f"payment:{transaction_id}",
            checkpoint=checkpoint,
        )

    # -- paysync's own changes, by correlation with the ledger --------------------------------
    def _own_user(self, change: FusionChange) -> bool:
        return change.last_updated_by in self.config.own_users

    def _user_change(self, change: FusionChange) -> bool:
        """The change is known to be a person's: ``own_users`` is set and does not name its
        author (the poller already dropped those that it names)."""
        return bool(self.config.own_users) and change.last_updated_by is not None

    def _paid_by_paysync(self, change: FusionChange, transaction_id: str) -> bool:
        """paysync applied its receipt to the invoice: the zero balance is its doing unless
        the change is known to be a person's, or that receipt has since been reversed."""
        if self._user_change(change):
            return False
        if self.fusion is None:
            return True
        receipt = self.fusion.find_receipt(f"{self.config.receipt_prefix}{transaction_id}")
        return receipt is not None and receipt.State != "Reversed"

    def _reversed_by_paysync(self, engine: Engine, change: FusionChange, sale: str) -> bool:
        """paysync's refunds flow of the sale reversed this receipt (``fusion_reverse``)."""
        if self._user_change(change):
            return False
        number = f"{self.config.receipt_prefix}{sale}"
        with engine.store.transaction() as tx:
            flows = tx.execute(
                "SELECT flow_id FROM flows WHERE use_case = ? AND entity_key = ?",
                (REFUNDS_USE_CASE, f"refund:{sale}"),
            )
            for (flow_id,) in flows:
                reverse = _step_ids(tx, str(flow_id)).get("fusion_reverse", {})
                if reverse.get("reversed_receipt") == number:
                    return True
        return False

    @staticmethod
    def _invoice_payment(tx: LedgerTransaction, number: str) -> tuple[str, bool] | None:
        """(PayTrace transaction id, paid by paysync's own receipt) of the flow that posted
        invoice ``number``, or ``None`` when paysync did not post it."""
        pattern = "%" + canonical_json({"invoice_number": number})[1:-1] + "%"
        rows = tx.execute(
            "SELECT flow_id FROM steps WHERE name = ? AND state = ? AND external_ids_json LIKE ?",
            ("fusion_invoice", StepState.SUCCEEDED.value, pattern),
        )
        for (flow_id,) in rows:
            ids = _step_ids(tx, str(flow_id))
            if ids.get("fusion_invoice", {}).get("invoice_number") != number:
                continue
            transaction_id = ids.get("charge", {}).get("transaction_id")
            if not transaction_id:
                flow = tx.get_flow(str(flow_id))
                if flow is None or flow.source_system != "paytrace":
                    continue
                transaction_id = flow.source_id  # use case 2: the PayTrace sale started it
            return str(transaction_id), "fusion_apply" in ids
        return None

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            FUSION_PAYMENT_STATUS_USE_CASE,
            [
                Step(
                    "salesforce_payment",
                    self._update_payment,
                    self._find_update,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._summary,
                ),
            ],
        )

    def _values(self, ctx: StepContext) -> dict[str, Any]:
        fields = self.config.fields
        values: dict[str, Any] = {fields.status: str(ctx.input["status"])}
        if fields.detail:
            values[fields.detail] = str(ctx.input["detail"])[:255]
        return values

    def _summary(self, ctx: StepContext) -> Mapping[str, object]:
        fields = self.config.fields
        return {
            "sobject": fields.sobject,
            "external_id": f"{fields.external_id}={ctx.input['transaction_id']}",
            "fields": self._values(ctx),
        }

    def _current(self, ctx: StepContext) -> dict[str, Any] | None:
        fields = self.config.fields
        names = ", ".join(dict.fromkeys(["Id", *self._values(ctx)]))
        rows = self.salesforce.records(
            f"SELECT {names} FROM {fields.sobject} "  # noqa: S608 - names from validated options
            f"WHERE {fields.external_id} = {{}} LIMIT 1",
            str(ctx.input["transaction_id"]),
        )
        return rows[0] if rows else None

    def _update_payment(self, ctx: StepContext) -> Mapping[str, str]:
        fields = self.config.fields
        transaction_id = str(ctx.input["transaction_id"])
        current = self._current(ctx)  # look before writing: never create a Payment__c here
        if current is None:
            return {_SKIPPED: f"no {fields.sobject} with {fields.external_id} {transaction_id}"}
        values = self._values(ctx)
        if all(current.get(k) == v for k, v in values.items()):
            return {"payment_id": str(current["Id"]), "unchanged": "true"}
        record_id = self.salesforce.upsert(
            fields.sobject, fields.external_id, transaction_id, values
        )
        return {"payment_id": record_id, "status": str(ctx.input["status"])}

    def _find_update(self, ctx: StepContext) -> LookupResult:
        current = self._current(ctx)
        if current is None:
            fields = self.config.fields
            transaction_id = ctx.input["transaction_id"]
            return LookupResult.found(
                {_SKIPPED: f"no {fields.sobject} with {fields.external_id} {transaction_id}"}
            )
        if all(current.get(k) == v for k, v in self._values(ctx).items()):
            return LookupResult.found(
                {"payment_id": str(current["Id"]), "status": str(ctx.input["status"])}
            )
        return LookupResult.absent("Payment__c does not show the Fusion state yet")
