"""The emulator's SOQL subset parser and evaluator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from salesforce_bridge.emulator._soql import Comparison, Logical, SoqlError, evaluate, parse


def test_parse_full_query() -> None:
    q = parse(
        "select Id, Name FROM Account WHERE (Industry = 'Retail' OR Industry IN ('Banking')) "
        "AND NOT Name LIKE 'x%' ORDER BY Name DESC, Id LIMIT 10 OFFSET 2"
    )
    assert q.sobject == "Account"
    assert q.fields == ("Id", "Name")
    assert q.order == (("Name", True), ("Id", False))
    assert (q.limit, q.offset, q.count) == (10, 2, False)
    assert isinstance(q.where, Logical)
    assert q.where.op == "and"


def test_count() -> None:
    q = parse("SELECT COUNT() FROM Payment__c WHERE Amount__c >= 10.5")
    assert q.count
    assert q.where == Comparison("Amount__c", ">=", Decimal("10.5"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SELECT",
        "SELECT Id",
        "SELECT Id FROM",
        "SELECT Id FROM A WHERE",
        "SELECT Id FROM A LIMIT -1",
        "SELECT Id FROM A WHERE B NOT = 1",
        "SELECT Id FROM A trailing",
        "SELECT Id FROM A WHERE X = 'open",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(SoqlError):
        parse(text)


@pytest.mark.parametrize(
    ("where", "record", "expected"),
    [
        ("Name = 'acme'", {"Name": "ACME"}, True),
        ("Name != 'acme'", {"Name": "ACME"}, False),
        ("Name <> null", {"Name": None}, False),
        ("Name = null", {"Name": None}, True),
        ("Amount__c > 10", {"Amount__c": 10.5}, True),
        ("Amount__c < 10", {"Amount__c": None}, False),
        ("Name LIKE 'ac_e%'", {"Name": "Acme Corp"}, True),
        ("Name NOT IN ('a', 'b')", {"Name": "c"}, True),
        ("Active__c = true", {"Active__c": True}, True),
        ("CloseDate >= 2026-01-01", {"CloseDate": "2026-12-31"}, True),
        ("A = 1 AND (B = 2 OR C = 3)", {"A": 1, "B": 0, "C": 3}, True),
        ("NOT A = 1", {"A": 1}, False),
    ],
)
def test_evaluate(where: str, record: dict[str, object], expected: bool) -> None:
    text = f"SELECT Id FROM X WHERE {where}"  # noqa: S608 - test input, not a database
    assert evaluate(parse(text).where, record) is expected


@given(st.text(max_size=30))
def test_format_soql_values_round_trip(value: str) -> None:
    text = format_soql("SELECT Id FROM Account WHERE Name = {}", value)
    where = parse(text).where
    assert isinstance(where, Comparison)
    assert where.value == value


@given(prefix=st.text(max_size=10), rest=st.text(max_size=5), other=st.text(max_size=10))
def test_like_escapes_from_format_soql(prefix: str, rest: str, other: str) -> None:
    text = format_soql("SELECT Id FROM A WHERE Name LIKE '{:like}%'", prefix)
    where = parse(text).where
    assert evaluate(where, {"Name": prefix + rest})
    assert evaluate(where, {"Name": other}) is other.casefold().startswith(prefix.casefold())
