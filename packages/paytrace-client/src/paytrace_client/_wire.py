"""How amounts and dates look on PayTrace's wire.

- Amounts are US dollars with at most two decimal places; we send them as strings
  (``"2.50"``), the form PayTrace's own samples use, so no float ever touches money.
- Request dates are ``MM/DD/YYYY``.
- Export timestamps look like ``7/3/2018 5:06:57 PM``; PayTrace does not say in which zone,
  so the caller chooses (the client defaults to PayTrace's home zone, US Pacific).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from ._errors import PayTraceInputError

__all__ = [
    "format_amount",
    "format_non_negative_amount",
    "format_request_date",
    "parse_amount",
    "parse_export_timestamp",
]

_CENT = Decimal("0.01")
#: PayTrace's largest documented amount field is 10 digits with 2 decimals.
MAX_AMOUNT = Decimal("99999999.99")


def parse_amount(value: Decimal | int | str, *, field: str = "amount") -> Decimal:
    """Validate a money amount: positive, at most two decimal places, no floats.

    Raises :class:`PayTraceInputError` naming ``field`` otherwise.
    """
    if isinstance(value, (bool, float)):
        raise PayTraceInputError(field, "must be a Decimal, int or str, never a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise PayTraceInputError(field, f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise PayTraceInputError(field, f"{value!r} is not a finite number")
    if amount <= 0:
        raise PayTraceInputError(field, f"must be greater than zero, got {amount}")
    if amount != amount.quantize(_CENT):
        raise PayTraceInputError(field, f"has more than two decimal places: {amount}")
    if amount > MAX_AMOUNT:
        raise PayTraceInputError(field, f"exceeds the maximum of {MAX_AMOUNT}: {amount}")
    return amount.quantize(_CENT)


def format_amount(value: Decimal | int | str, *, field: str = "amount") -> str:
    """The wire form of an amount: ``Decimal("2.5")`` -> ``"2.50"``."""
    return f"{parse_amount(value, field=field):.2f}"


def format_request_date(value: date) -> str:
    """``date(2024, 3, 7)`` -> ``"03/07/2024"``."""
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"


def parse_export_timestamp(value: str, *, tz: tzinfo) -> datetime:
    """Parse an export timestamp (``"7/3/2018 5:06:57 PM"``) into an aware datetime in ``tz``.

    Also accepts the 24-hour form without AM/PM and ISO 8601, which some exports use.
    """
    text = value.strip()
    for pattern in ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            naive = datetime.strptime(text, pattern)  # noqa: DTZ007 - zone applied below
        except ValueError:
            continue
        return naive.replace(tzinfo=tz)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unrecognised PayTrace timestamp {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def format_non_negative_amount(value: Decimal | int | str, *, field: str = "amount") -> str:
    """Like :func:`format_amount` but also accepts zero.

    Level 3 fields (tax, discount, duty, ...) legitimately carry ``0.00``; a sale amount
    never does, so this is a separate function rather than a flag on ``parse_amount``.
    """
    if not isinstance(value, (bool, float)):
        try:
            number: Decimal | None = Decimal(value)
        except (InvalidOperation, ValueError, TypeError):
            number = None  # parse_amount below produces the error message
        if number is not None and number.is_finite():
            if number == 0:
                return "0.00"
            if number < 0:
                raise PayTraceInputError(field, f"must not be negative, got {number}")
    return format_amount(value, field=field)
