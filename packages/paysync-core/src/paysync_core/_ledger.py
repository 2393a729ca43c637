"""The ledger store protocol.

A store hands out transactions; every read and write of the engine happens inside one, so an
outcome, the next step's intent, an audit record and an event-stream checkpoint commit together
or not at all. Two implementations ship: :class:`SqliteLedger` and :class:`PostgresLedger`;
both use :class:`~paysync_core._sqltx.SqlTx` so they behave identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from ._model import (
    AuditRecord,
    DeadLetter,
    DeadLetterStatus,
    FlowRecord,
    FlowState,
    StepRecord,
)

__all__ = ["LedgerStore", "LedgerTransaction"]


class LedgerTransaction(Protocol):
    """Operations available inside one ledger transaction."""

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (for checkpoint hooks writing their own tables)."""
        ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run raw SQL in this transaction; placeholders are ``?`` on every store."""
        ...

    def insert_flow(self, flow: FlowRecord) -> bool: ...
    def get_flow(self, flow_id: str) -> FlowRecord | None: ...
    def get_flow_by_key(self, flow_key: str) -> FlowRecord | None: ...
    def flows_for_entity(self, use_case: str, entity_key: str) -> list[FlowRecord]:
        """The flows of ``use_case`` on ``entity_key``, in submission order."""
        ...

    def list_flows(self, state: FlowState | None = None) -> list[FlowRecord]: ...
    def update_flow(
        self,
        flow_id: str,
        *,
        now: datetime,
        owner: str | None = None,
        state: FlowState | None = None,
        current_step: int | None = None,
        input: Mapping[str, object] | None = None,
        last_error: str | None = None,
        lease_expires_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> bool: ...
    def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease_expires_at: datetime,
        limit: int,
        flow_id: str | None = None,
        use_cases: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> list[str]: ...
    def release(self, flow_id: str, *, owner: str, now: datetime) -> None: ...
    def draw_quota(self, system: str, windows: Sequence[tuple[str, str, int]]) -> int | None: ...
    def put_step(self, step: StepRecord) -> None: ...
    def put_steps(self, steps: Sequence[StepRecord]) -> None:
        """Upsert several step records in one statement."""
        ...

    def get_steps(self, flow_id: str) -> list[StepRecord]: ...
    def upsert_dead_letter(
        self,
        *,
        fingerprint: str,
        flow_id: str,
        step_name: str,
        reason: str,
        last_error: str | None,
        evidence: Sequence[object],
        now: datetime,
    ) -> DeadLetter: ...
    def get_dead_letter(self, entry_id: str) -> DeadLetter | None: ...
    def list_dead_letters(self, status: DeadLetterStatus | None = None) -> list[DeadLetter]: ...
    def set_dead_letter_status(
        self, entry_id: str, *, status: DeadLetterStatus, note: str | None, now: datetime
    ) -> None: ...
    def append_audit(
        self, kind: str, *, flow_id: str | None, detail: Mapping[str, object], now: datetime
    ) -> AuditRecord: ...
    def append_audits(
        self,
        entries: Sequence[tuple[str, Mapping[str, object]]],
        *,
        flow_id: str | None,
        now: datetime,
    ) -> list[AuditRecord]:
        """Append several ``(kind, detail)`` records of one flow in one statement."""
        ...

    def audit_records(self) -> list[AuditRecord]: ...
    def audit_heads(self) -> dict[int, tuple[int, str]]:
        """The recorded head ``(shard_seq, hash)`` of every audit shard chain."""
        ...


class LedgerStore(Protocol):
    """A durable ledger: SQLite for one machine, PostgreSQL for many."""

    @property
    def dialect(self) -> str: ...

    def transaction(self) -> AbstractContextManager[LedgerTransaction]:
        """A transaction holding the write lock (SQLite) / row locks (PostgreSQL)."""
        ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...
