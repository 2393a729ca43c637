"""A worker process for the SIGKILL crash-recovery harness (run by test_crash_recovery.py).

Environment:
  LEDGER        ledger URL (SQLite path or postgresql://...)
  SCHEMA        PostgreSQL schema
  EFFECTS_DB    SQLite file standing in for the external system (shared by all processes)
  KILL_AT       kill this process during its KILL_AT-th external call (0: never)
  KILL_MODE     before | after_apply | after_outcome
  CLOCK_OFFSET  seconds added to the wall clock (so a restarted worker sees old leases expired)
  SUBMIT        number of flows to submit before running (idempotent)
  RUN           0: only submit
  CALL_LATENCY  seconds each external call takes
  BARRIER_DIR   if set: write ready-<pid> there, then wait for a file named go
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LedgerTransaction,
    LookupResult,
    RetryPolicy,
    Step,
    StepContext,
    StepRecord,
    open_ledger,
)

STEPS = ("charge", "receipt", "apply")


class State:
    calls = 0
    kill_at = int(os.environ.get("KILL_AT", "0"))
    mode = os.environ.get("KILL_MODE", "before")
    offset = timedelta(seconds=float(os.environ.get("CLOCK_OFFSET", "0")))
    outcome_kill_armed = False  # perform asked to die once its outcome is committed
    kill_on_next_clock = False


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def effects() -> sqlite3.Connection:
    conn = sqlite3.connect(os.environ["EFFECTS_DB"], timeout=30, isolation_level=None)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, n INTEGER, worker TEXT)"
    )
    return conn


def perform(ctx: StepContext) -> Mapping[str, str]:
    State.calls += 1
    killing = State.calls == State.kill_at
    if killing and State.mode == "before":
        die()
    time.sleep(float(os.environ.get("CALL_LATENCY", "0")))
    conn = effects()
    try:
        conn.execute(
            "INSERT INTO effects VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET n = n + 1",
            (ctx.idempotency_key, str(os.getpid())),
        )
    finally:
        conn.close()
    if killing and State.mode == "after_apply":
        die()
    if killing and State.mode == "after_outcome":
        State.outcome_kill_armed = True
    return {"id": ctx.idempotency_key[:8]}


def lookup(ctx: StepContext) -> LookupResult:
    conn = effects()
    try:
        row = conn.execute("SELECT n FROM effects WHERE key = ?", (ctx.idempotency_key,)).fetchone()
    finally:
        conn.close()
    if row:
        return LookupResult.found({"id": ctx.idempotency_key[:8]})
    return LookupResult.absent()


def committed(tx: LedgerTransaction, flow: FlowRecord, step: StepRecord) -> None:
    """Runs inside the outcome transaction; the commit follows without another clock read."""
    del tx, flow, step
    if State.outcome_kill_armed:
        State.kill_on_next_clock = True


def main() -> int:
    store = open_ledger(os.environ["LEDGER"], schema=os.environ.get("SCHEMA", "paysync"))

    def clock() -> datetime:
        if State.kill_on_next_clock:
            # the engine's next clock read starts its next transaction, after the outcome
            # committed (one worker thread): the kill point "after the outcome"
            die()
        return datetime.now(timezone.utc) + State.offset

    definition = FlowDefinition("uc", [Step(n, perform=perform, lookup=lookup) for n in STEPS])
    engine = Engine(
        store,
        [definition],
        policy=RetryPolicy(
            max_attempts=5, max_delay=0.05, max_retry_after=0.05, lookup_delays=(0.05,)
        ),
        worker_id=f"pid-{os.getpid()}",
        lease_ttl=timedelta(seconds=60),
        clock=clock,
        on_step_committed=committed,
    )
    for n in range(int(os.environ.get("SUBMIT", "0"))):
        engine.submit("uc", source_system="s", source_id=str(n), version=1, input={"n": n})
    if os.environ.get("RUN", "1") == "0":
        store.close()
        return 0
    barrier = os.environ.get("BARRIER_DIR")
    if barrier:
        Path(barrier, f"ready-{os.getpid()}").touch()
        while not Path(barrier, "go").exists():
            time.sleep(0.01)
    report = engine.run_pending(max_workers=1)
    store.close()
    return 0 if not report.errors else 3


if __name__ == "__main__":
    sys.exit(main())
