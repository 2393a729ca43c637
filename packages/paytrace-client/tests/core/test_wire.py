from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrace_client import PayTraceInputError
from paytrace_client._wire import (
    MAX_AMOUNT,
    format_amount,
    format_request_date,
    parse_amount,
    parse_export_timestamp,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
cents = st.integers(min_value=1, max_value=int(MAX_AMOUNT * 100))


@given(cents)
def test_amounts_round_trip_through_the_wire_form(n: int) -> None:
    amount = Decimal(n) / 100
    wire = format_amount(amount)
    assert wire == f"{n // 100}.{n % 100:02d}"
    assert parse_amount(wire) == amount


@given(cents)
def test_int_and_str_forms_agree(n: int) -> None:
    assert parse_amount(str(Decimal(n) / 100)) == parse_amount(Decimal(n) / 100)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=3, max_value=6))
def test_more_than_two_places_is_rejected(n: int, places: int) -> None:
    amount = Decimal(n).scaleb(-places)
    if amount == amount.quantize(Decimal("0.01")):
        return
    with pytest.raises(PayTraceInputError, match="two decimal places"):
        parse_amount(amount)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (Decimal(0), "greater than zero"),
        ("-1.00", "greater than zero"),
        ("abc", "not a number"),
        ("NaN", "finite"),
        (Decimal("100000000.00"), "maximum"),
        (1.5, "never a float"),
        (True, "never a float"),
    ],
)
def test_bad_amounts_name_the_field_and_the_problem(value: object, problem: str) -> None:
    with pytest.raises(PayTraceInputError) as info:
        parse_amount(value, field="tax_amount")  # type: ignore[arg-type]
    assert info.value.field == "tax_amount"
    assert problem in info.value.problem
    assert isinstance(info.value, ValueError)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)))
def test_request_dates_are_mm_dd_yyyy(day: date) -> None:
    text = format_request_date(day)
    assert datetime.strptime(text, "%m/%d/%Y").date() == day  # noqa: DTZ007
    assert len(text) == 10


def test_export_timestamp_from_the_reference_is_aware() -> None:
    parsed = parse_export_timestamp("7/3/2018 5:06:57 PM", tz=PACIFIC)
    assert parsed == datetime(2018, 7, 3, 17, 6, 57, tzinfo=PACIFIC)
    assert parsed.utcoffset() == timedelta(hours=-7)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))  # noqa: DTZ001
def test_export_timestamps_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    hour12 = moment.hour % 12 or 12
    text = (
        f"{moment.month}/{moment.day}/{moment.year} {hour12}:{moment.minute:02d}:"
        f"{moment.second:02d} {'AM' if moment.hour < 12 else 'PM'}"
    )
    assert parse_export_timestamp(text, tz=timezone.utc) == moment.replace(tzinfo=timezone.utc)


def test_unrecognised_timestamp_is_an_error() -> None:
    with pytest.raises(ValueError, match="unrecognised"):
        parse_export_timestamp("yesterday", tz=PACIFIC)
