"""Input types: validation before anything is sent, and reprs that never leak card data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrace_client import PayTraceInputError, luhn_valid
from paytrace_client.models import (
    Address,
    Check,
    CreditCard,
    Level3Data,
    Level3LineItem,
    ProtectToken,
    SwipeData,
)

PAN = "4111111111111111"
TODAY = date(2026, 11, 23)


def test_card_normalizes_month_and_two_digit_year() -> None:
    card = CreditCard("4111 1111 1111 1111", "9", "30", today=TODAY)
    assert (card.number, card.expiration_month, card.expiration_year) == (PAN, 9, 2030)
    assert card.to_wire() == {
        "number": PAN,
        "expiration_month": "09",
        "expiration_year": "2030",
    }
    assert card.masked_number == "xxxxxxxxxxxx1111"
    assert card.brand == "VISA"


@pytest.mark.parametrize(
    ("number", "month", "year", "field"),
    [
        ("4111111111111112", 12, 2030, "credit_card.number"),  # Luhn
        ("41111111111a1111", 12, 2030, "credit_card.number"),
        ("4111", 12, 2030, "credit_card.number"),
        (PAN, 0, 2030, "credit_card.expiration_month"),
        (PAN, 13, 2030, "credit_card.expiration_month"),
        (PAN, "ab", 2030, "credit_card.expiration_month"),
        (PAN, 12, 203, "credit_card.expiration_year"),
        (PAN, 12, "20301", "credit_card.expiration_year"),
        (PAN, 10, 2026, "credit_card.expiration_year"),  # expired last month
    ],
)
def test_invalid_card_names_the_field_and_never_the_number(
    number: str, month: int | str, year: int | str, field: str
) -> None:
    with pytest.raises(PayTraceInputError) as info:
        CreditCard(number, month, year, today=TODAY)
    assert info.value.field == field
    assert number not in str(info.value)


def test_card_valid_through_its_expiration_month() -> None:
    assert CreditCard(PAN, 11, 2026, today=TODAY).expiration_year == 2026


def test_card_csc_is_validated_and_redacted() -> None:
    card = CreditCard(PAN, 12, 2030, csc="999", today=TODAY)
    text = repr(card)
    assert PAN not in text
    assert "999" not in text
    assert "xxxxxxxxxxxx1111" in text
    assert str(card) == text
    with pytest.raises(PayTraceInputError) as info:
        CreditCard(PAN, 12, 2030, csc="12", today=TODAY)
    assert info.value.field == "csc"


def test_card_is_frozen() -> None:
    card = CreditCard(PAN, 12, 2030, today=TODAY)
    with pytest.raises(AttributeError):
        card.number = "5454545454545454"  # type: ignore[misc]


def test_check_validates_routing_checksum_and_masks_account() -> None:
    check = Check(account_number="123456789", routing_number="325070760")
    assert "123456789" not in repr(check)
    assert "xxxxx6789" in repr(check)
    assert check.to_wire() == {"account_number": "123456789", "routing_number": "325070760"}
    with pytest.raises(PayTraceInputError) as info:
        Check(account_number="123456789", routing_number="325070761")
    assert info.value.field == "check.routing_number"
    with pytest.raises(PayTraceInputError) as info:
        Check(account_number="12", routing_number="325070760")
    assert info.value.field == "check.account_number"


def test_swipe_and_protect_token_reprs_are_redacted() -> None:
    track = f"%B{PAN}^Demo/Customer^2412101001020001000000701000000?"
    swipe = SwipeData(track)
    token = ProtectToken(
        hpf_token="e369847e-3027-4174-9161-fa0d4e98d318",
        enc_key="lI785yOBMet4Rt9o4NLXEyV84WBU3tdStExcsfoaOoo=",
    )
    assert PAN not in repr(swipe)
    assert "e369847e" not in repr(token)
    assert "lI785y" not in repr(token)
    with pytest.raises(PayTraceInputError) as info:
        ProtectToken(hpf_token=" ", enc_key="x")
    assert info.value.field == "hpf_token"


def test_address_omits_unset_keys() -> None:
    address = Address(name="Mark Smith", city="Spokane", state="WA", zip="85284")
    assert address.to_wire() == {
        "name": "Mark Smith",
        "city": "Spokane",
        "state": "WA",
        "zip": "85284",
    }
    with pytest.raises(PayTraceInputError) as info:
        Address(city="  ")
    assert info.value.field == "address.city"


def test_level3_wire_form_allows_zero_and_names_bad_line_items() -> None:
    item = Level3LineItem(
        description="Widget",
        quantity=2,
        unit_of_measure="EACH",
        unit_cost=Decimal("5"),
        amount=Decimal("10.00"),
        discount_amount=0,
        additional_tax_rate=Decimal("8.25"),
        debit_or_credit="D",
    )
    data = Level3Data(
        invoice_id="INV-1",
        tax_amount="0",
        source_zip="99201",
        shipping_address=Address(zip="99201"),
        line_items=(item,),
    )
    assert data.to_wire() == {
        "invoice_id": "INV-1",
        "tax_amount": "0.00",
        "source_address": {"zip": "99201"},
        "shipping_address": {"zip": "99201"},
        "line_items": [
            {
                "description": "Widget",
                "quantity": "2",
                "unit_of_measure": "EACH",
                "unit_cost": "5.00",
                "amount": "10.00",
                "discount_amount": "0.00",
                "additional_tax_rate": "8.25",
                "debit_or_credit": "D",
            }
        ],
    }
    with pytest.raises(PayTraceInputError) as info:
        Level3LineItem(amount=Decimal("-1"))
    assert info.value.field == "line_items.amount"
    with pytest.raises(PayTraceInputError) as info:
        Level3LineItem(unit_cost=Decimal("1.001"))
    assert info.value.field == "line_items.unit_cost"


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable: one check digit always fits")


@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=18),
    csc=st.from_regex(r"\A[0-9]{3,4}\Z"),
)
def test_card_repr_never_contains_the_number_or_csc(body: str, csc: str) -> None:
    number = _with_check_digit(body)
    card = CreditCard(number, 12, 2099, csc=csc, today=TODAY)
    text = repr(card)
    assert number not in text
    assert number[:-4] not in text
    assert f"'{csc}'" not in text
    assert text.endswith("csc=<redacted>)")
