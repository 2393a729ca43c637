"""Property: the polars engine gives exactly the result of the pure-Python reference engine
on random small inputs (keys shared, missing, duplicated, refunded, unkeyed, off by cents,
out of the date window)."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paysync_core.reconcile import BATCH_COLUMNS, ReconcileRules, RecordWriter, reconcile

REFS = ["", "1", "2", "3", "4", "5", "PT-1", "PT-2", "PT-6"]
DAYS = ["2026-03-01", "2026-03-02", "2026-03-04", "2026-03-09"]

rows = st.lists(
    st.fixed_dictionaries(
        {
            "ref": st.sampled_from(REFS),
            "id": st.sampled_from(["a", "b", ""]),
            "kind": st.sampled_from(["payment", "payment", "refund"]),
            "amount_cents": st.sampled_from([0, 100, 101, 250, 1000]),
            "status": st.sampled_from(["captured", "captured", "refunded", "failed"]),
            "day": st.sampled_from(DAYS),
            "customer": st.sampled_from(["C1", "C2"]),
            "invoice": st.sampled_from(["", "I1"]),
            "batch": st.sampled_from(["", "7", "8"]),
        }
    ),
    max_size=12,
)
rules_strategy = st.builds(
    ReconcileRules,
    amount_tolerance=st.sampled_from([Decimal("0.00"), Decimal("0.01")]),
    fuzzy=st.booleans(),
    fuzzy_amount_tolerance=st.sampled_from([Decimal("0.00"), Decimal("1.50")]),
    date_window_days=st.sampled_from([0, 3]),
    match_customer=st.booleans(),
    match_invoice=st.booleans(),
    date_from=st.sampled_from([None, date(2026, 3, 2)]),
    date_to=st.sampled_from([None, date(2026, 3, 4)]),
)


def _write(path: Path, items: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> Path:
    with RecordWriter(path, *(() if columns is None else (columns,))) as out:
        for item in items:
            out.write(item)
    return path


def _snapshot(result: Any) -> tuple[Any, ...]:
    return (
        result.keys,
        result.matched,
        [
            (
                d.kind,
                d.key,
                d.evidence,
                d.paytrace_cents,
                d.fusion_cents,
                d.salesforce_cents,
                d.day,
                d.batch,
                d.fix,
            )
            for d in result.discrepancies
        ],
        result.batch_checks,
        result.day_totals,
    )


@settings(max_examples=40, deadline=None)
@given(
    paytrace=rows, fusion=rows, salesforce=rows, rules=rules_strategy, reported=st.integers(0, 3000)
)
def test_fast_engine_equals_reference(
    paytrace: list[dict[str, Any]],
    fusion: list[dict[str, Any]],
    salesforce: list[dict[str, Any]],
    rules: ReconcileRules,
    reported: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = {
            "paytrace": _write(folder / "pt.csv", paytrace),
            "fusion": _write(folder / "fu.csv", fusion),
            "salesforce": _write(folder / "sf.csv", salesforce),
            "batches": _write(
                folder / "b.csv",
                [{"batch": "7", "net_cents": reported, "count": 2}],
                BATCH_COLUMNS,
            ),
        }
        fast = reconcile(**paths, rules=rules, engine="polars")
        reference = reconcile(**paths, rules=rules, engine="python")
    assert _snapshot(fast) == _snapshot(reference)
