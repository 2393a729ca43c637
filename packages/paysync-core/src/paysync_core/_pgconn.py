"""A pooled PostgreSQL connection that keeps its two cursors (imported with ``PostgresLedger``
only: importing psycopg costs about a second, which SQLite-only processes should not pay)."""

from __future__ import annotations

import psycopg

__all__ = ["PooledConnection"]

_Row = tuple[object, ...]


class PooledConnection(psycopg.Connection[_Row]):
    """Every ledger transaction needs a cursor and a step's one-statement write a raw cursor;
    making them anew costs more than the rest of the client side of a step's statement, so a
    pooled connection (used by one thread at a time) keeps them."""

    _paysync_cursors: tuple[psycopg.Cursor[_Row], psycopg.RawCursor[_Row]] | None = None

    def paysync_cursors(self) -> tuple[psycopg.Cursor[_Row], psycopg.RawCursor[_Row]]:
        """The connection's ``(cursor, raw cursor)``, made on first use."""
        cursors = self._paysync_cursors
        if cursors is None or cursors[0].closed or cursors[1].closed:
            cursors = (self.cursor(), psycopg.RawCursor(self))
            self._paysync_cursors = cursors
        return cursors
