"""The embedded ledger: one SQLite file in WAL mode, zero setup.

One connection per store object, guarded by a lock, so a store can be shared by the threads
of one process; several processes (or several store objects) on the same file serialise their
writes with ``BEGIN IMMEDIATE`` and wait up to ``busy_timeout`` for each other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from os import PathLike
from types import TracebackType

from ._errors import LedgerError, MigrationError
from ._ledger import LedgerTransaction
from ._model import format_ts, utc_now
from ._schema import MIGRATIONS, SCHEMA_TABLE, SQLITE
from ._sqltx import Row, SqlTx

__all__ = ["SqliteLedger"]


def _noop() -> None:
    """Every SQLite transaction already holds the database write lock."""


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any exception) under the store's
    lock; a plain class instead of a generator-based context manager (one per step)."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: SqliteLedger) -> None:
        self._ledger = ledger

    def __enter__(self) -> LedgerTransaction:
        return self._ledger._begin()  # pyright: ignore[reportPrivateUsage]

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._ledger._end(failed=kind is not None)  # pyright: ignore[reportPrivateUsage]


class SqliteLedger:
    """Ledger store in a single SQLite file (``":memory:"`` for a private in-memory ledger)."""

    def __init__(self, path: str | PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self._path = str(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self._path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if self._path != ":memory:":
                self._enable_wal(time.monotonic() + busy_timeout)
            self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _enable_wal(self, deadline: float) -> None:
        # Switching the journal mode needs an exclusive lock, and SQLite answers "database is
        # locked" at once instead of calling the busy handler while other starters open the
        # same file; so wait here, up to the same busy timeout.
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    @property
    def dialect(self) -> str:
        return SQLITE.name

    @property
    def path(self) -> str:
        return self._path

    def _run(self, sql: str, params: Sequence[object]) -> tuple[list[Row], int]:
        try:
            cur = self._conn.execute(sql, params)
            rows: list[Row] = cur.fetchall()  # (plain tuples: no row factory is set)
        except sqlite3.Error as exc:
            raise LedgerError(f"SQLite ledger error: {type(exc).__name__}: {exc}") from exc
        return rows, cur.rowcount

    def transaction(self) -> AbstractContextManager[LedgerTransaction]:
        return _Transaction(self)

    def _begin(self) -> SqlTx:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._lock.release()
            raise LedgerError(f"cannot start a SQLite transaction: {exc}") from exc
        except BaseException:
            self._lock.release()
            raise
        return SqlTx(SQLITE, self._run, lock_claims=_noop)

    def _end(self, failed: bool) -> None:
        try:
            if failed:
                self._rollback()
                return
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise LedgerError(f"cannot commit to the SQLite ledger: {exc}") from exc
        finally:
            self._lock.release()

    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(SCHEMA_TABLE)
                row = self._conn.execute(
                    "SELECT COALESCE(MAX(version), 0) FROM paysync_schema_migrations"
                ).fetchone()
                current = int(row[0]) if row else 0
                latest = MIGRATIONS[-1].version
                if current > latest:
                    raise MigrationError(
                        f"ledger schema version {current} is newer than this paysync ({latest})"
                    )
                for migration in MIGRATIONS:
                    if migration.version <= current:
                        continue
                    for statement in migration.render(SQLITE):
                        self._conn.execute(statement)
                    self._conn.execute(
                        "INSERT INTO paysync_schema_migrations VALUES (?, ?, ?)",
                        (migration.version, migration.name, format_ts(utc_now())),
                    )
            except BaseException:
                self._rollback()
                raise
            self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def schema_version(self) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM paysync_schema_migrations"
            ).fetchone()
            return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteLedger({self._path!r})"
