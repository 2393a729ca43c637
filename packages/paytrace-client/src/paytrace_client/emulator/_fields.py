"""Reading request fields the way PayTrace accepts them, collecting error codes.

This is the boundary where card data is reduced: a PAN becomes a :class:`Card` (masked
forms, brand, expiry, keyed fingerprint) and the CSC only ever yields a match/no-match
answer. Nothing here keeps or returns the raw values.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from paytrace_client._cards import card_brand, luhn_valid, mask_pan, routing_number_valid

from ._responses import MSG, ApiError, as_obj
from ._state import Card, CheckAccount

__all__ = [
    "ADDRESS_KEYS",
    "Errors",
    "address",
    "amount",
    "card_from_number",
    "check_account",
    "credit_card",
    "int_id",
    "request_date",
    "request_date_range",
    "swipe",
    "text",
]

_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("99999999.99")
ADDRESS_KEYS = ("name", "street_address", "street_address2", "city", "state", "zip", "country")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# Track 1 (%B<pan>^<name>^<YYMM>...) or track 2 (;<pan>=<YYMM>...).
_TRACK1 = re.compile(r"%B(\d{12,19})\^[^^]*\^(\d{2})(\d{2})")
_TRACK2 = re.compile(r";(\d{12,19})=(\d{2})(\d{2})")


class Errors(dict[str, list[str]]):
    """The ``errors`` object of a response, filled in request-field order."""

    def add(self, code: str, **fmt: object) -> None:
        self.setdefault(code, []).append(MSG[code].format(**fmt))


def text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def amount(value: object, errors: Errors, *, required: bool = True) -> Decimal | None:
    """A positive dollar amount with at most two decimals, from a JSON string or number.

    JSON bodies are parsed with ``parse_float=Decimal``, so numbers arrive exact.
    """
    if value is None or value == "":
        if required:
            errors.add("39")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        errors.add("39")
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        errors.add("39")
        return None
    if (
        not number.is_finite()
        or number <= 0
        or number > _MAX_AMOUNT
        or number != number.quantize(_CENT)
    ):
        errors.add("39")
        return None
    return number.quantize(_CENT)


def int_id(value: object) -> int | None:
    """A transaction id sent as JSON integer or digit string (clients do both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, Decimal) and value == value.to_integral_value() and value > 0:
        return int(value)
    return None


def _small_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def fingerprint(key: bytes, digits: str) -> bytes:
    return hashlib.blake2b(digits.encode(), key=key, digest_size=16).digest()


def card_from_number(number: str, month: int, year: int, key: bytes) -> Card:
    """``number`` must be digits only (validated by the caller)."""
    masked_bin = number[:6] + "x" * (len(number) - 10) + number[-4:]
    return Card(
        masked="x" * (len(number) - 4) + number[-4:],
        bin_masked=masked_bin,
        brand=card_brand(number),
        exp_month=month,
        exp_year=year,
        fingerprint=fingerprint(key, number),
    )


def _expiry(
    month_raw: object, year_raw: object, errors: Errors, today: date | None
) -> tuple[int, int] | None:
    month = _small_int(month_raw)
    year = _small_int(year_raw)
    ok = True
    if month is None or not 1 <= month <= 12:
        errors.add("43")
        ok = False
    if year is not None and year < 100:
        year += 2000
    if year is None or not 2000 <= year <= 2099:
        errors.add("44")
        ok = False
    if not ok or month is None or year is None:
        return None
    if today is not None and (year, month) < (today.year, today.month):
        errors.add("44")
        return None
    return month, year


def credit_card(
    body: dict[str, Any], errors: Errors, key: bytes, today: date | None
) -> Card | None:
    """The ``credit_card`` object -> Card; codes 35 (Luhn), 43 (month), 44 (year).

    ``today`` is given only when the account rejects expired cards.
    """
    cc = as_obj(body.get("credit_card"))
    number = re.sub(r"[\s-]", "", text(cc, "number"))
    number_ok = luhn_valid(number)
    if not number_ok:
        errors.add("35")
    expiry = _expiry(cc.get("expiration_month"), cc.get("expiration_year"), errors, today)
    if not number_ok or expiry is None:
        return None
    return card_from_number(number, expiry[0], expiry[1], key)


def swipe(body: dict[str, Any], errors: Errors, key: bytes) -> Card | None:
    raw = text(body, "swipe")
    match = _TRACK1.search(raw) or _TRACK2.search(raw)
    if match is None or not luhn_valid(match.group(1)):
        errors.add("52")
        return None
    year, month = 2000 + int(match.group(2)), int(match.group(3))
    if not 1 <= month <= 12:
        errors.add("52")
        return None
    return card_from_number(match.group(1), month, year, key)


def csc_response(body: dict[str, Any], errors: Errors, no_match: frozenset[str]) -> str:
    """The ``csc_response`` a CSC earns ("" when none was sent); code 47 if malformed."""
    value = body.get("csc")
    if value is None or value == "":
        return ""
    csc = str(value)
    if not (csc.isdigit() and 3 <= len(csc) <= 4):
        errors.add("47")
        return ""
    return "No Match" if csc in no_match else "Match"


def address(value: object) -> dict[str, Any]:
    source = as_obj(value)
    return {k: str(source[k]) for k in ADDRESS_KEYS if source.get(k) is not None}


def check_account(body: dict[str, Any], errors: Errors, key: bytes) -> CheckAccount | None:
    """The ``check`` object -> CheckAccount; codes 45 (account) and 46 (routing)."""
    chk = as_obj(body.get("check"))
    account = text(chk, "account_number").strip()
    routing = text(chk, "routing_number").strip()
    account_ok = account.isdigit() and 4 <= len(account) <= 17
    if not account_ok:
        errors.add("45")
    routing_ok = routing_number_valid(routing)
    if not routing_ok:
        errors.add("46")
    if not (account_ok and routing_ok):
        return None
    return CheckAccount(
        masked_account=mask_pan(account),
        routing_number=routing,
        fingerprint=fingerprint(key, account + routing),
    )


def request_date(value: object) -> date | None:
    """``MM/DD/YYYY`` (single-digit month/day tolerated) -> date, else None."""
    match = _DATE.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
    except ValueError:
        return None


def request_date_range(body: dict[str, Any]) -> tuple[date, date]:
    """An export's ``start_date`` and ``end_date``; error 49 / 50 for each one missing or not
    ``MM/DD/YYYY``."""
    errors = Errors()
    start = request_date(body.get("start_date"))
    end = request_date(body.get("end_date"))
    if start is None:
        errors.add("49")
    if end is None:
        errors.add("50")
    if start is None or end is None:
        raise ApiError(errors, {})
    return start, end


def export_timestamp(moment: datetime) -> str:
    """``7/3/2018 5:06:57 PM``: PayTrace's "general date" format, no leading zeros."""
    hour = moment.hour % 12 or 12
    half = "PM" if moment.hour >= 12 else "AM"
    return (
        f"{moment.month}/{moment.day}/{moment.year} "
        f"{hour}:{moment.minute:02d}:{moment.second:02d} {half}"
    )
