"""``Exports`` and ``Batches``: request dates, the lazy windowed iterator, record parsing."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrace_client import PayTraceInputError
from paytrace_client._requester import CallKind
from paytrace_client.models import ExportedTransaction
from paytrace_client.resources import Batches, Exports, date_windows

if TYPE_CHECKING:
    from conftest import FakeRequester

PACIFIC = ZoneInfo("America/Los_Angeles")
RECORD: dict[str, Any] = {
    "transaction_id": 395970044,
    "transaction_type": "SALE",
    "amount": 12.1,
    "status_code": "Y",
    "status_message": "Pending Settlement",
    "approval_code": "TAS679",
    "approval_message": "  NO  MATCH - Approved and completed",
    "invoice_id": 1001,
    "description": "Order 1001",
    "customer_id": "c1",
    "credit_card": {
        "masked_number": "xxxxxxxxxxxx5439",
        "expiration_month": 9,
        "expiration_year": 2030,
        "type": "VISA",
    },
    "billing_address": {"name": "Longbob Longsen", "zip": "K1C2N6"},
    "settled": "7/3/2018 5:06:57 PM",
    "created": {"at": "7/3/2018 9:15:02 AM", "by": "api-user", "through": "API"},
    "batch_number": "412",
}


def export_body(*records: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": True,
        "response_code": 0,
        "status_message": "",
        "transactions": list(records),
    }


def test_record_fields_are_typed() -> None:
    record = ExportedTransaction.model_validate(RECORD)
    assert record.amount == Decimal("12.1")  # from the float's repr, not its binary value
    assert record.invoice_id == "1001"
    assert record.batch_number == 412
    assert record.settled == datetime(2018, 7, 3, 17, 6, 57, tzinfo=PACIFIC)
    assert record.created is not None
    assert record.created.at == datetime(2018, 7, 3, 9, 15, 2, tzinfo=PACIFIC)
    assert record.created.by == "api-user"
    assert record.credit_card is not None
    assert record.credit_card.type == "VISA"


def test_timestamps_use_the_zone_from_the_context() -> None:
    chicago = ZoneInfo("America/Chicago")
    record = ExportedTransaction.model_validate(RECORD, context={"tz": chicago})
    assert record.settled is not None
    assert record.settled.tzinfo is chicago
    assert record.settled.astimezone(timezone.utc) == datetime(
        2018, 7, 3, 22, 6, 57, tzinfo=timezone.utc
    )


@pytest.mark.parametrize("settled", ["", None])
def test_unsettled_transaction_has_no_settled_time(settled: str | None) -> None:
    record = ExportedTransaction.model_validate({"transaction_id": 1, "settled": settled})
    assert record.settled is None
    assert record.amount is None


def test_string_amounts_parse_as_decimal() -> None:
    record = ExportedTransaction.model_validate({"transaction_id": 1, "amount": "1,234.50"})
    assert record.amount == Decimal("1234.50")


def test_by_id(fake: FakeRequester) -> None:
    fake.reply(export_body(RECORD), export_body())
    exports = Exports(fake, tz=timezone.utc)
    found = exports.transaction(395970044, include_bin=True)
    assert (fake.last.path, fake.last.body, fake.last.kind) == (
        "transactions/export/by_id",
        {"transaction_id": 395970044, "include_bin": True},
        CallKind.READ,
    )
    assert found is not None
    assert found.settled == datetime(2018, 7, 3, 17, 6, 57, tzinfo=timezone.utc)
    assert exports.transaction(1) is None


def test_date_range_is_lazy_and_windowed(fake: FakeRequester) -> None:
    exports = Exports(fake)
    records = exports.transactions(
        date(2024, 2, 27),
        date(2024, 3, 2),
        transaction_type="SALE",
        customer_id="c1",
        including_text="Order",
        window=timedelta(days=2),
    )
    assert fake.calls == []  # nothing is requested before iteration starts

    fake.reply(export_body(RECORD, {**RECORD, "transaction_id": 2}))
    first = next(records)
    assert first.transaction_id == 395970044
    assert len(fake.calls) == 1
    assert fake.last.path == "transactions/export/by_date_range"
    assert fake.last.body == {
        "start_date": "02/27/2024",
        "end_date": "02/28/2024",
        "transaction_type": "SALE",
        "customer_id": "c1",
        "including_text": "Order",
    }
    assert fake.last.kind is CallKind.READ
    assert next(records).transaction_id == 2
    assert len(fake.calls) == 1  # the second record came from the same window

    fake.reply(export_body(), export_body({**RECORD, "transaction_id": 3}))
    assert [r.transaction_id for r in records] == [3]
    windows = [(c.body["start_date"], c.body["end_date"]) for c in fake.calls]
    assert windows == [
        ("02/27/2024", "02/28/2024"),
        ("02/29/2024", "03/01/2024"),
        ("03/02/2024", "03/02/2024"),
    ]


def test_stopping_early_makes_no_further_requests(fake: FakeRequester) -> None:
    fake.reply(export_body(RECORD))
    records = Exports(fake).transactions(date(2024, 1, 1), date(2024, 1, 31))
    assert [r.transaction_id for r in itertools.islice(records, 1)] == [395970044]
    assert len(fake.calls) == 1  # 30 more windows were never asked for


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": date(2024, 1, 2), "end": date(2024, 1, 1)}, "start_date"),
        ({"window": timedelta(hours=12)}, "window"),
        ({"window": timedelta(days=1, hours=1)}, "window"),
        ({"transaction_type": "SALES"}, "transaction_type"),
        ({"transaction_id": 0}, "transaction_id"),
        ({"start": datetime(2024, 1, 1, tzinfo=timezone.utc)}, "start_date"),
    ],
)
def test_bad_range_arguments_fail_at_the_call(
    fake: FakeRequester, kwargs: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"start": date(2024, 1, 1), "end": date(2024, 1, 1), **kwargs}
    with pytest.raises(PayTraceInputError) as info:
        Exports(fake).transactions(**args)
    assert info.value.field == field
    assert fake.calls == []


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    span=st.integers(min_value=0, max_value=400),
    window_days=st.integers(min_value=1, max_value=60),
)
def test_windows_tile_the_range_exactly_once(start: date, span: int, window_days: int) -> None:
    end = start + timedelta(days=span)
    windows = list(date_windows(start, end, timedelta(days=window_days)))
    assert windows[0][0] == start
    assert windows[-1][1] == end
    for first, last in windows:
        assert first <= last
        assert (last - first).days < window_days
    for (_, previous_last), (next_first, _) in itertools.pairwise(windows):
        assert next_first == previous_last + timedelta(days=1)  # contiguous, no overlap
    covered = sum((last - first).days + 1 for first, last in windows)
    assert covered == span + 1


def test_batches(fake: FakeRequester) -> None:
    fake.reply(
        {
            "success": True,
            "response_code": 0,
            "status_message": "",
            "batch": {"number": 412, "sales_count": 3},
        },
        {
            "success": True,
            "response_code": 0,
            "status_message": "",
            "batches": [{"number": 411}, {"number": 412}],
        },
        export_body(RECORD),
        {"success": True, "response_code": 0, "status_message": "", "batch": {"number": 413}},
    )
    batches = Batches(fake)
    batch = batches.export_one(412)
    assert (fake.last.path, fake.last.body, fake.last.kind) == (
        "batches/export_one",
        {"batch_number": 412},
        CallKind.READ,
    )
    assert batch is not None
    assert batch.number == 412
    assert batch.model_extra == {"sales_count": 3}

    assert [b.number for b in batches.export(date(2024, 3, 1), date(2024, 3, 31))] == [411, 412]
    assert (fake.last.path, fake.last.body) == (
        "batches/export",
        {"start_date": "03/01/2024", "end_date": "03/31/2024"},
    )
    [txn] = batches.transactions(412)
    assert (fake.last.path, fake.last.body) == ("batches/transaction_list", {"batch_number": 412})
    assert txn.batch_number == 412

    latest = batches.export_one()
    assert latest is not None
    assert latest.number == 413
    assert fake.last.body == {}
    fake.reply({"success": True, "response_code": 0, "status_message": ""})
    assert batches.export_one() is None
    with pytest.raises(PayTraceInputError):
        batches.export(date(2024, 3, 2), date(2024, 3, 1))
