"""Several worker processes on one ledger processing the same backlog: no flow is run twice,
none is left behind, and a killed worker's leases are taken over."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from paysync_core import FlowState, LedgerStore, PostgresLedger, SqliteLedger

WORKER = Path(__file__).with_name("crash_worker.py")
FLOWS = 12


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "EFFECTS_DB": str(tmp_path / "effects.db")}
    if request.param == "sqlite":
        env["LEDGER"] = str(tmp_path / "ledger.db")
        yield env
        return
    dsn = str(request.getfixturevalue("postgres_dsn"))
    env["LEDGER"] = dsn
    env["SCHEMA"] = f"pstest_mp_{uuid.uuid4().hex[:8]}"
    store = PostgresLedger(dsn, schema=env["SCHEMA"])
    try:
        yield env
    finally:
        store.drop_schema()
        store.close()


def _open(env: dict[str, str]) -> LedgerStore:
    if "SCHEMA" in env:
        return PostgresLedger(env["LEDGER"], schema=env["SCHEMA"])
    return SqliteLedger(env["LEDGER"])


def _finish(proc: subprocess.Popen[str]) -> int:
    """Wait for a worker; fail with its stderr unless it exited cleanly or was SIGKILLed."""
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -9), err
    return proc.returncode


def _worker(env: dict[str, str], **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own worker script
        [sys.executable, str(WORKER)],
        env={**env, **extra},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_workers_share_a_backlog_and_take_over_a_killed_one(ledger_env: dict[str, str]) -> None:
    submit = _worker(ledger_env, SUBMIT=str(FLOWS), RUN="0")
    assert _finish(submit) == 0
    barrier = Path(ledger_env["EFFECTS_DB"]).with_name("barrier")
    barrier.mkdir()
    shared = {"CALL_LATENCY": "0.03", "BARRIER_DIR": str(barrier)}
    workers = [
        _worker(ledger_env, **shared),
        _worker(ledger_env, **shared),
        _worker(ledger_env, **shared, KILL_AT="3", KILL_MODE="after_apply"),
    ]
    deadline = time.monotonic() + 60
    while len(list(barrier.glob("ready-*"))) < len(workers):  # all started: release together
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.01)
    (barrier / "go").touch()
    codes = [_finish(w) for w in workers]
    assert codes == [0, 0, -9]
    # a later worker sees the dead worker's lease expired and resumes its flow by lookup
    final = _worker(ledger_env, CLOCK_OFFSET="120")
    assert _finish(final) == 0

    conn = sqlite3.connect(ledger_env["EFFECTS_DB"])
    try:
        rows = conn.execute("SELECT key, n, worker FROM effects").fetchall()
    finally:
        conn.close()
    store = _open(ledger_env)
    try:
        with store.transaction() as tx:
            flows = tx.list_flows()
    finally:
        store.close()
    assert len(flows) == FLOWS
    assert all(f.state is FlowState.SUCCEEDED for f in flows)
    assert len(rows) == FLOWS * 3
    assert {n for _, n, _ in rows} == {1}
    assert len({w for _, _, w in rows}) >= 2  # the backlog really was shared
