# ruff: noqa: S608  -- SQL text is assembled from module constants only; values are bound.
"""The SQL behind both ledger stores: one implementation of ``LedgerTransaction``.

Every value that is free text or caller-provided description (request summaries, errors,
evidence, audit details) passes through :func:`redact` here, on write, so no code path can
store a PAN or secret by forgetting to redact.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from ._audit_hash import audit_shard, canonical_json, shard_link_hash
from ._errors import LeaseLostError
from ._model import (
    AuditRecord,
    DeadLetter,
    DeadLetterStatus,
    FlowRecord,
    FlowState,
    StepRecord,
)
from ._redact import redact, redact_text
from ._rows import (
    AUDIT_COLS,
    DLQ_COLS,
    FLOW_COLS,
    STEP_COLS,
    Row,
    RunSql,
    audit_from_row,
    dead_letter_from_row,
    fast_ts,
    flow_from_row,
    int_value,
    safe_error,
    step_from_row,
)
from ._schema import Dialect

__all__ = ["HeadCache", "HeadMovedError", "Row", "RunSql", "SqlTx"]

_LIVE = "('pending', 'running')"
_AUDIT_INSERT_COLS = "at, flow_id, kind, detail_json, prev_hash, hash, shard, shard_seq"


def _translate(dialect: Dialect, sql: str) -> str:
    """The statement in the driver's placeholder style, computed once per statement shape."""
    return sql if dialect.placeholder == "?" else _placeholders(dialect.placeholder, sql)


@functools.lru_cache(maxsize=512)
def _placeholders(placeholder: str, sql: str) -> str:
    # keyed by the placeholder, not the dialect: a frozen dataclass hashes all its fields
    return sql.replace("?", placeholder)


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> str:
    """The statement with ``$1, $2, ...`` placeholders: the one-statement write goes through
    psycopg's raw cursor, which skips parsing the (long, many-parameter) query in Python."""
    head, *rest = sql.split("?")
    return head + "".join(f"${n}{part}" for n, part in enumerate(rest, 1))


@functools.lru_cache(maxsize=64)
def _marks(count: int) -> str:
    return ", ".join("?" * count)


@functools.lru_cache(maxsize=16)
def _step_upsert(rows: int) -> str:
    row = f"({_marks(13)})"
    return (
        f"INSERT INTO steps ({STEP_COLS}) VALUES {', '.join([row] * rows)}"
        " ON CONFLICT (flow_id, step_index) DO UPDATE SET state = excluded.state,"
        " attempts = excluded.attempts, request_summary_json = excluded.request_summary_json,"
        " external_ids_json = excluded.external_ids_json,"
        " requested_at = excluded.requested_at, finished_at = excluded.finished_at,"
        " last_error = excluded.last_error, lookup_checks = excluded.lookup_checks"
    )


def _step_upsert_sql(steps: Sequence[StepRecord]) -> tuple[str, list[object]]:
    params: list[object] = []
    for step in steps:
        params.extend(
            (
                step.flow_id,
                step.index,
                step.name,
                step.idempotency_key,
                step.state.value,
                step.attempts,
                _summary_json(step.request_summary),
                _ids_json(step.external_ids),
                fast_ts(step.intended_at),
                None if step.requested_at is None else fast_ts(step.requested_at),
                None if step.finished_at is None else fast_ts(step.finished_at),
                safe_error(step.last_error),
                step.lookup_checks,
            )
        )
    return _step_upsert(len(steps)), params


def _summary_json(summary: Mapping[str, object]) -> str:
    return "{}" if not summary else canonical_json(redact(summary))


def _ids_json(ids: Mapping[str, str]) -> str:
    return "{}" if not ids else canonical_json({k: str(v) for k, v in ids.items()})


def _prepare(
    entries: Sequence[tuple[str, Mapping[str, object]]],
) -> list[tuple[str, Mapping[str, object], str]]:
    """``(kind, redacted detail, its canonical JSON)`` of each audit entry."""
    prepared: list[tuple[str, Mapping[str, object], str]] = []
    for kind, detail in entries:
        safe = cast(dict[str, object], redact(detail))  # (a new dict: the caller's is kept)
        prepared.append((kind, safe, canonical_json(safe)))
    return prepared


@functools.lru_cache(maxsize=128)
def _flow_update_text(
    release: bool,
    keep_state: bool,
    columns: tuple[str, ...],
    fenced: bool,
) -> str:
    """The ``UPDATE flows`` text of one shape (which columns are set), built once per shape."""
    sets = ["updated_at = ?"]
    if release:
        sets.append("lease_owner = NULL, lease_expires_at = NULL")
        if keep_state:
            sets.append("state = CASE WHEN state = 'running' THEN 'pending' ELSE state END")
    sets.extend(f"{column} = ?" for column in columns)
    where = "flow_id = ? AND lease_owner = ?" if fenced else "flow_id = ?"
    return f"UPDATE flows SET {', '.join(sets)} WHERE {where}"


def _flow_update(
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
    release: bool = False,
) -> tuple[str, list[object]]:
    """An ``UPDATE flows`` statement; with ``owner`` fenced on that owner's lease.

    ``release``: the same update also releases the lease (what :meth:`SqlTx.release` does
    after it), so a flow's last step renews and releases in one statement."""
    params: list[object] = [fast_ts(now)]
    columns: list[str] = []
    if release:
        lease_expires_at = None
        if state is FlowState.RUNNING:
            state = FlowState.PENDING
    if state is not None:
        columns.append("state")
        params.append(state.value)
    if current_step is not None:
        columns.append("current_step")
        params.append(current_step)
    if input is not None:
        columns.append("input_json")
        params.append(canonical_json(redact(input)))
    if last_error is not None:
        columns.append("last_error")
        params.append(safe_error(last_error))
    if lease_expires_at is not None:
        columns.append("lease_expires_at")
        params.append(fast_ts(lease_expires_at))
    if not_before is not None:
        columns.append("not_before")
        params.append(fast_ts(not_before))
    params.append(flow_id)
    if owner is not None:
        params.append(owner)
    text = _flow_update_text(release, state is None, tuple(columns), owner is not None)
    return text, params


@functools.lru_cache(maxsize=64)
def _one_shot_sql(update: str, steps: int, links: int) -> str:
    """A step's writes as one autocommit statement (PostgreSQL, ``$n`` placeholders), built
    once per shape: the fenced lease renewal ``update``, ``steps`` step upserts and ``links``
    audit records appended by a compare-and-set of the cached shard head. ``paysync_fence``
    aborts it as a whole when the lease is gone or the head moved."""
    parts = [f"f AS ({update} RETURNING 1)"]
    if steps:
        parts.append(f"s AS ({_step_upsert(steps)})")
    heads = "1"
    if links:
        parts.append(
            "h AS (UPDATE audit_heads SET shard_seq = ?, hash = ? WHERE shard = ?"
            " AND shard_seq = ? AND hash = ? RETURNING 1)"
        )
        rows_sql = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * links)
        parts.append(
            f"a AS (INSERT INTO audit_log ({_AUDIT_INSERT_COLS}) SELECT v.* FROM h,"
            f" (VALUES {rows_sql}) AS v ({_AUDIT_INSERT_COLS}))"
        )
        heads = "(SELECT count(*) FROM h)"
    return _numbered(
        f"WITH {', '.join(parts)} SELECT paysync_fence((SELECT count(*) FROM f), {heads})"
    )


@functools.lru_cache(maxsize=16)
def _sqlite_audit_insert(links: int) -> str:
    """``links`` audit records with their global seq given (SQLite: MAX(seq) + 1, ...)."""
    rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * links)
    return f"INSERT INTO audit_log (seq, {_AUDIT_INSERT_COLS}) VALUES {rows}"


class HeadMovedError(Exception):
    """The one-statement write found the audit shard head moved (the cache was stale)."""


class HeadCache:
    """The audit shard heads as last seen by one store (shared by its threads).

    Only a hint: the one-statement write moves a head by compare-and-set on the cached value
    and re-reads it when another writer moved it first, so a stale entry costs a retry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[int, tuple[int, str]] = {}

    def get(self, shard: int) -> tuple[int, str] | None:
        return self._heads.get(shard)

    def advance(self, shard: int, head: tuple[int, str]) -> None:
        """Record a head this store wrote (never moves the entry backwards)."""
        with self._lock:
            known = self._heads.get(shard)
            if known is None or known[0] < head[0]:
                self._heads[shard] = head

    def set(self, shard: int, head: tuple[int, str]) -> None:
        """Record a head read from the ledger."""
        with self._lock:
            self._heads[shard] = head


@dataclass
class _Renewal:
    """A lease renewal not sent yet (PostgreSQL): it goes with the step's other writes."""

    flow_id: str
    owner: str
    now: datetime
    lease_expires_at: datetime
    state: FlowState | None
    current_step: int | None
    release: bool = False

    def update(self) -> tuple[str, list[object]]:
        return _flow_update(
            self.flow_id,
            now=self.now,
            owner=self.owner,
            state=self.state,
            current_step=self.current_step,
            lease_expires_at=self.lease_expires_at,
            release=self.release,
        )


_ONE_SHOT_TRIES = 3
"""Compare-and-set attempts of a one-statement write before it takes the head's row lock."""


class SqlTx:
    """``LedgerTransaction`` over a DB-API style ``run(sql, params)`` callable.

    On PostgreSQL (``one_shot`` given) the writes of a leased flow's step are deferred: the
    lease renewal, step upserts, lease release and audit records are sent at the end as **one
    autocommit statement** (:meth:`finish`), fenced on the lease and on the cached audit head
    (``paysync_fence`` aborts it as a whole). Any other statement first sends the deferred
    writes inside an ordinary transaction (``run`` begins one lazily), with the head row lock.
    """

    def __init__(
        self,
        dialect: Dialect,
        run: RunSql,
        *,
        lock_claims: Callable[[], None],
        one_shot: RunSql | None = None,
        head_cache: HeadCache | None = None,
    ) -> None:
        """``one_shot`` (PostgreSQL) runs one autocommit statement with ``$n`` placeholders."""
        self._d = dialect
        self._run = run
        self._lock_claims = lock_claims
        self._one_shot = one_shot
        self._cache = head_cache
        self._sent = False
        """A statement went through ``run`` (so a transaction is open on PostgreSQL)."""
        self._renewal: _Renewal | None = None
        self._audits: list[tuple[str, Mapping[str, object], str]] = []
        self._audit_flow: str | None = None
        self._audit_at = ""
        self._heads: dict[int, tuple[int, str]] = {}
        """Shard heads this transaction appended to (it holds their rows' locks)."""
        self._hold_steps = False
        self._held: list[StepRecord] = []
        """Step upserts held back to ride in the audit append's statement (PostgreSQL)."""

    @property
    def dialect(self) -> str:
        return self._d.name

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        self.flush()
        rows, _ = self._send(_translate(self._d, sql), tuple(params))
        return rows

    def _exec(self, sql: str, params: Sequence[object] = ()) -> tuple[list[Row], int]:
        if self._held or self._renewal is not None or self._audits:
            self.flush()
        return self._send(_translate(self._d, sql), tuple(params))

    def _send(self, sql: str, params: Sequence[object]) -> tuple[list[Row], int]:
        self._sent = True
        return self._run(sql, params)

    # -- flows ----------------------------------------------------------------------------
    def insert_flow(self, flow: FlowRecord) -> bool:
        _, count = self._exec(
            f"INSERT INTO flows ({FLOW_COLS}) VALUES ({', '.join('?' * 16)})"
            " ON CONFLICT (flow_key) DO NOTHING",
            (
                flow.flow_id,
                flow.flow_key,
                flow.use_case,
                flow.source_system,
                flow.source_id,
                flow.version,
                flow.entity_key,
                canonical_json(redact(dict(flow.input))),
                flow.state.value,
                flow.current_step,
                fast_ts(flow.created_at),
                fast_ts(flow.updated_at),
                flow.lease_owner,
                None if flow.lease_expires_at is None else fast_ts(flow.lease_expires_at),
                safe_error(flow.last_error),
                None if flow.not_before is None else fast_ts(flow.not_before),
            ),
        )
        return count == 1

    def get_flow(self, flow_id: str) -> FlowRecord | None:
        rows, _ = self._exec(f"SELECT {FLOW_COLS} FROM flows WHERE flow_id = ?", (flow_id,))
        return flow_from_row(rows[0]) if rows else None

    def get_flow_by_key(self, flow_key: str) -> FlowRecord | None:
        rows, _ = self._exec(f"SELECT {FLOW_COLS} FROM flows WHERE flow_key = ?", (flow_key,))
        return flow_from_row(rows[0]) if rows else None

    def flows_for_entity(self, use_case: str, entity_key: str) -> list[FlowRecord]:
        """The flows of ``use_case`` on one entity, oldest first (index ``flows_entity_seq``)."""
        rows, _ = self._exec(
            f"SELECT {FLOW_COLS} FROM flows WHERE entity_key = ? AND use_case = ? ORDER BY seq",
            (entity_key, use_case),
        )
        return [flow_from_row(r) for r in rows]

    def list_flows(self, state: FlowState | None = None) -> list[FlowRecord]:
        if state is None:
            rows, _ = self._exec(f"SELECT {FLOW_COLS} FROM flows ORDER BY seq")
        else:
            rows, _ = self._exec(
                f"SELECT {FLOW_COLS} FROM flows WHERE state = ? ORDER BY seq", (state.value,)
            )
        return [flow_from_row(r) for r in rows]

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
    ) -> bool:
        """Update a flow; with ``owner`` the update only applies while that owner holds it."""
        statement, params = _flow_update(
            flow_id,
            now=now,
            owner=owner,
            state=state,
            current_step=current_step,
            input=input,
            last_error=last_error,
            lease_expires_at=lease_expires_at,
            not_before=not_before,
        )
        _, count = self._exec(statement, params)
        return count == 1

    def renew_lease(
        self,
        flow_id: str,
        *,
        now: datetime,
        owner: str,
        lease_expires_at: datetime,
        state: FlowState | None = None,
        current_step: int | None = None,
    ) -> bool:
        """The lease-renewing, fenced flow update that opens every write of a leased flow.

        On PostgreSQL it also row-locks and reads the flow's audit shard head in the same
        statement, and the transaction's step upserts are then sent with its audit append (one
        statement), so a step costs two statements and the commit. Any other statement first
        flushes the held-back upserts, so reads in the transaction still see them.
        """
        if self._d.name != "postgresql":
            return self.update_flow(
                flow_id,
                now=now,
                owner=owner,
                state=state,
                current_step=current_step,
                lease_expires_at=lease_expires_at,
            )
        renewal = _Renewal(flow_id, owner, now, lease_expires_at, state, current_step)
        if self._one_shot is not None and not self._sent and self._renewal is None:
            # deferred: sent with the step's writes; a lost lease raises LeaseLostError then
            self._renewal = renewal
            self._hold_steps = True
            return True
        return self._send_renewal(renewal)

    def _send_renewal(self, renewal: _Renewal) -> bool:
        """The fenced renewal, which also row-locks and reads the flow's shard head."""
        update, params = renewal.update()
        shard = audit_shard(renewal.flow_id)
        rows, _ = self._send(
            _translate(
                self._d,
                f"WITH f AS ({update} RETURNING 1) SELECT (SELECT count(*) FROM f), shard_seq,"
                " hash FROM audit_heads WHERE shard = ? FOR UPDATE",
            ),
            (*params, shard),
        )
        renewed = int_value(rows[0][0]) == 1
        if renewed:
            self._heads.setdefault(shard, (int_value(rows[0][1]), str(rows[0][2])))
            self._hold_steps = True
        return renewed

    def flush(self) -> None:
        """Send the deferred writes (before any other statement, so reads see them): the
        lease renewal (a lost lease raises :class:`LeaseLostError`), then held step upserts
        (with the deferred audit records, if any, in one statement)."""
        renewal, self._renewal = self._renewal, None
        if renewal is not None and not self._send_renewal(renewal):
            self._held = []
            self._audits = []
            raise LeaseLostError(f"worker {renewal.owner} lost the lease of {renewal.flow_id}")
        if self._audits:
            entries, self._audits = self._audits, []
            self._append_prepared(entries, flow_id=self._audit_flow, at=self._audit_at)
        if self._held:
            statement, params = _step_upsert_sql(self._held)
            self._held = []
            self._send(_translate(self._d, statement), tuple(params))

    def finish(self) -> None:
        """End of the transaction's statements: send what is still deferred, as one
        autocommit statement when nothing else was sent (see the class docstring)."""
        if self._renewal is None:
            self.flush()
            return
        assert self._one_shot is not None  # a renewal is only deferred with a one-shot runner
        renewal = self._renewal
        for _ in range(_ONE_SHOT_TRIES):
            try:
                self._send_one_shot(self._one_shot, renewal)
            except HeadMovedError:
                self._refresh_head(self._one_shot)
                continue
            except LeaseLostError:
                raise LeaseLostError(
                    f"worker {renewal.owner} lost the lease of {renewal.flow_id}"
                ) from None
            self._renewal = None
            self._held = []
            self._audits = []
            return
        self.flush()  # a busy shard: take its row lock instead (the store commits after)

    def _refresh_head(self, run: RunSql) -> None:
        shard = audit_shard(self._audit_flow)
        rows, _ = run(
            _numbered("SELECT shard_seq, hash FROM audit_heads WHERE shard = ?"), (shard,)
        )
        if self._cache is not None:
            self._cache.set(shard, (int_value(rows[0][0]), str(rows[0][1])))

    def _send_one_shot(self, run: RunSql, renewal: _Renewal) -> None:
        update, params = renewal.update()
        held = len(self._held)
        if held:
            params.extend(_step_upsert_sql(self._held)[1])
        links: list[tuple[int, str, Mapping[str, object], str, str, str]] = []
        new_head: tuple[int, str] | None = None
        shard = 0
        if self._audits:
            shard = audit_shard(self._audit_flow)
            head = None if self._cache is None else self._cache.get(shard)
            if head is None:
                self._refresh_head(run)
                head = None if self._cache is None else self._cache.get(shard)
            if head is None:  # pragma: no cover - the cache keeps what was just read
                raise HeadMovedError
            links = self._links(self._audits, shard, head, self._audit_flow, self._audit_at)
            new_head = (links[-1][0], links[-1][5])
            params.extend((*new_head, shard, *head))
            at, flow_id = self._audit_at, self._audit_flow
            for link_seq, kind, _, detail_json, link_prev, digest in links:
                params.extend((at, flow_id, kind, detail_json, link_prev, digest, shard, link_seq))
        run(_one_shot_sql(update, held, len(links)), params)
        if new_head is not None and self._cache is not None:
            self._cache.advance(shard, new_head)

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
    ) -> list[str]:
        """Lease up to ``limit`` runnable flows, oldest first, one per entity at a time.

        A flow is runnable when it is pending, or running with an expired lease (take-over),
        and no *other* flow of its entity is running (mutual exclusion) and, if it is pending,
        no older flow of its entity is pending (submission order). Claims are serialised
        (write lock / advisory lock) so two claimers cannot both pass the exclusion check.
        ``use_cases`` restricts to flows this worker can run; ``exclude`` skips flow ids.
        """
        self._lock_claims()
        now_s = fast_ts(now)
        params: list[object] = [now_s, now_s]
        only = ""
        if flow_id is not None:
            only += " AND f.flow_id = ?"
            params.append(flow_id)
        if use_cases is not None:
            if not use_cases:
                return []
            only += f" AND f.use_case IN ({', '.join('?' * len(use_cases))})"
            params.extend(use_cases)
        if exclude:
            only += f" AND f.flow_id NOT IN ({', '.join('?' * len(exclude))})"
            params.extend(exclude)
        params.append(limit)
        rows, _ = self._exec(
            f"SELECT f.flow_id FROM flows f WHERE f.state IN {_LIVE}"
            " AND (f.lease_owner IS NULL OR f.lease_expires_at < ?)"
            " AND (f.not_before IS NULL OR f.not_before <= ?)"
            f"{only} AND NOT EXISTS (SELECT 1 FROM flows e WHERE e.entity_key = f.entity_key"
            " AND e.flow_id <> f.flow_id AND (e.state = 'running'"
            " OR (f.state = 'pending' AND e.state = 'pending' AND e.seq < f.seq)))"
            f" ORDER BY f.seq LIMIT ? {self._d.skip_locked}",
            params,
        )
        ids = [str(r[0]) for r in rows]
        if ids:  # the whole batch in one statement
            self._exec(
                "UPDATE flows SET state = 'running', lease_owner = ?, lease_expires_at = ?,"
                f" not_before = NULL, updated_at = ? WHERE flow_id IN ({_marks(len(ids))})",
                (owner, fast_ts(lease_expires_at), now_s, *ids),
            )
        return ids

    def load_flows(self, flow_ids: Sequence[str]) -> list[tuple[FlowRecord, list[StepRecord]]]:
        """Flows and their steps (in ``flow_ids`` order) in two queries: a claimed batch is
        read in the claim's transaction instead of one transaction per flow."""
        if not flow_ids:
            return []
        marks = _marks(len(flow_ids))
        rows, _ = self._exec(
            f"SELECT {FLOW_COLS} FROM flows WHERE flow_id IN ({marks})", tuple(flow_ids)
        )
        flows = {f.flow_id: f for f in map(flow_from_row, rows)}
        rows, _ = self._exec(
            f"SELECT {STEP_COLS} FROM steps WHERE flow_id IN ({marks})"
            " ORDER BY flow_id, step_index",
            tuple(flow_ids),
        )
        steps: dict[str, list[StepRecord]] = {fid: [] for fid in flow_ids}
        for step in map(step_from_row, rows):
            steps[step.flow_id].append(step)
        return [(flows[fid], steps[fid]) for fid in flow_ids if fid in flows]

    def release(self, flow_id: str, *, owner: str, now: datetime) -> None:
        renewal = self._renewal
        if renewal is not None and renewal.flow_id == flow_id and renewal.owner == owner:
            renewal.release = True  # folded into the deferred renewal's UPDATE
            renewal.now = now
            return
        self._exec(
            "UPDATE flows SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,"
            " state = CASE WHEN state = 'running' THEN 'pending' ELSE state END"
            " WHERE flow_id = ? AND lease_owner = ?",
            (fast_ts(now), flow_id, owner),
        )

    # -- quota ----------------------------------------------------------------------------
    def draw_quota(self, system: str, windows: Sequence[tuple[str, str, int]]) -> int | None:
        """Take one call from every ``(span, window_start, limit)`` window, or from none.

        Returns ``None`` when drawn, else the index of the first spent window. The conditional
        UPDATE takes the row lock, so concurrent workers never overdraw.
        """
        key = "system = ? AND span = ? AND window_start = ?"
        for index, (span, start, limit) in enumerate(windows):
            self._exec(
                "INSERT INTO quota_usage (system, span, window_start, used) VALUES (?, ?, ?, 0)"
                " ON CONFLICT (system, span, window_start) DO NOTHING",
                (system, span, start),
            )
            _, drawn = self._exec(
                f"UPDATE quota_usage SET used = used + 1 WHERE {key} AND used < ?",
                (system, span, start, limit),
            )
            if drawn != 1:
                for done_span, done_start, _ in windows[:index]:
                    self._exec(
                        f"UPDATE quota_usage SET used = used - 1 WHERE {key}",
                        (system, done_span, done_start),
                    )
                return index
        return None

    # -- steps ----------------------------------------------------------------------------
    def put_step(self, step: StepRecord) -> None:
        self.put_steps([step])

    def put_steps(self, steps: Sequence[StepRecord]) -> None:
        """Upsert step records in one statement (an outcome and the next intent together)."""
        if not steps:
            return
        if self._hold_steps:
            self._held.extend(steps)
            return
        statement, params = _step_upsert_sql(steps)
        self._exec(statement, params)

    def get_steps(self, flow_id: str) -> list[StepRecord]:
        rows, _ = self._exec(
            f"SELECT {STEP_COLS} FROM steps WHERE flow_id = ? ORDER BY step_index", (flow_id,)
        )
        return [step_from_row(r) for r in rows]

    # -- dead letters ---------------------------------------------------------------------
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
    ) -> DeadLetter:
        now_s = fast_ts(now)
        evidence_json = canonical_json(redact(list(evidence)))
        self._exec(
            f"INSERT INTO dead_letters ({DLQ_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'open',"
            " NULL, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET"
            " occurrences = dead_letters.occurrences + 1, status = 'open',"
            " last_error = excluded.last_error, evidence_json = excluded.evidence_json,"
            " updated_at = excluded.updated_at",
            (
                uuid.uuid4().hex,
                fingerprint,
                flow_id,
                step_name,
                reason,
                safe_error(last_error),
                evidence_json,
                now_s,
                now_s,
            ),
        )
        rows, _ = self._exec(
            f"SELECT {DLQ_COLS} FROM dead_letters WHERE fingerprint = ?", (fingerprint,)
        )
        return dead_letter_from_row(rows[0])

    def get_dead_letter(self, entry_id: str) -> DeadLetter | None:
        rows, _ = self._exec(f"SELECT {DLQ_COLS} FROM dead_letters WHERE entry_id = ?", (entry_id,))
        return dead_letter_from_row(rows[0]) if rows else None

    def list_dead_letters(self, status: DeadLetterStatus | None = None) -> list[DeadLetter]:
        if status is None:
            rows, _ = self._exec(f"SELECT {DLQ_COLS} FROM dead_letters ORDER BY seq")
        else:
            rows, _ = self._exec(
                f"SELECT {DLQ_COLS} FROM dead_letters WHERE status = ? ORDER BY seq",
                (status.value,),
            )
        return [dead_letter_from_row(r) for r in rows]

    def set_dead_letter_status(
        self, entry_id: str, *, status: DeadLetterStatus, note: str | None, now: datetime
    ) -> None:
        self._exec(
            "UPDATE dead_letters SET status = ?, note = ?, updated_at = ? WHERE entry_id = ?",
            (status.value, None if note is None else redact_text(note), fast_ts(now), entry_id),
        )

    # -- audit ----------------------------------------------------------------------------
    def append_audit(
        self, kind: str, *, flow_id: str | None, detail: Mapping[str, object], now: datetime
    ) -> AuditRecord:
        """Append one record to the flow's shard chain."""
        return self.append_audits([(kind, detail)], flow_id=flow_id, now=now)[0]

    def append_audits(
        self,
        entries: Sequence[tuple[str, Mapping[str, object]]],
        *,
        flow_id: str | None,
        now: datetime,
    ) -> list[AuditRecord]:
        """Append ``(kind, detail)`` records of one flow to its shard chain in one statement.

        The first append of a shard in a transaction reads (and on PostgreSQL row-locks) the
        shard's ``audit_heads`` row; later ones continue from the head kept here. Appenders of
        other shards never wait for this one. Callers append last in their transaction, so
        the row lock is held only until the commit.
        """
        if not entries:
            return []
        return self._append_prepared(_prepare(entries), flow_id=flow_id, at=fast_ts(now))

    def defer_audits(
        self,
        entries: Sequence[tuple[str, Mapping[str, object]]],
        *,
        flow_id: str,
        now: datetime,
    ) -> list[tuple[str, Mapping[str, object]]]:
        """:meth:`append_audits` for the last writes of a leased flow's step: on PostgreSQL,
        while its lease renewal is still deferred, the records go with it (:meth:`finish`).
        Returns the records' ``(kind, redacted detail)``."""
        if not entries:
            return []
        if self._renewal is None or self._renewal.flow_id != flow_id or self._audits:
            return [
                (r.kind, r.detail) for r in self.append_audits(entries, flow_id=flow_id, now=now)
            ]
        self._audits = _prepare(entries)
        self._audit_flow = flow_id
        self._audit_at = fast_ts(now)
        return [(kind, safe) for kind, safe, _ in self._audits]

    @staticmethod
    def _links(
        entries: Sequence[tuple[str, Mapping[str, object], str]],
        shard: int,
        head: tuple[int, str],
        flow_id: str | None,
        at: str,
    ) -> list[tuple[int, str, Mapping[str, object], str, str, str]]:
        """``(shard_seq, kind, detail, detail_json, prev_hash, hash)`` of each new link."""
        shard_seq, prev = head
        links: list[tuple[int, str, Mapping[str, object], str, str, str]] = []
        for kind, safe, detail_json in entries:
            shard_seq += 1
            digest = shard_link_hash(
                shard=shard,
                shard_seq=shard_seq,
                at=at,
                flow_id=flow_id,
                kind=kind,
                detail_json=detail_json,
                prev_hash=prev,
            )
            links.append((shard_seq, kind, safe, detail_json, prev, digest))
            prev = digest
        return links

    def _append_prepared(
        self,
        entries: Sequence[tuple[str, Mapping[str, object], str]],
        *,
        flow_id: str | None,
        at: str,
    ) -> list[AuditRecord]:
        shard = audit_shard(flow_id)
        head = self._heads.get(shard)
        sqlite = self._d.name != "postgresql"
        last_seq: int | None = None
        if head is None and sqlite:  # the head and the last global seq in one query
            rows, _ = self._exec(
                "SELECT shard_seq, hash, (SELECT COALESCE(MAX(seq), 0) FROM audit_log)"
                " FROM audit_heads WHERE shard = ?",
                (shard,),
            )
            head = (int_value(rows[0][0]), str(rows[0][1]))
            last_seq = int_value(rows[0][2])
        elif head is None:
            rows, _ = self._exec(
                f"SELECT shard_seq, hash FROM audit_heads WHERE shard = ? {self._d.for_update}",
                (shard,),
            )
            head = (int_value(rows[0][0]), str(rows[0][1]))
        links = self._links(entries, shard, head, flow_id, at)
        shard_seq, prev = links[-1][0], links[-1][5]
        head_params = (shard_seq, prev, shard)
        params: list[object] = []
        if not sqlite:
            # one round trip: the head moves in a data-modifying CTE; seq comes from a sequence
            # (the column default, taken while the head row is locked: it grows along the chain)
            # held-back step upserts ride in the same statement
            steps_cte = ""
            if self._held:
                upsert, params = _step_upsert_sql(self._held)  # (its params come first)
                steps_cte = f"s AS ({upsert}), "
                self._held = []
            params.extend(head_params)
            for link_seq, kind, _, detail_json, link_prev, digest in links:
                params.extend((at, flow_id, kind, detail_json, link_prev, digest, shard, link_seq))
            rows, _ = self._send(
                _translate(
                    self._d,
                    f"WITH {steps_cte}h AS (UPDATE audit_heads SET shard_seq = ?, hash = ?"
                    f" WHERE shard = ?) INSERT INTO audit_log ({_AUDIT_INSERT_COLS}) VALUES"
                    f" {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?)'] * len(links))}"
                    " RETURNING shard_seq, seq",
                ),
                tuple(params),
            )
            seqs = {int_value(r[0]): int_value(r[1]) for r in rows}
            if self._cache is not None:  # a hint only: a rollback makes it stale, not wrong
                self._cache.advance(shard, (shard_seq, prev))
        else:  # the transaction holds the database write lock: MAX(seq) + 1 is ours
            self._exec(
                "UPDATE audit_heads SET shard_seq = ?, hash = ? WHERE shard = ?", head_params
            )
            if last_seq is None:
                rows, _ = self._exec("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
                last_seq = int_value(rows[0][0])
            first = last_seq + 1
            seqs = {link[0]: first + i for i, link in enumerate(links)}
            params = []
            for link_seq, kind, _, detail_json, link_prev, digest in links:
                params.extend((seqs[link_seq], at, flow_id, kind, detail_json, link_prev, digest))
                params.extend((shard, link_seq))
            self._exec(_sqlite_audit_insert(len(links)), params)
        self._heads[shard] = (shard_seq, prev)
        return [
            AuditRecord(seqs[link_seq], at, flow_id, kind, safe, link_prev, digest, shard, link_seq)
            for link_seq, kind, safe, _, link_prev, digest in links
        ]

    def audit_records(self) -> list[AuditRecord]:
        rows, _ = self._exec(f"SELECT {AUDIT_COLS} FROM audit_log ORDER BY seq")
        return [audit_from_row(r) for r in rows]

    def audit_heads(self) -> dict[int, tuple[int, str]]:
        """The recorded head ``(shard_seq, hash)`` of every shard chain."""
        rows, _ = self._exec("SELECT shard, shard_seq, hash FROM audit_heads ORDER BY shard")
        return {int_value(r[0]): (int_value(r[1]), str(r[2])) for r in rows}
