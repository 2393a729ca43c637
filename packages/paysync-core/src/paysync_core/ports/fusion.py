"""Oracle Fusion port: AR invoices, standard receipts, their application and Order Hub orders,
each found again by its natural key (``TransactionNumber``, ``ReceiptNumber``, source
transaction id)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oracle_fusion_client import (
    ApplyReceipt,
    FusionClient,
    FusionDuplicateError,
    Invoice,
    NewInvoice,
    NewStandardReceipt,
    Query,
    SalesOrder,
    StandardReceipt,
)
from paysync_core import NeedsHumanError

__all__ = ["FusionPort"]

_INSTALLMENTS = "receivablesInvoiceInstallments"


class FusionPort:
    def __init__(self, client: FusionClient) -> None:
        self.client = client

    # -- invoices --------------------------------------------------------------------------
    def find_invoice(self, transaction_number: str) -> Invoice | None:
        """Lookup by correlation: ``GET receivablesInvoices?q=TransactionNumber='...'``."""
        return self.client.receivables_invoices.find_by_number(transaction_number)

    def create_invoice(self, invoice: NewInvoice) -> Invoice:
        number = invoice.TransactionNumber
        try:
            return self.client.receivables_invoices.create(invoice)
        except FusionDuplicateError:
            found = self.find_invoice(number) if number else None
            if found is None:
                raise
            return found

    def installment_id(self, customer_transaction_id: int) -> int:
        """The payment schedule id ``applyReceipt`` needs (the invoice's first installment)."""
        fetched = self.client.receivables_invoices.get(
            customer_transaction_id, Query(expand=[_INSTALLMENTS])
        )
        rows: list[dict[str, Any]] = fetched.model.receivablesInvoiceInstallments or []
        for row in rows:
            value = row.get("InstallmentId")
            if isinstance(value, int):
                return value
        raise NeedsHumanError(f"invoice {customer_transaction_id} has no installment to apply to")

    # -- receipts --------------------------------------------------------------------------
    def find_receipt(self, receipt_number: str) -> StandardReceipt | None:
        """Lookup by correlation: ``GET standardReceipts?q=ReceiptNumber='...'``."""
        return self.client.standard_receipts.find_by_number(receipt_number)

    def create_receipt(self, receipt: NewStandardReceipt) -> StandardReceipt:
        return self.client.standard_receipts.create(receipt)

    def apply_receipt(self, standard_receipt_id: int, schedule_id: int, amount: Decimal) -> None:
        self.client.standard_receipts.apply(
            standard_receipt_id,
            ApplyReceipt(appliedPaymentScheduleId=schedule_id, amountApplied=amount),
        )

    def receipt_applied(self, receipt_number: str, amount: Decimal) -> bool | None:
        """Lookup for the application: ``None`` if the receipt is missing, else whether at
        least ``amount`` of it is applied (its unapplied amount dropped accordingly)."""
        receipt = self.find_receipt(receipt_number)
        if receipt is None:
            return None
        total = receipt.Amount if receipt.Amount is not None else Decimal(0)
        unapplied = receipt.UnappliedAmount if receipt.UnappliedAmount is not None else total
        return total - unapplied >= amount

    # -- orders ----------------------------------------------------------------------------
    def find_order(self, source_system: str, source_number: str) -> SalesOrder | None:
        """Lookup by correlation: the order by source system and source order number."""
        return self.client.sales_orders.find_by_source(source_number, source_system)
