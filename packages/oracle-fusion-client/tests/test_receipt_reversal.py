"""The ``reverseReceipt`` action, client against emulator: applications undone, once only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from oracle_fusion_client import (
    ApplyReceipt,
    BasicAuth,
    FusionBadRequestError,
    FusionClient,
    NewInvoice,
    NewStandardReceipt,
    Query,
)
from oracle_fusion_client.emulator import EmulatorConfig, FusionEmulator

BASE = "https://fusion.emulator"


@pytest.fixture
def client() -> FusionClient:
    emulator = FusionEmulator(EmulatorConfig(today=lambda: date(2026, 1, 15)))
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def test_reverse_reopens_the_invoice_and_is_refused_twice(client: FusionClient) -> None:
    invoice = client.receivables_invoices.create(
        NewInvoice.model_validate(
            {
                "BusinessUnit": "Vision Operations",
                "TransactionSource": "Manual-NES",
                "TransactionType": "Invoice",
                "TransactionNumber": "INV-R1",
                "TransactionDate": "2026-01-15",
                "BillToCustomerNumber": "1008",
                "InvoiceCurrencyCode": "USD",
                "receivablesInvoiceLines": [
                    {"LineNumber": 1, "Description": "x", "Quantity": 1, "UnitSellingPrice": "80"}
                ],
            }
        )
    )
    assert invoice.CustomerTransactionId is not None
    fetched = client.receivables_invoices.get(
        invoice.CustomerTransactionId, Query(expand=["receivablesInvoiceInstallments"])
    )
    schedule = (fetched.model.receivablesInvoiceInstallments or [])[0]["InstallmentId"]
    receipt = client.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="R-REV",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("80.00"),
            Currency="USD",
            CustomerAccountNumber="1008",
        )
    )
    assert receipt.StandardReceiptId is not None
    client.standard_receipts.apply(
        receipt.StandardReceiptId, ApplyReceipt(appliedPaymentScheduleId=schedule)
    )
    paid = client.receivables_invoices.find_by_number("INV-R1")
    assert paid is not None
    assert paid.InvoiceBalanceAmount == Decimal("0.00")

    client.standard_receipts.reverse(receipt.StandardReceiptId, reason="PAYMENT VOIDED")

    reversed_ = client.standard_receipts.find_by_number("R-REV")
    assert reversed_ is not None
    assert reversed_.State == "Reversed"
    reopened = client.receivables_invoices.find_by_number("INV-R1")
    assert reopened is not None
    assert reopened.InvoiceBalanceAmount == Decimal("80.00")
    with pytest.raises(FusionBadRequestError):
        client.standard_receipts.reverse(receipt.StandardReceiptId, reason="again")
