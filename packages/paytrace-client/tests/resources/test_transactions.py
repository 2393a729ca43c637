"""``Transactions``: the exact body on the wire, the parsed answer, validation before sending."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from paytrace_client import PayTraceInputError
from paytrace_client._requester import CallKind, RequestOptions, WriteCorrelation
from paytrace_client.models import Address, CreditCard, ProtectToken, SwipeData
from paytrace_client.resources import Transactions

if TYPE_CHECKING:
    from conftest import FakeRequester, Fixtures

PAN = "4111111111111111"
CARD = CreditCard(PAN, 12, 2030, today=date(2026, 11, 23))
TOKEN = ProtectToken(
    hpf_token="e369847e-3027-4174-9161-fa0d4e98d318",
    enc_key="lI785yOBMet4Rt9o4NLXEyV84WBU3tdStExcsfoaOoo=",
)
BILLING = Address(
    name="Mark Smith", street_address="8320 E. West St.", city="Spokane", state="WA", zip="85284"
)


def test_keyed_sale_sends_the_f12_body_and_parses_f1(
    fake: FakeRequester, fixtures: Fixtures
) -> None:
    fake.reply(fixtures.approved)
    result = Transactions(fake).sale_keyed(Decimal("2.5"), CARD, csc="999", billing_address=BILLING)
    call = fake.last
    assert call.path == "transactions/sale/keyed"
    assert call.body == {
        "amount": "2.50",
        "credit_card": {"number": PAN, "expiration_month": "12", "expiration_year": "2030"},
        "csc": "999",
        "billing_address": {
            "name": "Mark Smith",
            "street_address": "8320 E. West St.",
            "city": "Spokane",
            "state": "WA",
            "zip": "85284",
        },
    }
    assert call.kind is CallKind.WRITE
    assert call.correlation == WriteCorrelation(amount=Decimal("2.50"))
    assert result.success is True
    assert result.response_code == 101
    assert result.transaction_id == 395970044
    assert result.approval_code == "TAS679"
    assert result.approval_message == "  NO  MATCH - Approved and completed"
    assert result.avs_response == "No Match"
    assert result.csc_response == ""
    assert result.external_transaction_id == ""
    assert result.masked_card_number == "xxxxxxxxxxxx5439"


def test_every_optional_field_on_the_wire_and_none_is_omitted(
    fake: FakeRequester, fixtures: Fixtures
) -> None:
    fake.reply(fixtures.approved, fixtures.approved)
    txns = Transactions(fake)
    options = RequestOptions(timeout=3.0)
    txns.sale_keyed(
        "10",
        CreditCard(PAN, 12, 2030, csc="1234", today=date(2026, 11, 23)),
        shipping_address=Address(zip="99201"),
        email="buyer@example.com",
        phone="509-555-0100",
        invoice_id="INV-7",
        description="Order 7",
        customer_reference_id="PO-7",
        tax_amount=Decimal("0.80"),
        freight_amount=5,
        discretionary_data={"Color": "blue"},
        options=options,
    )
    assert fake.last.body == {
        "amount": "10.00",
        "credit_card": {"number": PAN, "expiration_month": "12", "expiration_year": "2030"},
        "csc": "1234",
        "shipping_address": {"zip": "99201"},
        "email": "buyer@example.com",
        "phone": "509-555-0100",
        "invoice_id": "INV-7",
        "description": "Order 7",
        "customer_reference_id": "PO-7",
        "tax_amount": "0.80",
        "freight_amount": "5.00",
        "discretionary_data": {"Color": "blue"},
    }
    assert fake.last.options is options
    assert fake.last.correlation == WriteCorrelation(invoice_id="INV-7", amount=Decimal("10.00"))
    txns.sale_keyed("1.00", CARD, invoice_id=None, email=None, billing_address=None)
    assert fake.last.body == {"amount": "1.00", "credit_card": CARD.to_wire()}
    assert None not in fake.last.body.values()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("sale_by_customer", "transactions/sale/by_customer"),
        ("authorize_by_customer", "transactions/authorization/by_customer"),
        ("refund_to_customer", "transactions/refund/to_customer"),
    ],
)
def test_vault_money_calls(fake: FakeRequester, fixtures: Fixtures, method: str, path: str) -> None:
    fake.reply(fixtures.approved)
    result = getattr(Transactions(fake), method)("5.49", "customerTest123", invoice_id="I-1")
    assert fake.last.path == path
    assert fake.last.body == {
        "amount": "5.49",
        "customer_id": "customerTest123",
        "invoice_id": "I-1",
    }
    assert fake.last.correlation == WriteCorrelation(
        invoice_id="I-1", amount=Decimal("5.49"), customer_id="customerTest123"
    )
    assert result.transaction_id == 395970044


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("authorize_keyed", "transactions/authorization/keyed"),
        ("refund_keyed", "transactions/refund/keyed"),
    ],
)
def test_keyed_calls(fake: FakeRequester, fixtures: Fixtures, method: str, path: str) -> None:
    fake.reply(fixtures.approved)
    getattr(Transactions(fake), method)(Decimal("1.00"), CARD, csc="999")
    assert fake.last.path == path
    assert fake.last.body == {"amount": "1.00", "credit_card": CARD.to_wire(), "csc": "999"}


def test_swiped_sale(fake: FakeRequester, fixtures: Fixtures) -> None:
    track = f"%B{PAN}^Demo/Customer^2412101001020001000000701000000?"
    fake.reply(fixtures.approved)
    Transactions(fake).sale_swiped("3.00", SwipeData(track))
    assert fake.last.path == "transactions/sale/swiped"
    assert fake.last.body == {"amount": "3.00", "swipe": track}


def test_protect_sales_and_authorization(fake: FakeRequester, fixtures: Fixtures) -> None:
    txns = Transactions(fake)
    fake.reply(fixtures.approved, fixtures.approved, fixtures.approved)
    txns.sale_protect("1.00", TOKEN, billing_address=Address(zip="99201"))
    assert fake.last.path == "transactions/sale/pt_protect"
    assert fake.last.body == {
        "amount": "1.00",
        "hpf_token": TOKEN.hpf_token,
        "enc_key": TOKEN.enc_key,
        "billing_address": {"zip": "99201"},
    }
    txns.authorize_protect("1.00", TOKEN)
    assert fake.last.path == "transactions/authorization/pt_protect"
    txns.sale_protect_customer("1.00", TOKEN, "cust-1")
    assert fake.last.path == "transactions/sale/pt_protect_customer"
    assert fake.last.body["customer_id"] == "cust-1"


def test_capture_void_refund_follow_ups(fake: FakeRequester, fixtures: Fixtures) -> None:
    txns = Transactions(fake)
    fake.reply(fixtures.captured, fixtures.captured, fixtures.voided, fixtures.refunded)

    captured = txns.capture(392442990, Decimal("0.50"))
    assert fake.last.path == "transactions/authorization/capture"
    assert fake.last.body == {"transaction_id": 392442990, "amount": "0.50"}
    assert fake.last.correlation == WriteCorrelation(
        transaction_id=392442990, amount=Decimal("0.50")
    )
    assert captured.response_code == 112
    assert captured.approval_code is None

    txns.capture(392442990)
    assert fake.last.body == {"transaction_id": 392442990}

    voided = txns.void(395971574)
    assert fake.last.path == "transactions/void"
    assert fake.last.body == {"transaction_id": 395971574}
    assert voided.response_code == 109
    assert voided.external_transaction_id is None

    refunded = txns.refund_transaction(179066852)
    assert fake.last.path == "transactions/refund/for_transaction"
    assert fake.last.body == {"transaction_id": 179066852}
    assert refunded.masked_card_number == "xxxxxxxxxxxx5439"


def test_email_receipt_and_settle(fake: FakeRequester) -> None:
    receipt = {"success": True, "response_code": 149, "status_message": "Receipt sent."}
    settled = {"success": True, "response_code": 175, "status_message": "Batch settled."}
    fake.reply(receipt, settled)
    txns = Transactions(fake)
    assert txns.email_receipt(395970044, "buyer@example.com").response_code == 149
    assert fake.last.path == "transactions/email_receipt"
    assert fake.last.body == {"transaction_id": 395970044, "email": "buyer@example.com"}
    assert fake.last.kind is CallKind.WRITE
    assert txns.settle().response_code == 175
    assert (fake.last.path, fake.last.body, fake.last.kind) == (
        "transactions/settle",
        {},
        CallKind.WRITE,
    )


def test_unknown_response_fields_are_kept(fake: FakeRequester, fixtures: Fixtures) -> None:
    fake.reply({**fixtures.approved, "brand_new_field": {"x": 1}})
    result = Transactions(fake).sale_keyed("1.00", CARD)
    assert result.model_extra == {"brand_new_field": {"x": 1}}
    with pytest.raises(ValueError, match="frozen"):
        result.transaction_id = 1


@pytest.mark.parametrize(
    ("amount", "field"),
    [("0", "amount"), ("-1.00", "amount"), ("1.001", "amount"), ("abc", "amount")],
)
def test_bad_amount_is_rejected_before_sending(
    fake: FakeRequester, amount: str, field: str
) -> None:
    with pytest.raises(PayTraceInputError) as info:
        Transactions(fake).sale_keyed(amount, CARD)
    assert info.value.field == field
    assert fake.calls == []


def test_float_amount_is_rejected(fake: FakeRequester) -> None:
    with pytest.raises(PayTraceInputError, match="float"):
        Transactions(fake).sale_by_customer(1.5, "c1")  # type: ignore[arg-type]
    assert fake.calls == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"csc": "12"}, "csc"),
        ({"email": "not-an-email"}, "email"),
        ({"invoice_id": "  "}, "invoice_id"),
        ({"tax_amount": "0.001"}, "tax_amount"),
    ],
)
def test_bad_optional_fields_are_named(
    fake: FakeRequester, kwargs: dict[str, str], field: str
) -> None:
    with pytest.raises(PayTraceInputError) as info:
        Transactions(fake).sale_keyed("1.00", CARD, **kwargs)  # pyright: ignore[reportArgumentType]
    assert info.value.field == field
    assert fake.calls == []


def test_conflicting_csc_and_unknown_keyword(fake: FakeRequester) -> None:
    card = CreditCard(PAN, 12, 2030, csc="999", today=date(2026, 11, 23))
    with pytest.raises(PayTraceInputError) as info:
        Transactions(fake).sale_keyed("1.00", card, csc="123")
    assert info.value.field == "csc"
    assert "999" not in str(info.value)
    with pytest.raises(TypeError, match="invoice"):
        Transactions(fake).sale_keyed("1.00", CARD, invoice="x")  # type: ignore[call-arg]
    assert fake.calls == []


@pytest.mark.parametrize("bad_id", [0, -5, True, "123"])
def test_bad_transaction_id_is_rejected(fake: FakeRequester, bad_id: object) -> None:
    with pytest.raises(PayTraceInputError) as info:
        Transactions(fake).void(bad_id)  # type: ignore[arg-type]
    assert info.value.field == "transaction_id"


def test_missing_customer_id_is_rejected(fake: FakeRequester) -> None:
    with pytest.raises(PayTraceInputError) as info:
        Transactions(fake).sale_by_customer("1.00", "")
    assert info.value.field == "customer_id"
