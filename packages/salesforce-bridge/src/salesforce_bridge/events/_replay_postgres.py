"""PostgreSQL replay store (psycopg 3, the ``postgres`` extra), with the caller-transaction seam."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ._replay import validate_identifier

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

__all__ = ["PostgresReplayStore"]


class PostgresReplayStore:
    """Checkpoints in a PostgreSQL table ``(channel PRIMARY KEY, replay_id BYTEA, updated_at)``.

    ``conninfo`` is a libpq DSN; it is never shown in ``repr`` (it may hold a password).
    :meth:`save_in` writes through your ``psycopg.Connection`` inside your transaction.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        table: str = "salesforce_replay_checkpoints",
        schema: str | None = None,
        connect_timeout: int = 10,
    ) -> None:
        import psycopg

        self.table = validate_identifier(table)
        self.schema = validate_identifier(schema) if schema is not None else None
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] = psycopg.connect(
            conninfo, autocommit=True, connect_timeout=connect_timeout
        )
        self.create_table(self._conn)

    def _sql(self, template: str) -> sql.Composed:
        from psycopg import sql

        name = (
            sql.Identifier(self.schema, self.table) if self.schema else sql.Identifier(self.table)
        )
        return sql.SQL(template).format(table=name)  # pyright: ignore[reportArgumentType]

    def create_table(self, connection: psycopg.Connection[Any]) -> None:
        """Create the schema (if any) and the checkpoint table on ``connection``."""
        from psycopg import sql

        if self.schema:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
        connection.execute(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {table} ("
                "channel TEXT PRIMARY KEY, replay_id BYTEA NOT NULL, "
                "updated_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        )

    def load(self, channel: str) -> bytes | None:
        query = self._sql("SELECT replay_id FROM {table} WHERE channel = %s")
        with self._lock:
            row = self._conn.execute(query, (channel,)).fetchone()
        return None if row is None else bytes(row[0])

    def save(self, channel: str, replay_id: bytes) -> None:
        with self._lock, self._conn.transaction():
            self.save_in(self._conn, channel, replay_id)

    def save_in(self, connection: psycopg.Connection[Any], channel: str, replay_id: bytes) -> None:
        """Upsert the checkpoint in ``connection``'s transaction; the caller commits."""
        query = self._sql(
            "INSERT INTO {table} (channel, replay_id) VALUES (%s, %s) ON CONFLICT (channel) "
            "DO UPDATE SET replay_id = EXCLUDED.replay_id, updated_at = now()"
        )
        connection.execute(query, (channel, bytes(replay_id)))

    def clear(self, channel: str) -> None:
        query = self._sql("DELETE FROM {table} WHERE channel = %s")
        with self._lock:
            self._conn.execute(query, (channel,))

    def close(self) -> None:
        """Close the store's own connection."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresReplayStore(schema={self.schema!r}, table={self.table!r})"
