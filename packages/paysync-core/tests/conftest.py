"""Fixtures: every ledger test runs against SQLite and PostgreSQL.

PostgreSQL tests read ``PAYSYNC_TEST_POSTGRES_DSN``; without it (or if the server is down)
they skip, unless ``PAYSYNC_REQUIRE_POSTGRES=1`` makes that a failure (CI sets it). Each test
gets its own schema, tagged with this session's id, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from paysync_core import LedgerStore, PostgresLedger, SqliteLedger

SESSION_TAG = uuid.uuid4().hex[:8]
SCHEMA_PREFIX = f"pstest_{SESSION_TAG}_"

LedgerFactory = Callable[[], LedgerStore]


def _drop_session_schemas(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (SCHEMA_PREFIX,)
        ).fetchall()
        for (name,) in rows:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", "")
    required = os.environ.get("PAYSYNC_REQUIRE_POSTGRES") == "1"
    reason = ""
    if not dsn:
        reason = "PAYSYNC_TEST_POSTGRES_DSN is not set"
    else:
        try:
            with psycopg.connect(dsn, connect_timeout=3):
                pass
        except psycopg.Error as exc:
            reason = f"PostgreSQL at PAYSYNC_TEST_POSTGRES_DSN is unreachable: {exc}"
    if reason:
        if required:
            pytest.fail(f"{reason} (and PAYSYNC_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    yield dsn
    _drop_session_schemas(dsn)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerFactory]:
    """Opens stores on one fresh ledger; several calls give several workers' views of it."""
    opened: list[LedgerStore] = []
    kind = str(request.param)
    dsn = str(request.getfixturevalue("postgres_dsn")) if kind == "postgres" else ""
    schema = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:8]}"

    def make() -> LedgerStore:
        store: LedgerStore
        if kind == "sqlite":
            store = SqliteLedger(tmp_path / "ledger.db")
        else:
            store = PostgresLedger(dsn, schema=schema, max_size=20)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if kind == "postgres":
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def store(ledger_factory: LedgerFactory) -> LedgerStore:
    return ledger_factory()
