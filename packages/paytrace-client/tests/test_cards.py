from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrace_client import card_brand, luhn_valid, mask_pan, routing_number_valid


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4012000098765439", "VISA"),
        ("5499740000000057", "MASTERCARD"),
        ("6011000993026909", "DISCOVER"),
        ("371449635392376", "AMEX"),
        ("4111111111111111", "VISA"),
        ("5454545454545454", "MASTERCARD"),
    ],
)
def test_sandbox_cards_pass_luhn_and_have_their_brand(number: str, brand: str) -> None:
    assert luhn_valid(number)
    assert card_brand(number) == brand


@pytest.mark.parametrize("number", ["54545454545454", "4111111111111112", "41111111111a1111", ""])
def test_invalid_numbers_fail_luhn(number: str) -> None:
    assert not luhn_valid(number)


@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_changing_one_digit_breaks_luhn(number: str) -> None:
    if not luhn_valid(number):
        return
    flipped = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not luhn_valid(flipped)


@given(st.text(alphabet="0123456789", min_size=5, max_size=19))
def test_mask_keeps_only_last_four(number: str) -> None:
    masked = mask_pan(number)
    assert masked.endswith(number[-4:])
    assert set(masked[:-4]) <= {"x"}
    assert len(masked) == len(number)


@pytest.mark.parametrize(
    ("routing", "ok"),
    [("325070760", True), ("011000015", True), ("325070761", False), ("12345678", False)],
)
def test_routing_number_checksum(routing: str, ok: bool) -> None:
    assert routing_number_valid(routing) is ok
