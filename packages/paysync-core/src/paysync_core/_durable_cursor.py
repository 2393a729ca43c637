"""The ledger tables behind paysync's polled inputs (PayTrace exports, Fusion changes).

A poller keeps, per name, a **durable cursor** (the newest position handled, a row of a
:class:`CursorTable`) and a **seen-set** (the records handled inside the overlap window it
re-reads, rows of a :class:`SeenSet`). Both are written in the transaction that submits a
record's flow (the engine's ``checkpoint`` hook), so a crash loses nothing and repeats nothing.

Positions and stamps are stored as fixed-width UTC text (:func:`utc_text`): string order is time
order, so pruning and "never move back" compare as text in SQL and in Python alike. The table
and column names are given by each poller (they are those of existing ledgers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from ._ledger import LedgerTransaction
from ._status import StreamPosition, stream_positions

__all__ = ["CursorTable", "SeenSet", "utc_text"]


def utc_text(moment: datetime) -> str:
    """``moment`` as fixed-width UTC text (string order is time order)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass(frozen=True)
class SeenSet:
    """Rows ``(name, key, stamp)`` of ``table``: the records the poller ``name`` handled.

    ``stamp`` is UTC text (what pruning compares); ``primary_key`` is the table's key after
    ``name`` (``key`` alone, or ``key`` and ``stamp`` when a record is seen once per version).
    """

    table: str
    key: str
    stamp: str
    primary_key: tuple[str, ...]
    create: str
    """The ``CREATE TABLE IF NOT EXISTS`` statement of ``table``."""

    def handled(
        self, tx: LedgerTransaction, name: str, keys: Sequence[object]
    ) -> list[tuple[str, str]]:
        """The ``(key, stamp)`` rows of ``name`` among ``keys`` (every stamp of each key)."""
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        rows = tx.execute(
            f"SELECT {self.key}, {self.stamp} FROM {self.table} "  # noqa: S608
            f"WHERE name = ? AND {self.key} IN ({marks})",
            (name, *keys),
        )
        return [(str(row[0]), str(row[1])) for row in rows]

    def mark(self, tx: LedgerTransaction, name: str, key: object, stamp: str) -> None:
        """Record ``key`` handled by ``name`` (again: nothing changes)."""
        conflict = ", ".join(("name", *self.primary_key))
        tx.execute(
            f"INSERT INTO {self.table} (name, {self.key}, {self.stamp}) "  # noqa: S608
            f"VALUES (?, ?, ?) ON CONFLICT ({conflict}) DO NOTHING",
            (name, key, stamp),
        )

    def prune(self, tx: LedgerTransaction, name: str, before: datetime) -> None:
        """Forget ``name``'s rows stamped before ``before`` (out of any window re-read)."""
        tx.execute(
            f"DELETE FROM {self.table} WHERE name = ? AND {self.stamp} < ?",  # noqa: S608
            (name, utc_text(before)),
        )


@dataclass(frozen=True)
class CursorTable:
    """Rows ``(name, position, updated_at)`` of ``table``: one durable cursor per name.

    Reading creates the table and its ``seen`` companion first (absent before the first poll).
    """

    table: str
    seen: SeenSet

    def ensure(self, tx: LedgerTransaction) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "name TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
        tx.execute(self.seen.create)

    def read(self, tx: LedgerTransaction, name: str) -> datetime | None:
        """The position of cursor ``name`` (``None`` before it first moved)."""
        self.ensure(tx)
        rows = tx.execute(f"SELECT position FROM {self.table} WHERE name = ?", (name,))  # noqa: S608
        return datetime.fromisoformat(str(rows[0][0])) if rows else None

    def write(self, tx: LedgerTransaction, name: str, position: str, now: datetime) -> None:
        """Set cursor ``name`` to ``position`` (UTC text), moved at ``now``."""
        tx.execute(
            f"INSERT INTO {self.table} (name, position, updated_at) VALUES (?, ?, ?) "  # noqa: S608
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
            "updated_at = excluded.updated_at",
            (name, position, utc_text(now)),
        )

    def positions(self, tx: LedgerTransaction, kind: str, now: datetime) -> list[StreamPosition]:
        """``paysync status``: every cursor, the lag being the time since it last moved."""
        self.ensure(tx)  # absent before the first poll: report nothing, not an error
        rows = tx.execute(
            f"SELECT name, position, updated_at FROM {self.table} ORDER BY name"  # noqa: S608
        )
        return stream_positions(kind, rows, now)
