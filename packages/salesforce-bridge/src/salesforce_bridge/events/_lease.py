"""One active consumer per (org, channel): leases a subscription holds while it consumes.

- :class:`PostgresAdvisoryLease`: ``pg_try_advisory_lock`` on a dedicated connection. The lock
  lives as long as the session, so a holder that dies (crash, SIGKILL, lost machine) frees it
  as soon as PostgreSQL drops the connection (TCP keepalives bound that for a vanished host);
  a standby retrying :meth:`acquire` takes over. A heartbeat checks the connection every
  ``heartbeat`` seconds: if the holder's own session is gone it no longer holds the lease and
  :attr:`held` turns false, so it stops consuming before a successor starts.
- :class:`FileLease`: ``flock`` on a lock file next to a SQLite store (same machine only);
  the kernel releases it when the holder's process dies.

Both implement :class:`ConsumerLease`. The key is usually ``"<org id>:<channel>"``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from salesforce_bridge._errors import SalesforceBridgeError

if TYPE_CHECKING:
    import psycopg

__all__ = ["ConsumerLease", "FileLease", "LeaseLostError", "PostgresAdvisoryLease", "lease_id"]

_log = logging.getLogger(__name__)


class LeaseLostError(SalesforceBridgeError):
    """The consumer lease was lost while consuming (its database session died)."""


def lease_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for ``key`` (first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


@runtime_checkable
class ConsumerLease(Protocol):
    """An exclusive right to consume one channel."""

    key: str

    @property
    def held(self) -> bool:
        """Whether this process holds the lease right now."""
        ...

    def acquire(self) -> bool:
        """Try once, without waiting; ``True`` when held (already or now)."""
        ...

    def release(self) -> None:
        """Give the lease up (idempotent)."""
        ...


class PostgresAdvisoryLease:
    """A session-level advisory lock on its own connection (see the module docstring)."""

    def __init__(
        self,
        conninfo: str,
        key: str,
        *,
        heartbeat: float = 2.0,
        connect_timeout: int = 10,
    ) -> None:
        if heartbeat <= 0:
            raise ValueError("heartbeat: must be positive")
        self.key = key
        self.lock_id = lease_id(key)
        self.heartbeat = heartbeat
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self._held

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
        return self._conn

    def acquire(self) -> bool:
        import psycopg

        with self._lock:
            if self._held:
                return True
            try:
                row = (
                    self._connection()
                    .execute("SELECT pg_try_advisory_lock(%s)", (self.lock_id,))
                    .fetchone()
                )
            except psycopg.OperationalError as exc:
                _log.warning("lease %s: database unreachable (%s)", self.key, type(exc).__name__)
                self._drop_connection()
                return False
            self._held = bool(row and row[0])
            if self._held:
                self._stop = threading.Event()  # one per tenure: an old beat never revives
                self._thread = threading.Thread(
                    target=self._beat, args=(self._stop,), name=f"lease-{self.lock_id}", daemon=True
                )
                self._thread.start()
            return self._held

    def _beat(self, stop: threading.Event) -> None:
        import psycopg

        while not stop.wait(self.heartbeat):
            with self._lock:
                if not self._held or self._conn is None:
                    return
                try:
                    self._conn.execute("SELECT 1").fetchone()
                except psycopg.Error:
                    # Our session is gone, and the lock with it: a standby may hold it now.
                    _log.warning("lease %s lost: its database session died", self.key)
                    self._held = False
                    self._drop_connection()
                    return

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken; closing is best effort
                _log.debug("closing a broken lease connection failed", exc_info=True)

    def release(self) -> None:
        import psycopg

        self._stop.set()
        with self._lock:
            if self._held and self._conn is not None:
                try:
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.lock_id,))
                except psycopg.Error:
                    _log.debug("advisory unlock failed; closing the session frees it")
            self._held = False
            self._drop_connection()

    def __repr__(self) -> str:
        return f"PostgresAdvisoryLease(key={self.key!r}, held={self._held})"


class FileLease:
    """An exclusive ``flock`` on ``path`` (created if missing); same machine only."""

    def __init__(self, path: str | Path, key: str = "") -> None:
        self.path = Path(path)
        self.key = key or str(self.path)
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> bool:
        import fcntl

        with self._lock:
            if self._file is not None:
                return True
            handle = self.path.open("ab")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            self._file = handle
            return True

    def release(self) -> None:
        import fcntl

        with self._lock:
            handle, self._file = self._file, None
            if handle is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                handle.close()

    def __repr__(self) -> str:
        return f"FileLease(path={str(self.path)!r}, held={self.held})"
