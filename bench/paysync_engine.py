"""paysync-core engine: ledger overhead per step, and flows/s with many flows in flight.

(a) **Ledger overhead per step** on SQLite and PostgreSQL. The baseline, measured in the same
run on the same store and durability settings, is a bare loop of one ``INSERT`` + ``COMMIT``
per row. The engine runs flows of ``--steps`` steps against ports that return at once; the
per-step cost is the *marginal* cost of a step: (time of N long flows - time of N one-step
flows) / (N * (steps - 1)), so submission, claim and release are not charged to steps.
Each of ``--rounds`` rounds measures the baseline right before *and* right after the engine
(their mean is the round's baseline, so a drift of the disk's fsync latency during the round
hits both sides alike); ``--overhead-flows`` flows per run. Printed: both costs per round, the
load average, and the median ratio (goal, issue 7: <= 2x). The durability settings of both sides
are printed first (SQLite WAL + ``synchronous=FULL``: durable against power loss).

(b) **Throughput**: ``--flows`` one-step flows run with ``--in-flight`` flows in flight against
ports that sleep ``--latency`` seconds per call (PayTrace's real latency is ~2 s). Printed:
flows/s against the Little's-law limit ``in_flight / latency`` (goal: >= 0.8), in two modes on
the same ledger type: one process with ``in_flight`` worker threads, and ``--processes`` worker
processes (default: one per core) with ``in_flight / processes`` threads each, all on one
ledger (the deployment the README recommends: the GIL makes one process CPU-bound long before
the ledger is). Both are measured against the same limit.

Run: ``python bench/paysync_engine.py`` (about 2 min on a busy box; ``--skip-throughput``,
``--rounds 1`` or ``--latency 0.2`` for a quick run).
PostgreSQL comes from ``PAYSYNC_TEST_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``) and is skipped with a note if unreachable.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from paysync_core import (
    Engine,
    FlowDefinition,
    LedgerStore,
    LookupResult,
    PostgresLedger,
    SqliteLedger,
    Step,
    StepContext,
)

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
OVERHEAD_FLOWS = 300
BASELINE_ROWS = 500
PG_POOL = 40
"""Connections: a flow holds one only inside a transaction, never during a port call."""


def _perform(ctx: StepContext) -> dict[str, str]:
    return {"id": ctx.idempotency_key[:12]}


def _lookup(ctx: StepContext) -> LookupResult:
    return LookupResult.absent()


def _sleeping(latency: float) -> Callable[[StepContext], dict[str, str]]:
    def perform(ctx: StepContext) -> dict[str, str]:
        time.sleep(latency)
        return {"id": ctx.idempotency_key[:12]}

    return perform


def _flow(
    use_case: str, steps: int, perform: Callable[[StepContext], dict[str, str]]
) -> FlowDefinition:
    return FlowDefinition(
        use_case,
        [Step(f"s{i}", perform=perform, lookup=_lookup, system="bench") for i in range(steps)],
    )


def _run_flows(store: LedgerStore, definition: FlowDefinition, count: int, workers: int) -> float:
    """Submit ``count`` flows, run them all; seconds spent running (submission excluded)."""
    engine = Engine(store, [definition], lease_ttl=timedelta(minutes=10))
    tag = uuid.uuid4().hex[:8]
    for i in range(count):
        engine.submit(
            definition.use_case, source_system="bench", source_id=f"{tag}-{i}", version=1, input={}
        )
    started = time.perf_counter()
    report = engine.run_pending(max_workers=workers)
    elapsed = time.perf_counter() - started
    if len(report.succeeded) != count:
        raise SystemExit(f"bench flows failed: {report}")
    return elapsed


# -- baselines --------------------------------------------------------------------------
def _sqlite_baseline(path: Path, rows: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE bare (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
    started = time.perf_counter()
    for i in range(rows):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bare VALUES (?, ?)", (f"k{i}", "x" * 64))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed / rows


def _postgres_baseline(dsn: str, schema: str, rows: int) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        table = sql.Identifier(schema, "bare")
        conn.execute(sql.SQL("CREATE TABLE {} (k TEXT PRIMARY KEY, v TEXT NOT NULL)").format(table))
        conn.commit()
        insert = sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(table)
        started = time.perf_counter()
        for i in range(rows):
            conn.execute(insert, (f"k{i}", "x" * 64))
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.commit()
    return elapsed / rows


# -- stores -----------------------------------------------------------------------------
@contextmanager
def _sqlite_store(directory: Path, name: str) -> Generator[LedgerStore, None, None]:
    store = SqliteLedger(directory / f"{name}.db")
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _postgres_store(dsn: str, pool: int) -> Generator[LedgerStore, None, None]:
    store = PostgresLedger(dsn, schema=f"bench_{uuid.uuid4().hex[:8]}", max_size=pool)
    try:
        yield store
    finally:
        store.drop_schema()
        store.close()


def _postgres_durability(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        settings = [
            f"{name}={row[0] if (row := conn.execute(f'SHOW {name}').fetchone()) else '?'}"
            for name in ("fsync", "synchronous_commit", "wal_sync_method")
        ]
    return ", ".join(settings)


def _postgres_reachable(dsn: str) -> str | None:
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


# -- measurements -----------------------------------------------------------------------
def overhead(
    label: str,
    open_store: Callable[[str], AbstractContextManager[LedgerStore]],
    baseline: Callable[[], float],
    steps: int,
    rounds: int,
    *,
    flows: int = OVERHEAD_FLOWS,
) -> float:
    """Median ratio over ``rounds``; each round measures the baseline right before and right
    after the engine, so a load spike on a shared machine hits both sides of one ratio rather
    than one side."""
    ratios: list[float] = []
    for number in range(1, rounds + 1):
        before = baseline()
        times: dict[int, float] = {}
        cpu: dict[int, float] = {}
        for length in (1, steps):
            with open_store(f"overhead{length}-{number}") as store:
                _run_flows(store, _flow(f"uc{length}", length, _perform), 20, 1)  # warm up
                started = time.process_time()
                times[length] = _run_flows(store, _flow(f"uc{length}", length, _perform), flows, 1)
                cpu[length] = time.process_time() - started
        after = baseline()
        bare = (before + after) / 2
        per_step = (times[steps] - times[1]) / (flows * (steps - 1))
        cpu_step = (cpu[steps] - cpu[1]) / (flows * (steps - 1))
        per_flow = times[1] / flows
        ratios.append(per_step / bare)
        print(
            f"{label:10} round {number}: bare INSERT+COMMIT {bare * 1e3:7.3f} ms (before"
            f" {before * 1e3:.3f}, after {after * 1e3:.3f}) | engine per step"
            f" {per_step * 1e3:7.3f} ms (ratio {ratios[-1]:4.2f}x; of it client CPU"
            f" {cpu_step * 1e3:6.3f} ms) | one-step flow all-in {per_flow * 1e3:7.3f} ms"
            f" | load {_loadavg()}",
            flush=True,
        )
    ratio = statistics.median(ratios)
    print(f"{label:10} median ratio {ratio:4.2f}x (goal <= 2x)", flush=True)
    return ratio


def throughput(
    label: str,
    open_store: Callable[[str], AbstractContextManager[LedgerStore]],
    args: argparse.Namespace,
) -> float:
    definition = _flow("throughput", 1, _sleeping(args.latency))
    with open_store("throughput") as store:
        elapsed = _run_flows(store, definition, args.flows, args.in_flight)
    achieved = args.flows / elapsed
    limit = args.in_flight / args.latency
    ratio = achieved / limit
    print(
        f"{label:10} {args.flows} flows, {args.in_flight} in flight, {args.latency:g} s/call: "
        f"{achieved:7.1f} flows/s vs Little's-law limit {limit:7.1f} (ratio {ratio:4.2f}, "
        f"goal >= 0.8) in {elapsed:5.2f} s",
        flush=True,
    )
    return ratio


def _throughput_worker(
    ledger: tuple[str, str, str],
    shape: tuple[float, int, int],
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[tuple[int, int, float, float]],
) -> None:
    """One worker process: open the shared ledger, wait for the others, drain the backlog.

    ``shape`` is (port latency, threads, PostgreSQL pool size)."""
    kind, where, schema = ledger
    latency, threads, pool = shape
    store: LedgerStore = (
        SqliteLedger(where)
        if kind == "sqlite"
        else PostgresLedger(where, schema=schema, min_size=pool, max_size=pool)
    )
    try:
        engine = Engine(
            store, [_flow("throughput", 1, _sleeping(latency))], lease_ttl=timedelta(minutes=10)
        )
        start.wait()
        cpu = time.process_time()
        report = engine.run_pending(max_workers=threads)
        finished = time.monotonic()
        results.put((len(report.succeeded), report.processed, finished, time.process_time() - cpu))
    finally:
        store.close()


def throughput_processes(
    label: str, ledger: tuple[str, str, str], args: argparse.Namespace
) -> float:
    """The same backlog and in-flight count as :func:`throughput`, spread over processes."""
    processes = max(1, args.processes)
    threads = max(1, args.in_flight // processes)
    in_flight = threads * processes
    kind, where, schema = ledger
    store: LedgerStore = (
        SqliteLedger(where) if kind == "sqlite" else PostgresLedger(where, schema=schema)
    )
    try:
        engine = Engine(store, [_flow("throughput", 1, _sleeping(args.latency))])
        tag = uuid.uuid4().hex[:8]
        for i in range(args.flows):
            engine.submit(
                "throughput", source_system="bench", source_id=f"{tag}-{i}", version=1, input={}
            )
        context = multiprocessing.get_context("spawn")  # no inherited threads, sockets, locks
        start = context.Barrier(processes + 1)
        results: multiprocessing.queues.Queue[tuple[int, int, float, float]] = context.Queue()
        pool = max(4, PG_POOL // processes)
        workers = [
            context.Process(
                target=_throughput_worker,
                args=(ledger, (args.latency, threads, pool), start, results),
            )
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        start.wait(timeout=120)  # every worker has opened the ledger: start the clock
        started = time.monotonic()
        done = [results.get(timeout=600) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        elapsed = max(finished for _, _, finished, _ in done) - started
        succeeded = sum(count for count, _, _, _ in done)
        if succeeded != args.flows:
            raise SystemExit(f"bench flows failed: {succeeded} of {args.flows} succeeded")
        if kind != "sqlite":
            assert isinstance(store, PostgresLedger)
            store.drop_schema()
    finally:
        store.close()
    achieved = args.flows / elapsed
    limit = in_flight / args.latency
    ratio = achieved / limit
    cpu = sum(seconds for _, _, _, seconds in done)
    print(
        f"{label:10} {args.flows} flows, {processes} processes x {threads} threads = {in_flight}"
        f" in flight, {args.latency:g} s/call: {achieved:7.1f} flows/s vs Little's-law limit"
        f" {limit:7.1f} (ratio {ratio:4.2f}, goal >= 0.8) in {elapsed:5.2f} s; worker CPU"
        f" {cpu * 1e3 / args.flows:5.2f} ms/flow",
        flush=True,
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per port call")
    parser.add_argument("--in-flight", type=int, default=200)
    parser.add_argument("--flows", type=int, default=1000, help="flows in the throughput run")
    parser.add_argument("--steps", type=int, default=6, help="steps per flow in the overhead run")
    parser.add_argument("--rounds", type=int, default=5, help="overhead rounds (median reported)")
    parser.add_argument(
        "--overhead-flows", type=int, default=OVERHEAD_FLOWS, help="flows per overhead run"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes in the multi-process throughput run (0: skip it)",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true", help="run (a) only")
    args = parser.parse_args()
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", DEFAULT_DSN)
    unreachable = "skipped by --skip-postgres" if args.skip_postgres else _postgres_reachable(dsn)
    with tempfile.TemporaryDirectory(prefix="paysync-bench-") as tmp:
        directory = Path(tmp)

        def sqlite_store(name: str) -> AbstractContextManager[LedgerStore]:
            return _sqlite_store(directory, name)

        def postgres_store(name: str) -> AbstractContextManager[LedgerStore]:
            return _postgres_store(dsn, PG_POOL)

        print(
            "durability (engine and baseline alike): sqlite journal_mode=WAL, synchronous=FULL"
            " (an fsync of the WAL per commit: survives power loss)",
            flush=True,
        )
        if unreachable is None:
            print(f"durability (engine and baseline alike): postgresql {_postgres_durability(dsn)}")
        print(f"(a) ledger overhead per step; load average {_loadavg()}", flush=True)
        overhead(
            "sqlite",
            sqlite_store,
            lambda: _sqlite_baseline(directory / f"bare-{uuid.uuid4().hex[:8]}.db", BASELINE_ROWS),
            args.steps,
            args.rounds,
            flows=args.overhead_flows,
        )
        if unreachable is None:
            overhead(
                "postgresql",
                postgres_store,
                lambda: _postgres_baseline(
                    dsn, f"bench_bare_{uuid.uuid4().hex[:8]}", BASELINE_ROWS
                ),
                args.steps,
                args.rounds,
                flows=args.overhead_flows,
            )
        else:
            print(f"postgresql skipped: {unreachable}", flush=True)
        if args.skip_throughput:
            return 0
        print(f"(b) throughput; load average {_loadavg()}", flush=True)
        throughput("sqlite", sqlite_store, args)
        if args.processes:
            throughput_processes("sqlite", ("sqlite", str(directory / "processes.db"), ""), args)
        if unreachable is None:
            throughput("postgresql", postgres_store, args)
            if args.processes:
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                throughput_processes("postgresql", ("postgresql", dsn, schema), args)
        print(f"load average {_loadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
