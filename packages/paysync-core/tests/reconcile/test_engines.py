"""Reconciliation rules, run on both engines (files on disk, no mocks)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from paysync_core.reconcile import (
    BATCH_COLUMNS,
    DiscrepancyClass,
    ReconcileInputError,
    ReconcileResult,
    ReconcileRules,
    RecordWriter,
    reconcile,
)

ENGINES = ("python", "polars")
D = DiscrepancyClass


def rec(
    ref: str,
    cents: int,
    *,
    kind: str = "payment",
    status: str = "captured",
    day: str = "2026-03-02",
    customer: str = "C1",
    invoice: str = "",
    batch: str = "",
    record_id: str = "",
) -> dict[str, str | int]:
    return {
        "ref": ref,
        "id": record_id or ref,
        "kind": kind,
        "amount_cents": cents,
        "status": status,
        "day": day,
        "customer": customer,
        "invoice": invoice,
        "batch": batch,
    }


def write(
    path: Path, rows: Iterable[Mapping[str, str | int]], columns: Iterable[str] | None = None
) -> Path:
    with RecordWriter(path, *(() if columns is None else (columns,))) as out:
        for r in rows:
            out.write(r)
    return path


def run(
    tmp_path: Path,
    engine: str,
    paytrace: list[dict[str, str | int]],
    fusion: list[dict[str, str | int]],
    salesforce: list[dict[str, str | int]],
    *,
    batches: list[dict[str, str | int]] | None = None,
    rules: ReconcileRules | None = None,
) -> ReconcileResult:
    return reconcile(
        paytrace=write(tmp_path / "pt.csv", paytrace),
        fusion=write(tmp_path / "fu.csv", fusion),
        salesforce=write(tmp_path / "sf.csv", salesforce),
        batches=write(tmp_path / "b.csv", batches, BATCH_COLUMNS) if batches is not None else None,
        rules=rules,
        engine="polars" if engine == "polars" else "python",
    )


def kinds(result: ReconcileResult) -> list[tuple[str, str]]:
    return [(d.kind.value, d.key) for d in result.discrepancies]


@pytest.mark.parametrize("engine", ENGINES)
def test_exact_keys_match_across_prefix_and_every_class_is_found(
    tmp_path: Path, engine: str
) -> None:
    paytrace = [
        rec("101", 1000),
        rec("102", 500),
        rec("103", 700),
        rec("104", 900, status="failed"),
        rec("105", 300),
        rec("106", 250),
    ]
    fusion = [
        rec("PT-101", 1000),
        rec("PT-102", 400),
        rec("PT-103", 700),
        rec("PT-105", 300),
        rec("PT-106", 250),
        rec("PT-106", 250, record_id="second"),
        rec("PT-999", 100, customer="GHOST"),
    ]
    salesforce = [
        rec("101", 1000),
        rec("102", 500),
        rec("103", 700, status="refunded"),
        rec("104", 900, status="failed"),
        rec("106", 250),
    ]
    result = run(tmp_path, engine, paytrace, fusion, salesforce)
    assert kinds(result) == [
        ("amount_mismatch", "102"),
        ("duplicate", "106"),
        ("missing_in_paytrace", "999"),
        ("missing_in_salesforce", "105"),
        ("status_mismatch", "103"),
    ]
    assert result.counts[D.MATCHED] == 2  # 101, and 104 (declined: no receipt expected)
    assert result.keys == 7
    [day] = result.day_totals  # the declined 104 moved no money
    assert (day.paytrace_cents, day.fusion_cents, day.salesforce_cents) == (2750, 3000, 2450)
    mismatch = result.discrepancies[0]
    assert mismatch.paytrace_amount == Decimal("5.00")
    assert mismatch.fusion_amount == Decimal("4.00")
    assert mismatch.fix is not None
    assert (mismatch.fix.action, mismatch.fix.system, mismatch.fix.value) == (
        "correct",
        "fusion",
        "5.00",
    )
    missing = next(d for d in result.discrepancies if d.kind is D.MISSING_IN_SALESFORCE)
    assert missing.fix is not None
    assert (missing.fix.action, missing.fix.step) == ("replay", "salesforce_payment")


@pytest.mark.parametrize("engine", ENGINES)
def test_refunds_and_partial_captures_net_out(tmp_path: Path, engine: str) -> None:
    paytrace = [
        rec("201", 1000),
        rec("201", 400, kind="refund", record_id="301"),
        rec("202", 600),  # captured less than authorised: the export shows 6.00
        rec("203", 800),
        rec("203", 800, kind="refund", record_id="303"),
    ]
    fusion = [
        rec("PT-201", 1000),
        rec("PT-201", 400, kind="refund", record_id="CM-1"),
        rec("PT-202", 600),
        rec("PT-203", 800),
        rec("PT-203", 800, kind="refund", record_id="CM-2"),
    ]
    salesforce = [rec("201", 600), rec("202", 600), rec("203", 800, status="refunded")]
    result = run(tmp_path, engine, paytrace, fusion, salesforce)
    # 203: PayTrace refunded in full -> "refunded" as Salesforce says; SF 203 still shows the
    # gross 8.00 against a net of 0.00
    assert kinds(result) == [("amount_mismatch", "203")]
    assert result.counts[D.MATCHED] == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_fuzzy_rules_pair_unkeyed_records(tmp_path: Path, engine: str) -> None:
    paytrace = [rec("401", 1234, customer="C7", day="2026-03-05"), rec("402", 999, customer="C8")]
    fusion = [
        rec("", 1234, customer="C7", day="2026-03-06", record_id="typed-by-hand"),
        rec("", 999, customer="C9", record_id="other-customer"),
    ]
    salesforce = [rec("401", 1234, customer="C7", day="2026-03-05"), rec("402", 999, customer="C8")]
    result = run(tmp_path, engine, paytrace, fusion, salesforce)
    assert kinds(result) == [("missing_in_fusion", "402"), ("missing_in_paytrace", "fusion#1")]
    assert result.counts[D.MATCHED] == 1
    strict = run(
        tmp_path, engine, paytrace, fusion, salesforce, rules=ReconcileRules(date_window_days=0)
    )
    assert ("missing_in_fusion", "401") in kinds(strict)
    loose = run(
        tmp_path, engine, paytrace, fusion, salesforce, rules=ReconcileRules(match_customer=False)
    )
    assert kinds(loose) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_fuzzy_pair_within_amount_tolerance_is_an_amount_mismatch(
    tmp_path: Path, engine: str
) -> None:
    rules = ReconcileRules(fuzzy_amount_tolerance=Decimal("0.05"))
    result = run(
        tmp_path,
        engine,
        [rec("501", 1000)],
        [rec("", 1003, record_id="R-77")],
        [rec("501", 1000)],
        rules=rules,
    )
    assert kinds(result) == [("amount_mismatch", "501")]
    assert "R-77" in result.discrepancies[0].evidence


@pytest.mark.parametrize("engine", ENGINES)
def test_tolerance_and_date_window(tmp_path: Path, engine: str) -> None:
    paytrace = [rec("601", 1000, day="2026-03-01"), rec("602", 1000, day="2026-03-09")]
    fusion = [rec("PT-601", 1001, day="2026-03-01"), rec("PT-602", 1000, day="2026-03-09")]
    salesforce = [rec("601", 1000, day="2026-03-01")]
    rules = ReconcileRules(
        amount_tolerance=Decimal("0.01"), date_from=date(2026, 3, 1), date_to=date(2026, 3, 5)
    )
    result = run(tmp_path, engine, paytrace, fusion, salesforce, rules=rules)
    assert kinds(result) == []
    assert result.keys == 1
    assert [t.day for t in result.day_totals] == ["2026-03-01"]


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_totals_checked_against_their_transactions(tmp_path: Path, engine: str) -> None:
    paytrace = [
        rec("701", 1000, batch="9001"),
        rec("702", 500, batch="9001"),
        rec("702", 200, kind="refund", batch="9001", record_id="703"),
        rec("704", 300, batch="9002"),
    ]
    batches = [
        {"batch": "9001", "net_cents": 1300, "count": 3},
        {"batch": "9002", "net_cents": 301, "count": 1},
    ]
    result = run(tmp_path, engine, paytrace, [], [], batches=batches)
    assert [(b.batch, b.ok) for b in result.batch_checks] == [("9001", True), ("9002", False)]
    assert result.batch_mismatches[0].variance == Decimal("-0.01")


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_rows_raise_typed_errors_naming_the_field(tmp_path: Path, engine: str) -> None:
    with pytest.raises(ReconcileInputError, match="kind"):
        run(tmp_path, engine, [rec("1", 100, kind="chargeback")], [], [])
    with pytest.raises(ReconcileInputError, match="status"):
        run(tmp_path, engine, [], [rec("1", 100, status="pending")], [])
    (tmp_path / "short.csv").write_text("ref,kind\n1,payment\n", encoding="utf-8")
    with pytest.raises(ReconcileInputError, match="missing columns"):
        reconcile(
            paytrace=tmp_path / "short.csv",
            fusion=tmp_path / "short.csv",
            salesforce=tmp_path / "short.csv",
            engine="polars" if engine == "polars" else "python",
        )


def test_rules_and_engine_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ReconcileInputError, match="amount_tolerance"):
        ReconcileRules(amount_tolerance=Decimal("-1"))
    with pytest.raises(ReconcileInputError, match="fuzzy_amount_tolerance"):
        ReconcileRules(fuzzy_amount_tolerance=Decimal("0.001"))
    with pytest.raises(ReconcileInputError, match="date_from"):
        ReconcileRules(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
    with pytest.raises(ReconcileInputError, match="Parquet"):
        reconcile(paytrace="a.parquet", fusion="b.csv", salesforce="c.csv", engine="python")
    with pytest.raises(ReconcileInputError, match="no such file"):
        reconcile(paytrace=tmp_path / "x.csv", fusion="b.csv", salesforce="c.csv", engine="python")


def test_parquet_input_on_the_fast_engine(tmp_path: Path) -> None:
    import polars as pl

    csv_path = write(tmp_path / "pt.csv", [rec("1", 100), rec("2", 200)])
    pl.read_csv(csv_path, schema_overrides={"ref": pl.String, "id": pl.String}).write_parquet(
        tmp_path / "pt.parquet"
    )
    write(tmp_path / "fu.csv", [rec("PT-1", 100), rec("PT-2", 200)])
    write(tmp_path / "sf.csv", [rec("1", 100)])
    result = reconcile(
        paytrace=tmp_path / "pt.parquet", fusion=tmp_path / "fu.csv", salesforce=tmp_path / "sf.csv"
    )
    assert result.engine == "polars"
    assert kinds(result) == [("missing_in_salesforce", "2")]
