"""The emulator's ADF who-columns (``CreationDate``, ``CreatedBy``, ``LastUpdateDate``,
``LastUpdatedBy``) and ``q=LastUpdateDate>...`` polling over them, client against emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from oracle_fusion_client import (
    ApplyReceipt,
    BasicAuth,
    Cond,
    FusionClient,
    NewInvoice,
    NewStandardReceipt,
    Query,
)
from oracle_fusion_client.emulator import FusionEmulator

if TYPE_CHECKING:
    from .conftest import FusionClock as Clock

BASE = "https://fusion.emulator"
START = datetime(2026, 3, 2, 17, 4, 11, 120000, tzinfo=timezone.utc)  # the clock's start


def _client(emulator: FusionEmulator, user: str) -> FusionClient:
    return FusionClient(base_url=BASE, auth=BasicAuth(user, "pw"), session=emulator.session(BASE))


def _receipt(number: str, amount: str = "10.00") -> NewStandardReceipt:
    return NewStandardReceipt(
        ReceiptNumber=number,
        ReceiptMethod="Manual",
        BusinessUnit="Vision Operations",
        Amount=Decimal(amount),
        Currency="USD",
        CustomerAccountNumber="1008",
    )


def _raw(client: FusionClient, resource: str, query: Query) -> list[dict[str, object]]:
    return list(client.http.iterate(resource, query))


def test_writes_stamp_who_created_and_who_last_updated(
    emulator: FusionEmulator, clock: Clock
) -> None:
    paysync, clerk = _client(emulator, "paysync.integration"), _client(emulator, "fin.clerk")
    invoice = paysync.receivables_invoices.create(
        NewInvoice.model_validate(
            {
                "BusinessUnit": "Vision Operations",
                "TransactionSource": "Manual-NES",
                "TransactionType": "Invoice",
                "TransactionNumber": "INV-W1",
                "TransactionDate": "2026-03-02",
                "BillToCustomerNumber": "1008",
                "InvoiceCurrencyCode": "USD",
                "receivablesInvoiceLines": [
                    {"LineNumber": 1, "Description": "x", "Quantity": 1, "UnitSellingPrice": 10}
                ],
            }
        )
    )
    receipt = paysync.standard_receipts.create(_receipt("R-W1"))
    [created] = _raw(paysync, "standardReceipts", Query(q=Cond("ReceiptNumber", "=", "R-W1")))
    assert created["CreatedBy"] == created["LastUpdatedBy"] == "paysync.integration"
    assert created["CreationDate"] == "2026-03-02T17:04:11.121+00:00"  # after the invoice's
    assert created["LastUpdateDate"] == created["CreationDate"]

    clock.now = START + timedelta(minutes=5)
    fetched = paysync.receivables_invoices.get(
        invoice.CustomerTransactionId or 0, Query(expand=["receivablesInvoiceInstallments"])
    )
    installments = fetched.model.receivablesInvoiceInstallments or []
    schedule = int(installments[0]["InstallmentId"])
    clerk.standard_receipts.apply(
        receipt.StandardReceiptId or 0, ApplyReceipt(appliedPaymentScheduleId=schedule)
    )
    [applied] = _raw(clerk, "standardReceipts", Query(q=Cond("ReceiptNumber", "=", "R-W1")))
    assert applied["CreatedBy"] == "paysync.integration"  # unchanged by later writes
    assert applied["CreationDate"] == created["CreationDate"]
    assert applied["LastUpdatedBy"] == "fin.clerk"
    assert applied["LastUpdateDate"] == "2026-03-02T17:09:11.120+00:00"
    [paid] = _raw(clerk, "receivablesInvoices", Query(q=Cond("TransactionNumber", "=", "INV-W1")))
    assert paid["LastUpdatedBy"] == "fin.clerk"  # the application changed the invoice too
    assert paid["InvoiceBalanceAmount"] == 0


def test_polling_by_last_update_date_sees_each_change_in_order(
    emulator: FusionEmulator, clock: Clock
) -> None:
    client = _client(emulator, "fin.clerk")
    for n in range(5):
        clock.now = START + timedelta(seconds=n)
        client.standard_receipts.create(_receipt(f"R-P{n}"))
    clock.now = START + timedelta(seconds=10)
    found = client.standard_receipts.find_by_number("R-P1")
    assert found is not None
    client.standard_receipts.reverse(found.StandardReceiptId or 0, reason="NSF")
    # the literal in another offset and without a fraction still compares as an instant
    since = (START + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2)))
    query = Query(
        q=Cond("LastUpdateDate", ">", since.replace(microsecond=0)),
        order_by=(("LastUpdateDate", "asc"), ("StandardReceiptId", "asc")),
        limit=2,  # three pages
    )
    rows = _raw(client, "standardReceipts", query)
    # R-P0 is older; R-P1 comes last: its newest change (the reversal) is what counts
    assert [r["ReceiptNumber"] for r in rows] == ["R-P2", "R-P3", "R-P4", "R-P1"]
    assert rows[-1]["State"] == "Reversed"
    stamps = [str(r["LastUpdateDate"]) for r in rows]
    assert stamps == sorted(stamps)


def test_stamps_strictly_increase_when_the_clock_stands_still(emulator: FusionEmulator) -> None:
    client = _client(emulator, "u")
    for n in range(3):
        client.standard_receipts.create(_receipt(f"R-S{n}"))
    rows = _raw(client, "standardReceipts", Query(order_by=(("LastUpdateDate", "asc"),)))
    assert [r["LastUpdateDate"] for r in rows] == [
        "2026-03-02T17:04:11.120+00:00",
        "2026-03-02T17:04:11.121+00:00",
        "2026-03-02T17:04:11.122+00:00",
    ]


def test_read_only_views_carry_no_who_columns(emulator: FusionEmulator) -> None:
    client = _client(emulator, "u")
    rows = _raw(client, "receivablesCustomerAccountActivities", Query())
    assert rows
    assert all("LastUpdateDate" not in r for r in rows)
