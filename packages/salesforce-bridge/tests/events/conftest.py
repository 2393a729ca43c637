"""Replay-store fixtures: the same behavioural tests run over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesforce_bridge.events import (
    InMemoryReplayStore,
    PostgresReplayStore,
    ReplayStore,
    SqliteReplayStore,
)


def postgres_dsn() -> str:
    """The test DSN, or skip (fail under ``PAYSYNC_REQUIRE_POSTGRES=1``) when unusable."""
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", "")
    required = os.environ.get("PAYSYNC_REQUIRE_POSTGRES") == "1"
    reason = "PAYSYNC_TEST_POSTGRES_DSN is not set"
    if dsn:
        try:
            import psycopg

            with psycopg.connect(dsn, connect_timeout=3):
                return dsn
        except Exception as exc:
            reason = f"PostgreSQL unreachable: {type(exc).__name__}"
    if required:
        pytest.fail(f"PAYSYNC_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A DSN and a unique schema name, dropped afterwards."""
    import psycopg
    from psycopg import sql

    dsn = postgres_dsn()
    schema = f"sfb_test_{uuid.uuid4().hex[:12]}"
    yield dsn, schema
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReplayStore]:
    kind: str = request.param
    if kind == "memory":
        yield InMemoryReplayStore()
    elif kind == "sqlite":
        sqlite_store = SqliteReplayStore(tmp_path / "replay.db")
        yield sqlite_store
        sqlite_store.close()
    else:
        dsn, schema = request.getfixturevalue("pg_schema")
        pg_store = PostgresReplayStore(dsn, schema=schema)
        yield pg_store
        pg_store.close()
