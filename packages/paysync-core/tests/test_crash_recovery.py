"""SIGKILL crash recovery: kill worker processes before a call, after the external system
committed it, and after the outcome was recorded; restart; every effect happens exactly once."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from paysync_core import FlowState, LedgerStore, PostgresLedger, SqliteLedger

WORKER = Path(__file__).with_name("crash_worker.py")
FLOWS = 5
STEPS = 3
MODES = ("before", "after_apply", "after_outcome")


def _run_until_done(env: dict[str, str]) -> list[tuple[str, int]]:
    """Start workers (each killed at a scheduled point) until one finishes cleanly."""
    codes: list[tuple[str, int]] = []
    schedule = itertools.cycle([(kill_at, mode) for kill_at in (1, 2) for mode in MODES])
    for restart in range(30):
        kill_at, mode = next(schedule) if restart < 10 else (0, "none")
        proc = subprocess.run(  # noqa: S603 - our own worker script
            [sys.executable, str(WORKER)],
            env={
                **env,
                "KILL_AT": str(kill_at),
                "KILL_MODE": mode,
                "CLOCK_OFFSET": str(restart * 120),  # earlier workers' leases have expired
                "SUBMIT": str(FLOWS) if restart == 0 else "0",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        codes.append((mode, proc.returncode))
        if proc.returncode == 0 and kill_at == 0:
            return codes
        assert proc.returncode in (0, -9), proc.stderr
    raise AssertionError(f"never finished: {codes}")


def _check(store: LedgerStore, effects_db: Path, codes: list[tuple[str, int]]) -> None:
    killed = {mode for mode, code in codes if code == -9}
    assert killed == set(MODES)  # really killed, at every kind of point
    conn = sqlite3.connect(effects_db)
    try:
        counts = dict(conn.execute("SELECT key, n FROM effects").fetchall())
    finally:
        conn.close()
    with store.transaction() as tx:
        flows = tx.list_flows()
        steps = [s for f in flows for s in tx.get_steps(f.flow_id)]
    assert len(flows) == FLOWS
    assert all(f.state is FlowState.SUCCEEDED for f in flows)
    assert len(steps) == FLOWS * STEPS
    assert {s.idempotency_key for s in steps} == set(counts)
    assert set(counts.values()) == {1}  # exactly once, despite the kills


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["EFFECTS_DB"] = str(tmp_path / "effects.db")
    return env


@pytest.mark.slow
def test_sigkill_recovery_sqlite(tmp_path: Path) -> None:
    env = _base_env(tmp_path)
    env["LEDGER"] = str(tmp_path / "ledger.db")
    codes = _run_until_done(env)
    store = SqliteLedger(env["LEDGER"])
    try:
        _check(store, tmp_path / "effects.db", codes)
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkill_recovery_postgres(tmp_path: Path, postgres_dsn: str) -> None:
    env = _base_env(tmp_path)
    env["LEDGER"] = postgres_dsn
    env["SCHEMA"] = f"pstest_crash_{uuid.uuid4().hex[:8]}"
    store = PostgresLedger(postgres_dsn, schema=env["SCHEMA"])
    try:
        codes = _run_until_done(env)
        _check(store, tmp_path / "effects.db", codes)
    finally:
        store.drop_schema()
        store.close()
