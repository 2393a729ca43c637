"""A step's writes on PostgreSQL: one autocommit statement, fenced on the lease and on the
cached audit shard head (compare-and-set). These tests drive several stores (= worker
processes, each with its own head cache) over one ledger, so caches go stale, and check that
every flow ran exactly once and every audit chain stays verifiable. *(both stores)*"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta

import pytest

import paysync_core._sqltx
from paysync_core import (
    AuditTrail,
    Engine,
    FlowDefinition,
    FlowState,
    LeaseLostError,
    LedgerStore,
    LookupResult,
    Step,
    StepContext,
    StepState,
)
from paysync_core._audit_hash import audit_shard
from paysync_core._model import utc_now
from paysync_core._sqltx import SqlTx

TTL = timedelta(minutes=5)


def _definition(calls: list[str]) -> FlowDefinition:
    def perform(ctx: StepContext) -> Mapping[str, str]:
        calls.append(ctx.idempotency_key)
        return {"id": ctx.idempotency_key[:12]}

    def lookup(ctx: StepContext) -> LookupResult:
        return LookupResult.absent()

    return FlowDefinition(
        "three_steps",
        [Step(f"s{i}", perform=perform, lookup=lookup, system="fake") for i in range(3)],
    )


def _engine(store: LedgerStore, definition: FlowDefinition, worker: str) -> Engine:
    return Engine(store, [definition], worker_id=worker, lease_ttl=TTL)


def _submit_same_shard(engine: Engine, count: int) -> list[str]:
    """Submit flows until ``count`` of them share one audit shard; their ids."""
    tag = uuid.uuid4().hex[:8]
    by_shard: dict[int, list[str]] = {}
    for i in range(40 * count):
        flow = engine.submit(
            "three_steps", source_system="t", source_id=f"{tag}-{i}", version=1, input={}
        )
        ids = by_shard.setdefault(audit_shard(flow.flow_id), [])
        ids.append(flow.flow_id)
        if len(ids) == count:
            return ids
    raise AssertionError("no shard got enough flows")  # pragma: no cover


def test_workers_with_stale_head_caches_keep_one_valid_chain_per_shard(
    ledger_factory: Callable[[], LedgerStore],
) -> None:
    calls: list[str] = []
    definition = _definition(calls)
    first, second = ledger_factory(), ledger_factory()
    engines = [_engine(first, definition, "w1"), _engine(second, definition, "w2")]
    flow_ids = _submit_same_shard(engines[0], 6)
    for n, flow_id in enumerate(flow_ids):  # the workers take turns on one shard chain
        assert engines[n % 2].run_flow(flow_id).state is FlowState.SUCCEEDED
    assert len(calls) == len(set(calls)) == 3 * len(flow_ids)  # every step exactly once
    report = AuditTrail(first).verify()
    assert AuditTrail(second).verify() == report
    records = [r for r in AuditTrail(first).records() if r.flow_id in flow_ids]
    assert {r.shard for r in records} == {audit_shard(flow_ids[0])}
    assert [r.shard_seq for r in records] == sorted(r.shard_seq or 0 for r in records)
    for engine in engines:
        assert engine.flow(flow_ids[0]).lease_owner is None


def test_a_shard_busy_past_the_retries_falls_back_to_its_row_lock(
    ledger_factory: Callable[[], LedgerStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paysync_core._sqltx, "_ONE_SHOT_TRIES", 0)
    calls: list[str] = []
    definition = _definition(calls)
    engine = _engine(ledger_factory(), definition, "w1")
    flow_ids = _submit_same_shard(engine, 2)
    report = engine.run_pending(max_workers=2)
    assert set(flow_ids) <= set(report.succeeded)
    assert len(calls) == len(set(calls))
    assert AuditTrail(engine.store).verify().count > 0
    steps = engine.steps(flow_ids[0])
    assert [s.state for s in steps] == [StepState.SUCCEEDED] * 3


def _write_step_without_the_lease(store: LedgerStore, flow_id: str) -> None:
    with store.transaction() as tx:
        assert isinstance(tx, SqlTx)
        now = utc_now()  # this worker never leased the flow
        if not tx.renew_lease(flow_id, now=now, owner="w1", lease_expires_at=now + TTL):
            raise LeaseLostError("not renewed")  # SQLite answers at once
        tx.defer_audits([("step.succeeded", {"step": "s0"})], flow_id=flow_id, now=now)


def test_a_deferred_write_whose_lease_was_taken_writes_nothing(
    ledger_factory: Callable[[], LedgerStore],
) -> None:
    """The lease is checked when the step's writes go: without it none of them is kept."""
    calls: list[str] = []
    definition = _definition(calls)
    store, thief_store = ledger_factory(), ledger_factory()
    engine = _engine(store, definition, "w1")
    flow_id = _submit_same_shard(engine, 1)[0]
    before = AuditTrail(store).verify()
    with pytest.raises(LeaseLostError):
        _write_step_without_the_lease(store, flow_id)
    assert AuditTrail(thief_store).verify() == before
    assert _engine(thief_store, definition, "w2").flow(flow_id).state is FlowState.PENDING
