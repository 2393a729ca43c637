"""The columnar engine (``paysync-core[fast]``): polars folds the three files by key in one
numeric group-by, keeps the keys that can be suspicious, reads their evidence columns in a
second narrow pass and hands them to the shared Python classifier.

The filter below is a superset of what :func:`classify` reports (plain inequality where the
classifier applies a tolerance), so the two engines agree by construction on every key the
filter keeps and the classifier says nothing about the keys it drops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl

from ._classify import SYSTEMS, Agg, Outcome, classify
from ._model import ReconcileInputError, ReconcileResult, ReconcileRules
from ._python import Inputs, finish
from ._schema import KINDS, RECORD_COLUMNS, STATUSES, record_format

__all__ = ["reconcile_polars"]

_TEXT = [c for c in RECORD_COLUMNS if c != "amount_cents"]
_SUFFIX = {"paytrace": "_pt", "fusion": "_fu", "salesforce": "_sf"}
_FIELDS = ("status", "day", "customer", "invoice", "batch", "id")
# Measured at 1M rows per system: the streaming engine peaks at ~70% of the in-memory
# one's memory and runs faster.
_ENGINE: Literal["streaming"] = "streaming"


def _scan(path: Path) -> pl.LazyFrame:
    if not path.is_file():
        raise ReconcileInputError(str(path), "no such file")
    if record_format(path) == "csv":
        schema = dict.fromkeys(_TEXT, pl.String) | {"amount_cents": pl.Int64}
        frame = pl.scan_csv(path, schema_overrides=schema, empty_string_is_null=False)
    else:
        frame = pl.scan_parquet(path)
    names = frame.collect_schema().names()
    missing = [c for c in RECORD_COLUMNS if c not in names]
    if missing:
        raise ReconcileInputError(str(path), f"missing columns {', '.join(missing)}")
    return frame.select(
        *[pl.col(c).cast(pl.String).fill_null("") for c in _TEXT],
        pl.col("amount_cents").cast(pl.Int64),
    )


def _per_day(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Per day: the net of payments that moved money, and counts of invalid values."""
    failed = pl.col("status") == "failed"
    return (
        frame.with_columns(
            moved=pl.when(failed).then(pl.lit(0, pl.Int64)).otherwise(_signed()),
            bad_kind=(~pl.col("kind").is_in(list(KINDS))).cast(pl.Int64),
            bad_status=(~pl.col("status").is_in(list(STATUSES))).cast(pl.Int64),
            bad_amount=(pl.col("amount_cents").is_null() | (pl.col("amount_cents") < 0)).cast(
                pl.Int64
            ),
        )
        .group_by("day")
        .agg(
            pl.col("moved").sum(),
            (~failed).sum().alias("movers"),
            pl.col("bad_kind").sum().alias("kind"),
            pl.col("bad_status").sum().alias("status"),
            pl.col("bad_amount").sum().alias("amount_cents"),
        )
    )


def _check(problems: pl.DataFrame, path: Path) -> None:
    for name in ("kind", "status", "amount_cents"):
        count = int(problems[name][0])
        if count > 0:
            raise ReconcileInputError(f"{path}:{name}", f"{count} invalid value(s)")


def _signed() -> pl.Expr:
    amount = pl.col("amount_cents")
    return pl.when(pl.col("kind") == "payment").then(amount).otherwise(-amount)


def _keyed(system: str, frame: pl.LazyFrame, rules: ReconcileRules) -> pl.LazyFrame:
    ref = pl.col("ref").str.strip_chars()
    if rules.receipt_prefix:
        ref = ref.str.strip_prefix(rules.receipt_prefix)
    key = (
        pl.when(ref == "").then(pl.lit(f"{system}#") + pl.col("row").cast(pl.String)).otherwise(ref)
    )
    return frame.with_columns(key=key)


def _status_of(sx: str) -> pl.Expr:
    status = pl.col("status" + sx).fill_null("refunded")
    return (
        pl.when(pl.col("refund" + sx) & (pl.col("net" + sx) == 0))
        .then(pl.lit("refunded"))
        .otherwise(status)
        .alias("status" + sx)
    )


_CODES = {"captured": 0, "refunded": 1, "failed": 2}


def _slim_rows(index: int, keyed: pl.LazyFrame) -> pl.LazyFrame:
    """One system's rows spread over every system's columns (zeros in the others')."""
    is_pay = pl.col("kind") == "payment"
    code = pl.col("status").replace_strict(_CODES, default=None, return_dtype=pl.Int8)
    columns: list[pl.Expr] = []
    for i, system in enumerate(SYSTEMS):
        sx = _SUFFIX[system]
        mine = i == index
        columns += [
            (is_pay.cast(pl.Int32) if mine else pl.lit(0, pl.Int32)).alias("pay" + sx),
            (_signed() if mine else pl.lit(0, pl.Int64)).alias("net" + sx),
            pl.lit(1 if mine else 0, pl.Int32).alias("rows" + sx),
            (pl.when(is_pay).then(code) if mine else pl.lit(None, pl.Int8)).alias("code" + sx),
        ]
    return keyed.select("key", *columns)


def _slim_fold(keyed: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Per key and system only what the suspicion filter needs: counts, net cents and a
    status code, null where the system has no record.

    One group-by over the three systems' rows, all numeric (statuses as small codes), in
    place of three group-bys and two joins on the string key.
    """
    stacked = pl.concat([_slim_rows(i, keyed[s]) for i, s in enumerate(SYSTEMS)])
    sums: list[pl.Expr] = []
    shaped: list[pl.Expr] = []
    refunded = pl.lit(_CODES["refunded"], dtype=pl.Int8)
    for system in SYSTEMS:
        sx = _SUFFIX[system]
        pay, net, rows, code = (pl.col(c + sx) for c in ("pay", "net", "rows", "code"))
        sums += [pay.sum(), net.sum(), rows.sum(), code.min()]
        present = rows > 0
        status = (
            pl.when((rows > pay) & (net == 0)).then(refunded).otherwise(code.fill_null(refunded))
        )
        shaped += [
            pl.when(present).then(pay.cast(pl.Int64)).alias("payments" + sx),
            pl.when(present).then(net).alias("net" + sx),
            pl.when(present).then(status).alias("status" + sx),
        ]
    return stacked.group_by("key").agg(sums).select("key", *shaped)


def _fold(system: str, keyed: pl.LazyFrame) -> pl.LazyFrame:
    """The full fold (evidence columns too), run only on the suspicious keys."""
    sx = _SUFFIX[system]
    is_pay = pl.col("kind") == "payment"
    firsts = [
        pl.coalesce(pl.col(f).filter(is_pay).min(), pl.col(f).min()).alias(f + sx)
        for f in _FIELDS
        if f != "status"
    ]
    return (
        keyed.group_by("key")
        .agg(
            is_pay.sum().cast(pl.Int64).alias("payments" + sx),
            _signed().sum().alias("net" + sx),
            (~is_pay).any().alias("refund" + sx),
            pl.col("status").filter(is_pay).min().alias("status" + sx),
            *firsts,
        )
        .with_columns(_status_of(sx))
        .drop("refund" + sx)
    )


def _window(frame: pl.LazyFrame, rules: ReconcileRules) -> pl.LazyFrame:
    if rules.date_from is not None:
        frame = frame.filter(pl.col("day") >= rules.date_from.isoformat())
    if rules.date_to is not None:
        frame = frame.filter(pl.col("day") <= rules.date_to.isoformat())
    return frame


def _suspicious() -> pl.Expr:
    pt, fu, sf = (pl.col("payments" + _SUFFIX[s]).is_not_null() for s in SYSTEMS)
    dup = pl.any_horizontal(*[pl.col("payments" + _SUFFIX[s]).fill_null(0) > 1 for s in SYSTEMS])
    failed = pl.col("status_pt") == _CODES["failed"]
    return (
        dup
        | ~pt
        | ~sf
        | (~fu & ~failed)
        | (
            fu
            & (
                (pl.col("net_fu") != pl.col("net_pt"))
                | (pl.col("status_fu") != pl.col("status_pt"))
            )
        )
        | (
            sf
            & (
                (pl.col("net_sf") != pl.col("net_pt"))
                | (pl.col("status_sf") != pl.col("status_pt"))
            )
        )
    )


def _aggs(row: dict[str, Any]) -> dict[str, Agg]:
    out: dict[str, Agg] = {}
    for system in SYSTEMS:
        sx = _SUFFIX[system]
        if row["payments" + sx] is None:
            continue
        out[system] = Agg(
            int(row["payments" + sx]),
            int(row["net" + sx]),
            *(str(row[f + sx]) for f in _FIELDS),
        )
    return out


def _join(frames: list[pl.LazyFrame]) -> pl.LazyFrame:
    return (
        frames[0]
        .join(frames[1], on="key", how="full", coalesce=True)
        .join(frames[2], on="key", how="full", coalesce=True)
    )


def reconcile_polars(inputs: Inputs, rules: ReconcileRules) -> ReconcileResult:
    paths = {"paytrace": inputs.paytrace, "fusion": inputs.fusion, "salesforce": inputs.salesforce}
    scans = {s: _scan(paths[s]) for s in SYSTEMS}
    keyed = {s: _keyed(s, _window(scans[s].with_row_index("row"), rules), rules) for s in SYSTEMS}
    joined = _slim_fold(keyed)
    batch_sums = (
        scans["paytrace"]
        .filter(pl.col("batch") != "")
        .group_by("batch")
        .agg(_signed().sum().alias("net"), pl.len().alias("count"))
    )
    # Each query below parses its files once: the fold yields the key count and the
    # suspicious keys together, and one per-day pass per file yields both the day totals
    # and the count of invalid values.
    frames = pl.collect_all(
        [
            joined.select(pl.len().alias("total"), pl.col("key").filter(_suspicious()).implode()),
            *(_per_day(scans[s]) for s in SYSTEMS),
            batch_sums,
        ],
        engine=_ENGINE,
    )
    folded, per_day, batch_frame = frames[0], frames[1:4], frames[4]
    # A bad file fails the run before anything computed from it is used.
    for system, frame in zip(SYSTEMS, per_day, strict=True):
        _check(frame.select(pl.col("kind", "status", "amount_cents").sum()), paths[system])
    total = int(folded["total"][0])
    suspects = pl.DataFrame({"key": folded["key"][0]}, schema={"key": pl.String})
    # Second, narrow pass: the evidence columns, for the suspicious keys only.
    wanted = suspects.lazy()
    detail = _join([_fold(s, keyed[s].join(wanted, on="key", how="semi")) for s in SYSTEMS])
    outcomes: list[Outcome] = []
    for row in detail.collect(engine=_ENGINE).iter_rows(named=True):
        key = str(row["key"])
        aggs = _aggs(row)
        findings = classify(key, aggs, rules)
        if findings:
            outcomes.append(Outcome(key, aggs, findings))
    low = rules.date_from.isoformat() if rules.date_from else ""
    high = rules.date_to.isoformat() if rules.date_to else "\uffff"
    day_sums: dict[str, list[int]] = {}
    for index, frame in enumerate(per_day):
        for day, net, movers in frame.select("day", "moved", "movers").iter_rows():
            if movers and low <= str(day) <= high:
                day_sums.setdefault(str(day), [0, 0, 0])[index] += int(net)
    computed = {str(b): [int(n), int(c)] for b, n, c in batch_frame.iter_rows()}
    return finish(
        "polars",
        total,
        outcomes,
        rules=rules,
        days=day_sums,
        inputs=inputs,
        computed=computed,
    )
