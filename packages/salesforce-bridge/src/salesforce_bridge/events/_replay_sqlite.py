"""SQLite replay store (stdlib ``sqlite3``), with the caller-transaction seam."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from ._replay import validate_identifier

__all__ = ["SqliteReplayStore"]


class SqliteReplayStore:
    """Checkpoints in a SQLite table ``(channel PRIMARY KEY, replay_id BLOB, updated_at)``.

    :meth:`save` commits in the store's own connection; :meth:`save_in` writes through a
    connection of yours (same database file) and leaves the commit to you, so the checkpoint
    commits atomically with your effects. Call :meth:`create_table` on your connection first
    if it may run before the store has created the table.
    """

    def __init__(self, path: str | Path, *, table: str = "salesforce_replay_checkpoints") -> None:
        self.path = str(path)
        self.table = validate_identifier(table)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self.create_table(self._conn)

    def create_table(self, connection: sqlite3.Connection) -> None:
        """Create the checkpoint table on ``connection`` if it does not exist."""
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "channel TEXT PRIMARY KEY, replay_id BLOB NOT NULL, updated_at TEXT NOT NULL)"
        )

    def load(self, channel: str) -> bytes | None:
        with self._lock:
            row: tuple[bytes] | None = self._conn.execute(
                f"SELECT replay_id FROM {self.table} WHERE channel = ?",  # noqa: S608
                (channel,),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def save(self, channel: str, replay_id: bytes) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self.save_in(self._conn, channel, replay_id)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def save_in(self, connection: sqlite3.Connection, channel: str, replay_id: bytes) -> None:
        """Upsert the checkpoint in ``connection``'s transaction; the caller commits."""
        connection.execute(
            f"INSERT INTO {self.table} (channel, replay_id, updated_at) VALUES (?, ?, ?) "  # noqa: S608
            "ON CONFLICT (channel) DO UPDATE SET replay_id = excluded.replay_id, "
            "updated_at = excluded.updated_at",
            (channel, bytes(replay_id), datetime.now(timezone.utc).isoformat()),
        )

    def clear(self, channel: str) -> None:
        with self._lock:
            self._conn.execute(
                f"DELETE FROM {self.table} WHERE channel = ?",  # noqa: S608
                (channel,),
            )

    def close(self) -> None:
        """Close the store's own connection."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteReplayStore(path={self.path!r}, table={self.table!r})"
