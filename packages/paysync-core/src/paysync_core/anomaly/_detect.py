"""The detectors' decisions and explanations, shared by both engines.

Engines only aggregate (group statistics, hourly counts, batch sums) and narrow the rows to a
superset of the ones that can trip a rule; every final comparison happens here, in exact
integer arithmetic, so the polars and pure-Python engines flag exactly the same records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import groupby
from typing import NamedTuple

from paysync_core._redact import redact_text
from paysync_core.reconcile import cents_to_decimal

from ._model import AnomalyFlag, AnomalyKind, Severity, Statistic
from ._rules import BatchRule, DuplicateRule, OutlierRule, SpikeRule, UnappliedRule
from ._schema import us_to_datetime

__all__ = [
    "HOUR_US",
    "MAD_SCALE",
    "BatchRow",
    "BatchSum",
    "Charge",
    "HourCount",
    "OutlierHit",
    "ReceiptRow",
    "batch_flags",
    "duplicate_flags",
    "is_outlier",
    "outlier_flags",
    "spike_flags",
    "spread4",
    "unapplied_flags",
]

HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
#: 0.6745 (the normal quantile that makes the MAD estimate a standard deviation) * 10_000.
MAD_SCALE = 6745
_CENT = Decimal("0.01")


def _cents(value: Decimal) -> int:
    return int(value * 100)


def _short_token(token: str) -> str:
    # Enough to tell tokens apart in a report, not enough to replay one.
    return token if len(token) <= 8 else token[:8] + "…"


def _minutes(us: int) -> str:
    minutes = Decimal(us) / MINUTE_US
    return f"{minutes.quantize(Decimal('0.1')).normalize():f} min"


def _flag(
    kind: AnomalyKind,
    severity: Severity,
    subject: str,
    records: Iterable[str],
    *,
    statistic: Statistic,
    reason: str,
    start: datetime | None,
    end: datetime | None,
) -> AnomalyFlag:
    # The redaction is a safety net: no input column should carry a card number.
    return AnomalyFlag(
        kind,
        severity,
        redact_text(subject),
        tuple(records),
        statistic,
        redact_text(reason),
        start,
        end,
    )


# --- duplicate-looking charges ------------------------------------------------------------


class Charge(NamedTuple):
    token: str
    cents: int
    at_us: int
    id: str
    last4: str


def duplicate_flags(charges: Iterable[Charge], rule: DuplicateRule) -> list[AnomalyFlag]:
    """Clusters of one token and amount, each within ``window_minutes`` of its first charge.

    A cluster starts at the earliest charge not yet clustered; a charge outside its window
    starts the next one. A charge with no neighbour within the window is always alone, which
    is what lets the polars engine hand over only charges that have such a neighbour.
    """
    window = rule.window_minutes * MINUTE_US
    flags: list[AnomalyFlag] = []
    ordered = sorted(charges, key=lambda c: (c.token, c.cents, c.at_us, c.id))
    for _, group in groupby(ordered, key=lambda c: (c.token, c.cents)):
        cluster: list[Charge] = []
        for charge in group:
            if cluster and charge.at_us - cluster[0].at_us > window:
                flags.extend(_duplicate(cluster, rule))
                cluster = []
            cluster.append(charge)
        flags.extend(_duplicate(cluster, rule))
    return flags


def _duplicate(cluster: Sequence[Charge], rule: DuplicateRule) -> list[AnomalyFlag]:
    if len(cluster) < rule.min_count:
        return []
    first, last = cluster[0], cluster[-1]
    span = last.at_us - first.at_us
    card = _short_token(first.token) + (f" (…{first.last4})" if first.last4 else "")
    amount = cents_to_decimal(first.cents)
    reason = (
        f"{len(cluster)} charges of {amount} on token {card} within {_minutes(span)} "
        f"(window {rule.window_minutes} min, flag at {rule.min_count})"
    )
    severity = Severity.HIGH if len(cluster) > rule.min_count else Severity.MEDIUM
    statistic = Statistic("charges", Decimal(len(cluster)), Decimal(rule.min_count), "count")
    return [
        _flag(
            AnomalyKind.DUPLICATE_CHARGE,
            severity,
            card,
            (c.id for c in cluster),
            statistic=statistic,
            reason=reason,
            start=us_to_datetime(first.at_us),
            end=us_to_datetime(last.at_us),
        )
    ]


# --- amount outliers ------------------------------------------------------------------------


class OutlierHit(NamedTuple):
    """One payment beyond the threshold, with its group's statistics.

    ``med2`` is twice the median and ``spread4`` four times the floored MAD, both in cents:
    medians of an even count end in half cents, and these scales keep everything integral.
    """

    group: str
    id: str
    cents: int
    at_us: int
    med2: int
    spread4: int
    n: int


def spread4(mad4: int, med2: int, rule: OutlierRule) -> int:
    """Four times the MAD, floored at ``min_spread`` and ``min_spread_pct`` of the median."""
    return max(mad4, 4 * _cents(rule.min_spread), (2 * med2 * rule.min_spread_pct) // 100)


def is_outlier(d2: int, spread: int, rule: OutlierRule) -> bool:
    """``0.6745 * |x - median| / MAD > z_threshold`` with ``d2 = |2x - 2 median|`` and
    ``spread = 4 MAD``, cross-multiplied into integers."""
    return d2 * 2 * MAD_SCALE > spread * _cents(rule.z_threshold) * 100


def _robust_z(hit: OutlierHit) -> Decimal:
    d2 = abs(2 * hit.cents - hit.med2)
    return (Decimal(d2 * 2 * MAD_SCALE) / Decimal(hit.spread4 * 10_000)).quantize(_CENT)


def outlier_flags(
    kind: AnomalyKind, hits: Iterable[OutlierHit], rule: OutlierRule
) -> list[AnomalyFlag]:
    label = "customer" if kind is AnomalyKind.CUSTOMER_AMOUNT_OUTLIER else "product line"
    flags: list[AnomalyFlag] = []
    for hit in hits:
        z = _robust_z(hit)
        median = (Decimal(hit.med2) / 200).quantize(Decimal("0.001")).normalize()
        mad = (Decimal(hit.spread4) / 400).quantize(Decimal("0.001")).normalize()
        reason = (
            f"payment of {cents_to_decimal(hit.cents)} for {label} {hit.group} has robust z "
            f"{z} (threshold {rule.z_threshold}): median {median:f}, MAD {mad:f} over "
            f"{hit.n} payments"
        )
        severity = Severity.HIGH if z >= 2 * rule.z_threshold else Severity.MEDIUM
        when = us_to_datetime(hit.at_us)
        statistic = Statistic("robust_z", z, rule.z_threshold, "z")
        flags.append(
            _flag(
                kind,
                severity,
                hit.group,
                (hit.id,),
                statistic=statistic,
                reason=reason,
                start=when,
                end=when,
            )
        )
    return flags


# --- decline and refund spikes --------------------------------------------------------------


class HourCount(NamedTuple):
    payments: int
    declines: int
    refunds: int


def spike_flags(
    hours: Mapping[int, HourCount],
    event_ids: Mapping[tuple[AnomalyKind, int], Sequence[str]],
    rule: SpikeRule,
) -> list[AnomalyFlag]:
    """Hours (``epoch_us // HOUR_US``) whose declines or refunds are Poisson-unlikely given
    the trailing ``baseline_hours``; ``event_ids`` lists each hour's events for the flag."""
    kinds: list[tuple[AnomalyKind, int]] = []
    if rule.declines:
        kinds.append((AnomalyKind.DECLINE_SPIKE, 1))
    if rule.refunds:
        kinds.append((AnomalyKind.REFUND_SPIKE, 2))
    flags: list[AnomalyFlag] = []
    for hour in sorted(hours):
        count = hours[hour]
        base = [hours[h] for h in range(hour - rule.baseline_hours, hour) if h in hours]
        base_n = sum(b.payments for b in base)
        n = count.payments
        if n < rule.min_volume or base_n < rule.min_baseline_volume:
            continue
        for kind, column in kinds:
            events = count[column]
            if events < rule.min_events:
                continue
            base_events = max(1, sum(b[column] for b in base))
            counts = _Counts(n, events, base_n, base_events)
            flag = _spike(kind, hour, counts, event_ids, rule)
            if flag is not None:
                flags.append(flag)
    return flags


class _Counts(NamedTuple):
    """An hour's payments and events, and the same over its baseline hours."""

    n: int
    events: int
    base_n: int
    base_events: int


def _spike(
    kind: AnomalyKind,
    hour: int,
    counts: _Counts,
    event_ids: Mapping[tuple[AnomalyKind, int], Sequence[str]],
    rule: SpikeRule,
) -> AnomalyFlag | None:
    n, events, base_n, base_events = counts
    # z = (events - e) / sqrt(e) with e = n * D / N, i.e. (events*N - n*D) / sqrt(n*D*N).
    excess = events * base_n - n * base_events
    scale = n * base_events * base_n
    k = _cents(rule.z_threshold)
    if excess <= 0 or excess * excess * 10_000 <= k * k * scale:
        return None
    z = (Decimal(excess) / Decimal(scale).sqrt()).quantize(_CENT)
    word = "declines" if kind is AnomalyKind.DECLINE_SPIKE else "refunds"
    start = us_to_datetime(hour * HOUR_US)
    rate = Decimal(events * 100) / n
    base_rate = Decimal(base_events * 100) / base_n
    reason = (
        f"{events} {word} in {n} payments at {start:%Y-%m-%d %H}:00 UTC "
        f"({rate.quantize(Decimal('0.1'))}%) against {base_rate.quantize(Decimal('0.1'))}% over "
        f"the previous {rule.baseline_hours} h: Poisson z {z} (threshold {rule.z_threshold})"
    )
    severity = Severity.HIGH if z >= 2 * rule.z_threshold else Severity.MEDIUM
    return _flag(
        kind,
        severity,
        f"{start:%Y-%m-%dT%H}:00Z",
        sorted(event_ids.get((kind, hour), ())),
        statistic=Statistic("poisson_z", z, rule.z_threshold, "z"),
        reason=reason,
        start=start,
        end=start + timedelta(hours=1),
    )


# --- settlement batches ---------------------------------------------------------------------


class BatchRow(NamedTuple):
    """A batch as PayTrace reports it (``day`` is ``None`` without a ``day`` column)."""

    batch: str
    net_cents: int
    reported_count: int | None
    day: date | None


class BatchSum(NamedTuple):
    """The batch's transactions: signed net, count and time span."""

    net_cents: int
    txn_count: int
    first_us: int
    last_us: int


def batch_flags(
    rows: Sequence[BatchRow], sums: Mapping[str, BatchSum], rule: BatchRule
) -> list[AnomalyFlag]:
    flags = [f for row in rows if (f := _mismatch(row, sums.get(row.batch), rule)) is not None]
    dated = sorted((r for r in rows if r.day is not None), key=lambda r: (r.day, r.batch))
    history: dict[int, list[BatchRow]] = {}
    for row in dated:
        assert row.day is not None
        previous = history.setdefault(row.day.weekday(), [])
        flag = _drift(row, previous[-rule.weekday_history :], sums.get(row.batch), rule)
        if flag is not None:
            flags.append(flag)
        previous.append(row)
    return flags


def _span(found: BatchSum | None, day: date | None) -> tuple[datetime | None, datetime | None]:
    if found is not None:
        return us_to_datetime(found.first_us), us_to_datetime(found.last_us)
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        return start, start + timedelta(days=1)
    return None, None


def _mismatch(row: BatchRow, found: BatchSum | None, rule: BatchRule) -> AnomalyFlag | None:
    computed = found.net_cents if found else 0
    count = found.txn_count if found else 0
    variance = computed - row.net_cents
    if abs(variance) <= _cents(rule.tolerance):
        return None
    reported_count = "?" if row.reported_count is None else str(row.reported_count)
    reason = (
        f"batch {row.batch} reports {cents_to_decimal(row.net_cents)} over {reported_count} "
        f"transactions but its {count} transactions sum to {cents_to_decimal(computed)}: "
        f"variance {cents_to_decimal(variance)} (tolerance {rule.tolerance})"
    )
    start, end = _span(found, row.day)
    return _flag(
        AnomalyKind.BATCH_TOTAL_MISMATCH,
        Severity.HIGH,
        row.batch,
        (row.batch,),
        statistic=Statistic("variance", cents_to_decimal(abs(variance)), rule.tolerance, "money"),
        reason=reason,
        start=start,
        end=end,
    )


def _drift(
    row: BatchRow, previous: Sequence[BatchRow], found: BatchSum | None, rule: BatchRule
) -> AnomalyFlag | None:
    if len(previous) < rule.min_history:
        return None
    total = sum(p.net_cents for p in previous)
    k = len(previous)
    if total == 0:
        return None  # no meaningful percentage of a zero average
    deviation = abs(row.net_cents * k - total)
    if deviation * 100 <= rule.drift_pct * abs(total):
        return None
    percent = (Decimal(deviation * 100) / abs(total)).quantize(Decimal("0.1"))
    average = (Decimal(total) / k / 100).quantize(_CENT)
    assert row.day is not None
    reason = (
        f"batch {row.batch} settled {row.day.isoformat()} ({row.day:%A}) at "
        f"{cents_to_decimal(row.net_cents)}, {percent}% from the {average} "
        f"average of the previous {k} {row.day:%A} batches (threshold {rule.drift_pct}%)"
    )
    start, end = _span(found, row.day)
    return _flag(
        AnomalyKind.BATCH_DRIFT,
        Severity.MEDIUM,
        row.batch,
        (row.batch, *(p.batch for p in previous)),
        statistic=Statistic("deviation_pct", percent, Decimal(rule.drift_pct), "percent"),
        reason=reason,
        start=start,
        end=end,
    )


# --- unapplied receipts ---------------------------------------------------------------------


class ReceiptRow(NamedTuple):
    id: str
    day: date
    unapplied_cents: int
    amount_cents: int
    customer: str


def unapplied_flags(
    rows: Iterable[ReceiptRow], today: date, rule: UnappliedRule
) -> list[AnomalyFlag]:
    flags: list[AnomalyFlag] = []
    for row in rows:
        age = (today - row.day).days
        if row.unapplied_cents <= 0 or age <= rule.max_age_days:
            continue
        who = f" from customer {row.customer}" if row.customer else ""
        reason = (
            f"receipt {row.id}{who} dated {row.day.isoformat()} still has "
            f"{cents_to_decimal(row.unapplied_cents)} of {cents_to_decimal(row.amount_cents)} "
            f"unapplied after {age} days (limit {rule.max_age_days})"
        )
        severity = Severity.MEDIUM if age > 2 * rule.max_age_days else Severity.LOW
        start = datetime(row.day.year, row.day.month, row.day.day, tzinfo=timezone.utc)
        end = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
        flags.append(
            _flag(
                AnomalyKind.UNAPPLIED_RECEIPT,
                severity,
                row.id,
                (row.id,),
                statistic=Statistic("age_days", Decimal(age), Decimal(rule.max_age_days), "days"),
                reason=reason,
                start=start,
                end=end,
            )
        )
    return flags
