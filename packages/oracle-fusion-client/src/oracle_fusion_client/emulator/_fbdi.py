"""Posting Receivables FBDI files in the emulator: AutoInvoice lines become invoices and
lockbox payment records become receipts (applied to the invoices they name), through the
same business rules as the REST resources, so the same Oracle errors end the job."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from oracle_fusion_client._fbdi_ar import AUTOINVOICE_LINES, LOCKBOX_RECEIPTS

from . import _rules as rules
from ._state import ApiError, State

__all__ = ["RECEIVABLES_FILES", "post_receivables"]

RECEIVABLES_FILES = frozenset({AUTOINVOICE_LINES.file_name, LOCKBOX_RECEIPTS.file_name})


def _day(text: str) -> str | None:
    return datetime.strptime(text, "%Y/%m/%d").date().isoformat() if text else None  # noqa: DTZ007


def _post_invoices(state: State, rows: list[list[str]], today: date) -> None:
    invoices: dict[str, dict[str, Any]] = {}
    for raw in rows:
        row = AUTOINVOICE_LINES.read(raw)
        number = row["TRX_NUMBER"]
        invoice = invoices.setdefault(
            number,
            {
                "BusinessUnit": row["BU_NAME"],
                "TransactionSource": row["BATCH_SOURCE_NAME"],
                "TransactionType": row["CUST_TRX_TYPE_NAME"],
                "TransactionNumber": number,
                "TransactionDate": _day(row["TRX_DATE"]),
                "AccountingDate": _day(row["GL_DATE"]),
                "BillToCustomerNumber": row["BILL_CUSTOMER_ACCOUNT_NUMBER"],
                "BillToSite": row["BILL_CUSTOMER_SITE_NUMBER"] or None,
                "InvoiceCurrencyCode": row["CURRENCY_CODE"],
                "PaymentTerms": row["TERM_NAME"] or "30 Net",
                "receivablesInvoiceLines": [],
            },
        )
        quantity = Decimal(row["QUANTITY"] or 1)
        lines = cast(list[dict[str, Any]], invoice["receivablesInvoiceLines"])
        lines.append(
            {
                "LineNumber": len(lines) + 1,
                "Description": row["DESCRIPTION"],
                "Quantity": quantity,
                "UnitSellingPrice": Decimal(row["AMOUNT"]) / quantity,
            }
        )
    for body in invoices.values():
        rules.create_invoice(state, {k: v for k, v in body.items() if v is not None}, today)


def _schedule_id(state: State, transaction_number: str) -> int:
    for invoice in state.records["receivablesInvoices"].values():
        if invoice["TransactionNumber"] == transaction_number:
            installments = cast(list[dict[str, Any]], invoice["receivablesInvoiceInstallments"])
            return cast(int, installments[0]["InstallmentId"])
    raise ApiError(400, f"The transaction {transaction_number} doesn't exist.", path="INVOICE1")


def _post_receipts(state: State, rows: list[list[str]], today: date) -> None:
    business_unit = cast(list[dict[str, Any]], state.ref["businessUnits"])[0]
    for raw in rows:
        row = LOCKBOX_RECEIPTS.read(raw)
        body: dict[str, Any] = {
            "ReceiptNumber": row["CHECK_NUMBER"],
            "ReceiptMethod": row["RECEIPT_METHOD"],
            "BusinessUnit": business_unit["BusinessUnitName"],  # the lockbox's business unit
            "Amount": row["REMITTANCE_AMOUNT"],
            "Currency": row["CURRENCY_CODE"],
            "ReceiptDate": _day(row["RECEIPT_DATE"]),
            "CustomerAccountNumber": row["CUSTOMER_NUMBER"] or None,
            "CustomerSite": row["BILL_TO_LOCATION"] or None,
            "Comments": row["COMMENTS"] or None,
        }
        key = rules.create_receipt(
            state, {k: v for k, v in body.items() if v is not None}, today, upsert=False
        )
        for index in range(1, 9):
            number = row[f"INVOICE{index}"]
            if not number:
                continue
            application = {
                "appliedPaymentScheduleId": _schedule_id(state, number),
                "amountApplied": row[f"AMOUNT_APPLIED{index}"] or None,
            }
            rules.apply_receipt(
                state, key, {k: v for k, v in application.items() if v is not None}, today
            )


def post_receivables(state: State, files: Mapping[str, list[list[str]]], today: date) -> None:
    """Post the job's Receivables files; raises :class:`ApiError` (the job then fails)."""
    try:
        if AUTOINVOICE_LINES.file_name in files:
            _post_invoices(state, files[AUTOINVOICE_LINES.file_name], today)
        if LOCKBOX_RECEIPTS.file_name in files:
            _post_receipts(state, files[LOCKBOX_RECEIPTS.file_name], today)
    except (ValueError, InvalidOperation, ArithmeticError) as exc:
        raise ApiError(400, f"A value in the file is malformed: {exc}") from None
