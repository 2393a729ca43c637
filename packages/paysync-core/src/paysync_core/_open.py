"""Opening a ledger from a URL (the CLI and configuration files use this)."""

from __future__ import annotations

from ._ledger import LedgerStore

__all__ = ["open_ledger"]


def open_ledger(url: str, *, schema: str = "paysync") -> LedgerStore:
    """``postgresql://...`` / ``postgres://...`` for PostgreSQL; ``sqlite:///path``, a plain
    path, or ``:memory:`` for SQLite."""
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresLedger

        return PostgresLedger(url, schema=schema)
    from ._sqlite import SqliteLedger

    if url.startswith("sqlite:///"):
        return SqliteLedger(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://"):
        return SqliteLedger(url.removeprefix("sqlite://") or ":memory:")
    return SqliteLedger(url)
