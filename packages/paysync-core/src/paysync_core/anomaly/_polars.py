"""The columnar engine (``paysync-core[fast]``): polars aggregates and narrows, the shared
detectors in :mod:`._detect` decide.

Each detector's frame is a superset of the rows its rule can flag (charges with a same-token,
same-amount neighbour inside the window; payments whose integer robust-z test already passes;
per-hour counts; per-batch sums), so both engines reach the same flags by construction.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from paysync_core.reconcile import KINDS, STATUSES, record_format

from ._detect import (
    HOUR_US,
    MAD_SCALE,
    MINUTE_US,
    BatchSum,
    Charge,
    HourCount,
    OutlierHit,
    ReceiptRow,
    batch_flags,
    duplicate_flags,
    outlier_flags,
    spike_flags,
    unapplied_flags,
)
from ._inputs import Inputs, parse_day, read_batches
from ._model import AnomalyFlag, AnomalyInputError, AnomalyKind
from ._rules import AnomalyRules, OutlierRule
from ._schema import (
    OPTIONAL_TRANSACTION_COLUMNS,
    RECEIPT_COLUMNS,
    TRANSACTION_COLUMNS,
    check_token,
)

__all__ = ["detect_polars"]

_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z)$"
)
_PAN_LIKE = r"^[0-9][0-9 -]{11,}[0-9]$"
_INT_COLUMNS = ("amount_cents", "unapplied_cents")


def _scan(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> pl.LazyFrame:
    if not path.is_file():
        raise AnomalyInputError(str(path), "no such file")
    if record_format(path) == "csv":
        # Everything as text: a malformed amount must be reported, not silently nulled.
        frame = pl.scan_csv(path, infer_schema=False, empty_string_is_null=False)
    else:
        frame = pl.scan_parquet(path)
    names = frame.collect_schema().names()
    missing = [c for c in required if c not in names]
    if missing:
        raise AnomalyInputError(str(path), f"missing columns {', '.join(missing)}")
    return frame.select(
        *[pl.col(c).cast(pl.String).fill_null("") for c in required],
        *[
            (pl.col(c).cast(pl.String).fill_null("") if c in names else pl.lit("")).alias(c)
            for c in optional
        ],
    )


def _whole_cents(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.contains(r"^[0-9]+$")


def _common_problems() -> list[pl.Expr]:
    return [
        (~pl.col("kind").is_in(list(KINDS))).sum().alias("kind"),
        (~pl.col("status").is_in(list(STATUSES))).sum().alias("status"),
    ]


def _check(problems: pl.DataFrame, path: Path) -> None:
    for name in problems.columns:
        count = int(problems[name][0])
        if count > 0:
            raise AnomalyInputError(f"{path}:{name}", f"{count} invalid value(s)")


def _parsed(frame: pl.LazyFrame) -> pl.LazyFrame:
    at = pl.col("at").str.strip_chars()
    parsed = (
        pl.when(at.str.contains(_ISO))
        .then(at.str.replace(r"Z$", "+00:00"))
        .otherwise(None)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", strict=False)
        .dt.epoch("us")
    )
    amount = pl.col("amount_cents").str.strip_chars()
    # Only what the detectors read is kept: the frame is materialised once and shared.
    return frame.select(
        "id",
        "kind",
        "status",
        "day",
        "customer",
        "batch",
        "card_token",
        "last4",
        "product",
        at_us=parsed,
        cents=pl.when(amount.str.contains(r"^[0-9]+$")).then(amount.cast(pl.Int64, strict=False)),
    )


def _transaction_problems(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.select(
        *_common_problems(),
        amount_cents=pl.col("cents").is_null().sum(),
        at=pl.col("at_us").is_null().sum(),
        last4=(~pl.col("last4").str.contains(r"^([0-9]{4})?$")).sum(),
    )


def _window(frame: pl.LazyFrame, inputs: Inputs) -> pl.LazyFrame:
    if inputs.start is not None:
        frame = frame.filter(pl.col("day") >= inputs.start.isoformat())
    if inputs.end is not None:
        frame = frame.filter(pl.col("day") <= inputs.end.isoformat())
    return frame


_PAY = pl.col("kind") == "payment"
_FAILED = pl.col("status") == "failed"


def _duplicates(good: pl.LazyFrame, window_minutes: int) -> pl.LazyFrame:
    window = window_minutes * MINUTE_US
    keys = ["card_token", "cents", "at_us", "id"]
    charges = (
        good.filter(_PAY & ~_FAILED & (pl.col("card_token") != ""))
        .select("card_token", "cents", "at_us", "id", "last4")
        .sort(keys)
    )
    same_prev = (pl.col("card_token") == pl.col("card_token").shift(1)) & (
        pl.col("cents") == pl.col("cents").shift(1)
    )
    same_next = (pl.col("card_token") == pl.col("card_token").shift(-1)) & (
        pl.col("cents") == pl.col("cents").shift(-1)
    )
    near_prev = same_prev & (pl.col("at_us") - pl.col("at_us").shift(1) <= window)
    near_next = same_next & (pl.col("at_us").shift(-1) - pl.col("at_us") <= window)
    return charges.filter(near_prev.fill_null(False) | near_next.fill_null(False))


def _outliers(good: pl.LazyFrame, group: str, rule: OutlierRule) -> pl.LazyFrame:
    payments = good.filter(_PAY & ~_FAILED & (pl.col(group) != "")).select(
        pl.col(group).alias("group"), "id", "cents", "at_us"
    )
    stats = (
        payments.group_by("group")
        .agg(
            n=pl.len().cast(pl.Int64),
            med2=(pl.col("cents").median() * 2).round().cast(pl.Int64),
        )
        .filter(pl.col("n") >= rule.min_history)
    )
    deviations = payments.join(stats, on="group").with_columns(
        d2=(2 * pl.col("cents") - pl.col("med2")).abs()
    )
    mads = deviations.group_by("group").agg(mad4=(pl.col("d2").median() * 2).round().cast(pl.Int64))
    floor = 4 * int(rule.min_spread * 100)
    spread = pl.max_horizontal(
        pl.col("mad4"), pl.lit(floor, pl.Int64), (2 * pl.col("med2") * rule.min_spread_pct) // 100
    )
    threshold = int(rule.z_threshold * 100) * 100
    return (
        deviations.join(mads, on="group")
        .with_columns(spread4=spread)
        .filter(pl.col("d2") * (2 * MAD_SCALE) > pl.col("spread4") * threshold)
        .select("group", "id", "cents", "at_us", "med2", "spread4", "n")
    )


def _hours(good: pl.LazyFrame) -> pl.LazyFrame:
    return good.group_by(hour=pl.col("at_us") // HOUR_US).agg(
        payments=_PAY.sum().cast(pl.Int64),
        declines=(_PAY & _FAILED).sum().cast(pl.Int64),
        refunds=(~_PAY & ~_FAILED).sum().cast(pl.Int64),
    )


def _events(good: pl.LazyFrame) -> pl.LazyFrame:
    decline_or_refund = (_PAY & _FAILED) | (~_PAY & ~_FAILED)
    return good.filter(decline_or_refund).select(
        hour=pl.col("at_us") // HOUR_US, refund=~_PAY, id=pl.col("id")
    )


def _batches(good: pl.LazyFrame) -> pl.LazyFrame:
    signed = pl.when(_PAY).then(pl.col("cents")).otherwise(-pl.col("cents"))
    return (
        good.filter(pl.col("batch") != "")
        .group_by("batch")
        .agg(
            net=signed.sum(),
            count=pl.len().cast(pl.Int64),
            first=pl.col("at_us").min(),
            last=pl.col("at_us").max(),
        )
    )


def _check_tokens(frame: pl.LazyFrame, path: Path) -> None:
    # A regex narrows to digit-only tokens; the Luhn test (in Python) decides, as the pure
    # engine does, without ever printing the value.
    suspects = frame.filter(pl.col("card_token").str.contains(_PAN_LIKE)).select("card_token")
    for (token,) in suspects.collect().iter_rows():
        check_token(str(token), f"{path}:card_token")


def _receipts(path: Path) -> list[ReceiptRow]:
    frame = _scan(path, RECEIPT_COLUMNS)
    problems = frame.select(
        *_common_problems(),
        *[(~_whole_cents(c)).sum().alias(c) for c in _INT_COLUMNS],
    ).collect()
    _check(problems, path)
    open_items = frame.filter(
        _PAY
        & (pl.col("status") == "captured")
        & (pl.col("unapplied_cents").str.strip_chars().cast(pl.Int64) > 0)
    ).select("id", "day", "unapplied_cents", "amount_cents", "customer")
    rows: list[ReceiptRow] = []
    for record_id, day, unapplied, amount, customer in open_items.collect().iter_rows():
        rows.append(
            ReceiptRow(
                str(record_id),
                parse_day(str(day), f"{path}:day"),
                int(str(unapplied).strip()),
                int(str(amount).strip()),
                str(customer),
            )
        )
    return rows


def detect_polars(inputs: Inputs, rules: AnomalyRules, today: date) -> list[AnomalyFlag]:
    path = inputs.transactions
    # One read of the file (CSV parsing dominates); every detector then runs in memory.
    frame = _parsed(_scan(path, TRANSACTION_COLUMNS, OPTIONAL_TRANSACTION_COLUMNS)).collect().lazy()
    # Problems first: a bad file must fail before anything is computed from it.
    _check(_transaction_problems(frame).collect(), path)
    _check_tokens(frame, path)
    good = _window(frame, inputs)
    outlier_rule = rules.outliers
    plans: dict[str, pl.LazyFrame] = {"hours": _hours(good), "events": _events(good)}
    if rules.duplicates.enabled:
        plans["duplicates"] = _duplicates(good, rules.duplicates.window_minutes)
    if outlier_rule.enabled and outlier_rule.per_customer:
        plans["customers"] = _outliers(good, "customer", outlier_rule)
    if outlier_rule.enabled and outlier_rule.per_product:
        plans["products"] = _outliers(good, "product", outlier_rule)
    if rules.batches.enabled and inputs.batches is not None:
        plans["batches"] = _batches(good)
    results = dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))

    flags: list[AnomalyFlag] = []
    if "duplicates" in results:
        charges = [Charge(*row) for row in results["duplicates"].iter_rows()]
        flags += duplicate_flags(charges, rules.duplicates)
    for name, kind in (
        ("customers", AnomalyKind.CUSTOMER_AMOUNT_OUTLIER),
        ("products", AnomalyKind.PRODUCT_AMOUNT_OUTLIER),
    ):
        if name in results:
            hits = [OutlierHit(*row) for row in results[name].iter_rows()]
            flags += outlier_flags(kind, hits, outlier_rule)
    if rules.spikes.enabled:
        hours = {
            int(h): HourCount(int(p), int(d), int(r)) for h, p, d, r in results["hours"].iter_rows()
        }
        events: dict[tuple[AnomalyKind, int], list[str]] = {}
        for hour, refund, record_id in results["events"].iter_rows():
            kind = AnomalyKind.REFUND_SPIKE if refund else AnomalyKind.DECLINE_SPIKE
            events.setdefault((kind, int(hour)), []).append(str(record_id))
        flags += spike_flags(hours, events, rules.spikes)
    if "batches" in results:
        sums = {
            str(b): BatchSum(int(n), int(c), int(f), int(t))
            for b, n, c, f, t in results["batches"].iter_rows()
        }
        flags += batch_flags(read_batches(inputs), sums, rules.batches)
    if rules.unapplied.enabled and inputs.receipts is not None:
        flags += unapplied_flags(_receipts(inputs.receipts), today, rules.unapplied)
    return flags
