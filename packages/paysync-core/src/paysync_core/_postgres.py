"""The shared ledger on PostgreSQL (psycopg 3 with a connection pool).

Many workers on many machines share one database. Flows are leased with
``SELECT ... FOR UPDATE SKIP LOCKED`` under a short transaction-level advisory lock that
serialises claimers (per-entity mutual exclusion compares rows no single row lock covers: a
flow committed late with an older sequence number must not start beside a running one of its
entity); audit appends serialise per shard chain on the shard's ``audit_heads`` row
(``SELECT ... FOR UPDATE``), so flows in different shards never wait for each other;
migrations run under another advisory lock, so concurrent starters are safe. All tables live
in ``schema`` (created if missing).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._errors import LeaseLostError, LedgerError, MigrationError
from ._ledger import LedgerTransaction
from ._model import format_ts, utc_now
from ._schema import FENCE_HEAD_MOVED, FENCE_LEASE_LOST, MIGRATIONS, POSTGRES, SCHEMA_TABLE
from ._sqltx import HeadCache, HeadMovedError, Row, SqlTx

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from ._pgconn import PooledConnection

__all__ = ["PostgresLedger"]

# psycopg is imported when a PostgresLedger is created, not with paysync_core: importing it
# costs about a second, which SQLite-only processes (and the CLI) should not pay.


@functools.lru_cache(maxsize=512)
def _encoded(statement: str) -> bytes:
    return statement.encode()


def _lock_id(*parts: str) -> int:
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLedger:
    """Ledger store in PostgreSQL; ``dsn`` is a libpq connection string or URL."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "paysync",
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        from psycopg import sql as pgsql
        from psycopg_pool import ConnectionPool

        from ._pgconn import PooledConnection

        self._schema = schema
        self._migrate_lock = _lock_id("paysync-migrate", schema)
        self._claim_lock = _lock_id("paysync-claim", schema)
        self._heads = HeadCache()
        search_path = pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema))

        def configure(conn: PooledConnection) -> None:
            conn.execute(search_path)
            conn.commit()
            # transactions are begun explicitly (and only when needed): a step's writes are
            # one autocommit statement, one round trip instead of BEGIN, statement, COMMIT
            conn.autocommit = True

        self._pool: ConnectionPool[PooledConnection] = ConnectionPool(
            dsn,
            connection_class=PooledConnection,
            min_size=min_size,
            max_size=max_size,
            configure=configure,
            timeout=connect_timeout,
            open=False,
            name=f"paysync-{schema}",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    @property
    def dialect(self) -> str:
        return POSTGRES.name

    @property
    def schema(self) -> str:
        return self._schema

    @contextmanager
    def _connection(self) -> Generator[PooledConnection, None, None]:
        import psycopg

        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise LedgerError(f"PostgreSQL ledger error: {type(exc).__name__}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Generator[LedgerTransaction, None, None]:
        import psycopg

        with self._connection() as conn:
            cur, raw = conn.paysync_cursors()
            began = False

            def send(statement: str, params: Sequence[object]) -> tuple[list[Row], int]:
                cur.execute(_encoded(statement), tuple(params))
                # ``nfields`` instead of ``description``, which builds column objects per call
                result = cur.pgresult
                rows: list[Row] = list(cur.fetchall()) if result and result.nfields else []
                return rows, cur.rowcount

            def run(statement: str, params: Sequence[object]) -> tuple[list[Row], int]:
                nonlocal began
                if not began:
                    cur.execute(b"BEGIN")
                    began = True
                return send(statement, params)

            def one_shot(statement: str, params: Sequence[object]) -> tuple[list[Row], int]:
                """A statement outside any transaction: it commits (or aborts) on its own.
                ``$n`` placeholders: the raw cursor sends the text without parsing it."""
                try:
                    raw.execute(_encoded(statement), tuple(params))
                    return list(raw.fetchall()), raw.rowcount
                except psycopg.Error as exc:
                    if exc.sqlstate == FENCE_HEAD_MOVED:
                        raise HeadMovedError from None
                    if exc.sqlstate == FENCE_LEASE_LOST:
                        raise LeaseLostError(str(exc).strip()) from None
                    raise

            def lock_claims() -> None:
                run("SELECT pg_advisory_xact_lock(%s)", (self._claim_lock,))

            tx = SqlTx(
                POSTGRES, run, lock_claims=lock_claims, one_shot=one_shot, head_cache=self._heads
            )
            try:
                yield tx
                tx.finish()  # the deferred writes (alone: one autocommit statement)
            except BaseException:
                if began and not conn.closed:
                    with contextlib.suppress(psycopg.Error):  # broken: the pool discards it
                        cur.execute(b"ROLLBACK")
                raise
            if began:
                cur.execute(b"COMMIT")

    def _migrate(self) -> None:
        from psycopg import sql as pgsql

        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._migrate_lock,))
            conn.execute(
                pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(self._schema))
            )
            conn.execute(SCHEMA_TABLE.encode())
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM paysync_schema_migrations"
            ).fetchone()
            current = int(str(row[0])) if row else 0
            latest = MIGRATIONS[-1].version
            if current > latest:
                raise MigrationError(
                    f"ledger schema version {current} is newer than this paysync ({latest})"
                )
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.render(POSTGRES):
                    conn.execute(statement.encode())
                conn.execute(
                    "INSERT INTO paysync_schema_migrations VALUES (%s, %s, %s)",
                    (migration.version, migration.name, format_ts(utc_now())),
                )

    def schema_version(self) -> int:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM paysync_schema_migrations"
            ).fetchone()
            return int(str(row[0])) if row else 0

    def drop_schema(self) -> None:
        """Drop the whole schema (tests and throw-away environments only)."""
        from psycopg import sql as pgsql

        with self._connection() as conn:
            conn.execute(
                pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(self._schema))
            )

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresLedger(schema={self._schema!r})"
