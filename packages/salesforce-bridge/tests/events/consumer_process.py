"""A consumer process for the crash and lease tests: ``run(argv)`` in a forked child process.

It subscribes over CometD to ``/event/Payment_Event__e`` on an emulator served on a port and
applies each event as a row of ``effects`` (unique ``payment_id``), in the database that also
holds the replay checkpoint (SQLite file, or a PostgreSQL schema). ``--crash`` SIGKILLs the
process at a chosen point of the N-th event; ``--lease`` makes it one of several consumers of
which only the lease holder works. Appends one JSON line per handled event to ``--out``.
(Forked, not spawned: a fresh interpreter would spend seconds importing the package.)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import time
from typing import Any

from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.events import (
    ConsumerLease,
    Delivery,
    PostgresAdvisoryLease,
    PostgresReplayStore,
    SqliteReplayStore,
    subscribe,
)

CHANNEL = "/event/Payment_Event__e"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillOnSave:
    """A store that dies inside its ``at``-th ``save``: after the ack, before the checkpoint."""

    def __init__(self, inner: Any, at: int) -> None:
        self.inner = inner
        self.at = at
        self.saves = 0

    def load(self, channel: str) -> bytes | None:
        return self.inner.load(channel)

    def save(self, channel: str, replay_id: bytes) -> None:
        self.saves += 1
        if self.saves == self.at:
            die()
        self.inner.save(channel, replay_id)

    def clear(self, channel: str) -> None:
        self.inner.clear(channel)

    def save_in(self, connection: Any, channel: str, replay_id: bytes) -> None:
        self.inner.save_in(connection, channel, replay_id)


class Effects:
    """The application's effects table, on its own connection."""

    def __init__(self, db: str, dsn: str, schema: str) -> None:
        self.sqlite = bool(db)
        if self.sqlite:
            self.conn: Any = sqlite3.connect(db, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 5000")
            self.table = "effects"
            mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(dsn, autocommit=True)
            self.table = f"{schema}.effects"
            mark = "%s"
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} "
            "(payment_id TEXT PRIMARY KEY, consumer TEXT NOT NULL)"
        )
        self.insert = (
            f"INSERT INTO {self.table} (payment_id, consumer) VALUES ({mark}, {mark}) "  # noqa: S608
            "ON CONFLICT (payment_id) DO NOTHING"
        )

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")

    def apply(self, payment_id: str, consumer: str) -> bool:
        return self.conn.execute(self.insert, (payment_id, consumer)).rowcount == 1

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def count(self) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])  # noqa: S608


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", default="")
    parser.add_argument("--dsn", default="")
    parser.add_argument("--schema", default="")
    parser.add_argument("--mode", choices=["plain", "transactional"], default="plain")
    parser.add_argument("--crash", default="")  # "after_effect:N" | "after_ack:N"
    parser.add_argument("--lease", action="store_true")
    parser.add_argument("--name", default="consumer")
    parser.add_argument("--until", type=int, required=True)
    parser.add_argument("--deadline", type=float, default=20.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = open(args.out, "a", encoding="utf-8")  # noqa: SIM115 - the process may die holding it

    def emit(line: dict[str, Any]) -> None:
        out.write(json.dumps(line) + "\n")
        out.flush()

    crash_point, _, crash_at = args.crash.partition(":")
    nth = int(crash_at or 0)
    inner: Any = (
        SqliteReplayStore(args.db) if args.db else PostgresReplayStore(args.dsn, schema=args.schema)
    )
    # In plain mode ack() saves through store.save: die inside it (acked, not checkpointed).
    store = KillOnSave(inner, nth) if crash_point == "after_ack" and args.mode == "plain" else inner
    lease: ConsumerLease | None = None
    if args.lease:
        lease = PostgresAdvisoryLease(args.dsn, f"{args.schema}:{CHANNEL}", heartbeat=0.5)
    grant = StaticSessionGrant(SalesforceSession(access_token="00Dtoken", instance_url=args.url))
    effects = Effects(args.db, args.dsn, args.schema)
    sub = subscribe(
        CHANNEL, transport="cometd", grant=grant, store=store, replay="earliest", lease=lease
    )
    emit({"ready": args.name})
    handled = 0
    deadline = time.monotonic() + args.deadline
    while time.monotonic() < deadline and effects.count() < args.until:
        deliveries = sub.fetch(10, timeout=0.5)
        if not sub.active:
            time.sleep(0.1)  # a standby: another process holds the lease
        for delivery in deliveries:
            handled += 1
            crash_here = handled == nth
            inserted = handle(delivery, effects, args, crash_point if crash_here else "")
            line = {"event": delivery.event.payload["Payment_ID__c"], "inserted": inserted}
            emit({**line, "consumer": args.name})
    sub.close()
    emit({"done": args.name, "handled": handled})
    out.close()


def handle(delivery: Delivery, effects: Effects, args: argparse.Namespace, crash: str) -> bool:
    payment_id = str(delivery.event.payload["Payment_ID__c"])
    if args.mode == "transactional":
        # The effect and the checkpoint commit together (the save_in seam), or neither does.
        effects.begin()
        inserted = effects.apply(payment_id, args.name)
        if crash == "after_effect":
            die()
        delivery.ack_in(effects.conn)
        if crash == "after_ack":
            die()
        effects.commit()
        return inserted
    inserted = effects.apply(payment_id, args.name)  # autocommit: durable now
    if crash == "after_effect":
        die()
    delivery.ack()  # KillOnSave dies in here for "after_ack"
    return inserted
