"""``Customers``, ``Checks``, ``LevelThree`` and ``Protect`` against the recording fake."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from paytrace_client import PayTraceInputError
from paytrace_client._requester import CallKind, WriteCorrelation
from paytrace_client.models import (
    Address,
    Check,
    CreditCard,
    Level3Data,
    Level3LineItem,
    ProtectToken,
)
from paytrace_client.resources import Checks, Customers, LevelThree, Protect

if TYPE_CHECKING:
    from conftest import FakeRequester, Fixtures

PAN = "4111111111111111"
CARD = CreditCard(PAN, 12, 2030, today=date(2026, 11, 23))
ACCOUNT = Check(account_number="123456", routing_number="325070760")
TOKEN = ProtectToken(
    hpf_token="e369847e-3027-4174-9161-fa0d4e98d318",
    enc_key="lI785yOBMet4Rt9o4NLXEyV84WBU3tdStExcsfoaOoo=",
)


def test_create_customer_with_card(fake: FakeRequester, fixtures: Fixtures) -> None:
    fake.reply(fixtures.customer_created)
    result = Customers(fake).create(
        "customerTest150",
        credit_card=CARD,
        billing_address=Address(name="Steve Smith", zip="99201"),
        email="steve@example.com",
    )
    assert fake.last.path == "customer/create"
    assert fake.last.body == {
        "customer_id": "customerTest150",
        "credit_card": CARD.to_wire(),
        "billing_address": {"name": "Steve Smith", "zip": "99201"},
        "email": "steve@example.com",
    }
    assert fake.last.kind is CallKind.WRITE
    assert fake.last.correlation == WriteCorrelation(customer_id="customerTest150")
    assert result.response_code == 160
    assert result.customer_id == "customerTest150"
    assert result.masked_card_number == "xxxxxxxxxxxx1111"


def test_create_customer_with_check(fake: FakeRequester, fixtures: Fixtures) -> None:
    fake.reply(fixtures.customer_created)
    Customers(fake).create("c-ach", check=ACCOUNT)
    assert fake.last.body == {
        "customer_id": "c-ach",
        "check": {"account_number": "123456", "routing_number": "325070760"},
    }


def test_create_needs_exactly_one_payment_method(fake: FakeRequester) -> None:
    customers = Customers(fake)
    with pytest.raises(PayTraceInputError) as info:
        customers.create("c1")
    assert info.value.field == "credit_card"
    with pytest.raises(PayTraceInputError):
        customers.create("c1", credit_card=CARD, check=ACCOUNT)
    assert fake.calls == []


def test_update_delete_and_protect_profiles(fake: FakeRequester, fixtures: Fixtures) -> None:
    updated = {
        "success": True,
        "response_code": 161,
        "status_message": "updated",
        "customer_id": "c1",
    }
    deleted = {
        "success": True,
        "response_code": 162,
        "status_message": "deleted",
        "customer_id": "c1",
    }
    fake.reply(updated, deleted, fixtures.customer_created, updated)
    customers = Customers(fake)

    assert customers.update("c1", phone="509-555-0100").response_code == 161
    assert (fake.last.path, fake.last.body) == (
        "customer/update",
        {"customer_id": "c1", "phone": "509-555-0100"},
    )
    assert customers.delete("c1").response_code == 162
    assert (fake.last.path, fake.last.body) == ("customer/delete", {"customer_id": "c1"})

    customers.create_protect("customer789", TOKEN, billing_address=Address(zip="99201"))
    assert fake.last.path == "customer/pt_protect_create"
    assert fake.last.body == {
        "customer_id": "customer789",
        "hpf_token": TOKEN.hpf_token,
        "enc_key": TOKEN.enc_key,
        "billing_address": {"zip": "99201"},
    }
    customers.update_protect("customer789", TOKEN)
    assert fake.last.path == "customer/pt_protect_update"


def test_customer_export(fake: FakeRequester) -> None:
    fake.reply(
        {
            "success": True,
            "response_code": 0,
            "status_message": "",
            "customers": [
                {
                    "customer_id": "c1",
                    "credit_card": {
                        "masked_number": "411111xxxxxx1111",
                        "expiration_month": "12",
                        "expiration_year": "2030",
                    },
                    "billing_address": {"name": "Steve Smith", "zip": 99201},
                    "email": "steve@example.com",
                    "loyalty_tier": "gold",
                }
            ],
        },
        {"success": True, "response_code": 0, "status_message": "", "customers": []},
    )
    customers = Customers(fake)
    [record] = customers.export("c1", include_bin=True)
    assert (fake.last.path, fake.last.body, fake.last.kind) == (
        "customer/export",
        {"customer_id": "c1", "include_bin": True},
        CallKind.READ,
    )
    assert record.customer_id == "c1"
    assert record.credit_card is not None
    assert record.credit_card.masked_number == "411111xxxxxx1111"
    assert record.credit_card.expiration_month == 12
    assert record.billing_address is not None
    assert record.billing_address.zip == "99201"  # a JSON number becomes the string it meant
    assert record.model_extra == {"loyalty_tier": "gold"}
    assert customers.export() == []
    assert fake.last.body == {}


def test_check_sales_and_holds(fake: FakeRequester, fixtures: Fixtures) -> None:
    checks = Checks(fake)
    fake.reply(*[fixtures.check] * 4)
    result = checks.sale_by_account(Decimal("25"), ACCOUNT, invoice_id="ACH-1")
    assert fake.last.path == "checks/sale/by_account"
    assert fake.last.body == {
        "amount": "25.00",
        "check": {"account_number": "123456", "routing_number": "325070760"},
        "invoice_id": "ACH-1",
    }
    assert fake.last.correlation == WriteCorrelation(invoice_id="ACH-1", amount=Decimal("25.00"))
    assert result.check_transaction_id == 981619
    assert result.response_code == 120

    checks.sale_by_customer("1.00", "c1")
    assert (fake.last.path, fake.last.body) == (
        "checks/sale/by_customer",
        {"amount": "1.00", "customer_id": "c1"},
    )
    checks.hold_by_account("1.00", ACCOUNT)
    assert fake.last.path == "checks/hold/by_account"
    checks.hold_by_customer("1.00", "c1")
    assert fake.last.path == "checks/hold/by_customer"


def test_check_management_and_refunds(fake: FakeRequester) -> None:
    managed = {
        "success": True,
        "response_code": 124,
        "status_message": "managed",
        "check_transaction_id": 7,
    }
    refunded = {
        "success": True,
        "response_code": 122,
        "status_message": "ok",
        "check_transaction_id": 8,
    }
    fake.reply(managed, managed, refunded, refunded)
    checks = Checks(fake)
    checks.fund(981619, "10.00")
    assert (fake.last.path, fake.last.body) == (
        "checks/manage/fund",
        {"check_transaction_id": 981619, "amount": "10.00"},
    )
    assert fake.last.correlation == WriteCorrelation(
        check_transaction_id=981619, amount=Decimal("10.00")
    )
    checks.void(981619)
    assert (fake.last.path, fake.last.body) == (
        "checks/manage/void",
        {"check_transaction_id": 981619},
    )
    assert checks.refund_transaction(981619).response_code == 122
    assert (fake.last.path, fake.last.body) == (
        "checks/refund/by_transaction",
        {"check_transaction_id": 981619},
    )
    checks.refund_by_account("3.00", ACCOUNT)
    assert fake.last.path == "checks/refund/by_account"
    assert fake.last.body["amount"] == "3.00"


def test_bad_check_id_is_rejected(fake: FakeRequester) -> None:
    with pytest.raises(PayTraceInputError) as info:
        Checks(fake).void(0)
    assert info.value.field == "check_transaction_id"


@pytest.mark.parametrize(
    ("method", "path"), [("visa", "level_three/visa"), ("mastercard", "level_three/mastercard")]
)
def test_level_three(fake: FakeRequester, fixtures: Fixtures, method: str, path: str) -> None:
    fake.reply(fixtures.level3)
    data = Level3Data(
        invoice_id="INV-9",
        customer_reference_id="PO-9",
        tax_amount=Decimal("1.00"),
        line_items=(Level3LineItem(description="Widget", quantity=1, amount="9.00"),),
    )
    result = getattr(LevelThree(fake), method)(392483066, data)
    assert fake.last.path == path
    assert fake.last.body == {
        "transaction_id": 392483066,
        "invoice_id": "INV-9",
        "customer_reference_id": "PO-9",
        "tax_amount": "1.00",
        "line_items": [{"description": "Widget", "quantity": "1", "amount": "9.00"}],
    }
    assert fake.last.kind is CallKind.WRITE
    assert result.response_code == 170


def test_protect_client_key(fake: FakeRequester) -> None:
    fake.reply({"clientKey": "abc.def"})
    key = Protect(fake).client_key()
    assert key.client_key == "abc.def"
    assert key.to_dict() == {"clientKey": "abc.def"}
    assert (fake.last.path, fake.last.body, fake.last.kind) == (
        "payment_fields/token/create",
        {},
        CallKind.READ,
    )
