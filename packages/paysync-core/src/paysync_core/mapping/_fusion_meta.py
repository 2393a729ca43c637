"""What paysync writes to (and reads from) Fusion, per REST resource, for ``mapping check``.

The attribute lists mirror the payload builders (``receipt_to_fusion``, ``invoice_to_fusion``,
``credit_memo_to_fusion``, ``chargeback_to_credit_memo``, ``order_to_fusion``) and the journal
lookup (``GlJournalBatches``); attributes a configuration can leave out (the remittance bank
account, the chargeback distribution) are included only when configured. Keep them in step
with those builders when a payload gains an attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._records import FusionReceivablesConfig

__all__ = ["FusionWrite", "fusion_writes"]


@dataclass(frozen=True)
class FusionWrite:
    """Attributes of one resource paysync sends on create (``mode="create"``) or reads and
    filters on (``mode="read"``); ``children``: child collection -> its attributes."""

    resource: str
    attributes: tuple[str, ...]
    children: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    mode: str = "create"
    source: str = ""


_INVOICE_LINES = ("LineNumber", "Description", "Quantity", "UnitSellingPrice")
_MEMO_HEADER = (
    "TransactionNumber",
    "BusinessUnit",
    "TransactionSource",
    "TransactionType",
    "TransactionDate",
    "BillToCustomerNumber",
    "CreditMemoCurrency",
    "CreditReason",
    "CreditMemoComments",
)
_MEMO_LINES = ("LineNumber", "LineDescription", "LineQuantityCredit", "UnitSellingPrice")
_MEMO_DISTRIBUTIONS = ("CreditMemoLineNumber", "AccountClass", "AccountCombination")


def _receipt(config: FusionReceivablesConfig, source: str) -> FusionWrite:
    names = [
        "ReceiptNumber",
        "ReceiptMethod",
        "BusinessUnit",
        "Amount",
        "Currency",
        "ReceiptDate",
        "CustomerAccountNumber",
        "Comments",
    ]
    if config.remittance_bank_account:
        names.append("RemittanceBankAccountNumber")
    return FusionWrite("standardReceipts", tuple(names), source=source)


def _invoice(config: FusionReceivablesConfig, source: str) -> FusionWrite:
    distributions = ("AccountClass", "AccountCombination", "Percent")
    return FusionWrite(
        "receivablesInvoices",
        (
            "BusinessUnit",
            "TransactionSource",
            "TransactionType",
            "TransactionDate",
            "BillToCustomerNumber",
            "InvoiceCurrencyCode",
            "PaymentTerms",
            "TransactionNumber",
        ),
        {
            "receivablesInvoiceLines": _INVOICE_LINES,
            "receivablesInvoiceDistributions": distributions,
        },
        source=source,
    )


def _credit_memo(source: str, *, distributions: bool = True) -> FusionWrite:
    children: dict[str, tuple[str, ...]] = {"receivablesCreditMemoLines": _MEMO_LINES}
    if distributions:
        children["receivablesCreditMemoDistributions"] = _MEMO_DISTRIBUTIONS
    return FusionWrite("receivablesCreditMemos", _MEMO_HEADER, children, source=source)


_ORDER = FusionWrite(
    "salesOrdersForOrderHub",
    (
        "SourceTransactionNumber",
        "SourceTransactionSystem",
        "SourceTransactionId",
        "TransactionalCurrencyCode",
        "BusinessUnitName",
        "BuyingPartyNumber",
        "SubmittedFlag",
    ),
    {
        "lines": (
            "SourceTransactionLineId",
            "SourceTransactionLineNumber",
            "ProductNumber",
            "OrderedQuantity",
            "OrderedUOMCode",
        )
    },
    source="ecommerce.order_hub",
)
_JOURNALS = FusionWrite(
    "journalBatches",
    (
        "BatchName",
        "JeBatchId",
        "JournalSource",
        "Status",
        "RequestId",
        "LineCount",
        "RunningTotalEnteredDr",
        "RunningTotalEnteredCr",
    ),
    mode="read",
    source="settlement_gl (journal found again by BatchName)",
)


def fusion_writes(options: Mapping[str, object]) -> list[FusionWrite]:
    """The Fusion attributes the enabled use cases touch; ``options``: use case name -> its
    validated options model (as ``usecase_options`` returns)."""
    found: list[FusionWrite] = []
    for name, model in options.items():
        fusion = getattr(model, "fusion", None)
        if isinstance(fusion, FusionReceivablesConfig):
            found.append(_invoice(fusion, f"{name}.fusion"))
            found.append(_receipt(fusion, f"{name}.fusion"))
        if name == "refunds":
            found.append(_credit_memo("refunds"))
        if name == "ecommerce":
            found.append(_ORDER)
        chargebacks = getattr(model, "chargebacks", None)
        if chargebacks is not None:
            with_account = getattr(chargebacks, "chargeback_account", None) is not None
            found.append(_credit_memo(f"{name}.chargebacks", distributions=with_account))
        if name == "settlement_gl":
            found.append(_JOURNALS)
    return found
