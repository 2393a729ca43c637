"""The (inferred) check export: ACH sales found again by ``invoice_id`` through the client,
with the bank account masked and declines, voids and refunds named in ``status_message``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from paytrace_client import Check, PayTraceClient, PayTraceDeclinedError
from paytrace_client.emulator import EmulatorConfig, PayTraceEmulator

from .conftest import START, Wire

ACCOUNT = Check(account_number="1234567890", routing_number="325070760")


@pytest.fixture
def client() -> PayTraceClient:
    emulator = PayTraceEmulator(EmulatorConfig(clock=lambda: START))
    return PayTraceClient(
        username="demo123", password="demo123", session=emulator.session(), sleep=lambda _: None
    )


def test_check_export_lists_sales_with_status_and_masked_account(client: PayTraceClient) -> None:
    client.customers.create("ach-1", check=ACCOUNT)
    sold = client.checks.sale_by_customer(
        Decimal("40.00"), "ach-1", invoice_id="SF-1", description="Salesforce Opportunity 1"
    )
    with pytest.raises(PayTraceDeclinedError) as declined:
        client.checks.sale_by_customer(Decimal("0.29"), "ach-1", invoice_id="SF-2")
    refunded = client.checks.sale_by_account(Decimal("5.00"), ACCOUNT, invoice_id="SF-3")
    assert refunded.check_transaction_id is not None
    client.checks.refund_transaction(refunded.check_transaction_id)

    day = START.date()
    records = client.checks.export(day - timedelta(days=1), day + timedelta(days=1))
    by_invoice = {r.invoice_id: r for r in records if r.invoice_id}
    sale = by_invoice["SF-1"]
    assert sale.check_transaction_id == sold.check_transaction_id
    assert (sale.transaction_type, sale.amount, sale.status_message) == (
        "SALE",
        Decimal("40.00"),
        "Processed",
    )
    assert sale.customer_id == "ach-1"
    assert sale.description == "Salesforce Opportunity 1"
    assert sale.created is not None
    assert sale.created.at is not None
    assert sale.check is not None
    assert (sale.check.masked_account_number or "").endswith("7890")
    assert "1234567890" not in sale.model_dump_json()
    assert by_invoice["SF-2"].status_message == "Declined"
    assert by_invoice["SF-2"].check_transaction_id == declined.value.transaction_id
    assert by_invoice["SF-3"].status_message == "Refunded"
    assert any(r.transaction_type == "REFUND" for r in records)

    one = client.checks.export(day, day, check_transaction_id=sold.check_transaction_id)
    assert [r.invoice_id for r in one] == ["SF-1"]
    assert client.checks.export(day, day, customer_id="nobody") == []
    assert client.checks.export(day + timedelta(days=2), day + timedelta(days=3)) == []


def test_check_export_needs_both_dates(wire: Wire) -> None:
    bad = wire.post("/v1/checks/export/by_date_range", {"start_date": "13/40/2024"}).json()
    assert bad["success"] is False
    assert list(bad["errors"]) == ["49", "50"]
    ok = wire.ok(
        "/v1/checks/export/by_date_range", {"start_date": "03/07/2024", "end_date": "03/07/2024"}
    )
    assert ok["checks"] == []
