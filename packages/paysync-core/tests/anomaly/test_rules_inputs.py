"""Rules validate with errors naming the field; bad input files and values raise a typed error
naming the file, column and problem, and never echo a card number."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from paysync_core.anomaly import (
    TRANSACTION_COLUMNS,
    AnomalyEngine,
    AnomalyInputError,
    AnomalyRules,
    detect_anomalies,
)
from paysync_core.reconcile import RECORD_COLUMNS, ReconcileInputError

from .conftest import NOW, START, Dataset, Row, txn, write

VISA = "4111111111111111"


def test_rules_from_toml_text_and_file(tmp_path: Path) -> None:
    text = """
[anomalies.duplicates]
window_minutes = 5
[anomalies.outliers]
z_threshold = 4.25
per_product = false
[anomalies.unapplied]
max_age_days = 14
"""
    rules = AnomalyRules.from_toml(text)
    assert rules.duplicates.window_minutes == 5
    assert rules.outliers.z_threshold == Decimal("4.25")
    assert rules.outliers.per_product is False
    assert rules.unapplied.max_age_days == 14
    assert rules.spikes == AnomalyRules().spikes
    path = tmp_path / "anomalies.toml"
    path.write_text("[batches]\ndrift_pct = 25\n", encoding="utf-8")
    assert AnomalyRules.from_toml(path).batches.drift_pct == 25
    assert AnomalyRules.from_toml(str(path)).batches.drift_pct == 25


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outliers": {"z_threshold": -1}}, "outliers.z_threshold"),
        ({"outliers": {"z_threshold": "3.333"}}, "outliers.z_threshold"),
        ({"outliers": {"min_spread": 0}}, "outliers.min_spread"),
        ({"duplicates": {"min_count": 1}}, "duplicates.min_count"),
        ({"duplicates": {"window": 10}}, "duplicates.window"),
        ({"spikes": {"baseline_hours": 0}}, "spikes.baseline_hours"),
        ({"batches": {"tolerance": "-0.01"}}, "batches.tolerance"),
        ({"unapplied": {"max_age_days": "soon"}}, "unapplied.max_age_days"),
        ({"typo": {}}, "typo"),
    ],
)
def test_invalid_rules_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(AnomalyInputError) as caught:
        AnomalyRules.from_mapping(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_bad_toml_and_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(AnomalyInputError, match="not valid TOML"):
        AnomalyRules.from_toml("[outliers\n")
    with pytest.raises(AnomalyInputError, match="cannot read"):
        AnomalyRules.from_toml(tmp_path / "nope.toml")


def run(
    tmp_path: Path, engine: AnomalyEngine, rows: list[Row], columns: tuple[str, ...] | None = None
) -> None:
    path = write(
        tmp_path / "paytrace.csv", rows, columns or (*TRANSACTION_COLUMNS, "card_token", "last4")
    )
    detect_anomalies(path, engine=engine, now=NOW)


def test_missing_timestamp_column_is_named(tmp_path: Path, engine: AnomalyEngine) -> None:
    with pytest.raises(AnomalyInputError, match="missing columns at"):
        run(tmp_path, engine, [txn("A", START, 100)], RECORD_COLUMNS)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"at": "2026-03-02T10:00:00"}, "at"),  # naive: no offset
        ({"at": "2026-03-02 10:00:00+00:00"}, "at"),
        ({"at": "2026-02-30T10:00:00Z"}, "at"),
        ({"amount_cents": "12.50"}, "amount_cents"),
        ({"amount_cents": "-5"}, "amount_cents"),
        ({"kind": "charge"}, "kind"),
        ({"status": "settled"}, "status"),
        ({"last4": "4111111111111111"}, "last4"),
    ],
)
def test_bad_values_name_their_column(
    tmp_path: Path, engine: AnomalyEngine, change: dict[str, str], column: str
) -> None:
    row = {**txn("A", START, 100), **change}
    with pytest.raises(AnomalyInputError) as caught:
        run(tmp_path, engine, [txn("OK", START, 100), row])
    assert caught.value.field.endswith(f":{column}")
    assert isinstance(caught.value, ReconcileInputError)
    assert VISA not in str(caught.value)


def test_card_number_in_the_token_column_is_refused_unechoed(
    tmp_path: Path, engine: AnomalyEngine
) -> None:
    rows = [txn("A", START, 100, token=VISA), txn("B", START, 100, token=VISA)]
    with pytest.raises(AnomalyInputError) as caught:
        run(tmp_path, engine, rows)
    assert caught.value.field.endswith(":card_token")
    assert VISA not in str(caught.value)
    # A digit-only token that fails the Luhn check is a token, not a card number.
    run(tmp_path, engine, [txn("A", START, 100, token="4111111111111112")])


def test_timestamps_in_any_offset_are_the_same_instant(
    tmp_path: Path, engine: AnomalyEngine
) -> None:
    from datetime import timezone

    east = timezone(timedelta(hours=5, minutes=30))
    rows = [
        txn("A", START, 100, token="tok_x"),
        txn("B", (START + timedelta(minutes=2)).astimezone(east), 100, token="tok_x"),
        {
            **txn("C", START + timedelta(minutes=3), 100, token="tok_x"),
            "at": "2026-03-02T00:03:00.5Z",
        },
    ]
    path = write(tmp_path / "paytrace.csv", rows, (*TRANSACTION_COLUMNS, "card_token"))
    (flag,) = detect_anomalies(path, engine=engine, now=NOW)
    assert flag.records == ("A", "B", "C")
    assert flag.end == datetime(2026, 3, 2, 0, 3, 0, 500_000, tzinfo=timezone.utc)


def test_call_arguments_are_checked(tmp_path: Path) -> None:
    paths = Dataset([txn("A", START, 100)]).write(tmp_path)
    with pytest.raises(AnomalyInputError, match="engine"):
        detect_anomalies(paths[0], engine="spark")  # type: ignore[arg-type]
    with pytest.raises(AnomalyInputError, match="now: must be timezone-aware"):
        detect_anomalies(paths[0], now=datetime(2026, 4, 1))  # noqa: DTZ001 - the point
    with pytest.raises(AnomalyInputError, match="start: is after end"):
        detect_anomalies(paths[0], start=NOW.date(), end=START.date())
    with pytest.raises(AnomalyInputError, match="no such file"):
        detect_anomalies(tmp_path / "missing.csv", engine="python")
    with pytest.raises(AnomalyInputError, match="Parquet input needs polars"):
        detect_anomalies(tmp_path / "paytrace.parquet", engine="python")


def test_receipts_without_unapplied_column_and_bad_days(
    tmp_path: Path, engine: AnomalyEngine
) -> None:
    transactions = write(tmp_path / "paytrace.csv", [], TRANSACTION_COLUMNS)
    plain = write(tmp_path / "fusion.csv", [], RECORD_COLUMNS)
    with pytest.raises(AnomalyInputError, match="missing columns unapplied_cents"):
        detect_anomalies(transactions, plain, engine=engine, now=NOW)
    bad_day: Row = {
        "ref": "",
        "id": "R1",
        "kind": "payment",
        "amount_cents": 100,
        "status": "captured",
        "day": "03/01/2026",
        "customer": "",
        "invoice": "",
        "batch": "",
        "unapplied_cents": 100,
    }
    receipts = write(tmp_path / "fusion2.csv", [bad_day], (*RECORD_COLUMNS, "unapplied_cents"))
    with pytest.raises(AnomalyInputError) as caught:
        detect_anomalies(transactions, receipts, engine=engine, now=NOW)
    assert caught.value.field.endswith(":day")


def test_parquet_input_on_the_polars_engine(tmp_path: Path) -> None:
    import polars as pl

    rows = [
        txn("A", START, 4_999, token="tok_x"),
        txn("B", START + timedelta(minutes=1), 4_999, token="tok_x"),
    ]
    csv_path = write(tmp_path / "paytrace.csv", rows, (*TRANSACTION_COLUMNS, "card_token"))
    frame = pl.read_csv(csv_path, infer_schema=False).with_columns(
        pl.col("amount_cents").cast(pl.Int64)
    )
    parquet = tmp_path / "paytrace.parquet"
    frame.write_parquet(parquet)
    (flag,) = detect_anomalies(parquet, engine="polars", now=NOW)
    assert flag.records == ("A", "B")
