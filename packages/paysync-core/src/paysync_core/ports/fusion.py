"""Oracle Fusion port: AR invoices, standard receipts, their application and Order Hub orders,
each found again by its natural key (``TransactionNumber``, ``ReceiptNumber``, source
transaction id)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

from oracle_fusion_client import (
    AccountAddress,
    ApplyReceipt,
    CreatedCustomerAccount,
    CreditMemo,
    CustomerAccountActivity,
    CustomerAccountDetails,
    CustomerAccounts,
    FusionClient,
    FusionDuplicateError,
    FusionNotFoundError,
    FusionRateNotFoundError,
    GlInterfaceLine,
    GlJournalBatch,
    GlJournalBatches,
    Invoice,
    NewCreditMemo,
    NewCustomerAccount,
    NewInvoice,
    NewSalesOrder,
    NewStandardReceipt,
    Query,
    SalesOrder,
    StandardReceipt,
)
from paysync_core import NeedsHumanError
from paysync_core.mapping._currency import ConversionRate, ConversionRateMissingError

__all__ = ["FusionPort"]

_INSTALLMENTS = "receivablesInvoiceInstallments"


class FusionPort:
    def __init__(
        self, client: FusionClient, *, customer_accounts: CustomerAccounts | None = None
    ) -> None:
        """``customer_accounts``: the SOAP customer account services (default: those of the
        client's pod, WSDLs fetched from it)."""
        self.client = client
        self._customer_accounts = customer_accounts

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

    # -- customer accounts (use case 5) ----------------------------------------------------
    def find_customer_account(self, account_number: str) -> CustomerAccountActivity | None:
        """The Receivables customer account (``AccountId``, party ``CustomerId``) by number."""
        return self.client.customer_account_activities.find_by_account_number(account_number)

    def create_customer_account(self, new: NewCustomerAccount) -> CreatedCustomerAccount:
        """Location, organization party, customer account and its site over SOAP; not
        idempotent: resolve a lost answer with :meth:`find_customer_account` by number."""
        return self._accounts().create(new)

    def customer_account_details(self, account_number: str) -> CustomerAccountDetails | None:
        """The account with its organization name and bill-to address (REST + SOAP reads)."""
        return self._accounts().details(account_number)

    def update_customer_account(
        self,
        account_number: str,
        *,
        party_name: str | None = None,
        address: AccountAddress | None = None,
        current: CustomerAccountDetails | None = None,
    ) -> CustomerAccountDetails:
        """Set the name and/or bill-to address where Fusion differs (safe to repeat);
        ``current``: the account as just read (not read again)."""
        return self._accounts().update(
            account_number, party_name=party_name, address=address, current=current
        )

    def _accounts(self) -> CustomerAccounts:
        if self._customer_accounts is None:
            self._customer_accounts = CustomerAccounts.from_client(self.client)
        return self._customer_accounts

    # -- orders ----------------------------------------------------------------------------
    def find_order(self, source_system: str, source_number: str) -> SalesOrder | None:
        """Lookup by correlation: the order by source system and source order number."""
        return self.client.sales_orders.find_by_source(source_number, source_system)

    def order(self, source_system: str, source_id: str) -> SalesOrder | None:
        """Lookup by OrderKey (``<SourceTransactionSystem>:<SourceTransactionId>``)."""
        try:
            return self.client.sales_orders.get(source_system, source_id).model
        except FusionNotFoundError:
            return None

    def upsert_order(self, order: NewSalesOrder) -> SalesOrder:
        """POST with ``Upsert-Mode: true``: repeating it updates the same OrderKey."""
        return self.client.sales_orders.create(order, upsert=True)

    # -- credit memos and reversals --------------------------------------------------------
    def find_credit_memo(self, transaction_number: str) -> CreditMemo | None:
        """Lookup by correlation: ``GET receivablesCreditMemos?q=TransactionNumber='...'``."""
        return self.client.receivables_credit_memos.find_by_number(transaction_number)

    def create_credit_memo(self, credit_memo: NewCreditMemo) -> CreditMemo:
        return self.client.receivables_credit_memos.create(credit_memo)

    def reverse_receipt(self, standard_receipt_id: int, reason: str) -> None:
        self.client.standard_receipts.reverse(standard_receipt_id, reason=reason)

    # -- GL journals through FBDI (use case 6) ---------------------------------------------
    def import_journal(
        self, lines: list[GlInterfaceLine], *, source: str, ledger_id: int, group_id: int
    ) -> str:
        """Upload ``GlInterface.csv`` (importBulkData + JournalImportLauncher); the ESS id."""
        return self.client.erp_integrations.import_journals(
            lines, source=source, ledger_id=ledger_id, group_id=group_id
        )

    def job_status(self, request_id: str) -> str:
        """One ``ESSJobStatusRF`` poll."""
        return self.client.erp_integrations.job_status(request_id)

    def job_log(self, request_id: str, *, limit: int = 4000) -> str:
        """The ESS job's log text (the first ``limit`` characters of every file in its zip)."""
        raw = self.client.erp_integrations.download_job_output(request_id, "LOG")
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            text = "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
        return text[:limit]

    def find_journal_batches(self, batch_name: str) -> list[GlJournalBatch]:
        """Lookup by correlation: the GL journal batches named ``batch_name``."""
        return GlJournalBatches(self.client.http).find_by_name(batch_name)

    # -- GL daily rates (currency conversion) ----------------------------------------------
    def conversion_rate(
        self,
        from_currency: str,
        to_currency: str,
        conversion_date: date,
        conversion_type: str = "Corporate",
    ) -> ConversionRate:
        """The Fusion daily rate (``currencyRates``) converting ``from_currency`` amounts into
        ``to_currency`` on ``conversion_date``. No rate (not loaded yet) is
        :class:`~paysync_core.mapping.ConversionRateMissingError`, a retryable error."""
        try:
            found = self.client.currency_rates.get_rate(
                from_currency, to_currency, conversion_date, conversion_type
            )
        except FusionRateNotFoundError as exc:
            raise ConversionRateMissingError(
                from_currency, to_currency, conversion_date, conversion_type
            ) from exc
        assert found.ConversionRate is not None  # get_rate refuses a row without a rate
        return ConversionRate(
            from_currency=from_currency,
            to_currency=to_currency,
            conversion_date=found.ConversionDate or conversion_date,
            conversion_type=found.ConversionType or conversion_type,
            rate=found.ConversionRate,
        )
