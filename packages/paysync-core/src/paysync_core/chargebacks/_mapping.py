"""Chargeback mapping rules: reason code -> category, chargeback -> Fusion credit memo and
Salesforce follow-up case, each explaining itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oracle_fusion_client import NewCreditMemo
from paysync_core.mapping import Decision

from ._model import Chargeback

__all__ = [
    "ChargebackConfig",
    "DisputeCaseFields",
    "chargeback_category",
    "chargeback_to_case",
    "chargeback_to_credit_memo",
]

#: Card network reason codes (Visa ``NN.N``, Mastercard ``48NN``) -> category.
_REASON_CODES: Mapping[str, str] = {
    "10.1": "fraud",
    "10.2": "fraud",
    "10.3": "fraud",
    "10.4": "fraud",
    "10.5": "fraud",
    "11.1": "authorization",
    "11.2": "authorization",
    "11.3": "authorization",
    "12.1": "processing_error",
    "12.4": "processing_error",
    "12.5": "processing_error",
    "12.6": "processing_error",
    "13.1": "not_received",
    "13.2": "consumer_dispute",
    "13.3": "not_as_described",
    "13.6": "credit_not_processed",
    "13.7": "consumer_dispute",
    "4808": "authorization",
    "4834": "processing_error",
    "4837": "fraud",
    "4840": "fraud",
    "4853": "consumer_dispute",
    "4855": "not_received",
    "4863": "fraud",
}


def chargeback_category(reason_code: str) -> Decision[str]:
    code = reason_code.strip()
    category = _REASON_CODES.get(code)
    if category is None:
        return Decision("other", f"reason code {code} not in the reason table -> other")
    return Decision(category, f"reason code {code} -> {category}")


class DisputeCaseFields(BaseModel):
    """The Salesforce follow-up record (a ``Case`` by default) and its field names; ``None``
    leaves an optional field out."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Case"
    """Salesforce object of the follow-up."""
    external_id: str = "Dispute_Case_Number__c"
    """External id field the record is upserted by (the dispute case number)."""
    subject: str = "Subject"
    """Subject field."""
    description: str | None = "Description"
    """Description field (dispute details)."""
    status: str | None = "Status"
    """Status field."""
    status_value: str = "New"
    """Status given to a new record."""
    priority: str | None = "Priority"
    """Priority field."""
    priority_value: str = "High"
    """Priority given to a new record."""
    origin: str | None = "Origin"
    """Origin field."""
    origin_value: str = "PayTrace dispute file"
    """Origin given to a new record."""
    account: str | None = "AccountId"
    """Lookup to the customer's Account."""
    amount: str | None = "Dispute_Amount__c"
    """Disputed amount field."""
    reason_code: str | None = "Dispute_Reason_Code__c"
    """Card network reason code field."""
    transaction_id: str | None = "Transaction_ID__c"
    """PayTrace transaction id field."""


class ChargebackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    business_unit: str = "Vision Operations"
    """Fusion business unit of the credit memos."""
    transaction_source: str = "Manual"
    """Receivables transaction source of the credit memos."""
    transaction_type: str = "Credit Memo"
    """Receivables transaction type of the credit memos."""
    credit_reason: str = "Chargeback"
    """Credit reason of the credit memos."""
    chargeback_account: str | None = "01-000-4810-0000"
    """Revenue-reversal GL account of the credit memo line (``None``: Fusion's AutoAccounting)."""
    number_prefix: str = Field(default="CB-", max_length=8)
    """Credit memo number prefix, followed by the dispute case number."""
    case: DisputeCaseFields = DisputeCaseFields()
    """The Salesforce follow-up record of a dispute (a ``Case`` by default)."""


def chargeback_to_credit_memo(
    chargeback: Chargeback, *, invoice_number: str, customer_account: str, config: ChargebackConfig
) -> Decision[NewCreditMemo]:
    """An on-account credit memo (Fusion's REST creates no other kind) numbered by the case,
    naming the original invoice so it can be applied against it."""
    category = chargeback_category(chargeback.reason_code)
    number = f"{config.number_prefix}{chargeback.case_number}"
    payload: dict[str, Any] = {
        "TransactionNumber": number,
        "BusinessUnit": config.business_unit,
        "TransactionSource": config.transaction_source,
        "TransactionType": config.transaction_type,
        "TransactionDate": chargeback.dispute_date.isoformat(),
        "BillToCustomerNumber": customer_account,
        "CreditMemoCurrency": chargeback.currency,
        "CreditReason": config.credit_reason,
        "CreditMemoComments": (
            f"Chargeback {chargeback.case_number} on PayTrace transaction "
            f"{chargeback.transaction_id} against invoice {invoice_number}; "
            f"reason {chargeback.reason_code} ({category.value})"
        ),
        "receivablesCreditMemoLines": [
            {
                "LineNumber": 1,
                "LineDescription": f"Chargeback {chargeback.case_number} ({invoice_number})",
                "LineQuantityCredit": 1,
                # Fusion credit memo lines carry negative prices.
                "UnitSellingPrice": str(-chargeback.amount),
            }
        ],
    }
    if config.chargeback_account:
        payload["receivablesCreditMemoDistributions"] = [
            {
                "CreditMemoLineNumber": 1,
                "AccountClass": "Revenue",
                "AccountCombination": config.chargeback_account,
            }
        ]
    memo = NewCreditMemo.model_validate(payload)
    reason = (
        f"credit memo {number} for {chargeback.amount} {chargeback.currency} to account "
        f"{customer_account} (bill-to of invoice {invoice_number}); {category.reason}"
    )
    return Decision(memo, reason)


def chargeback_to_case(
    chargeback: Chargeback,
    *,
    account_id: str | None,
    invoice_number: str,
    fields: DisputeCaseFields,
) -> Decision[dict[str, Any]]:
    category = chargeback_category(chargeback.reason_code)
    description = (
        f"PayTrace transaction {chargeback.transaction_id} (invoice {invoice_number}) disputed "
        f"on {chargeback.dispute_date.isoformat()} for {chargeback.amount} "
        f"{chargeback.currency}: reason code {chargeback.reason_code} ({category.value})"
        + (f", {chargeback.reason}" if chargeback.reason else "")
        + ". Respond to the acquirer before the deadline."
    )
    candidates: dict[str | None, Any] = {
        fields.subject: f"Chargeback {chargeback.case_number}: {category.value}",
        fields.description: description,
        fields.status: fields.status_value,
        fields.priority: fields.priority_value,
        fields.origin: fields.origin_value,
        fields.account: account_id,
        fields.amount: chargeback.amount,
        fields.reason_code: chargeback.reason_code,
        fields.transaction_id: chargeback.transaction_id,
    }
    record = {k: v for k, v in candidates.items() if k is not None and v is not None}
    who = f"Account {account_id}" if account_id else "no Account in the cross-reference"
    return Decision(record, f"{category.reason}; {who}")
