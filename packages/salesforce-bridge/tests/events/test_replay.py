"""Replay stores (same behaviour over all three), the ack tracker and the transaction seam."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesforce_bridge.events import (
    AckTracker,
    Checkpointer,
    InMemoryReplayStore,
    PostgresReplayStore,
    ReplayStore,
    SqliteReplayStore,
    TransactionalReplayStore,
)

CHANNEL = "/data/AccountChangeEvent"


def test_store_starts_empty_and_round_trips_opaque_bytes(store: ReplayStore) -> None:
    assert store.load(CHANNEL) is None
    opaque = b"\x00\xff\x00\x10binary\x00"
    store.save(CHANNEL, opaque)
    assert store.load(CHANNEL) == opaque
    assert store.load("/event/Other__e") is None


def test_store_overwrites_and_clears_per_channel(store: ReplayStore) -> None:
    store.save(CHANNEL, b"\x01")
    store.save(CHANNEL, b"\x02")
    store.save("/event/Other__e", b"\x09")
    assert store.load(CHANNEL) == b"\x02"
    store.clear(CHANNEL)
    assert store.load(CHANNEL) is None
    assert store.load("/event/Other__e") == b"\x09"


def test_checkpointer_resumes_at_first_unacked_after_crash(store: ReplayStore) -> None:
    first = Checkpointer(store, CHANNEL)
    assert first.resume_from is None
    tickets = [first.delivered(bytes([i])) for i in range(1, 6)]
    assert first.ack(tickets[0]) == b"\x01"
    assert first.ack(tickets[2]) is None  # out of order: held at the first unacked (2)
    assert first.ack(tickets[3]) is None
    assert store.load(CHANNEL) == b"\x01"
    # crash here: event 2 was never acked; a restart replays from 1, so 2..5 come again
    restarted = Checkpointer(store, CHANNEL)
    assert restarted.resume_from == b"\x01"
    assert first.ack(tickets[1]) == b"\x04"
    assert Checkpointer(store, CHANNEL).resume_from == b"\x04"


def test_stores_satisfy_the_protocols(tmp_path: Path) -> None:
    sqlite_store = SqliteReplayStore(tmp_path / "p.db")
    try:
        assert isinstance(sqlite_store, ReplayStore)
        transactional: TransactionalReplayStore[sqlite3.Connection] = sqlite_store
        assert transactional is sqlite_store
    finally:
        sqlite_store.close()
    assert isinstance(InMemoryReplayStore(), ReplayStore)


def test_tracker_double_ack_and_repr() -> None:
    tracker = AckTracker(b"\x00")
    assert tracker.checkpoint == b"\x00"
    ticket = tracker.delivered(b"\x07")
    assert tracker.pending == 1
    assert tracker.ack(ticket) == b"\x07"
    assert tracker.ack(ticket) is None
    assert tracker.checkpoint == b"\x07"
    assert repr(tracker) == "AckTracker(pending=0)"


def test_tracker_handles_duplicate_replay_ids_as_separate_deliveries() -> None:
    tracker = AckTracker()
    a = tracker.delivered(b"\x05")
    b = tracker.delivered(b"\x05")  # duplicate delivery of the same event
    assert tracker.ack(b) is None
    assert tracker.ack(a) == b"\x05"
    assert tracker.pending == 0


@given(st.data(), st.integers(min_value=1, max_value=40))
def test_tracker_never_passes_an_unacked_event(data: st.DataObject, count: int) -> None:
    tracker = AckTracker()
    tickets = [tracker.delivered(i.to_bytes(8, "big")) for i in range(count)]
    order = data.draw(st.permutations(range(count)))
    acked: set[int] = set()
    for index in order:
        tracker.ack(tickets[index])
        acked.add(index)
        prefix = 0
        while prefix in acked:
            prefix += 1
        expected = None if prefix == 0 else tickets[prefix - 1].replay_id
        assert tracker.checkpoint == expected
    assert tracker.checkpoint == tickets[-1].replay_id
    assert tracker.pending == 0


def test_sqlite_checkpoint_commits_with_callers_effects(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    store = SqliteReplayStore(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE effects (id TEXT PRIMARY KEY)")
        tracker = AckTracker()
        ticket = tracker.delivered(b"\x01")
        conn.execute("BEGIN")
        conn.execute("INSERT INTO effects VALUES ('a')")
        advanced = tracker.ack(ticket)
        assert advanced == b"\x01"
        store.save_in(conn, CHANNEL, advanced)
        conn.execute("ROLLBACK")  # crash before commit: neither effect nor checkpoint
        assert store.load(CHANNEL) is None
        assert conn.execute("SELECT count(*) FROM effects").fetchone() == (0,)
        conn.execute("BEGIN")
        conn.execute("INSERT INTO effects VALUES ('a')")
        store.save_in(conn, CHANNEL, b"\x01")
        conn.execute("COMMIT")
        assert store.load(CHANNEL) == b"\x01"
    finally:
        conn.close()
        store.close()


def test_identifiers_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="identifier"):
        SqliteReplayStore(tmp_path / "x.db", table="x; DROP TABLE y")


@pytest.mark.postgres
def test_postgres_checkpoint_commits_with_callers_effects(pg_schema: tuple[str, str]) -> None:
    import psycopg
    from psycopg import sql

    dsn, schema = pg_schema
    store = PostgresReplayStore(dsn, schema=schema)
    assert dsn not in repr(store)
    effects = sql.Identifier(schema, "effects")
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute(sql.SQL("CREATE TABLE {} (id TEXT PRIMARY KEY)").format(effects))
            conn.commit()
            conn.execute(sql.SQL("INSERT INTO {} VALUES ('a')").format(effects))
            store.save_in(conn, CHANNEL, b"\x01")
            conn.rollback()
            assert store.load(CHANNEL) is None
            conn.execute(sql.SQL("INSERT INTO {} VALUES ('a')").format(effects))
            store.save_in(conn, CHANNEL, b"\x01\x02")
            assert store.load(CHANNEL) is None  # not visible before the caller commits
            conn.commit()
        assert store.load(CHANNEL) == b"\x01\x02"
    finally:
        store.close()
