"""The PayTrace dispute file format: parsing and row-by-row validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from paysync_core.chargebacks import DisputeFileError, parse_dispute_file

HEADER = "case_number,transaction_id,amount,reason_code,dispute_date,reason\n"


def test_valid_rows_become_chargebacks() -> None:
    text = (
        "\ufeff"
        + HEADER
        + "CB-1,1000123,149.99,10.4,2026-03-05,Fraud - card absent\n"
        + "\n"
        + "CB-2, 1000124 ,5,4853,03/06/2026,\n"
    )
    first, second = parse_dispute_file(text)
    assert first.case_number == "CB-1"
    assert first.amount == Decimal("149.99")
    assert first.dispute_date == date(2026, 3, 5)
    assert first.reason == "Fraud - card absent"
    assert second.transaction_id == "1000124"
    assert second.amount == Decimal("5.00")
    assert second.dispute_date == date(2026, 3, 6)
    assert second.reason is None
    assert second.currency == "USD"


def test_every_bad_cell_is_reported_with_line_and_column() -> None:
    text = (
        HEADER
        + "CB-1,0,-1,10.4,2026-02-30,\n"
        + ",77,1.005,,tomorrow,\n"
        + "CB 3,78,abc,10.4!,2026-01-01,\n"
        + "CB-1,79,1.00,10.4,2026-01-01,\n"
        + "CB-5,80,1.00,10.4,2026-01-01,x,extra\n"
    )
    with pytest.raises(DisputeFileError) as caught:
        parse_dispute_file(text)
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {
        (2, "transaction_id"),
        (2, "amount"),
        (2, "dispute_date"),
        (3, "case_number"),
        (3, "amount"),
        (3, "reason_code"),
        (3, "dispute_date"),
        (4, "case_number"),
        (4, "amount"),
        (4, "reason_code"),
        (6, "-"),
    }
    messages = {str(e) for e in caught.value.errors}
    assert "line 3, column amount: has more than two decimal places" in messages
    # line 5 repeats CB-1 of line 2, which was itself refused: only line 2 is reported
    assert not any(m.startswith("line 5") for m in messages)
    assert isinstance(caught.value, ValueError)


def test_duplicate_case_in_one_file_is_refused() -> None:
    text = HEADER + "CB-1,1,1.00,10.4,2026-01-01,\nCB-1,2,1.00,10.4,2026-01-01,\n"
    with pytest.raises(DisputeFileError, match="line 3, column case_number: repeats the case"):
        parse_dispute_file(text)


def test_missing_columns_are_named_on_the_header_line() -> None:
    with pytest.raises(DisputeFileError) as caught:
        parse_dispute_file("case_number,amount\nCB-1,1.00\n")
    assert {(e.line, e.column) for e in caught.value.errors} == {
        (1, "transaction_id"),
        (1, "reason_code"),
        (1, "dispute_date"),
    }


def test_many_errors_are_summarized() -> None:
    rows = "".join(f"CB-{n},x,1.00,10.4,2026-01-01,\n" for n in range(12))
    with pytest.raises(DisputeFileError, match=r"12 error\(s\).*\(\+2 more\)"):
        parse_dispute_file(HEADER + rows)
