"""Consumer PROCESSES killed with SIGKILL at the worst moments, against the emulator on a port.

Each run applies payment events as rows of an ``effects`` table (unique key) next to the
replay checkpoint. Killed between effect and ack, or between ack and checkpoint, then
restarted: every event is applied, none twice. On PostgreSQL, two consumers share a channel
under an advisory-lock lease: only one works; SIGKILL it and the other takes over from the
checkpoint without loss.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import signal
import sqlite3
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from salesforce_bridge.emulator import SalesforceEmulator
from salesforce_bridge.emulator._server import EmulatorServer, serve
from salesforce_bridge.events import PostgresReplayStore

EVENTS = 6
_spec = importlib.util.spec_from_file_location(
    "consumer_process", Path(__file__).with_name("consumer_process.py")
)
assert _spec is not None
assert _spec.loader is not None
consumer_process = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(consumer_process)


class Consumer:
    """A consumer in a forked child process; its JSON lines go to a file."""

    def __init__(self, out: Path, argv: list[str]) -> None:
        self.out = out
        self.process = multiprocessing.get_context("fork").Process(
            target=self._main, args=(argv,), daemon=True
        )
        self.process.start()

    def _main(self, argv: list[str]) -> None:
        try:
            consumer_process.run([*argv, "--out", str(self.out)])
        except BaseException:
            self.out.with_suffix(".err").write_text(traceback.format_exc())
            raise

    def wait(self, timeout: float = 30) -> int | None:
        self.process.join(timeout)
        err = self.out.with_suffix(".err")
        assert not err.exists(), err.read_text()
        return self.process.exitcode

    def lines(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line]

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    emulator = SalesforceEmulator()
    emulator.cometd.hold_seconds = 0.5  # a real long poll, cut short by each publish
    with serve(emulator) as running:
        yield running


def publish(server: EmulatorServer, *payment_ids: str) -> None:
    http = requests.Session()
    http.headers["Authorization"] = "Bearer 00Dtoken"
    for payment_id in payment_ids:
        answer = http.post(
            f"{server.url}/services/data/v66.0/sobjects/Payment_Event__e/",
            json={"Payment_ID__c": payment_id},
            timeout=5,
        )
        assert answer.status_code == 201, answer.text


def consumer(server: EmulatorServer, out: Path, *options: str) -> Consumer:
    return Consumer(out, ["--url", server.url, *options])


def handled(output: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return [(str(line["event"]), bool(line["inserted"])) for line in output if "event" in line]


def pg_effects(dsn: str, schema: str, *, create: bool = False) -> list[tuple[str, str]]:
    """The ``effects`` rows ``(payment_id, consumer)`` in ``schema``, sorted."""
    import psycopg
    from psycopg import sql

    table = sql.Identifier(schema, "effects")
    with psycopg.connect(dsn) as conn:
        if create:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (payment_id TEXT PRIMARY KEY, consumer TEXT NOT NULL)"
                ).format(table)
            )
        found = conn.execute(sql.SQL("SELECT payment_id, consumer FROM {}").format(table))
        return sorted((str(r[0]), str(r[1])) for r in found.fetchall())


def crash_twice_then_finish(
    server: EmulatorServer, tmp: Path, where: list[str], mode: str
) -> list[list[tuple[str, bool]]]:
    """Run 1 dies after the effect of its 3rd event, run 2 after the ack of its 2nd event
    (before the checkpoint is durable), run 3 finishes. Returns what each run handled."""
    publish(server, *(f"PAY-{n}" for n in range(EVENTS)))
    common = [*where, "--until", str(EVENTS), "--mode", mode]
    runs: list[list[tuple[str, bool]]] = []
    for n, crash in enumerate(["after_effect:3", "after_ack:2", ""]):
        run = consumer(server, tmp / f"run{n}.jsonl", *common, "--crash", crash)
        code = run.wait()
        runs.append(handled(run.lines()))
        assert code == (-signal.SIGKILL if crash else 0), (crash, code)
    return runs


@pytest.mark.parametrize("mode", ["plain", "transactional"])
def test_sqlite_consumer_killed_mid_event_loses_nothing_and_applies_nothing_twice(
    server: EmulatorServer, tmp_path: Path, mode: str
) -> None:
    db = tmp_path / "consumer.db"
    first, second, third = crash_twice_then_finish(server, tmp_path, ["--db", str(db)], mode)
    with sqlite3.connect(db) as conn:
        rows = sorted(r[0] for r in conn.execute("SELECT payment_id FROM effects"))
    assert rows == [f"PAY-{n}" for n in range(EVENTS)]  # none lost, none twice (unique key)
    # Each restart resumes at the unfinished event, never before the last durable checkpoint.
    assert [event for event, _ in first] == ["PAY-0", "PAY-1"]  # died inside PAY-2
    assert [event for event, _ in second] == ["PAY-2"]  # died inside PAY-3's ack
    assert [event for event, _ in third] == ["PAY-3", "PAY-4", "PAY-5"]
    if mode == "plain":
        # The effects were committed before dying: the redeliveries find them applied.
        assert second[0] == ("PAY-2", False)
        assert third[0] == ("PAY-3", False)
    else:
        # Effect and checkpoint commit together: the killed transaction left neither.
        assert second[0] == ("PAY-2", True)
        assert third[0] == ("PAY-3", True)


@pytest.mark.postgres
def test_postgres_consumer_killed_mid_event_loses_nothing_and_applies_nothing_twice(
    server: EmulatorServer, tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    dsn, schema = pg_schema
    where = ["--dsn", dsn, "--schema", schema]
    _first, second, third = crash_twice_then_finish(server, tmp_path, where, "transactional")
    rows = [payment_id for payment_id, _ in pg_effects(dsn, schema)]
    assert rows == [f"PAY-{n}" for n in range(EVENTS)]
    assert second == [("PAY-2", True)]
    assert [event for event, _ in third] == ["PAY-3", "PAY-4", "PAY-5"]


@pytest.mark.postgres
def test_two_consumer_processes_one_active_and_takeover_after_sigkill(
    server: EmulatorServer, tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    dsn, schema = pg_schema
    common = ["--dsn", dsn, "--schema", schema, "--lease", "--until", "8", "--deadline", "25"]
    # Create the tables before two processes race to (CREATE ... IF NOT EXISTS can collide).
    PostgresReplayStore(dsn, schema=schema).close()
    pg_effects(dsn, schema, create=True)
    first = consumer(server, tmp_path / "a.jsonl", *common, "--name", "A")
    second = consumer(server, tmp_path / "b.jsonl", *common, "--name", "B")

    def rows() -> list[tuple[str, str]]:
        return pg_effects(dsn, schema)

    def wait_rows(count: int, within: float = 15.0) -> list[tuple[str, str]]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = rows()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        pytest.fail(f"only {rows()} after {within} s")

    try:
        publish(server, *(f"E{n}" for n in range(4)))
        early = wait_rows(4)
        active = {consumer_name for _, consumer_name in early}
        assert len(active) == 1  # one consumer did all the work; the other stood by
        (leader,) = active
        victim, survivor = (first, second) if leader == "A" else (second, first)
        time.sleep(0.3)  # let the leader's acks land
        victim.kill()
        killed_at = time.monotonic()
        publish(server, *(f"E{n}" for n in range(4, 8)))
        final = wait_rows(8)
        takeover = time.monotonic() - killed_at
        print(f"takeover after SIGKILL: {takeover:.2f} s")
        assert survivor.wait() == 0
        output = survivor.lines()
    finally:
        first.kill()
        second.kill()
    assert [p for p, _ in final] == [f"E{n}" for n in range(8)]  # nothing lost
    new_owner = "B" if leader == "A" else "A"
    assert [p for p, c in final if c == new_owner] == [f"E{n}" for n in range(4, 8)]
    assert takeover < 10.0
    # The survivor received nothing while it stood by: only the events after the takeover.
    assert {event for event, _ in handled(output)} == {f"E{n}" for n in range(4, 8)}
