"""Three-way reconciliation at scale: our engine against a straightforward pandas merge.

    python bench/reconcile.py [--rows 1000000] [--engines polars,pandas] [--repeat 1] [--keep DIR]

Generates PayTrace / Fusion / Salesforce record files (CSV, the layout of
``paysync_core.reconcile``) with a known number of planted discrepancies of every class,
then runs each engine in a fresh subprocess (so one engine's memory does not inflate
another's peak), timing read + reconcile only. Prints found-vs-planted per class, wall time,
peak RSS and our time / pandas time (goal <= 0.5; also checked: <= 30 s, <= 1 GiB at 1M rows).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _shared import peak_mib, spawn_worker

# numpy and pandas ship without complete stubs here: the bench uses them untyped rather than
# peppering it with ignores. Each worker imports only what it measures.

CLASSES = (
    "amount_mismatch",
    "status_mismatch",
    "missing_in_fusion",
    "missing_in_salesforce",
    "missing_in_paytrace",
    "duplicate",
)
BASE_ID = 100_000_000
DAYS = 28


def generate(rows: int, out: Path, seed: int = 7) -> dict[str, int]:
    """Write paytrace.csv, fusion.csv, salesforce.csv, batches.csv; return planted counts."""
    import polars as pl

    np: Any = importlib.import_module("numpy")

    def _frame(ids: Any, **cols: Any) -> pl.DataFrame:
        return pl.DataFrame({"ref": ids.astype(str), **cols})

    rng = np.random.default_rng(seed)
    plant = max(5, rows // 10_000)
    ids = np.arange(BASE_ID, BASE_ID + rows)
    amount = rng.integers(100, 500_000, rows)
    day_index = rng.integers(0, DAYS, rows)
    days = np.array([f"2026-03-{d + 1:02d}" for d in range(DAYS)])[day_index]
    customer = np.char.add("C", (ids % 7919).astype(str))
    invoice = np.char.add("INV-", ids.astype(str))
    status = np.where(rng.random(rows) < 0.02, "failed", "captured")
    batch = np.where(status == "failed", "", (day_index + 5000).astype(str))
    refund = (rng.random(rows) < 0.05) & (status == "captured")
    refund_amount = amount // 3
    # Planted keys: distinct, captured, without refunds, so each shows exactly one class.
    clean = np.flatnonzero((status == "captured") & ~refund)
    picked = rng.choice(clean, size=6 * plant, replace=False)
    amt_idx, st_idx, mf_idx, ms_idx, dup_idx, fz_idx = np.split(picked, 6)

    base = {
        "kind": "payment",
        "status": status,
        "day": days,
        "customer": customer,
        "invoice": invoice,
    }
    pt = _frame(ids, id=ids.astype(str), amount_cents=amount, batch=batch, **base)
    pt_ref = _frame(
        ids[refund],
        id=np.char.add("R", ids[refund].astype(str)),
        kind="refund",
        amount_cents=refund_amount[refund],
        status="captured",
        day=days[refund],
        customer=customer[refund],
        invoice=invoice[refund],
        batch=batch[refund],
    )
    paytrace = pl.concat([pt, pt_ref.select(pt.columns)])

    posted = status != "failed"
    fu_amount = amount.copy()
    fu_amount[amt_idx] += 1
    fu_ref = np.char.add("PT-", ids.astype(str))
    fu_ref[fz_idx] = ""  # typed by hand: only the fuzzy rules can pair these
    keep_fu = posted.copy()
    keep_fu[mf_idx] = False
    fu = pl.DataFrame(
        {
            "ref": fu_ref,
            "id": np.char.add("RCPT-", ids.astype(str)),
            "kind": "payment",
            "amount_cents": fu_amount,
            "status": "captured",
            "day": days,
            "customer": customer,
            "invoice": invoice,
            "batch": "",
        }
    ).filter(pl.Series(keep_fu))
    fu_cm = pl.DataFrame(
        {
            "ref": np.char.add("PT-", ids[refund].astype(str)),
            "id": np.char.add("CM-", ids[refund].astype(str)),
            "kind": "refund",
            "amount_cents": refund_amount[refund],
            "status": "captured",
            "day": days[refund],
            "customer": customer[refund],
            "invoice": invoice[refund],
            "batch": "",
        }
    )
    ghosts = pl.DataFrame(
        {
            "ref": np.char.add("PT-", np.arange(900_000_000, 900_000_000 + plant).astype(str)),
            "id": np.char.add("GHOST-", np.arange(plant).astype(str)),
            "kind": "payment",
            "amount_cents": rng.integers(100, 500_000, plant),
            "status": "captured",
            "day": "2026-03-10",
            "customer": "GHOST",
            "invoice": "",
            "batch": "",
        }
    )
    fusion = pl.concat([fu, fu_cm, ghosts])

    sf_status = status.copy()
    sf_status[st_idx] = "refunded"
    keep_sf = np.ones(rows, dtype=bool)
    keep_sf[ms_idx] = False
    sf = pl.DataFrame(
        {
            "ref": ids.astype(str),
            "id": np.char.add("a0P", ids.astype(str)),
            "kind": "payment",
            "amount_cents": amount,
            "status": sf_status,
            "day": days,
            "customer": customer,
            "invoice": invoice,
            "batch": "",
        }
    )
    salesforce = pl.concat(
        [
            sf.filter(pl.Series(keep_sf)),
            sf[dup_idx.tolist()],
            sf.filter(pl.Series(refund)).with_columns(
                kind=pl.lit("refund"), amount_cents=pl.Series(refund_amount[refund])
            ),
        ]
    )
    batches = (
        paytrace.filter(pl.col("batch") != "")
        .with_columns(
            signed=pl.when(pl.col("kind") == "payment")
            .then(pl.col("amount_cents"))
            .otherwise(-pl.col("amount_cents"))
        )
        .group_by("batch")
        .agg(net_cents=pl.col("signed").sum(), count=pl.len())
        .sort("batch")
    )
    bad_batches = min(3, batches.height)
    batches = batches.with_columns(
        net_cents=pl.when(pl.int_range(pl.len()) < bad_batches)
        .then(pl.col("net_cents") + 1)
        .otherwise(pl.col("net_cents"))
    )
    paytrace.write_csv(out / "paytrace.csv")
    fusion.write_csv(out / "fusion.csv")
    salesforce.write_csv(out / "salesforce.csv")
    batches.write_csv(out / "batches.csv")
    planted: dict[str, int] = dict.fromkeys(CLASSES, plant)
    planted["batch_mismatch"] = bad_batches
    planted["fuzzy_pairs"] = plant
    return planted


def run_ours(engine: str, data: Path) -> dict[str, Any]:
    from paysync_core.reconcile import reconcile

    if engine != "python":  # like pandas below, the library is imported before the clock starts
        importlib.import_module("paysync_core.reconcile._polars")
    started = time.perf_counter()
    result = reconcile(
        paytrace=data / "paytrace.csv",
        fusion=data / "fusion.csv",
        salesforce=data / "salesforce.csv",
        batches=data / "batches.csv",
        engine=engine,  # type: ignore[arg-type]
    )
    wall = time.perf_counter() - started
    found = {k.value: v for k, v in result.counts.items() if k.value != "matched"}
    found["batch_mismatch"] = len(result.batch_mismatches)
    return {"wall": wall, "found": found, "matched": result.matched}


def run_pandas(data: Path) -> dict[str, Any]:
    """The baseline: read, group by key per system, two outer merges, vectorised flags."""
    pd: Any = importlib.import_module("pandas")

    started = time.perf_counter()
    frames: list[Any] = []
    for name, sx in (("paytrace", "_pt"), ("fusion", "_fu"), ("salesforce", "_sf")):
        df = pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
        df["amount_cents"] = df["amount_cents"].astype("int64")
        df["key"] = df["ref"].str.removeprefix("PT-")
        blank = df["key"] == ""
        df.loc[blank, "key"] = name + "#" + df.index[blank].astype(str)
        df["signed"] = df["amount_cents"].where(df["kind"] == "payment", -df["amount_cents"])
        df["is_pay"] = df["kind"] == "payment"
        g = df.groupby("key", sort=False).agg(
            payments=("is_pay", "sum"), net=("signed", "sum"), status=("status", "first")
        )
        frames.append(g.add_suffix(sx))
    merged = frames[0].join(frames[1], how="outer").join(frames[2], how="outer")
    pt = merged["payments_pt"].notna()
    fu = merged["payments_fu"].notna()
    sf = merged["payments_sf"].notna()
    dup = (merged[["payments_pt", "payments_fu", "payments_sf"]].fillna(0) > 1).any(axis=1)
    ok = ~dup & pt
    found = {
        "duplicate": int(dup.sum()),
        "missing_in_paytrace": int((~dup & ~pt).sum()),
        "missing_in_fusion": int((ok & ~fu & (merged["status_pt"] != "failed")).sum()),
        "missing_in_salesforce": int((ok & ~sf).sum()),
        "amount_mismatch": int(
            (
                ok
                & (
                    (fu & (merged["net_fu"] != merged["net_pt"]))
                    | (sf & (merged["net_sf"] != merged["net_pt"]))
                )
            ).sum()
        ),
        "status_mismatch": int((ok & sf & (merged["status_sf"] != merged["status_pt"])).sum()),
    }
    batches = pd.read_csv(data / "batches.csv", dtype={"batch": str})
    pays = pd.read_csv(data / "paytrace.csv", dtype=str, keep_default_na=False)
    pays = pays[pays["batch"] != ""]
    cents = pays["amount_cents"].astype("int64")
    pays = pays.assign(signed=cents.where(pays["kind"] == "payment", -cents))
    sums = pays.groupby("batch")["signed"].sum()
    joined = batches.set_index("batch").join(sums)
    found["batch_mismatch"] = int((joined["net_cents"] != joined["signed"]).sum())
    return {"wall": time.perf_counter() - started, "found": found}


def worker(engine: str, data: Path, rows: int) -> None:
    if engine == "generate":
        print(json.dumps(generate(rows, data)))
        return
    out = run_pandas(data) if engine == "pandas" else run_ours(engine, data)
    out["peak_mib"] = peak_mib()
    print(json.dumps(out))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="polars,pandas")
    parser.add_argument("--repeat", type=int, default=1, help="best wall time of N runs")
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
        planted: dict[str, int] = spawn_worker(__file__, "generate", data, args.rows)
        print(f"generated {args.rows:,} rows per system in {time.perf_counter() - started:.1f} s")
        results: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):  # engines alternate, so load drifts hit each alike
            for engine in args.engines.split(","):
                run = spawn_worker(__file__, engine, data, args.rows)
                best = results.get(engine)
                if best is None or run["wall"] < best["wall"]:
                    results[engine] = run
    return report(args.rows, planted, results)


def report(rows: int, planted: dict[str, int], results: dict[str, dict[str, Any]]) -> int:
    engines = list(results)
    head = f"{'class':<24}{'planted':>9}" + "".join(f"{e:>12}" for e in engines)
    print(f"rows per system: {rows:,}")
    print(head)
    exact = True
    for cls in (*CLASSES, "batch_mismatch"):
        line = f"{cls:<24}{planted[cls]:>9}"
        for e in engines:
            got = results[e]["found"].get(cls, 0)
            line += f"{got:>12}"
            if e != "pandas" and got != planted[cls]:
                exact = False
        print(line)
    print(f"{'fuzzy pairs (matched)':<24}{planted['fuzzy_pairs']:>9}")
    print(f"{'wall time (s)':<33}" + "".join(f"{results[e]['wall']:>12.2f}" for e in engines))
    print(f"{'peak RSS (MiB)':<33}" + "".join(f"{results[e]['peak_mib']:>12.0f}" for e in engines))
    ok = exact
    if "pandas" in results:
        for e in engines:
            if e == "pandas":
                continue
            ratio = results[e]["wall"] / results["pandas"]["wall"]
            print(f"ratio {e} / pandas: {ratio:.2f} (goal <= 0.50)")
    for e in engines:
        if e == "pandas":
            continue
        if rows >= 1_000_000 and (results[e]["wall"] > 30 or results[e]["peak_mib"] > 1024):
            ok = False
    print("planted discrepancies found exactly" if exact else "MISMATCH against planted counts")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
