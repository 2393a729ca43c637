"""Card and bank-account checks done before anything is sent, and masking.

Pure functions, shared by the client (to reject bad input early) and the emulator (to answer
as PayTrace does). None of them ever puts a full card number into a message.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "CardBrand",
    "card_brand",
    "luhn_valid",
    "mask_pan",
    "routing_number_valid",
]

CardBrand = Literal["VISA", "MASTERCARD", "AMEX", "DISCOVER", "OTHER"]


def luhn_valid(number: str) -> bool:
    """True when ``number`` is 12-19 digits with a valid Luhn (mod 10) check digit."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def mask_pan(number: str) -> str:
    """PayTrace's masked form: every digit but the last four replaced by ``x``."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) <= 4:
        return "x" * len(digits)
    return "x" * (len(digits) - 4) + digits[-4:]


def card_brand(number: str) -> CardBrand:
    """The card network from the number's prefix (IIN ranges)."""
    if number.startswith("4"):
        return "VISA"
    if number[:2] in {"34", "37"}:
        return "AMEX"
    if number[:2] in {"51", "52", "53", "54", "55"} or (
        number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720
    ):
        return "MASTERCARD"
    if number.startswith(("6011", "65", "644", "645", "646", "647", "648", "649")):
        return "DISCOVER"
    return "OTHER"


def routing_number_valid(routing_number: str) -> bool:
    """ABA routing transit number: 9 digits with the 3-7-1 weighted checksum."""
    if len(routing_number) != 9 or not routing_number.isdigit():
        return False
    digits = [int(ch) for ch in routing_number]
    weights = (3, 7, 1) * 3
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0
