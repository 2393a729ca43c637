"""Each detector on both engines: planted anomalies are flagged with their records and the
statistic that tripped them, clean look-alikes are not, and every limit holds at its boundary
(a statistic equal to its threshold is not a flag)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from paysync_core.anomaly import (
    AnomalyFlag,
    AnomalyKind,
    AnomalyRules,
    BatchRule,
    DuplicateRule,
    OutlierRule,
    Severity,
    SpikeRule,
    UnappliedRule,
)

from .conftest import NOW, START, Dataset, Detect, Row, txn

T0 = START + timedelta(days=2, hours=9)


def only(flags: list[AnomalyFlag], kind: AnomalyKind) -> list[AnomalyFlag]:
    return [f for f in flags if f.kind is kind]


def explained(flag: AnomalyFlag) -> None:
    """The reason is one line and quotes the statistic's value and threshold."""
    assert "\n" not in flag.reason
    assert str(flag.statistic.value) in flag.reason
    assert str(flag.statistic.threshold) in flag.reason


CARD = "tok_abcdef123"


def charge(record_id: str, minutes: float, cents: int = 4_999, card: str = CARD) -> Row:
    return txn(record_id, T0 + timedelta(minutes=minutes), cents, token=card, last4="4242")


# --- duplicates -----------------------------------------------------------------------------


def test_duplicate_charges_are_flagged_with_records_and_span(detect: Detect) -> None:
    rows = [charge("A", 0), charge("B", 1), charge("C", 4), charge("D", 30)]
    (flag,) = only(detect(Dataset(rows)), AnomalyKind.DUPLICATE_CHARGE)
    assert flag.records == ("A", "B", "C")
    assert flag.statistic.value == 3
    assert flag.statistic.threshold == 2
    assert flag.severity is Severity.HIGH
    assert flag.start == T0
    assert flag.end == T0 + timedelta(minutes=4)
    assert flag.reason.startswith("3 charges of 49.99 on token tok_abcd… (…4242) within 4 min")
    assert "(window 10 min" in flag.reason
    assert "tok_abcdef123" not in flag.reason  # shortened
    explained(flag)


def test_different_amount_token_or_a_decline_is_not_a_duplicate(detect: Detect) -> None:
    rows = [
        charge("A", 0),
        charge("B", 1, cents=5_000),
        charge("C", 2, card="tok_other"),
        txn("D", T0 + timedelta(minutes=3), 4_999, token="tok_abcdef123", status="failed"),
        txn("E", T0 + timedelta(minutes=4), 4_999, token="tok_abcdef123", kind="refund"),
        txn("F", T0 + timedelta(minutes=5), 4_999, token=""),
        txn("G", T0 + timedelta(minutes=5), 4_999, token=""),
    ]
    assert only(detect(Dataset(rows)), AnomalyKind.DUPLICATE_CHARGE) == []


def test_duplicate_window_boundary(detect: Detect) -> None:
    at_limit = [charge("A", 0), charge("B", 10)]
    (flag,) = only(detect(Dataset(at_limit)), AnomalyKind.DUPLICATE_CHARGE)
    assert flag.records == ("A", "B")
    assert flag.severity is Severity.MEDIUM
    past = [
        charge("A", 0),
        txn("B", T0 + timedelta(minutes=10, microseconds=1), 4_999, token="tok_abcdef123"),
    ]
    assert only(detect(Dataset(past)), AnomalyKind.DUPLICATE_CHARGE) == []


def test_duplicate_clusters_are_anchored_at_their_first_charge(detect: Detect) -> None:
    # 0, 8, 16 minutes: 16 is outside 0's window, so it starts a cluster of its own.
    rows = [charge("A", 0), charge("B", 8), charge("C", 16)]
    flags = only(detect(Dataset(rows)), AnomalyKind.DUPLICATE_CHARGE)
    assert [f.records for f in flags] == [("A", "B")]


def test_duplicate_min_count_and_window_are_configurable(detect: Detect) -> None:
    rows = [charge("A", 0), charge("B", 12), charge("C", 20)]
    default = only(detect(Dataset(rows)), AnomalyKind.DUPLICATE_CHARGE)
    assert [f.records for f in default] == [("B", "C")]
    rules = AnomalyRules(duplicates=DuplicateRule(window_minutes=20, min_count=3))
    (flag,) = only(detect(Dataset(rows), rules), AnomalyKind.DUPLICATE_CHARGE)
    assert flag.records == ("A", "B", "C")
    assert flag.statistic.threshold == 3
    assert "(window 20 min, flag at 3)" in flag.reason
    off = AnomalyRules(duplicates=DuplicateRule(enabled=False))
    assert only(detect(Dataset(rows), off), AnomalyKind.DUPLICATE_CHARGE) == []


# --- amount outliers ------------------------------------------------------------------------


def history(customer: str, amounts: list[int], product: str = "") -> list[Row]:
    return [
        txn(f"{customer}-{i}", T0 + timedelta(hours=i), cents, customer=customer, product=product)
        for i, cents in enumerate(amounts)
    ]


def test_customer_outlier_is_flagged_with_robust_z(detect: Detect) -> None:
    usual = [1_000, 1_010, 990, 1_005, 995, 1_000, 1_020, 980, 1_000]
    rows = [*history("C1", usual), txn("BIG", T0 + timedelta(days=1), 25_000, customer="C1")]
    (flag,) = only(detect(Dataset(rows)), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER)
    assert flag.records == ("BIG",)
    assert flag.subject == "C1"
    assert flag.statistic.name == "robust_z"
    # median 10.00; |x - median| / 4 MAD floored at the 1.00 minimum spread: 0.6745*240/1.
    assert flag.statistic.value == Decimal("161.88")
    assert flag.severity is Severity.HIGH
    assert "payment of 250.00 for customer C1 has robust z 161.88" in flag.reason
    assert "median 10" in flag.reason
    assert "over 10 payments" in flag.reason
    explained(flag)


def test_outliers_need_min_history_and_ignore_declines(detect: Detect) -> None:
    short = [*history("C1", [1_000] * 6), txn("BIG", T0 + timedelta(days=1), 25_000, customer="C1")]
    assert only(detect(Dataset(short)), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER) == []
    declined = [
        *history("C1", [1_000] * 9),
        txn("BIG", T0 + timedelta(days=1), 25_000, customer="C1", status="failed"),
    ]
    assert only(detect(Dataset(declined)), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER) == []
    rules = AnomalyRules(outliers=OutlierRule(min_history=7))
    (flag,) = only(detect(Dataset(short), rules), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER)
    assert flag.records == ("BIG",)


def test_outlier_threshold_boundary(detect: Detect) -> None:
    # Nine payments of 10.00: MAD 0, floored at 1.00 -> z = 0.6745 * |x - 10.00| / 1.00.
    # z_threshold 13.49 is exactly reached at x = 30.00 and passed at 30.01.
    rules = AnomalyRules(outliers=OutlierRule(z_threshold=Decimal("13.49")))
    at_limit = [*history("C1", [1_000] * 9), txn("X", T0 + timedelta(days=1), 3_000, customer="C1")]
    assert only(detect(Dataset(at_limit), rules), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER) == []
    over = [*history("C1", [1_000] * 9), txn("X", T0 + timedelta(days=1), 3_001, customer="C1")]
    (flag,) = only(detect(Dataset(over), rules), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER)
    assert flag.statistic.value == Decimal("13.50")
    assert flag.severity is Severity.MEDIUM


def test_steady_subscription_customer_is_not_an_outlier(detect: Detect) -> None:
    # The MAD floor: a cent's difference from an always-equal amount is not a flag.
    rows = [*history("C1", [2_000] * 12), txn("X", T0 + timedelta(days=1), 2_001, customer="C1")]
    assert only(detect(Dataset(rows)), AnomalyKind.CUSTOMER_AMOUNT_OUTLIER) == []


def test_product_line_outlier_is_flagged_per_product(detect: Detect) -> None:
    # Ten customers buy "pro" once each at ~99.00; a new customer pays 990.00 for it: too
    # little history for a customer outlier, plenty for the product line.
    rows = [
        txn(f"P{i}", T0 + timedelta(hours=i), 9_900 + i, customer=f"C{i}", product="pro")
        for i in range(10)
    ]
    rows.append(txn("BIG", T0 + timedelta(days=1), 99_000, customer="NEW", product="pro"))
    flags = detect(Dataset(rows))
    assert only(flags, AnomalyKind.CUSTOMER_AMOUNT_OUTLIER) == []
    (flag,) = only(flags, AnomalyKind.PRODUCT_AMOUNT_OUTLIER)
    assert flag.records == ("BIG",)
    assert flag.subject == "pro"
    assert "for product line pro" in flag.reason
    explained(flag)
    per_customer_only = AnomalyRules(outliers=OutlierRule(per_product=False))
    assert only(detect(Dataset(rows), per_customer_only), AnomalyKind.PRODUCT_AMOUNT_OUTLIER) == []


# --- spikes ---------------------------------------------------------------------------------


def hour_of(
    hour: datetime, prefix: str, payments: int, declines: int = 0, refunds: int = 0
) -> list[Row]:
    rows: list[Row] = []
    step = timedelta(seconds=3_600 / max(1, payments + refunds))
    for i in range(payments):
        status = "failed" if i < declines else "captured"
        rows.append(
            txn(f"{prefix}P{i}", hour + i * step, 1_000 + i, status=status, customer=f"S{i}")
        )
    for i in range(refunds):
        rows.append(txn(f"{prefix}R{i}", hour + i * step, 500, kind="refund", customer=f"S{i}"))
    return rows


SPIKE_HOUR = datetime(2026, 3, 5, 14, tzinfo=timezone.utc)
ONE_HOUR_BASELINE = AnomalyRules(spikes=SpikeRule(baseline_hours=1, z_threshold=Decimal(4)))


def test_decline_spike_boundary_and_flag(detect: Detect) -> None:
    # Baseline hour: 100 payments, 4 declines. Spike hour: 100 payments -> expected 4, and
    # z = (d - 4) / 2: 12 declines is exactly z 4 (the threshold), 13 is z 4.5.
    baseline = hour_of(SPIKE_HOUR - timedelta(hours=1), "B", 100, declines=4)
    at_limit = [*baseline, *hour_of(SPIKE_HOUR, "H", 100, declines=12)]
    assert only(detect(Dataset(at_limit), ONE_HOUR_BASELINE), AnomalyKind.DECLINE_SPIKE) == []
    over = [*baseline, *hour_of(SPIKE_HOUR, "H", 100, declines=13)]
    (flag,) = only(detect(Dataset(over), ONE_HOUR_BASELINE), AnomalyKind.DECLINE_SPIKE)
    assert flag.statistic.value == Decimal("4.50")
    assert flag.statistic.threshold == 4
    assert flag.records == tuple(sorted(f"HP{i}" for i in range(13)))
    assert flag.start == SPIKE_HOUR
    assert flag.end == SPIKE_HOUR + timedelta(hours=1)
    assert flag.subject == "2026-03-05T14:00Z"
    assert flag.reason.startswith("13 declines in 100 payments at 2026-03-05 14:00 UTC (13.0%)")
    assert "against 4.0% over the previous 1 h" in flag.reason
    explained(flag)


def test_spike_needs_volume_and_min_events(detect: Detect) -> None:
    baseline = hour_of(SPIKE_HOUR - timedelta(hours=1), "B", 100, declines=1)
    few = [*baseline, *hour_of(SPIKE_HOUR, "H", 100, declines=9)]  # z 8, but < 10 events
    assert only(detect(Dataset(few), ONE_HOUR_BASELINE), AnomalyKind.DECLINE_SPIKE) == []
    thin_baseline = [
        *hour_of(SPIKE_HOUR - timedelta(hours=1), "B", 99, declines=1),
        *hour_of(SPIKE_HOUR, "H", 100, declines=50),
    ]
    assert only(detect(Dataset(thin_baseline), ONE_HOUR_BASELINE), AnomalyKind.DECLINE_SPIKE) == []
    quiet_hour = [*baseline, *hour_of(SPIKE_HOUR, "H", 19, declines=19)]
    assert only(detect(Dataset(quiet_hour), ONE_HOUR_BASELINE), AnomalyKind.DECLINE_SPIKE) == []


def test_refund_spike_against_a_trailing_day(detect: Detect) -> None:
    rows: list[Row] = []
    for h in range(24, 0, -1):
        rows += hour_of(SPIKE_HOUR - timedelta(hours=h), f"B{h}-", 20, refunds=1)
    rows += hour_of(SPIKE_HOUR, "H", 20, refunds=15)
    flags = detect(Dataset(rows))
    assert only(flags, AnomalyKind.DECLINE_SPIKE) == []
    (flag,) = only(flags, AnomalyKind.REFUND_SPIKE)
    assert flag.records == tuple(sorted(f"HR{i}" for i in range(15)))
    assert "15 refunds in 20 payments" in flag.reason
    assert "over the previous 24 h" in flag.reason
    assert flag.statistic.threshold == 5
    explained(flag)
    declines_only = AnomalyRules(spikes=SpikeRule(refunds=False))
    assert only(detect(Dataset(rows), declines_only), AnomalyKind.REFUND_SPIKE) == []


# --- batches --------------------------------------------------------------------------------


def batch_txns(batch: str, day: date, cents: list[int]) -> list[Row]:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    return [
        txn(f"{batch}-{i}", at + timedelta(minutes=i), c, batch=batch, customer=f"B{i}")
        for i, c in enumerate(cents)
    ]


def test_batch_total_mismatch_boundary(detect: Detect) -> None:
    day = date(2026, 3, 3)
    rows = batch_txns("700", day, [10_000, 5_000])
    rules = AnomalyRules(batches=BatchRule(tolerance=Decimal("0.05")))

    def reported(net: int) -> Dataset:
        return Dataset(
            rows, batches=[{"batch": "700", "net_cents": net, "count": 2, "day": day.isoformat()}]
        )

    assert only(detect(reported(15_005), rules), AnomalyKind.BATCH_TOTAL_MISMATCH) == []
    (flag,) = only(detect(reported(15_006), rules), AnomalyKind.BATCH_TOTAL_MISMATCH)
    assert flag.records == ("700",)
    assert flag.statistic.value == Decimal("0.06")
    assert flag.statistic.threshold == Decimal("0.05")
    assert "reports 150.06 over 2 transactions but its 2 transactions sum to 150.00" in flag.reason
    assert flag.start == datetime(2026, 3, 3, 12, tzinfo=timezone.utc)
    explained(flag)


def test_batch_without_transactions_is_a_mismatch(detect: Detect) -> None:
    data = Dataset(
        batch_txns("700", date(2026, 3, 3), [1_000]),
        batches=[
            {"batch": "700", "net_cents": 1_000, "count": 1, "day": "2026-03-03"},
            {"batch": "701", "net_cents": 2_500, "count": "", "day": "2026-03-04"},
        ],
    )
    (flag,) = only(detect(data), AnomalyKind.BATCH_TOTAL_MISMATCH)
    assert flag.subject == "701"
    assert "reports 25.00 over ? transactions but its 0 transactions sum to 0.00" in flag.reason
    assert flag.start == datetime(2026, 3, 4, tzinfo=timezone.utc)


def weekly(nets: list[int]) -> Dataset:
    """Batches on consecutive Mondays with exactly matching transactions."""
    rows: list[Row] = []
    for i, net in enumerate(nets):
        rows += batch_txns(f"M{i}", date(2026, 2, 2) + timedelta(weeks=i), [net])
    # Noise on other weekdays must not feed the Monday baseline.
    rows += batch_txns("TUE", date(2026, 2, 3), [1_000_000])
    return Dataset(rows)


def test_batch_weekday_drift_boundary(detect: Detect) -> None:
    assert only(detect(weekly([10_000, 10_000, 10_000, 15_000])), AnomalyKind.BATCH_DRIFT) == []
    (flag,) = only(detect(weekly([10_000, 10_000, 10_000, 15_001])), AnomalyKind.BATCH_DRIFT)
    assert flag.subject == "M3"
    assert flag.records == ("M3", "M0", "M1", "M2")
    assert flag.statistic.value == Decimal("50.0")
    assert flag.statistic.threshold == 50
    assert "settled 2026-02-23 (Monday) at 150.01, 50.0% from the 100.00 average" in flag.reason
    assert (
        only(detect(weekly([10_000, 10_000, 10_000, 15_001])), AnomalyKind.BATCH_TOTAL_MISMATCH)
        == []
    )


def test_batch_drift_needs_history_and_uses_a_trailing_window(detect: Detect) -> None:
    assert only(detect(weekly([10_000, 10_000, 40_000])), AnomalyKind.BATCH_DRIFT) == []
    # The 4-batch window forgets the early 1.00 batches: 100.00 is the norm by week 6.
    nets = [100, 100, 100, 10_000, 10_000, 10_000, 10_000, 10_000]
    flags = only(detect(weekly(nets)), AnomalyKind.BATCH_DRIFT)
    assert [f.subject for f in flags] == ["M3", "M4", "M5"]
    rules = AnomalyRules(batches=BatchRule(drift_pct=10_000))
    assert only(detect(weekly(nets), rules), AnomalyKind.BATCH_DRIFT) == []


# --- unapplied receipts ---------------------------------------------------------------------


def receipt(record_id: str, age_days: int, unapplied: int, status: str = "captured") -> Row:
    day = (NOW - timedelta(days=age_days)).date()
    return {
        "ref": f"PT-{record_id}",
        "id": record_id,
        "kind": "payment",
        "amount_cents": 10_000,
        "status": status,
        "day": day.isoformat(),
        "customer": "C9",
        "invoice": "",
        "batch": "",
        "unapplied_cents": unapplied,
    }


def test_unapplied_receipt_age_boundary(detect: Detect) -> None:
    receipts = [
        receipt("AT-LIMIT", 30, 10_000),
        receipt("OLD", 31, 2_500),
        receipt("APPLIED", 90, 0),
        receipt("REVERSED", 90, 10_000, status="failed"),
        receipt("ANCIENT", 61, 10_000),
    ]
    flags = only(detect(Dataset([], receipts)), AnomalyKind.UNAPPLIED_RECEIPT)
    assert [f.subject for f in flags] == ["ANCIENT", "OLD"]
    ancient, old = flags
    assert old.statistic.value == 31
    assert old.statistic.threshold == 30
    assert old.severity is Severity.LOW
    assert ancient.severity is Severity.MEDIUM
    assert "still has 25.00 of 100.00 unapplied after 31 days (limit 30)" in old.reason
    assert old.end == datetime(2026, 4, 1, tzinfo=timezone.utc)
    explained(old)
    rules = AnomalyRules(unapplied=UnappliedRule(max_age_days=60))
    assert [f.subject for f in detect(Dataset([], receipts), rules)] == ["ANCIENT"]


def test_now_dates_the_receipts(detect: Detect) -> None:
    receipts = [receipt("R", 10, 10_000)]
    later = NOW + timedelta(days=21)
    assert detect(Dataset([], receipts)) == []
    (flag,) = detect(Dataset([], receipts), now=later)
    assert flag.statistic.value == 31


# --- windows --------------------------------------------------------------------------------


def test_date_window_limits_transactions_and_dated_batches(detect: Detect) -> None:
    rows = [charge("A", 0), charge("B", 1)]  # on 2026-03-04
    assert len(detect(Dataset(rows))) == 1
    assert detect(Dataset(rows), start=date(2026, 3, 5)) == []
    assert detect(Dataset(rows), end=date(2026, 3, 3)) == []
    assert len(detect(Dataset(rows), start=date(2026, 3, 4), end=date(2026, 3, 4))) == 1
