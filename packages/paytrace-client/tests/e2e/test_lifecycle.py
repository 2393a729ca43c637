"""Business rules observed through the client: the lifecycle of PayTrace transactions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from paytrace_client import (
    Check,
    CreditCard,
    Level3Data,
    Level3LineItem,
    PayTraceDeclinedError,
    PayTraceDuplicateError,
    PayTraceNotFoundError,
    PayTraceStateError,
)

from .conftest import Harness

VISA = CreditCard("4012000098765439", 12, date.today().year + 2)  # noqa: DTZ011
MASTERCARD = CreditCard("5499740000000057", 12, date.today().year + 2)  # noqa: DTZ011


def test_sale_void_only_while_pending_and_refund_only_after_settlement(harness: Harness) -> None:
    client = harness.client
    sale = client.transactions.sale_keyed(Decimal("10.00"), VISA, csc="999", invoice_id="A1")
    assert sale.response_code == 101
    assert sale.masked_card_number == "xxxxxxxxxxxx5439"
    assert sale.transaction_id is not None

    with pytest.raises(PayTraceStateError) as unsettled:
        client.transactions.refund_transaction(sale.transaction_id)
    assert unsettled.value.codes == ["817"]

    voided = client.transactions.void(sale.transaction_id)
    assert voided.response_code == 109

    second = client.transactions.sale_keyed(Decimal("20.00"), VISA, invoice_id="A2")
    assert second.transaction_id is not None
    client.transactions.settle()
    with pytest.raises(PayTraceStateError) as settled:
        client.transactions.void(second.transaction_id)
    assert settled.value.codes == ["818"]

    partial = client.transactions.refund_transaction(second.transaction_id, amount=Decimal("5"))
    assert partial.response_code == 106


def test_capture_only_approved_uncaptured_authorizations(harness: Harness) -> None:
    client = harness.client
    auth = client.transactions.authorize_keyed(Decimal("100.00"), VISA, invoice_id="B1")
    assert auth.transaction_id is not None
    captured = client.transactions.capture(auth.transaction_id, amount=Decimal("60.00"))
    assert captured.response_code == 112
    with pytest.raises(PayTraceStateError) as again:
        client.transactions.capture(auth.transaction_id)
    assert again.value.codes == ["816"]
    with pytest.raises(PayTraceNotFoundError):
        client.transactions.capture(999_999_999)


def test_decline_is_typed_and_keeps_the_transaction(harness: Harness) -> None:
    with pytest.raises(PayTraceDeclinedError) as info:
        harness.client.transactions.sale_keyed(Decimal("0.29"), VISA, invoice_id="C1")
    assert info.value.response_code == 102
    assert info.value.transaction_id is not None
    assert info.value.approval_message


def test_vault_profile_lifecycle(harness: Harness) -> None:
    customers = harness.client.customers
    created = customers.create("vault-1", credit_card=MASTERCARD)
    assert created.response_code == 160
    assert created.customer_id == "vault-1"
    with pytest.raises(PayTraceDuplicateError):
        customers.create("vault-1", credit_card=VISA)
    sale = harness.client.transactions.sale_by_customer(Decimal("15.49"), "vault-1")
    assert sale.response_code == 101
    exported = customers.export(customer_id="vault-1")
    assert [c.customer_id for c in exported] == ["vault-1"]
    card = exported[0].credit_card
    assert card is not None
    assert card.masked_number is not None
    assert card.masked_number.endswith("0057")
    customers.delete("vault-1")
    with pytest.raises(PayTraceNotFoundError):
        harness.client.transactions.sale_by_customer(Decimal("1.00"), "vault-1")


def test_ach_sale_fund_and_refund(harness: Harness) -> None:
    checks = harness.client.checks
    account = Check(account_number="123456", routing_number="325070760")
    sale = checks.sale_by_account(Decimal("42.00"), account, billing_address=None)
    assert sale.response_code == 120
    assert sale.check_transaction_id is not None


def test_level_three_on_unsettled_visa(harness: Harness) -> None:
    client = harness.client
    sale = client.transactions.sale_keyed(Decimal("30.00"), VISA, invoice_id="L3")
    assert sale.transaction_id is not None
    result = client.level_three.visa(
        sale.transaction_id,
        Level3Data(
            invoice_id="L3",
            tax_amount=Decimal("2.00"),
            line_items=(
                Level3LineItem(
                    description="Widget",
                    product_id="W-1",
                    quantity=Decimal(1),
                    unit_cost=Decimal("28.00"),
                    amount=Decimal("28.00"),
                ),
            ),
        ),
    )
    assert result.response_code == 170


def test_exports_and_batches_see_what_happened(harness: Harness) -> None:
    client = harness.client
    sale = client.transactions.sale_keyed(Decimal("12.34"), VISA, invoice_id="EXP-1")
    assert sale.transaction_id is not None
    record = client.exports.transaction(sale.transaction_id)
    assert record is not None
    assert record.invoice_id == "EXP-1"
    assert record.amount == Decimal("12.34")
    assert record.created is not None
    assert record.created.at is not None
    assert record.created.at.tzinfo is not None
    client.transactions.settle()
    batch = client.batches.export_one()
    assert batch is not None
    assert batch.number is not None
    in_batch = client.batches.transactions(batch.number)
    assert sale.transaction_id in {t.transaction_id for t in in_batch}
    today = harness.emulator.now().astimezone(client.export_timezone).date()
    found = list(client.exports.transactions(today - timedelta(days=2), today))
    assert any(t.invoice_id == "EXP-1" for t in found)
