"""Property: the polars engine flags exactly what the pure-Python reference engine flags, on
small random inputs dense enough to trip every rule (shared tokens and amounts a few minutes
apart, tiny customer histories, busy hours, drifting and mismatched batches, old receipts)."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from paysync_core.anomaly import (
    AnomalyRules,
    BatchRule,
    DuplicateRule,
    OutlierRule,
    SpikeRule,
    UnappliedRule,
    detect_anomalies,
)

from .conftest import NOW, Dataset, Row, txn

BASE = datetime(2026, 3, 2, 8, tzinfo=timezone.utc)
OFFSETS = [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]


@st.composite
def transactions(draw: st.DrawFn) -> list[Row]:
    count = draw(st.integers(0, 40))
    rows: list[Row] = []
    for i in range(count):
        minute = draw(st.integers(0, 6 * 60))
        micro = draw(st.sampled_from([0, 0, 1, 500_000]))
        at = (BASE + timedelta(minutes=minute, microseconds=micro)).astimezone(
            draw(st.sampled_from(OFFSETS))
        )
        rows.append(
            txn(
                f"T{i}",
                at,
                draw(st.sampled_from([100, 101, 250, 1_000, 1_001, 50_000])),
                kind=draw(st.sampled_from(["payment", "payment", "payment", "refund"])),
                status=draw(st.sampled_from(["captured", "captured", "refunded", "failed"])),
                customer=draw(st.sampled_from(["", "C1", "C2"])),
                token=draw(st.sampled_from(["", "tok_a", "tok_b"])),
                last4=draw(st.sampled_from(["", "4242"])),
                product=draw(st.sampled_from(["", "p1", "p2"])),
                batch=draw(st.sampled_from(["", "7", "8"])),
            )
        )
    return rows


batch_files = st.lists(
    st.fixed_dictionaries(
        {
            "batch": st.sampled_from(["7", "8", "9", "10", "11"]),
            "net_cents": st.sampled_from([-100, 0, 100, 1_000, 1_100, 5_000]),
            "count": st.sampled_from(["", "1", "2"]),
            "day": st.sampled_from(
                ["", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-03"]
            ),
        }
    ),
    max_size=8,
)
receipt_files = st.lists(
    st.fixed_dictionaries(
        {
            "ref": st.just(""),
            "id": st.sampled_from(["R1", "R2", "R3"]),
            "kind": st.sampled_from(["payment", "refund"]),
            "amount_cents": st.sampled_from([100, 1_000]),
            "status": st.sampled_from(["captured", "failed"]),
            "day": st.sampled_from(["2026-02-01", "2026-03-01", "2026-03-30"]),
            "customer": st.sampled_from(["", "C1"]),
            "invoice": st.just(""),
            "batch": st.just(""),
            "unapplied_cents": st.sampled_from([0, 50]),
        }
    ),
    max_size=5,
)
rules_strategy = st.builds(
    AnomalyRules,
    duplicates=st.builds(
        DuplicateRule,
        window_minutes=st.sampled_from([1, 10, 60]),
        min_count=st.sampled_from([2, 3]),
    ),
    outliers=st.builds(
        OutlierRule,
        z_threshold=st.sampled_from([Decimal("0.5"), Decimal("3.5")]),
        min_history=st.sampled_from([3, 5]),
        min_spread=st.sampled_from([Decimal("0.01"), Decimal("1.00")]),
        min_spread_pct=st.sampled_from([0, 5]),
    ),
    spikes=st.builds(
        SpikeRule,
        baseline_hours=st.sampled_from([1, 3]),
        z_threshold=st.sampled_from([Decimal("0.5"), Decimal("2")]),
        min_events=st.sampled_from([1, 2]),
        min_volume=st.sampled_from([1, 3]),
        min_baseline_volume=st.sampled_from([1, 3]),
    ),
    batches=st.builds(
        BatchRule,
        tolerance=st.sampled_from([Decimal("0.00"), Decimal("1.00")]),
        weekday_history=st.sampled_from([1, 2]),
        min_history=st.sampled_from([1, 2]),
        drift_pct=st.sampled_from([1, 50]),
    ),
    unapplied=st.builds(UnappliedRule, max_age_days=st.sampled_from([0, 30])),
)


@settings(max_examples=60, deadline=None)
@given(
    rows=transactions(),
    batches=batch_files,
    receipts=receipt_files,
    rules=rules_strategy,
    window=st.sampled_from([(None, None), (date(2026, 3, 2), date(2026, 3, 2))]),
)
def test_polars_engine_flags_exactly_what_python_flags(
    rows: list[Row],
    batches: list[Row],
    receipts: list[Row],
    rules: AnomalyRules,
    window: tuple[date | None, date | None],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = Dataset(rows, receipts, batches).write(Path(tmp))
        results = [
            [
                f.as_dict()
                for f in detect_anomalies(
                    *paths, rules=rules, engine=engine, now=NOW, start=window[0], end=window[1]
                )
            ]
            for engine in ("python", "polars")
        ]
    assert results[0] == results[1]
