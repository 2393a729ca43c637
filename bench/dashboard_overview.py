"""paysync dashboard: server time of the overview with a million flows in the ledger.

Bulk-loads ``--flows`` flows (default 1,000,000: 3 use cases; 96 % succeeded, 2 % dead with a
dead-letter entry each, 1.5 % pending, 0.5 % running; updated over the last 30 days, 1 % in
the last hour) into a fresh SQLite file (``executemany``) and a fresh PostgreSQL schema
(``COPY``), then requests the overview ``--requests`` times through the Flask app in-process
(no network: the time measured is the server's) and prints the median and p95 of
``GET /api/overview`` (the data the page polls) and of ``GET /`` (the page itself).

Goal (issue 10): under 200 ms. The aggregates are answered from the indexes of migration 6;
the chart's closed buckets are cached for 30 s (``FinishedSeries``), so ``first`` (the
unmeasured warm-up request, which counts the whole window) is printed too.
The dashboard runs with its defaults: every registered use case drawn at start, and the input
streams read through the registered stream reporters on every overview request.

Run: ``python bench/dashboard_overview.py`` (a few minutes, mostly loading rows);
``--flows 100000`` for a quick run. PostgreSQL comes from ``PAYSYNC_TEST_POSTGRES_DSN``
(default ``postgresql://postgres@127.0.0.1:5432/test``) and is skipped if unreachable.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from flask.testing import FlaskClient
from psycopg import sql
from werkzeug.security import generate_password_hash

from paysync_core import LedgerStore, PostgresLedger, Quota, SqliteLedger
from paysync_core.dashboard import DashboardConfig, User, create_app
from paysync_core.sources.salesforce_events import LedgerReplayStore

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
USE_CASES = ("salesforce_order_to_cash", "paytrace_settlement", "fusion_refund")
FLOW_COLUMNS = (
    "flow_id, flow_key, use_case, source_system, source_id, version, entity_key, input_json,"
    " state, current_step, created_at, updated_at, last_error"
)
DL_COLUMNS = (
    "entry_id, fingerprint, flow_id, step_name, reason, last_error, evidence_json,"
    " occurrences, status, created_at, updated_at"
)
INSERT_FLOW = f"INSERT INTO flows ({FLOW_COLUMNS}) VALUES ({', '.join('?' * 13)})"  # noqa: S608
INSERT_DL = f"INSERT INTO dead_letters ({DL_COLUMNS}) VALUES ({', '.join('?' * 11)})"  # noqa: S608
GOAL_MS = 200.0


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _state(r: float) -> str:
    if r < 0.96:
        return "succeeded"
    if r < 0.98:
        return "dead"
    if r < 0.995:
        return "pending"
    return "running"


def _rows(
    count: int, now: datetime
) -> Iterator[tuple[tuple[object, ...], tuple[object, ...] | None]]:
    """(flow row, dead-letter row or None) in creation order."""
    rand = random.Random(7)
    month = 30 * 24 * 3600
    for i in range(count):
        # 1 % of the flows finished in the last hour (10,000 of a million: ~3 flows/s, the
        # live part of the charts), the rest over the month
        age = rand.uniform(0, 3600) if rand.random() < 0.01 else rand.uniform(3600, month)
        age = age * (1 - i / count) if i else age  # roughly increasing with seq
        updated = now - timedelta(seconds=age)
        state = _state(rand.random())
        # ids ascending with seq: the unique indexes load by appending (what the queries
        # measured do not depend on)
        flow_id = f"{i:012x}{rand.getrandbits(80):020x}"
        error = "HttpStatusError: HTTP 422" if state == "dead" else None
        flow = (
            flow_id,
            f"k{flow_id}",
            USE_CASES[i % 3],
            "salesforce",
            f"006{i:012d}",
            "1",
            f"salesforce:006{i:012d}",
            "{}",
            state,
            0,
            _ts(updated - timedelta(seconds=5)),
            _ts(updated),
            error,
        )
        dead = None
        if state == "dead":
            at = _ts(updated)
            dead = (
                f"e{flow_id}",
                f"f{flow_id}",
                flow_id,
                "charge",
                "permanent",
                error,
                "[]",
                1,
                "open",
                at,
                at,
            )
        yield flow, dead


def _load_sqlite(path: Path, count: int, now: datetime) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")  # loading only; the ledger reopens it durably
    conn.execute("PRAGMA cache_size = -262144")
    flows: list[tuple[object, ...]] = []
    dead: list[tuple[object, ...]] = []
    for flow, entry in _rows(count, now):
        flows.append(flow)
        if entry:
            dead.append(entry)
        if len(flows) >= 50_000:
            conn.executemany(INSERT_FLOW, flows)
            flows.clear()
    conn.executemany(INSERT_FLOW, flows)
    conn.executemany(INSERT_DL, dead)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _load_postgres(dsn: str, schema: str, count: int, now: datetime) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        dead: list[tuple[object, ...]] = []
        with conn.cursor() as cur:
            with cur.copy(f"COPY flows ({FLOW_COLUMNS}) FROM STDIN") as copy:
                for flow, entry in _rows(count, now):
                    copy.write_row(flow)
                    if entry:
                        dead.append(entry)
            with cur.copy(f"COPY dead_letters ({DL_COLUMNS}) FROM STDIN") as copy:
                for entry in dead:
                    copy.write_row(entry)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # what autovacuum does soon after a bulk load: statistics and the visibility map
        # (index-only scans)
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(schema, "flows")))
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(schema, "dead_letters")))


def _client(store: LedgerStore) -> FlaskClient:
    config = DashboardConfig(
        ledger=store,
        secret_key="bench-only",  # noqa: S106
        users={"bench": User("bench", generate_password_hash("x", "pbkdf2:sha256:1000"))},
        quotas={"paytrace": Quota(per_minute=60, per_day=10_000), "fusion": Quota(per_minute=120)},
    )
    # a Salesforce replay checkpoint, so the overview's input streams (read from the ledger's
    # registered stream reporters, the default) have a row to show
    LedgerReplayStore(store).save("/data/OpportunityChangeEvent", bytes.fromhex("00002a"))
    app = create_app(config)
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = "bench"
    return client


def _measure(client: FlaskClient, path: str, requests: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    client.get(path)  # warm caches and Jinja; fills the closed-bucket cache of the series
    first = (time.perf_counter() - start) * 1000
    times: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    times.sort()
    return first, statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def _report(name: str, client: FlaskClient, requests: int) -> bool:
    ok = True
    for path in ("/api/overview", "/"):
        first, median, p95 = _measure(client, path, requests)
        verdict = "ok" if p95 < GOAL_MS else "OVER GOAL"
        ok = ok and p95 < GOAL_MS
        print(
            f"{name:10} GET {path:14} median {median:7.1f} ms   p95 {p95:7.1f} ms   ({verdict})"
            f"   first {first:7.1f} ms"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    ok = True
    print(f"{args.flows:,} flows; {args.requests} requests per page; goal p95 < {GOAL_MS:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        SqliteLedger(path).close()  # creates the schema (all migrations)
        start = time.perf_counter()
        _load_sqlite(path, args.flows, now)
        print(f"sqlite     loaded in {time.perf_counter() - start:.1f} s")
        store = SqliteLedger(path)
        try:
            ok = _report("sqlite", _client(store), args.requests) and ok
        finally:
            store.close()
    if args.skip_postgres:
        return 0 if ok else 1
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", DEFAULT_DSN)
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(f"postgresql skipped: unreachable ({exc})")
        return 0 if ok else 1
    schema = f"bench_dash_{uuid.uuid4().hex[:8]}"
    store = PostgresLedger(dsn, schema=schema)
    try:
        start = time.perf_counter()
        _load_postgres(dsn, schema, args.flows, now)
        print(f"postgresql loaded in {time.perf_counter() - start:.1f} s")
        ok = _report("postgresql", _client(store), args.requests) and ok
    finally:
        store.drop_schema()
        store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
