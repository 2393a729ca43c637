"""Anomaly detection at scale: a million PayTrace transactions with planted anomalies.

    python bench/anomaly.py [--rows 1000000] [--engines polars,python] [--keep DIR]

Generates four weeks of clean traffic in the layout of ``paysync_core.anomaly`` (PayTrace
record file with ``at`` / ``card_token`` / ``last4`` / ``product``, Fusion receipts with
``unapplied_cents``, the batch file with ``day``), plants a known set of anomalies of every
kind, then runs each engine in a fresh subprocess (so one engine's memory does not inflate
another's peak), timing read + detection. Prints flags found vs planted per kind (and whether
the flagged records are exactly the planted ones), wall time and peak RSS.

Clean traffic is built so that nothing in it should trip the default rules: each customer pays
one product line at a steady price (no two of its charges share an amount), declines and
refunds are a steady share of every hour, and each day settles in one exact batch.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from _shared import peak_mib, spawn_worker

KINDS = (
    "duplicate_charge",
    "customer_amount_outlier",
    "product_amount_outlier",
    "decline_spike",
    "refund_spike",
    "batch_total_mismatch",
    "batch_drift",
    "unapplied_receipt",
)
START = int(datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp())  # a Monday
DAYS = 28
NOW = "2026-03-30T00:00:00+00:00"
PRICES = np.array([500, 2_000, 9_900, 24_900, 120_000])
PRODUCTS = np.array(["addon", "basic", "pro", "team", "enterprise"])
DRIFT_DAYS = (21, 23, 25)  # week 4: Monday, Wednesday, Friday batches shrink to ~30%
HOUR = 3_600
DAY = 86_400


def _frame(ids: Any, at: Any, cents: Any, **text: Any) -> pl.DataFrame:
    """Transactions in the anomaly layout; ``text`` holds ``kind``, ``status``, ``customer``,
    ``token``, ``product`` and ``batch`` (each a scalar or an array)."""
    n = len(ids)
    columns: dict[str, Any] = {
        "id": np.asarray(ids, dtype=np.int64),
        "amount_cents": np.asarray(cents, dtype=np.int64),
        "at_s": np.asarray(at, dtype=np.int64),
    }
    columns.update({k: np.full(n, v) if np.isscalar(v) else v for k, v in text.items()})
    stamp = pl.from_epoch("at_s", time_unit="s")
    frame = pl.DataFrame(columns).with_columns(
        pl.col("id").cast(pl.String),
        *[pl.col(k).cast(pl.String) for k in text],
        day=stamp.dt.strftime("%Y-%m-%d"),
        at=stamp.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    )
    # A card's last four digits, derived from the row id: realistic, never a card number.
    last4 = (pl.col("id").str.slice(-4)).str.zfill(4)
    return frame.select(
        ref="id",
        id="id",
        kind="kind",
        amount_cents="amount_cents",
        status="status",
        day="day",
        customer="customer",
        invoice=pl.lit(""),
        batch="batch",
        at="at",
        card_token=pl.col("token"),
        last4=pl.when(pl.col("token") == "").then(pl.lit("")).otherwise(last4),
        product="product",
    )


class _Ids:
    """Fresh record ids for planted rows, above every clean one."""

    def __init__(self) -> None:
        self.next = 900_000_000

    def take(self, n: int) -> Any:
        out = np.arange(self.next, self.next + n)
        self.next += n
        return out


def _clean(rng: np.random.Generator, rows: int, customers: int) -> tuple[pl.DataFrame, Any]:
    """Row i belongs to customer i % C as its (i // C)-th charge, and that sequence number
    steps the amount: a customer never pays the same amount twice."""
    idx = np.arange(rows)
    cust = idx % customers
    seq = idx // customers
    line = rng.integers(0, len(PRICES), customers)
    base = (PRICES[line] * rng.uniform(0.85, 1.15, customers)).astype(np.int64)
    step = np.maximum(1, (base * 0.2 / max(1, int(seq.max()) + 1)).astype(np.int64))
    cents = (base * 0.9).astype(np.int64)[cust] + seq * step[cust]
    at = START + rng.integers(0, DAYS * DAY, rows)
    day = (at - START) // DAY
    keep = ~np.isin(day, DRIFT_DAYS) | (rng.random(rows) < 0.3)
    roll = rng.random(rows)
    kind = np.where(roll < 0.03, "refund", "payment")
    status = np.where((roll >= 0.03) & (roll < 0.05), "failed", "captured")
    cents = np.where(kind == "refund", cents // 2, cents)
    batch = np.where(status == "failed", "", (5_000 + day).astype(str))
    names = pl.DataFrame({"c": cust}).select(
        customer=pl.lit("C") + pl.col("c").cast(pl.String),
        token=pl.lit("tok_") + pl.col("c").cast(pl.String).str.zfill(8),
    )
    frame = _frame(
        idx,
        at,
        cents,
        kind=kind,
        status=status,
        customer=names["customer"],
        token=names["token"],
        product=PRODUCTS[line][cust],
        batch=batch,
    )
    return frame.filter(pl.Series(keep)), base


def _plant(
    rng: np.random.Generator, plant: int, base: Any, planted: dict[str, list[list[str]]]
) -> list[pl.DataFrame]:
    ids = _Ids()
    extra: list[pl.DataFrame] = []
    common = {"kind": "payment", "status": "captured", "token": "", "product": ""}

    def batch_of(when: int) -> str:
        return str(5_000 + (when - START) // DAY)

    for k in range(plant):  # duplicate charges: 3 on a fresh token within 4 minutes
        when = START + int(rng.integers(0, DAYS * DAY - HOUR))
        new = ids.take(3)
        times = np.array([when, when + 60, when + 240])
        fields = {**common, "token": f"tok_dup{k:04d}"}
        extra.append(
            _frame(
                new,
                times,
                np.full(3, 4_999 + k),
                **fields,
                customer=f"DUP{k}",
                batch=batch_of(when),
            )
        )
        planted["duplicate_charge"].append([str(i) for i in new])
    for c in rng.choice(len(base), size=plant, replace=False):  # twenty times the usual
        when = START + int(rng.integers(0, DAYS * DAY))
        new = ids.take(1)
        extra.append(
            _frame(new, [when], [base[c] * 20], **common, customer=f"C{c}", batch=batch_of(when))
        )
        planted["customer_amount_outlier"].append([str(new[0])])
    for k in range(plant):  # a one-off customer pays twenty times the list price
        when = START + int(rng.integers(0, DAYS * DAY))
        new = ids.take(1)
        fields = {**common, "product": PRODUCTS[k % len(PRODUCTS)]}
        price = PRICES[k % len(PRICES)] * 20
        extra.append(
            _frame(new, [when], [price], **fields, customer=f"PO{k}", batch=batch_of(when))
        )
        planted["product_amount_outlier"].append([str(new[0])])
    for k in range(plant):  # 150 declines / refunds in one hour, two days apart
        for name, offset, kind, status in (
            ("decline_spike", 1, "payment", "failed"),
            ("refund_spike", 2, "refund", "captured"),
        ):
            day = (2 * k + offset) % DAYS
            hour = START + day * DAY + (14 if offset == 1 else 9) * HOUR
            fields = {**common, "kind": kind, "status": status}
            batch = "" if status == "failed" else str(5_000 + day)
            times = hour + rng.integers(0, HOUR, 150)
            extra.append(
                _frame(
                    ids.take(150), times, np.full(150, 500), **fields, customer=f"S{k}", batch=batch
                )
            )
            # A spike is keyed by its hour: the flag also lists the hour's ordinary events.
            stamp = datetime.fromtimestamp(hour, timezone.utc).strftime("%Y-%m-%dT%H:00Z")
            planted[name].append([stamp])
    return extra


def _batches(
    paytrace: pl.DataFrame, plant: int, planted: dict[str, list[list[str]]]
) -> pl.DataFrame:
    amount = pl.col("amount_cents")
    batches = (
        paytrace.filter(pl.col("batch") != "")
        .group_by("batch")
        .agg(
            net_cents=pl.when(pl.col("kind") == "payment").then(amount).otherwise(-amount).sum(),
            count=pl.len(),
            day=pl.col("day").max(),
        )
        .sort("batch")
    )
    mismatched = batches["batch"].to_list()[::3][:plant]
    planted["batch_total_mismatch"] = [[b] for b in mismatched]
    planted["batch_drift"] = [[str(5_000 + d)] for d in DRIFT_DAYS]
    return batches.with_columns(
        net_cents=pl.when(pl.col("batch").is_in(mismatched))
        .then(pl.col("net_cents") + 1)
        .otherwise(pl.col("net_cents"))
    )


def _receipts(
    rng: np.random.Generator, count: int, plant: int, planted: dict[str, list[list[str]]]
) -> pl.DataFrame:
    now_day = START + DAYS * DAY
    age = np.concatenate([rng.integers(0, 30, count), rng.integers(40, 90, plant)])
    amount = rng.integers(1_000, 100_000, count + plant)
    unapplied = np.concatenate(
        [np.where(rng.random(count) < 0.1, amount[:count], 0), amount[count:] // 2]
    )
    ids = [f"RCPT-{i}" for i in range(count + plant)]
    planted["unapplied_receipt"] = [[r] for r in ids[count:]]
    return pl.DataFrame(
        {
            "ref": "",
            "id": ids,
            "kind": "payment",
            "amount_cents": amount,
            "status": "captured",
            "day": pl.from_epoch(pl.Series(now_day - age * DAY), time_unit="s").dt.strftime(
                "%Y-%m-%d"
            ),
            "customer": "",
            "invoice": "",
            "batch": "",
            "unapplied_cents": unapplied,
        }
    )


def generate(rows: int, out: Path, seed: int = 7) -> dict[str, Any]:
    """Write paytrace.csv, fusion.csv, batches.csv; return what was planted."""
    rng = np.random.default_rng(seed)
    plant = max(5, rows // 100_000)
    planted: dict[str, list[list[str]]] = {k: [] for k in KINDS}
    # The drift days keep 30% of their rows: draw more so about ``rows`` remain.
    drawn = round(rows / (1 - 0.7 * len(DRIFT_DAYS) / DAYS))
    clean, base = _clean(rng, drawn, max(1_000, rows // 50))
    paytrace = pl.concat([clean, *_plant(rng, plant, base, planted)])
    paytrace.write_csv(out / "paytrace.csv")
    _batches(paytrace, plant, planted).write_csv(out / "batches.csv")
    _receipts(rng, max(1_000, rows // 20), plant, planted).write_csv(out / "fusion.csv")
    return {"rows": paytrace.height, "planted": planted}


def run(engine: str, data: Path) -> dict[str, Any]:
    from paysync_core.anomaly import detect_anomalies

    started = time.perf_counter()
    flags = detect_anomalies(
        data / "paytrace.csv",
        data / "fusion.csv",
        data / "batches.csv",
        engine=engine,  # type: ignore[arg-type]
        now=datetime.fromisoformat(NOW),
    )
    wall = time.perf_counter() - started
    found: dict[str, list[list[str]]] = {k: [] for k in KINDS}
    for flag in flags:
        records = list(flag.records)
        if flag.kind.value.endswith("_spike"):
            records = [flag.subject]
        elif flag.kind.value == "batch_drift":
            records = records[:1]  # the drifting batch; the rest is its baseline
        found[flag.kind.value].append(records)
    return {"wall": wall, "found": found, "example": [f.reason for f in flags[:1]]}


def worker(engine: str, data: Path, rows: int) -> None:
    if engine == "generate":
        print(json.dumps(generate(rows, data)))
        return
    out = run(engine, data)
    out["peak_mib"] = peak_mib()
    print(json.dumps(out))


def _key(groups: list[list[str]]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(sorted(g)) for g in groups)


def report(
    total: int, planted: dict[str, list[list[str]]], results: dict[str, dict[str, Any]]
) -> int:
    engines = list(results)
    print(f"transactions: {total:,}")
    print(f"{'kind':<26}{'planted':>9}" + "".join(f"{e:>10}{'exact':>7}" for e in engines))
    ok = True
    for kind in KINDS:
        line = f"{kind:<26}{len(planted[kind]):>9}"
        for e in engines:
            got = results[e]["found"][kind]
            exact = _key(got) == _key(planted[kind])
            ok &= exact
            line += f"{len(got):>10}{'yes' if exact else 'NO':>7}"
        print(line)
    print(f"{'wall time (s)':<35}" + "".join(f"{results[e]['wall']:>17.2f}" for e in engines))
    print(f"{'peak RSS (MiB)':<35}" + "".join(f"{results[e]['peak_mib']:>17.0f}" for e in engines))
    for e in engines:
        for reason in results[e]["example"]:
            print(f"e.g. ({e}): {reason}")
    print("planted anomalies found exactly" if ok else "MISMATCH against planted anomalies")
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="polars")
    parser.add_argument("--keep", type=Path, default=None, help="write the data here and keep it")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.data, args.rows)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        data: Path = args.keep or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generated = spawn_worker(__file__, "generate", data, args.rows)
        print(f"generated in {time.perf_counter() - started:.1f} s")
        results = {
            engine: spawn_worker(__file__, engine, data, args.rows)
            for engine in args.engines.split(",")
        }
    return report(generated["rows"], generated["planted"], results)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
