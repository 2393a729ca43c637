"""Loaders: stream each system through its client into a record file (see :mod:`._schema`).

Every loader pulls page by page (PayTrace export windows, Fusion REST paging, Salesforce
``nextRecordsUrl``) and writes each row as it arrives, so no system is ever held in Python
objects; the engines then read the files column-wise.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from oracle_fusion_client import CreditMemo, FusionClient, Query, StandardReceipt
from paytrace_client import PayTraceClient
from paytrace_client.models import Batch, ExportedTransaction, TransactionCreated
from salesforce_bridge import SalesforceBridge

from ._model import ReconcileInputError
from ._schema import (
    BATCH_EXPORT_COLUMNS,
    FUSION_EXPORT_COLUMNS,
    INVOICE_COLUMNS,
    PAYTRACE_EXPORT_COLUMNS,
    RECORD_COLUMNS,
    amount_to_cents,
)

__all__ = [
    "RecordWriter",
    "card_token",
    "export_fusion",
    "export_fusion_invoices",
    "export_paytrace",
    "export_salesforce",
    "fusion_status",
    "paytrace_status",
    "salesforce_status",
]


class RecordWriter:
    """Append rows to a record (or batch) CSV file; a context manager."""

    def __init__(self, path: str | PathLike[str], columns: Iterable[str] = RECORD_COLUMNS) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.rows = 0
        self._handle: IO[str] = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=self.columns)
        self._writer.writeheader()

    def write(self, row: Mapping[str, str | int]) -> None:
        self._writer.writerow({c: row.get(c, "") for c in self.columns})
        self.rows += 1

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _day(value: date | datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def paytrace_status(txn: ExportedTransaction) -> str | None:
    """``captured`` / ``failed``; ``None`` for an authorization not captured (nothing to
    reconcile yet)."""
    message = (txn.status_message or "").lower()
    if txn.status_code == "N":
        return None if "authorization only" in message else "failed"
    return "captured"


def card_token(txn: ExportedTransaction) -> tuple[str, str]:
    """``(token, last4)`` for duplicate detection: the vault customer id when the charge used
    one, else the masked card. A "masked" number that is all digits is dropped, so a card
    number never reaches a record file."""
    masked = ((txn.credit_card.masked_number if txn.credit_card else None) or "").strip()
    last4 = masked[-4:] if len(masked) >= 4 and masked[-4:].isdigit() else ""
    if masked.replace(" ", "").replace("-", "").isdigit():
        masked = ""
    return (txn.customer_id or masked, last4)


def _batch_day(batch: Batch, client: PayTraceClient) -> str:
    # ``settled`` is an extra field in PayTrace's local export format; parse it the way the
    # client parses ``created.at`` (same model, same export time zone).
    settled = (batch.model_extra or {}).get("settled")
    if not isinstance(settled, str) or not settled.strip():
        return ""
    moment = TransactionCreated.model_validate(
        {"at": settled}, context={"tz": client.export_timezone}
    ).at
    return _day(moment)


def export_paytrace(
    client: PayTraceClient,
    start: date,
    end: date,
    records: str | PathLike[str],
    *,
    batches: str | PathLike[str] | None = None,
    product: Callable[[ExportedTransaction], str] | None = None,
) -> int:
    """Transactions created from ``start`` to ``end`` (and, optionally, the batches settled
    then) into record files; returns the number of records written.

    A refund nets against the sale it refunds: PayTrace's export does not name that sale, so
    the loader pairs the refund with the sale carrying the same ``invoice_id`` (the
    correlation paysync puts on every charge); only those ids are remembered while streaming.
    Each row also carries the anomaly columns (``at``, ``card_token``, ``last4``, and
    ``product`` from the optional ``product`` hook, e.g. a discretionary data field).
    """
    sale_by_invoice: dict[str, str] = {}
    with RecordWriter(records, PAYTRACE_EXPORT_COLUMNS) as out:
        for txn in client.exports.transactions(start, end):
            status = paytrace_status(txn)
            if status is None:
                continue
            is_refund = (txn.transaction_type or "").upper() == "REFUND"
            invoice = txn.invoice_id or ""
            txid = str(txn.transaction_id)
            created = txn.created.at if txn.created else None
            token, last4 = card_token(txn)
            if not is_refund and invoice and status == "captured":
                sale_by_invoice.setdefault(invoice, txid)
            out.write(
                {
                    "ref": sale_by_invoice.get(invoice, "") if is_refund else txid,
                    "id": txid,
                    "kind": "refund" if is_refund else "payment",
                    "amount_cents": amount_to_cents(txn.amount or Decimal(0), "amount"),
                    "status": status,
                    "day": _day(created),
                    "customer": txn.customer_id or "",
                    "invoice": invoice,
                    "batch": "" if txn.batch_number is None else str(txn.batch_number),
                    "at": created.isoformat() if created else "",
                    "card_token": token,
                    "last4": last4,
                    "product": product(txn) if product else "",
                }
            )
        written = out.rows
    if batches is not None:
        with RecordWriter(batches, BATCH_EXPORT_COLUMNS) as out:
            for batch in client.batches.export(start, end):
                extra = batch.model_extra or {}
                out.write(
                    {
                        "batch": str(batch.number),
                        "net_cents": amount_to_cents(
                            str(extra.get("net_amount", "0")), "net_amount"
                        ),
                        "count": str(extra.get("transaction_count", "")),
                        "day": _batch_day(batch, client),
                    }
                )
    return written


def fusion_status(receipt: StandardReceipt) -> str:
    """A reversed receipt no longer pays anything: ``failed``; any other state: ``captured``."""
    words = f"{receipt.State or ''} {receipt.Status or ''}".lower()
    return "failed" if "revers" in words else "captured"


def _credit_memo_ref(memo: CreditMemo) -> str:
    # paysync numbers refund credit memos "PT-<sale id>/<refund id>": the part before "/".
    return (memo.TransactionNumber or "").split("/", 1)[0]


def export_fusion(
    client: FusionClient,
    records: str | PathLike[str],
    *,
    receipts: Query | None = None,
    credit_memos: Query | None = None,
    include_credit_memos: bool = True,
    credit_memo_ref: Callable[[CreditMemo], str] = _credit_memo_ref,
) -> int:
    """Standard receipts (and refund credit memos) through REST paging into a record file;
    receipts carry ``unapplied_cents`` (``UnappliedAmount``), credit memos 0."""
    with RecordWriter(records, FUSION_EXPORT_COLUMNS) as out:
        for receipt in client.standard_receipts.list(receipts or Query(limit=500)):
            out.write(
                {
                    "ref": receipt.ReceiptNumber or "",
                    "id": str(receipt.StandardReceiptId or receipt.ReceiptNumber or ""),
                    "kind": "payment",
                    "amount_cents": amount_to_cents(receipt.Amount or Decimal(0), "Amount"),
                    "status": fusion_status(receipt),
                    "day": _day(receipt.ReceiptDate),
                    "customer": receipt.CustomerAccountNumber or "",
                    "unapplied_cents": amount_to_cents(
                        receipt.UnappliedAmount or Decimal(0), "UnappliedAmount"
                    ),
                }
            )
        if include_credit_memos:
            for memo in client.receivables_credit_memos.list(credit_memos or Query(limit=500)):
                amount = abs(memo.EnteredAmount or Decimal(0))
                out.write(
                    {
                        "ref": credit_memo_ref(memo),
                        "id": memo.TransactionNumber or "",
                        "kind": "refund",
                        "amount_cents": amount_to_cents(amount, "EnteredAmount"),
                        "status": "captured",
                        "day": _day(memo.TransactionDate),
                        "customer": memo.BillToCustomerNumber or "",
                        "unapplied_cents": 0,
                    }
                )
        return out.rows


def export_fusion_invoices(
    client: FusionClient, records: str | PathLike[str], *, query: Query | None = None
) -> int:
    """Receivables invoices through REST paging into an invoice file
    (:data:`INVOICE_COLUMNS`): what was billed and what is still open, e.g. to find invoices
    left open although their payment reconciled."""
    with RecordWriter(records, INVOICE_COLUMNS) as out:
        for invoice in client.receivables_invoices.list(query or Query(limit=500)):
            out.write(
                {
                    "invoice": invoice.TransactionNumber or "",
                    "id": str(invoice.CustomerTransactionId or ""),
                    "customer": invoice.BillToCustomerNumber or "",
                    "amount_cents": amount_to_cents(
                        invoice.EnteredAmount or Decimal(0), "EnteredAmount"
                    ),
                    "balance_cents": amount_to_cents(
                        invoice.InvoiceBalanceAmount or Decimal(0), "InvoiceBalanceAmount"
                    ),
                    "day": _day(invoice.TransactionDate),
                    "due_day": _day(invoice.DueDate),
                    "status": invoice.InvoiceStatus or "",
                    "currency": invoice.InvoiceCurrencyCode or "",
                }
            )
        return out.rows


_SOQL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?")
_SF_STATUS = {
    "authorized": "captured",
    "captured": "captured",
    "settled": "captured",
    "refunded": "refunded",
    "voided": "failed",
    "failed": "failed",
}


def salesforce_status(value: Any) -> str:
    return _SF_STATUS.get(str(value or "").strip().lower(), "failed")


def export_salesforce(
    bridge: SalesforceBridge,
    records: str | PathLike[str],
    *,
    sobject: str = "Payment__c",
    ref_field: str = "Payment_ID__c",
    amount_field: str = "Amount__c",
    status_field: str = "Status__c",
    date_field: str = "Processed_At__c",
    customer_field: str | None = None,
    where: str = "",
    batch_size: int = 2000,
) -> int:
    """Payment records through a SOQL query (lazily paged) into a record file."""
    fields = ["Id", ref_field, amount_field, status_field, date_field]
    if customer_field:
        fields.append(customer_field)
    for name in (sobject, *fields):
        if not _SOQL_NAME.fullmatch(name):
            raise ReconcileInputError("salesforce field", f"{name!r} is not an API name")
    # Names are checked identifiers; ``where`` is the caller's own SOQL condition.
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"  # noqa: S608
    if where:
        soql += f" WHERE {where}"
    with RecordWriter(records) as out:
        for row in bridge.query(soql, batch_size=batch_size):
            out.write(
                {
                    "ref": str(row.get(ref_field) or ""),
                    "id": str(row.get("Id") or ""),
                    "kind": "payment",
                    "amount_cents": amount_to_cents(str(row.get(amount_field) or 0), amount_field),
                    "status": salesforce_status(row.get(status_field)),
                    "day": _day(row.get(date_field)),
                    "customer": str(row.get(customer_field) or "") if customer_field else "",
                }
            )
        return out.rows
