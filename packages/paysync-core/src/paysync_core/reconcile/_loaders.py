"""Loaders: stream each system through its client into a record file (see :mod:`._schema`).

Every loader pulls page by page (PayTrace export windows, Fusion REST paging, Salesforce
``nextRecordsUrl``) and writes each row as it arrives, so no system is ever held in Python
objects; the engines then read the files column-wise.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    "credit_memo_ref",
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


def _customer(value: str | None, customer_key: Callable[[str], str] | None) -> str:
    """A record's customer column: the system's own id, or the common key of
    ``customer_key`` (see :func:`~paysync_core.reconcile.customer_keys`)."""
    raw = (value or "").strip()
    return customer_key(raw) if customer_key and raw else raw


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


def _refunded_sale(invoice: str, sale_by_invoice: Mapping[str, str], prefix: str) -> str:
    """The sale a refund nets against: the sale with the same ``invoice_id`` (a refund made
    in PayTrace inherits it), else the id in paysync's own ``RF-<sale>-<request>`` label."""
    sale = sale_by_invoice.get(invoice, "")
    if sale or not prefix or not invoice.startswith(prefix):
        return sale
    head = invoice[len(prefix) :].split("-", 1)[0]
    return head if head.isdigit() else ""


def export_paytrace(
    client: PayTraceClient,
    start: date,
    end: date,
    records: str | PathLike[str],
    *,
    batches: str | PathLike[str] | None = None,
    product: Callable[[ExportedTransaction], str] | None = None,
    refund_invoice_prefix: str = "RF-",
    customer_key: Callable[[str], str] | None = None,
) -> int:
    """Transactions created from ``start`` to ``end`` (and, optionally, the batches settled
    then) into record files; returns the number of records written.

    A refund nets against the sale it refunds: PayTrace's export does not name that sale, so
    the loader pairs the refund with the sale carrying the same ``invoice_id`` (the
    correlation paysync puts on every charge); only those ids are remembered while streaming.
    Refunds made by use case 3 carry their own ``invoice_id``
    ``<refund_invoice_prefix><sale id>-<request id>`` instead: the sale id is read from it.
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
                    "ref": _refunded_sale(invoice, sale_by_invoice, refund_invoice_prefix)
                    if is_refund
                    else txid,
                    "id": txid,
                    "kind": "refund" if is_refund else "payment",
                    "amount_cents": amount_to_cents(txn.amount or Decimal(0), "amount"),
                    "status": status,
                    "day": _day(created),
                    "customer": _customer(txn.customer_id, customer_key),
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


# What paysync's use cases write in ``CreditMemoComments`` (``mapping.credit_memo_to_fusion``,
# ``chargebacks.chargeback_to_credit_memo``): the memo's number does not name the sale.
_MEMO_SALE = re.compile(r"\bof sale (\d+)\b|\bon PayTrace transaction (\d+)\b")


def credit_memo_ref(memo: CreditMemo) -> str:
    """The PayTrace sale a credit memo nets against.

    ``PT-<sale id>/<refund id>``: the part before ``/``. Use case 3 numbers its memos
    ``CM-<refund id>`` and use case 4 ``CB-<case>``; both name the sale in the memo's
    comments ("PayTrace refund R of sale S", "Chargeback C on PayTrace transaction S"), which
    is read then. A memo naming no sale keeps its own number (it stays unexplained)."""
    number = memo.TransactionNumber or ""
    if number.startswith("PT-"):
        return number.split("/", 1)[0]
    comments = (memo.model_extra or {}).get("CreditMemoComments")
    found = _MEMO_SALE.search(comments) if isinstance(comments, str) else None
    if found is None:
        return number
    return f"PT-{found.group(1) or found.group(2)}"


def export_fusion(
    client: FusionClient,
    records: str | PathLike[str],
    *,
    receipts: Query | None = None,
    credit_memos: Query | None = None,
    include_credit_memos: bool = True,
    credit_memo_ref: Callable[[CreditMemo], str] = credit_memo_ref,
    customer_key: Callable[[str], str] | None = None,
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
                    "customer": _customer(receipt.CustomerAccountNumber, customer_key),
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
                        "customer": _customer(memo.BillToCustomerNumber, customer_key),
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


def _bulk_rows(bridge: SalesforceBridge, soql: str, spool: Path) -> Iterator[Mapping[str, Any]]:
    """Bulk API 2.0: the query job's CSV result pages are streamed to ``spool`` by the
    bridge, then read back row by row (removed afterwards)."""
    try:
        bridge.bulk.query_to_file(soql, spool)
        with spool.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)
    finally:
        spool.unlink(missing_ok=True)


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
    refunded_field: str | None = None,
    customer_key: Callable[[str], str] | None = None,
    where: str = "",
    batch_size: int = 2000,
    bulk: bool = False,
) -> int:
    """Payment records into a record file, through a SOQL query (lazily paged) or, with
    ``bulk=True``, a Bulk API 2.0 query job (result pages streamed to a spool file next to
    ``records``; better for hundreds of thousands of rows, fewer API calls).

    Use case 3 keeps the sale's ``Amount__c`` and records what was refunded in
    ``Refunded_Amount__c``: with ``refunded_field`` a non-zero refunded amount is written as
    a refund row of the same key, so it nets against the payment like PayTrace's refunds.
    ``customer_field`` (``Account__c`` for paysync's payments) fills the customer column."""
    fields = ["Id", ref_field, amount_field, status_field, date_field]
    if customer_field:
        fields.append(customer_field)
    if refunded_field:
        fields.append(refunded_field)
    for name in (sobject, *fields):
        if not _SOQL_NAME.fullmatch(name):
            raise ReconcileInputError("salesforce field", f"{name!r} is not an API name")
    # Names are checked identifiers; ``where`` is the caller's own SOQL condition.
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"  # noqa: S608
    if where:
        soql += f" WHERE {where}"
    target = Path(records)
    rows: Iterable[Mapping[str, Any]] = (
        _bulk_rows(bridge, soql, target.with_name(f"{target.name}.bulk-spool"))
        if bulk
        else (record.fields for record in bridge.query(soql, batch_size=batch_size))
    )
    with RecordWriter(target) as out:
        for row in rows:
            ref, record_id = str(row.get(ref_field) or ""), str(row.get("Id") or "")
            day = _day(row.get(date_field) or None)
            customer = _customer(
                str(row.get(customer_field) or "") if customer_field else "", customer_key
            )
            out.write(
                {
                    "ref": ref,
                    "id": record_id,
                    "kind": "payment",
                    "amount_cents": amount_to_cents(str(row.get(amount_field) or 0), amount_field),
                    "status": salesforce_status(row.get(status_field)),
                    "day": day,
                    "customer": customer,
                }
            )
            refunded = row.get(refunded_field) if refunded_field else None
            refund_cents = amount_to_cents(str(refunded), str(refunded_field)) if refunded else 0
            if refund_cents:
                out.write(
                    {
                        "ref": ref,
                        "id": f"{record_id}/refunded",
                        "kind": "refund",
                        "amount_cents": refund_cents,
                        "status": "captured",
                        "day": day,
                        "customer": customer,
                    }
                )
        return out.rows
