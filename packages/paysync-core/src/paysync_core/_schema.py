"""SQL dialects and the versioned schema migrations shared by both ledger stores.

Migrations are append-only: never edit a released one, add the next version. Each store applies
the missing ones inside one transaction that holds an exclusive lock (``BEGIN IMMEDIATE`` on
SQLite, a transaction-level advisory lock on PostgreSQL), so concurrent starters are safe: the
first one migrates, the others wait and then find nothing to do.

Timestamps are stored as fixed-width ISO-8601 UTC text in both stores (see ``format_ts``), so
string comparison is time comparison and both stores share every query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._audit_hash import AUDIT_SHARDS, GENESIS_HASH

__all__ = [
    "AUDIT_GUARD_TRIGGERS",
    "FENCE_HEAD_MOVED",
    "FENCE_LEASE_LOST",
    "MIGRATIONS",
    "POSTGRES",
    "SQLITE",
    "Dialect",
    "Migration",
]

FENCE_LEASE_LOST = "PSL01"
"""SQLSTATE of ``paysync_fence`` (migration 8) when the writer's lease is gone."""
FENCE_HEAD_MOVED = "PSH01"
"""SQLSTATE of ``paysync_fence`` when the audit shard head is not the cached one."""


@dataclass(frozen=True)
class Dialect:
    name: str
    serial_pk: str
    skip_locked: str
    placeholder: str
    for_update: str = ""
    """Row lock for a read-then-write (SQLite transactions already hold the write lock)."""

    def sql(self, statement: str) -> str:
        """Translate ``?`` placeholders to the driver's style."""
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


SQLITE = Dialect(
    name="sqlite",
    serial_pk="INTEGER PRIMARY KEY AUTOINCREMENT",
    skip_locked="",
    placeholder="?",
)
POSTGRES = Dialect(
    name="postgresql",
    serial_pk="BIGSERIAL PRIMARY KEY",
    skip_locked="FOR UPDATE SKIP LOCKED",
    placeholder="%s",
    for_update="FOR UPDATE",
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    per_dialect: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    """Statements only one dialect runs (triggers), keyed by :attr:`Dialect.name`."""

    def render(self, dialect: Dialect) -> list[str]:
        statements = (*self.statements, *self.per_dialect.get(dialect.name, ()))
        return [s.replace("{serial_pk}", dialect.serial_pk) for s in statements]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "flows, steps, dead letters, audit trail",
        (
            """CREATE TABLE flows (
                seq {serial_pk},
                flow_id TEXT NOT NULL UNIQUE,
                flow_key TEXT NOT NULL UNIQUE,
                use_case TEXT NOT NULL,
                source_system TEXT NOT NULL,
                source_id TEXT NOT NULL,
                version TEXT NOT NULL,
                entity_key TEXT NOT NULL,
                input_json TEXT NOT NULL,
                state TEXT NOT NULL,
                current_step INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                lease_owner TEXT,
                lease_expires_at TEXT,
                last_error TEXT
            )""",
            "CREATE INDEX flows_state_seq ON flows (state, seq)",
            "CREATE INDEX flows_entity_seq ON flows (entity_key, seq)",
            """CREATE TABLE steps (
                flow_id TEXT NOT NULL,
                step_index INTEGER NOT NULL,
                name TEXT NOT NULL,
                idempotency_key TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                request_summary_json TEXT NOT NULL,
                external_ids_json TEXT NOT NULL,
                intended_at TEXT NOT NULL,
                requested_at TEXT,
                finished_at TEXT,
                last_error TEXT,
                PRIMARY KEY (flow_id, step_index)
            )""",
            """CREATE TABLE dead_letters (
                seq {serial_pk},
                entry_id TEXT NOT NULL UNIQUE,
                fingerprint TEXT NOT NULL UNIQUE,
                flow_id TEXT NOT NULL,
                step_name TEXT NOT NULL,
                reason TEXT NOT NULL,
                last_error TEXT,
                evidence_json TEXT NOT NULL,
                occurrences INTEGER NOT NULL,
                status TEXT NOT NULL,
                note TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX dead_letters_status ON dead_letters (status, seq)",
            """CREATE TABLE audit_log (
                seq BIGINT PRIMARY KEY,
                at TEXT NOT NULL,
                flow_id TEXT,
                kind TEXT NOT NULL,
                detail_json TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "parked flows (not_before) and persisted lookup re-checks",
        (
            "ALTER TABLE flows ADD COLUMN not_before TEXT",
            "ALTER TABLE steps ADD COLUMN lookup_checks INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        3,
        "shared API quota usage",
        (
            """CREATE TABLE quota_usage (
                system TEXT NOT NULL,
                span TEXT NOT NULL,
                window_start TEXT NOT NULL,
                used INTEGER NOT NULL,
                PRIMARY KEY (system, span, window_start)
            )""",
        ),
    ),
    Migration(
        4,
        "append-only audit trail (UPDATE/DELETE/TRUNCATE rejected by triggers)",
        (),
        per_dialect={
            "sqlite": (
                """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
                """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
            ),
            "postgresql": (
                """CREATE FUNCTION paysync_audit_append_only() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'audit_log is append-only (% rejected)', TG_OP;
                END
                $$""",
                """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION paysync_audit_append_only()""",
                """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION paysync_audit_append_only()""",
            ),
        },
    ),
    Migration(
        5,
        "alert incidents (one alert per incident and sink, shared by every process)",
        (
            """CREATE TABLE alert_incidents (
                sink TEXT NOT NULL,
                dedup_key TEXT NOT NULL,
                rule TEXT NOT NULL,
                opened_at TEXT NOT NULL,
                PRIMARY KEY (sink, dedup_key)
            )""",
        ),
    ),
    Migration(
        6,
        "dashboard reads (flows per use case and state, throughput, a flow's audit entries)",
        (
            # Covering indexes: the overview counts the (few) unfinished and dead flows per
            # use case, and the flows finished per minute, from the index alone.
            "CREATE INDEX flows_state_use_case ON flows (state, use_case)",
            "CREATE INDEX flows_updated_state ON flows (updated_at, state)",
            "CREATE INDEX audit_log_flow_seq ON audit_log (flow_id, seq)",
        ),
    ),
    Migration(
        7,
        "sharded audit chains (one chain per shard of flow ids, heads in audit_heads)",
        (
            # Records from now on carry (shard, shard_seq); older ones (NULL) stay the legacy
            # ledger-wide chain. A shard's appenders serialise on its audit_heads row only.
            "ALTER TABLE audit_log ADD COLUMN shard INTEGER",
            "ALTER TABLE audit_log ADD COLUMN shard_seq BIGINT",
            "CREATE UNIQUE INDEX audit_log_shard_seq ON audit_log (shard, shard_seq)",
            """CREATE TABLE audit_heads (
                shard INTEGER PRIMARY KEY,
                shard_seq BIGINT NOT NULL,
                hash TEXT NOT NULL
            )""",
            "INSERT INTO audit_heads (shard, shard_seq, hash) VALUES "  # noqa: S608 (constants)
            + ", ".join(f"({n}, 0, '{GENESIS_HASH}')" for n in range(AUDIT_SHARDS)),
        ),
        per_dialect={
            # the global seq only orders the export; a sequence hands it out without a lock
            "postgresql": (
                "CREATE SEQUENCE audit_log_seq",
                "SELECT setval('audit_log_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log),"
                " false)",
                "ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq')",
            ),
        },
    ),
    Migration(
        8,
        "one-statement step writes (PostgreSQL: the fence that aborts a stale write)",
        (),
        per_dialect={
            # A step's writes go as one autocommit statement (lease renewal, step upserts, a
            # compare-and-set of the shard head, audit records). It must abort as a whole when
            # the lease is gone or the cached head is stale; SQL has no RAISE, so this does.
            "postgresql": (
                f"""CREATE OR REPLACE FUNCTION paysync_fence(renewed bigint, heads bigint)
                RETURNS integer LANGUAGE plpgsql AS $$
                BEGIN
                    IF renewed <> 1 THEN
                        RAISE EXCEPTION 'paysync: lease lost' USING ERRCODE = '{FENCE_LEASE_LOST}';
                    END IF;
                    IF heads <> 1 THEN
                        RAISE EXCEPTION 'paysync: audit head moved'
                            USING ERRCODE = '{FENCE_HEAD_MOVED}';
                    END IF;
                    RETURN 1;
                END
                $$""",
            ),
        },
    ),
)

AUDIT_GUARD_TRIGGERS: Mapping[str, tuple[str, ...]] = {
    "sqlite": ("audit_log_no_update", "audit_log_no_delete"),
    "postgresql": ("audit_log_append_only", "audit_log_no_truncate"),
}
"""The triggers of migration 4, per dialect (tamper tests drop them to play the attacker)."""

SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS paysync_schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""
