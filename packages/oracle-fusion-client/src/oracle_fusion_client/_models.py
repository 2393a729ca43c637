# ruff: noqa: N815 - Oracle's own mixedCase attribute names are the wire contract
"""Pydantic models with Oracle's own field names (``extra="allow"``: new fields never break).

Every attribute, child collections and action parameters included, has exactly Oracle's
name (``receivablesInvoiceLines``, ``appliedPaymentScheduleId``), so payloads copied from
Oracle's documentation validate unchanged; hence the file-wide N815 exemption.
Request models (``New...``) declare the attributes Oracle documents as required; response
models make every attribute optional because ``fields=`` can select any subset. Money is
``Decimal`` (Oracle sends amounts as strings or numbers; both parse).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ActionResult",
    "ApplyReceipt",
    "CreditMemo",
    "CreditMemoDistribution",
    "CreditMemoLine",
    "CurrencyRate",
    "CustomerAccountActivity",
    "CustomerAccountSite",
    "FusionModel",
    "Invoice",
    "InvoiceDistribution",
    "InvoiceLine",
    "NewCreditMemo",
    "NewInvoice",
    "NewSalesOrder",
    "NewStandardReceipt",
    "PaymentSchedule",
    "ReceiptDFF",
    "RemittanceReference",
    "SalesOrder",
    "SalesOrderBillTo",
    "SalesOrderLine",
    "SalesOrderShipTo",
    "StandardReceipt",
]


class FusionModel(BaseModel):
    """Base: unknown fields kept; ``to_dict()`` gives the wire form (unset fields left out)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _unwrap_child_collections(cls, data: Any) -> Any:
        """From REST-Framework-Version 3 an expanded child is a collection object
        (``{"items": [...], "hasMore": ...}``), before that a bare array; accept both."""
        if not isinstance(data, dict):
            return data
        raw = cast(dict[str, Any], data)
        out = dict(raw)
        for name, value in raw.items():
            if name in cls.model_fields and isinstance(value, dict):
                items = cast(dict[str, Any], value).get("items")
                if isinstance(items, list):
                    out[name] = items
        return out

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ReceiptDFF(FusionModel):
    """One ``standardReceiptDFF`` row: the context, then the context's segments.

    ``__FLEX_Context`` is the descriptive flexfield context code (for example
    ``"Third Party"``); segment attributes depend on the pod's flexfield setup, so they are
    kept as extra attributes (``model_extra``) under their Oracle names.
    """

    FLEX_Context: str | None = Field(default=None, alias="__FLEX_Context")
    FLEX_Context_DisplayValue: str | None = Field(default=None, alias="__FLEX_Context_DisplayValue")
    CashReceiptId: int | None = None

    @property
    def segments(self) -> dict[str, Any]:
        """The segment values (every attribute that is not the context or a link)."""
        return {k: v for k, v in (self.model_extra or {}).items() if k != "links"}


class NewStandardReceipt(FusionModel):
    ReceiptNumber: str
    ReceiptMethod: str
    BusinessUnit: str
    Amount: Decimal
    Currency: str
    ReceiptDate: date | None = None
    AccountingDate: date | None = None
    RemittanceBankAccountNumber: str | None = None
    CustomerAccountNumber: str | None = None
    CustomerSite: str | None = None
    CustomerName: str | None = None
    ConversionRateType: str | None = None
    ConversionDate: date | None = None
    ConversionRate: Decimal | None = None
    Comments: str | None = None
    standardReceiptDFF: list[ReceiptDFF] | None = None


class StandardReceipt(FusionModel):
    StandardReceiptId: int | None = None
    ReceiptNumber: str | None = None
    BusinessUnit: str | None = None
    ReceiptMethod: str | None = None
    ReceiptDate: date | None = None
    DocumentNumber: int | str | None = None
    Amount: Decimal | None = None
    Currency: str | None = None
    ConversionRateType: str | None = None
    ConversionDate: date | None = None
    ConversionRate: Decimal | None = None
    State: str | None = None
    Status: str | None = None
    RemittanceBankAccountNumber: str | None = None
    CustomerName: str | None = None
    CustomerSite: str | None = None
    CustomerAccountNumber: str | None = None
    UnappliedAmount: Decimal | None = None
    AccountedAmount: Decimal | None = None
    AccountingDate: date | None = None
    MaturityDate: date | None = None
    Comments: str | None = None
    standardReceiptDFF: list[ReceiptDFF] | None = None


class ApplyReceipt(FusionModel):
    """Parameters of the ``applyReceipt`` action (omit ``amountApplied`` for the balance)."""

    appliedPaymentScheduleId: int
    amountApplied: Decimal | None = None
    calledFrom: str | None = None


class ActionResult(FusionModel):
    """The answer of an ADF custom action (``{"result": ...}``)."""

    result: Any = None


class InvoiceLine(FusionModel):
    LineNumber: int
    Description: str | None = None
    Quantity: Decimal | None = None
    UnitSellingPrice: Decimal | None = None
    CustomerTransactionLineId: int | None = None
    LineAmount: Decimal | None = None
    ItemNumber: str | None = None
    MemoLineName: str | None = None
    TaxClassificationCode: str | None = None


class InvoiceDistribution(FusionModel):
    AccountClass: str
    AccountCombination: str | None = None
    Amount: Decimal | None = None
    Percent: Decimal | None = None
    InvoiceLineNumber: int | None = None


class NewInvoice(FusionModel):
    BusinessUnit: str
    TransactionSource: str
    TransactionType: str
    TransactionDate: date
    BillToCustomerNumber: str
    InvoiceCurrencyCode: str
    PaymentTerms: str | None = None
    TransactionNumber: str | None = None
    BillingDate: date | None = None
    DueDate: date | None = None
    BillToSite: str | None = None
    ShipToCustomerName: str | None = None
    ShipToCustomerNumber: str | None = None
    ShipToSite: str | None = None
    Comments: str | None = None
    InternalNotes: str | None = None
    receivablesInvoiceLines: list[InvoiceLine] = Field(default_factory=list[InvoiceLine])
    receivablesInvoiceDistributions: list[InvoiceDistribution] | None = None
    # a foreign-currency invoice's conversion (the response starts with ConversionDate)
    ConversionRateType: str | None = None
    ConversionDate: date | None = None
    ConversionRate: Decimal | None = None


class Invoice(FusionModel):
    CustomerTransactionId: int | None = None
    TransactionNumber: str | None = None
    BusinessUnit: str | None = None
    TransactionSource: str | None = None
    TransactionType: str | None = None
    TransactionDate: date | None = None
    DueDate: date | None = None
    BillToCustomerNumber: str | None = None
    BillToCustomerName: str | None = None
    InvoiceCurrencyCode: str | None = None
    PaymentTerms: str | None = None
    InvoiceStatus: str | None = None
    InvoiceBalanceAmount: Decimal | None = None
    EnteredAmount: Decimal | None = None
    ConversionRateType: str | None = None
    ConversionDate: date | None = None
    ConversionRate: Decimal | None = None
    receivablesInvoiceLines: list[InvoiceLine] | None = None
    receivablesInvoiceInstallments: list[dict[str, Any]] | None = None


class CreditMemoLine(FusionModel):
    LineNumber: int
    LineDescription: str | None = None
    LineQuantityCredit: Decimal | None = None
    UnitSellingPrice: Decimal | None = None
    LineAmountCredit: Decimal | None = None
    TaxClassificationCode: str | None = None


class CreditMemoDistribution(FusionModel):
    CreditMemoLineNumber: int
    AccountClass: str
    AccountCombination: str | None = None


class NewCreditMemo(FusionModel):
    BusinessUnit: str
    TransactionSource: str
    TransactionType: str
    TransactionDate: date
    BillToCustomerNumber: str
    CreditMemoCurrency: str
    BillToCustomerName: str | None = None
    ShipToCustomerSite: str | None = None
    CreditMemoComments: str | None = None
    GenerateBill: str | None = None
    ConversionRateType: str | None = None
    ConversionRate: Decimal | None = None
    CreditReason: str | None = None
    receivablesCreditMemoLines: list[CreditMemoLine] = Field(default_factory=list[CreditMemoLine])
    receivablesCreditMemoDistributions: list[CreditMemoDistribution] | None = None


class CreditMemo(FusionModel):
    CustomerTransactionId: int | None = None
    TransactionNumber: str | None = None
    BusinessUnit: str | None = None
    TransactionSource: str | None = None
    TransactionType: str | None = None
    TransactionDate: date | None = None
    BillToCustomerNumber: str | None = None
    CreditMemoCurrency: str | None = None
    EnteredAmount: Decimal | None = None
    BillToCustomerName: str | None = None
    CreditReason: str | None = None
    receivablesCreditMemoLines: list[CreditMemoLine] | None = None
    receivablesCreditMemoDistributions: list[CreditMemoDistribution] | None = None


class SalesOrderLine(FusionModel):
    SourceTransactionLineId: str
    SourceTransactionLineNumber: str
    SourceScheduleNumber: str | None = None
    SourceTransactionScheduleId: str | None = None
    ProductNumber: str | None = None
    OrderedQuantity: Decimal | None = None
    OrderedUOMCode: str | None = None
    PaymentTerms: str | None = None
    StatusCode: str | None = None


class SalesOrderBillTo(FusionModel):
    CustomerAccountId: int | None = None
    SiteUseId: int | None = None


class SalesOrderShipTo(FusionModel):
    PartyId: int | None = None
    SiteId: int | None = None


class NewSalesOrder(FusionModel):
    SourceTransactionNumber: str
    SourceTransactionSystem: str
    SourceTransactionId: str
    TransactionalCurrencyCode: str
    BusinessUnitId: int | None = None
    BusinessUnitName: str | None = None
    BuyingPartyNumber: str | None = None
    BuyingPartyId: int | None = None
    TransactionTypeCode: str | None = None
    RequestedShipDate: datetime | None = None
    SubmittedFlag: bool | None = None
    RequestingBusinessUnitId: int | None = None
    billToCustomer: list[SalesOrderBillTo] = Field(default_factory=list[SalesOrderBillTo])
    shipToCustomer: list[SalesOrderShipTo] = Field(default_factory=list[SalesOrderShipTo])
    lines: list[SalesOrderLine] = Field(default_factory=list[SalesOrderLine])


class SalesOrder(FusionModel):
    HeaderId: int | None = None
    OrderKey: str | None = None
    OrderNumber: str | None = None
    SourceTransactionNumber: str | None = None
    SourceTransactionSystem: str | None = None
    SourceTransactionId: str | None = None
    TransactionalCurrencyCode: str | None = None
    BusinessUnitId: int | None = None
    BuyingPartyNumber: str | None = None
    StatusCode: str | None = None
    SubmittedFlag: bool | None = None
    lines: list[SalesOrderLine] | None = None


class RemittanceReference(FusionModel):
    """A ``remittanceReferences`` child of a receipt (matched asynchronously by AutoMatch)."""

    ReceiptMatchBy: str
    ReferenceNumber: str
    ReferenceAmount: Decimal | None = None
    RemittanceReferenceId: int | None = None
    CreationDate: datetime | None = None
    LastUpdateDate: datetime | None = None


class PaymentSchedule(FusionModel):
    """An open (or closed) installment of a transaction, for ``applyReceipt``.

    Attribute names of this child are inferred, not confirmed by Oracle's documentation.
    """

    PaymentScheduleId: int | None = None
    CustomerTransactionId: int | None = None
    TransactionNumber: str | None = None
    TransactionType: str | None = None
    InstallmentNumber: int | None = None
    DueDate: date | None = None
    OriginalAmount: Decimal | None = None
    BalanceDue: Decimal | None = None
    CurrencyCode: str | None = None
    Status: str | None = None


class CustomerAccountSite(FusionModel):
    """``receivablesCustomerAccountSiteActivities`` item: one bill-to site of an account."""

    BillToSiteUseId: int | None = None
    BillToSiteNumber: str | None = None
    AccountId: int | None = None
    AccountNumber: str | None = None
    CustomerId: int | None = None
    CustomerName: str | None = None
    TotalOpenReceivablesForSite: Decimal | None = None
    TotalTransactionsDueForSite: int | None = None


class CustomerAccountActivity(FusionModel):
    """``receivablesCustomerAccountActivities`` item (GET only)."""

    AccountId: int | None = None
    AccountNumber: str | None = None
    CustomerId: int | None = None
    CustomerName: str | None = None
    TotalOpenReceivablesForAccount: Decimal | None = None
    TotalTransactionsDueForAccount: int | None = None
    transactionPaymentSchedules: list[PaymentSchedule] | None = None


class CurrencyRate(FusionModel):
    """``currencyRates`` row; every rate has its inverse row [confirmed].

    Attribute names are **[inferred]** from the GL daily rates columns; ``ConversionRate``
    multiplies a ``FromCurrency`` amount into ``ToCurrency``.
    """

    FromCurrency: str | None = None
    ToCurrency: str | None = None
    ConversionDate: date | None = None
    ConversionType: str | None = None
    ConversionRate: Decimal | None = None
