"""Receivables FBDI interface files: AutoInvoice lines and lockbox receipts.

Rows are typed (``Decimal`` money, ``date`` dates written ``YYYY/MM/DD``) and placed into a
header-less CSV by an :class:`FbdiLayout`, the ordered interface-table column names of the
file. Oracle's templates carry many more columns than a builder fills, and their order is
not published as text: the default layouts below name the columns of
``RA_INTERFACE_LINES_ALL`` / ``AR_PAYMENTS_INTERFACE_ALL`` that these builders fill, in an
order **[inferred]**. For a real pod, build the layout from your template's column list
(``FbdiLayout(file_name, columns)``) and pass it to ``row()``; the emulator reads the
default layouts. The ESS job names below are **[inferred]** as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ._erp import CellValue
from ._errors import FusionInputError

__all__ = [
    "AUTOINVOICE_IMPORT_JOB",
    "AUTOINVOICE_LINES",
    "LOCKBOX_IMPORT_JOB",
    "LOCKBOX_RECEIPTS",
    "RECEIVABLES_IMPORT_ACCOUNT",
    "ArInvoiceInterfaceLine",
    "ArReceiptInterfaceLine",
    "FbdiLayout",
]

RECEIVABLES_IMPORT_ACCOUNT = "fin$/receivables$/import$"
AUTOINVOICE_IMPORT_JOB = (
    "/oracle/apps/ess/financials/receivables/transactions/autoInvoices,AutoInvoiceImportEss"
)
LOCKBOX_IMPORT_JOB = "/oracle/apps/ess/financials/receivables/receipts/lockbox,LockboxImportEss"


@dataclass(frozen=True)
class FbdiLayout:
    """An interface file: its name in the zip and its columns, in template order."""

    file_name: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.columns)) != len(self.columns):
            raise FusionInputError(f"{self.file_name}: duplicate column names")

    def row(self, values: Mapping[str, CellValue]) -> list[CellValue]:
        """Place ``values`` (column name -> value) into a row; unknown columns are refused."""
        unknown = sorted(set(values) - set(self.columns))
        if unknown:
            raise FusionInputError(f"{self.file_name} has no column {', '.join(unknown)}")
        return [values.get(name) for name in self.columns]

    def read(self, row: Sequence[str]) -> dict[str, str]:
        """The inverse of :meth:`row` for a parsed CSV row (missing trailing cells empty)."""
        cells = [*row, *([""] * (len(self.columns) - len(row)))]
        return dict(zip(self.columns, cells, strict=False))


AUTOINVOICE_LINES = FbdiLayout(
    "RaInterfaceLinesAll.csv",
    (
        "BU_NAME",
        "BATCH_SOURCE_NAME",
        "CUST_TRX_TYPE_NAME",
        "TERM_NAME",
        "TRX_DATE",
        "GL_DATE",
        "TRX_NUMBER",
        "BILL_CUSTOMER_ACCOUNT_NUMBER",
        "BILL_CUSTOMER_SITE_NUMBER",
        "LINE_TYPE",
        "DESCRIPTION",
        "CURRENCY_CODE",
        "CONVERSION_TYPE",
        "CONVERSION_DATE",
        "CONVERSION_RATE",
        "AMOUNT",
        "QUANTITY",
        "UNIT_SELLING_PRICE",
        "INTERFACE_LINE_CONTEXT",
        "INTERFACE_LINE_ATTRIBUTE1",
        "INTERFACE_LINE_ATTRIBUTE2",
        "COMMENTS",
    ),
)

_APPLICATIONS = 8
LOCKBOX_RECEIPTS = FbdiLayout(
    "ArLockboxImportC.csv",
    (
        "RECORD_TYPE",
        "LOCKBOX_NUMBER",
        "BATCH_NAME",
        "ITEM_NUMBER",
        "CHECK_NUMBER",
        "REMITTANCE_AMOUNT",
        "RECEIPT_DATE",
        "RECEIPT_METHOD",
        "CURRENCY_CODE",
        "CUSTOMER_NUMBER",
        "BILL_TO_LOCATION",
        *(f"{p}{i}" for i in range(1, _APPLICATIONS + 1) for p in ("INVOICE", "AMOUNT_APPLIED")),
        "COMMENTS",
    ),
)


@dataclass(frozen=True)
class ArInvoiceInterfaceLine:
    """One AutoInvoice line (``RA_INTERFACE_LINES_ALL``); lines of one invoice share
    ``transaction_number``. ``amount`` defaults to ``quantity * unit_selling_price``.

    ``line_context`` / ``line_reference`` fill the line transaction flexfield
    (``INTERFACE_LINE_CONTEXT``, ``INTERFACE_LINE_ATTRIBUTE1-2``) that identifies each line.
    """

    business_unit: str
    transaction_source: str
    transaction_type: str
    transaction_number: str
    transaction_date: date
    bill_to_account_number: str
    currency: str
    description: str
    line_context: str
    line_reference: str
    quantity: Decimal = Decimal(1)
    unit_selling_price: Decimal | None = None
    amount: Decimal | None = None
    payment_terms: str | None = None
    accounting_date: date | None = None
    bill_to_site_number: str | None = None
    line_number: int = 1
    line_type: str = "LINE"
    conversion_type: str | None = None
    conversion_date: date | None = None
    conversion_rate: Decimal | None = None
    comments: str | None = None

    def line_amount(self) -> Decimal:
        if self.amount is not None:
            return self.amount
        if self.unit_selling_price is None:
            raise FusionInputError("amount or unit_selling_price is required")
        return self.quantity * self.unit_selling_price

    def row(self, layout: FbdiLayout = AUTOINVOICE_LINES) -> list[CellValue]:
        return layout.row(
            {
                "BU_NAME": self.business_unit,
                "BATCH_SOURCE_NAME": self.transaction_source,
                "CUST_TRX_TYPE_NAME": self.transaction_type,
                "TERM_NAME": self.payment_terms,
                "TRX_DATE": self.transaction_date,
                "GL_DATE": self.accounting_date,
                "TRX_NUMBER": self.transaction_number,
                "BILL_CUSTOMER_ACCOUNT_NUMBER": self.bill_to_account_number,
                "BILL_CUSTOMER_SITE_NUMBER": self.bill_to_site_number,
                "LINE_TYPE": self.line_type,
                "DESCRIPTION": self.description,
                "CURRENCY_CODE": self.currency,
                "CONVERSION_TYPE": self.conversion_type,
                "CONVERSION_DATE": self.conversion_date,
                "CONVERSION_RATE": self.conversion_rate,
                "AMOUNT": self.line_amount(),
                "QUANTITY": self.quantity,
                "UNIT_SELLING_PRICE": self.unit_selling_price,
                "INTERFACE_LINE_CONTEXT": self.line_context,
                "INTERFACE_LINE_ATTRIBUTE1": self.line_reference,
                "INTERFACE_LINE_ATTRIBUTE2": str(self.line_number),
                "COMMENTS": self.comments,
            }
        )


@dataclass(frozen=True)
class ArReceiptInterfaceLine:
    """One lockbox payment record (``AR_PAYMENTS_INTERFACE_ALL``, record type 6 by default)
    with up to eight applications ``(TransactionNumber, amount)``.

    ``receipt_number`` is ``CHECK_NUMBER``, the receipt's natural key.
    """

    lockbox_number: str
    batch_name: str
    item_number: int
    receipt_number: str
    amount: Decimal
    receipt_date: date
    receipt_method: str
    currency: str
    customer_account_number: str | None = None
    bill_to_location: str | None = None
    applications: Sequence[tuple[str, Decimal]] = field(
        default_factory=tuple[tuple[str, Decimal], ...]
    )
    record_type: str = "6"
    comments: str | None = None

    def row(self, layout: FbdiLayout = LOCKBOX_RECEIPTS) -> list[CellValue]:
        if len(self.applications) > _APPLICATIONS:
            raise FusionInputError(f"at most {_APPLICATIONS} applications per payment record")
        if sum((a for _, a in self.applications), Decimal(0)) > self.amount:
            raise FusionInputError("the applications exceed the receipt amount")
        values: dict[str, CellValue] = {
            "RECORD_TYPE": self.record_type,
            "LOCKBOX_NUMBER": self.lockbox_number,
            "BATCH_NAME": self.batch_name,
            "ITEM_NUMBER": self.item_number,
            "CHECK_NUMBER": self.receipt_number,
            "REMITTANCE_AMOUNT": self.amount,
            "RECEIPT_DATE": self.receipt_date,
            "RECEIPT_METHOD": self.receipt_method,
            "CURRENCY_CODE": self.currency,
            "CUSTOMER_NUMBER": self.customer_account_number,
            "BILL_TO_LOCATION": self.bill_to_location,
            "COMMENTS": self.comments,
        }
        for index, (number, applied) in enumerate(self.applications, start=1):
            values[f"INVOICE{index}"] = number
            values[f"AMOUNT_APPLIED{index}"] = applied
        return layout.row(values)
