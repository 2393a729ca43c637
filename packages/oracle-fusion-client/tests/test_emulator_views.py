"""Account activities, currency rates and remittance references, client against emulator."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from oracle_fusion_client import (
    ApplyReceipt,
    BasicAuth,
    FusionBadRequestError,
    FusionClient,
    NewInvoice,
    NewStandardReceipt,
    RemittanceReference,
)
from oracle_fusion_client.emulator import EmulatorConfig, FusionEmulator

BASE = "https://fusion.emulator"


@pytest.fixture
def client() -> FusionClient:
    emulator = FusionEmulator(EmulatorConfig(today=lambda: date(2026, 1, 15)))
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def _invoice(client: FusionClient, number: str, price: str, due: str) -> None:
    client.receivables_invoices.create(
        NewInvoice.model_validate(
            {
                "BusinessUnit": "Vision Operations",
                "TransactionSource": "Manual-NES",
                "TransactionType": "Invoice",
                "TransactionNumber": number,
                "TransactionDate": "2026-01-01",
                "DueDate": due,
                "BillToCustomerNumber": "1008",
                "InvoiceCurrencyCode": "USD",
                "receivablesInvoiceLines": [
                    {"LineNumber": 1, "Description": "x", "Quantity": 1, "UnitSellingPrice": price}
                ],
            }
        )
    )


def test_open_payment_schedules_and_apply(client: FusionClient) -> None:
    _invoice(client, "INV-2", "50.00", "2026-03-01")
    _invoice(client, "INV-1", "120.00", "2026-02-01")
    activity = client.customer_account_activities.find_by_account_number("1008")
    assert activity is not None
    assert activity.TotalOpenReceivablesForAccount == Decimal("170.00")
    assert activity.CustomerName == "Total Internet"
    schedules = client.customer_account_activities.open_payment_schedules("1008")
    assert [s.TransactionNumber for s in schedules] == ["INV-1", "INV-2"]
    receipt = client.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="R-9",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("120.00"),
            Currency="USD",
            CustomerAccountNumber="1008",
        )
    )
    assert receipt.StandardReceiptId is not None
    assert schedules[0].PaymentScheduleId is not None
    client.standard_receipts.apply(
        receipt.StandardReceiptId,
        ApplyReceipt(appliedPaymentScheduleId=schedules[0].PaymentScheduleId),
    )
    remaining = client.customer_account_activities.open_payment_schedules("1008")
    assert [s.TransactionNumber for s in remaining] == ["INV-2"]
    assert activity.AccountId is not None
    again = client.customer_account_activities.get(activity.AccountId).model
    assert again.TotalOpenReceivablesForAccount == Decimal("50.00")
    assert client.customer_account_activities.open_payment_schedules("1004") == []


def test_activities_are_read_only(client: FusionClient) -> None:
    response = client.http.session.post(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/receivablesCustomerAccountActivities",
        json={},
        auth=("u", "p"),
    )
    assert response.status_code == 405


def test_currency_rates_with_inverse(client: FusionClient) -> None:
    rate = client.currency_rates.find("EUR", "USD", date(2018, 2, 20))
    assert rate is not None
    assert rate.ConversionRate == Decimal("1.2345")
    inverse = client.currency_rates.find("USD", "EUR", date(2018, 2, 20))
    assert inverse is not None
    assert inverse.ConversionRate == (Decimal(1) / Decimal("1.2345")).quantize(Decimal("1e-10"))
    assert client.currency_rates.find("EUR", "USD", date(2018, 2, 21)) is None
    assert client.currency_rates.find("EUR", "USD", date(2018, 2, 20), "User") is None


def test_remittance_reference(client: FusionClient) -> None:
    receipt = client.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="R-10",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("8774.45"),
            Currency="USD",
        )
    )
    assert receipt.StandardReceiptId is not None
    ref = client.standard_receipts.add_remittance_reference(
        receipt.StandardReceiptId,
        RemittanceReference.model_validate(
            {
                "ReceiptMatchBy": "Purchase Order",
                "ReferenceNumber": "SK_PO_1012",
                "ReferenceAmount": "8774.45",
            }
        ),
    )
    assert ref.RemittanceReferenceId is not None
    assert ref.ReferenceAmount == Decimal("8774.45")
    assert ref.CreationDate == datetime(2026, 1, 15, tzinfo=timezone.utc)
    with pytest.raises(FusionBadRequestError) as info:
        client.standard_receipts.add_remittance_reference(
            receipt.StandardReceiptId,
            RemittanceReference(ReceiptMatchBy="Telepathy", ReferenceNumber="x"),
        )
    assert info.value.error_path == "ReceiptMatchBy"


def test_bulk_apply_is_all_or_none(client: FusionClient) -> None:
    _invoice(client, "B-1", "30.00", "2026-02-01")
    _invoice(client, "B-2", "50.00", "2026-03-01")
    schedules = client.customer_account_activities.open_payment_schedules("1008")
    ids = [s.PaymentScheduleId for s in schedules if s.PaymentScheduleId is not None]
    receipt = client.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="BULK",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("60.00"),
            Currency="USD",
        )
    )
    assert receipt.StandardReceiptId is not None
    result = client.standard_receipts.apply_bulk(receipt.StandardReceiptId, ids)
    assert result.result == "SUCCESS"
    left = client.customer_account_activities.open_payment_schedules("1008")
    assert [(s.TransactionNumber, s.BalanceDue) for s in left] == [("B-2", Decimal("20.00"))]
    # the receipt is exhausted: a further bulk application changes nothing
    with pytest.raises(FusionBadRequestError):
        client.standard_receipts.apply_bulk(receipt.StandardReceiptId, ids[1:])
    assert client.standard_receipts.get(receipt.StandardReceiptId).model.State == "Applied"


def test_bulk_apply_rolls_back_on_a_later_failure(client: FusionClient) -> None:
    _invoice(client, "C-1", "30.00", "2026-02-01")
    schedule = client.customer_account_activities.open_payment_schedules("1008")[0]
    assert schedule.PaymentScheduleId is not None
    receipt = client.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="ROLLBACK",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("10.00"),
            Currency="USD",
        )
    )
    assert receipt.StandardReceiptId is not None
    with pytest.raises(FusionBadRequestError):
        client.standard_receipts.apply_bulk(
            receipt.StandardReceiptId, [schedule.PaymentScheduleId, 999]
        )
    after = client.customer_account_activities.open_payment_schedules("1008")[0]
    assert after.BalanceDue == Decimal("30.00")
    assert client.standard_receipts.get(receipt.StandardReceiptId).model.UnappliedAmount == (
        Decimal("10.00")
    )
