"""The step executor against a fake system with scripted faults, on both stores."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

import pytest

from paysync_core import (
    AuditTrail,
    DeadLetterQueue,
    Engine,
    FlowBusyError,
    FlowDefinition,
    FlowRecord,
    FlowState,
    LeaseLostError,
    LedgerStore,
    LedgerTransaction,
    Metrics,
    RetryPolicy,
    SensitiveDataError,
    Step,
    StepContext,
    StepRecord,
    StepState,
    UnknownFlowError,
    idempotency_key,
)
from paysync_core.testing import Crash, FakeClock, FakeSystem, Fault

POLICY = RetryPolicy(max_attempts=5, lookup_delays=(1.0, 2.0, 4.0))
TTL = timedelta(minutes=5)


def two_step_flow(system: FakeSystem, *, safe: bool = False) -> FlowDefinition:
    return FlowDefinition(
        "payment_to_receipt",
        [system.step("charge"), system.step("create_receipt", safe_to_retry=safe)],
    )


def engine_for(
    store: LedgerStore,
    definition: FlowDefinition,
    clock: FakeClock,
    *,
    worker: str = "w1",
    policy: RetryPolicy = POLICY,
    hook: Callable[[LedgerTransaction, FlowRecord, StepRecord], None] | None = None,
) -> Engine:
    return Engine(
        store,
        [definition],
        policy=policy,
        worker_id=worker,
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.5,
        on_step_committed=hook,
    )


def submit(engine: Engine, source_id: str = "T-1", **extra: object) -> FlowRecord:
    return engine.submit(
        "payment_to_receipt",
        source_system="paytrace",
        source_id=source_id,
        version=1,
        input={"amount": "25.00", "customer": "C-9", **extra},
    )


def assert_exactly_once(system: FakeSystem, expected: int) -> None:
    assert len(system.applied) == expected
    assert set(system.applied.values()) == {1}


def test_happy_path_runs_every_step_once(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    seen: list[Mapping[str, Mapping[str, str]]] = []
    charge = system.step("charge")

    def receipt(ctx: StepContext) -> Mapping[str, str]:
        seen.append(ctx.results)
        return system.perform(ctx)

    definition = FlowDefinition(
        "payment_to_receipt",
        [charge, Step("create_receipt", perform=receipt, lookup=system.lookup)],
    )
    engine = engine_for(store, definition, clock)
    flow = submit(engine)
    done = engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED
    assert_exactly_once(system, 2)
    assert system.lookups == []  # intended proves nothing was sent: no lookup needed
    steps = engine.steps(flow.flow_id)
    assert [s.state for s in steps] == [StepState.SUCCEEDED, StepState.SUCCEEDED]
    assert [s.attempts for s in steps] == [1, 1]
    assert seen == [{"charge": steps[0].external_ids}]
    assert all(s.finished_at is not None and s.finished_at.tzinfo for s in steps)


@pytest.mark.parametrize(
    "fault",
    [
        Fault.TIMEOUT_BEFORE,
        Fault.TIMEOUT_AFTER,
        Fault.RESET_AFTER,
        Fault.RATE_LIMITED,
        Fault.SERVER_ERROR_BEFORE,
        Fault.SERVER_ERROR_AFTER,
    ],
)
@pytest.mark.parametrize("step_name", ["charge", "create_receipt"])
def test_transient_faults_end_in_exactly_once(
    store: LedgerStore, fault: Fault, step_name: str
) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script(step_name, fault, fault)
    engine = engine_for(store, two_step_flow(system), clock)
    flow = submit(engine)
    assert engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    assert_exactly_once(system, 2)


def test_timeout_after_commit_is_resolved_by_lookup_not_retry(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.TIMEOUT_AFTER)
    engine = engine_for(store, two_step_flow(system), clock)
    flow = submit(engine)
    engine.run_flow(flow.flow_id)
    charge_key = engine.steps(flow.flow_id)[0].idempotency_key
    assert system.performs.count(charge_key) == 1
    assert system.lookups == [charge_key]
    assert engine.steps(flow.flow_id)[0].external_ids == {"id": system.external_ids[charge_key]}


def test_retry_after_is_honoured(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.RATE_LIMITED)
    engine = engine_for(store, two_step_flow(system), clock)
    engine.run_flow(submit(engine).flow_id)
    assert clock.sleeps == [7.0]
    assert_exactly_once(system, 2)


def test_permanent_error_dead_letters_without_effect(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("create_receipt", Fault.REJECTED)
    engine = engine_for(store, two_step_flow(system), clock)
    flow = engine.run_flow(submit(engine).flow_id)
    assert flow.state is FlowState.DEAD
    assert len(system.applied) == 1  # only the charge
    (entry,) = DeadLetterQueue(store).list()
    assert entry.step_name == "create_receipt"
    assert entry.reason == "permanent"
    assert entry.last_error == "HttpStatusError: HTTP 422"
    assert engine.steps(flow.flow_id)[1].state is StepState.DEAD


def test_retries_are_bounded_by_max_attempts(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", *[Fault.SERVER_ERROR_BEFORE] * 10)
    engine = engine_for(store, two_step_flow(system), clock, policy=RetryPolicy(max_attempts=3))
    flow = engine.run_flow(submit(engine).flow_id)
    assert flow.state is FlowState.DEAD
    assert len(system.performs) == 3
    assert system.applied == {}
    (entry,) = DeadLetterQueue(store).list()
    assert entry.reason == "max_attempts:unknown_outcome"
    assert len(entry.evidence) >= 6  # three attempts and three lookups


def test_undecidable_lookup_rechecks_on_schedule_then_succeeds(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.TIMEOUT_AFTER)
    system.lag("charge", 3)
    engine = engine_for(store, two_step_flow(system), clock)
    flow = engine.run_flow(submit(engine).flow_id)
    assert flow.state is FlowState.SUCCEEDED
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert_exactly_once(system, 2)


def test_undecidable_lookup_dead_letters_with_evidence(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.TIMEOUT_BEFORE)
    system.lag("charge", 10)
    engine = engine_for(store, two_step_flow(system), clock)
    flow = engine.run_flow(submit(engine).flow_id)
    assert flow.state is FlowState.DEAD
    assert clock.sleeps == [1.0, 2.0, 4.0]
    (entry,) = DeadLetterQueue(store).list()
    assert entry.reason == "unresolved_unknown_outcome"
    assert sum('"lookup"' in json.dumps(e) for e in entry.evidence) == 4
    assert len(system.performs) == 1


@pytest.mark.parametrize("fault", [Fault.CRASH_BEFORE, Fault.CRASH_AFTER])
@pytest.mark.parametrize("step_name", ["charge", "create_receipt"])
def test_crash_mid_step_resumes_on_another_worker(
    ledger_factory: Callable[[], LedgerStore], fault: Fault, step_name: str
) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script(step_name, fault)
    first = engine_for(ledger_factory(), two_step_flow(system), clock, worker="w1")
    flow = submit(first)
    with pytest.raises(Crash):
        first.run_flow(flow.flow_id)
    second = engine_for(ledger_factory(), two_step_flow(system), clock, worker="w2")
    with pytest.raises(FlowBusyError):
        second.run_flow(flow.flow_id)  # w1's lease is still valid
    assert second.run_pending().processed == 0
    clock.advance(TTL.total_seconds() + 1)
    report = second.run_pending()
    assert report.succeeded == [flow.flow_id]
    assert_exactly_once(system, 2)
    crashed = next(s for s in second.steps(flow.flow_id) if s.name == step_name)
    assert crashed.attempts == (2 if fault is Fault.CRASH_BEFORE else 1)


def test_safe_to_retry_step_repeats_without_lookup(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("create_receipt", Fault.TIMEOUT_BEFORE)
    engine = engine_for(store, two_step_flow(system, safe=True), clock)
    assert engine.run_flow(submit(engine).flow_id).state is FlowState.SUCCEEDED
    assert system.lookups == []
    assert len(system.performs) == 3


def test_checkpoint_hook_commits_with_the_outcome(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    with store.transaction() as tx:
        tx.execute("CREATE TABLE replay_checkpoints (flow_id TEXT, step TEXT)")
    failures = [1]

    def hook(tx: LedgerTransaction, flow: FlowRecord, step: StepRecord) -> None:
        tx.execute("INSERT INTO replay_checkpoints VALUES (?, ?)", (flow.flow_id, step.name))
        if step.name == "create_receipt" and failures:
            failures.pop()
            raise RuntimeError("checkpoint store rejected the write")

    engine = engine_for(store, two_step_flow(system), clock, hook=hook)
    flow = submit(engine)
    with pytest.raises(RuntimeError, match="checkpoint"):
        engine.run_flow(flow.flow_id)
    # the outcome rolled back with the checkpoint: the step is back to its armed intent (no
    # ``requested`` commit for it), which reads as "maybe sent" ...
    rolled_back = engine.steps(flow.flow_id)[1]
    assert rolled_back.state is StepState.INTENDED
    assert rolled_back.requested_at is not None
    assert engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    assert_exactly_once(system, 2)
    assert len(system.lookups) == 1  # ... so the re-run looked it up instead of calling again
    with store.transaction() as tx:
        rows = tx.execute("SELECT step FROM replay_checkpoints ORDER BY step")
    assert rows == [("charge",), ("create_receipt",)]


def test_submit_is_idempotent_and_caller_key_wins(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    engine = engine_for(store, two_step_flow(system), clock)
    first = submit(engine)
    assert submit(engine).flow_id == first.flow_id
    assert first.flow_key == idempotency_key("payment_to_receipt", "paytrace", "T-1", 1)
    assert first.entity_key == "paytrace:T-1"
    own = engine.submit(
        "payment_to_receipt",
        source_system="paytrace",
        source_id="T-1",
        version=2,
        input={},
        idempotency_key="caller-key-1",
        entity_key="order-77",
    )
    assert own.flow_key == "caller-key-1"
    assert own.entity_key == "order-77"
    with pytest.raises(SensitiveDataError):
        submit(engine, "T-2", card_number="4111111111111111")
    with pytest.raises(UnknownFlowError):
        engine.submit("nope", source_system="s", source_id="1", version=1, input={})


def test_submit_checkpoint_joins_the_transaction(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    engine = engine_for(store, two_step_flow(system), clock)
    with store.transaction() as tx:
        tx.execute("CREATE TABLE replay (replay_id TEXT)")

    def checkpoint(tx: LedgerTransaction, flow: FlowRecord) -> None:
        tx.execute("INSERT INTO replay VALUES (?)", ("42",))
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        engine.submit(
            "payment_to_receipt",
            source_system="sf",
            source_id="E-1",
            version=1,
            input={},
            checkpoint=checkpoint,
        )
    with store.transaction() as tx:
        assert tx.execute("SELECT replay_id FROM replay") == []
        assert tx.list_flows() == []


def test_lost_lease_stops_the_old_worker(ledger_factory: Callable[[], LedgerStore]) -> None:
    system, clock = FakeSystem(), FakeClock()
    definition_holder: list[Engine] = []

    def slow_charge(ctx: StepContext) -> Mapping[str, str]:
        clock.advance(TTL.total_seconds() + 1)  # the worker stalls past its lease
        thief = definition_holder[0]
        assert thief.store.transaction  # another worker claims the flow meanwhile
        with thief.store.transaction() as tx:
            now = clock()
            assert tx.claim(owner="w2", now=now, lease_expires_at=now + TTL, limit=1)
        return system.perform(ctx)

    definition = FlowDefinition(
        "payment_to_receipt", [Step("charge", perform=slow_charge, lookup=system.lookup)]
    )
    engine = engine_for(ledger_factory(), definition, clock)
    definition_holder.append(engine_for(ledger_factory(), definition, clock, worker="w2"))
    flow = submit(engine)
    with pytest.raises(LeaseLostError):
        engine.run_flow(flow.flow_id)
    assert engine.flow(flow.flow_id).lease_owner == "w2"
    # the stalled worker's outcome was not written: the step is still the intent its claim
    # armed ("maybe sent"), so the new owner looks it up before any call
    stalled = engine.steps(flow.flow_id)[0]
    assert stalled.state is StepState.INTENDED
    assert stalled.requested_at is not None
    assert stalled.external_ids == {}


def test_engine_validates_lease_against_policy(store: LedgerStore) -> None:
    with pytest.raises(ValueError, match="lease_ttl"):
        Engine(store, [], lease_ttl=timedelta(seconds=10))


def test_structured_log_lines_carry_flow_identity(
    store: LedgerStore, caplog: pytest.LogCaptureFixture
) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.TIMEOUT_AFTER)
    engine = engine_for(store, two_step_flow(system), clock)
    flow = submit(engine)
    with caplog.at_level(logging.INFO, logger="paysync_core"):
        engine.run_flow(flow.flow_id)
    events = [str(getattr(r, "paysync_event", "")) for r in caplog.records]
    assert events[:3] == ["step.requested", "step.unknown", "step.succeeded"]
    assert events[-1] == "flow.succeeded"
    for record in caplog.records:
        assert getattr(record, "paysync_flow_id", None) == flow.flow_id
        assert getattr(record, "paysync_flow_key", None) == flow.flow_key
        assert flow.flow_id in record.getMessage()
    assert next(r.levelname for r in caplog.records if "unknown" in r.getMessage()) == "WARNING"


def test_long_waits_park_the_flow_instead_of_sleeping(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.RATE_LIMITED)  # Retry-After: 7
    policy = RetryPolicy(max_attempts=5, lookup_delays=(1.0, 20.0), park_after=5.0)
    engine = engine_for(store, two_step_flow(system), clock, policy=policy)
    flow = submit(engine)
    report = engine.run_pending()
    assert report.parked == [flow.flow_id]
    assert clock.sleeps == []  # nothing slept in the worker thread
    parked = engine.flow(flow.flow_id)
    assert parked.state is FlowState.PENDING
    assert parked.lease_owner is None
    assert parked.not_before == clock() + timedelta(seconds=7)
    assert engine.run_pending().processed == 0  # not before its time
    clock.advance(7)
    other = engine_for(store, two_step_flow(system), clock, worker="w2", policy=policy)
    assert other.run_pending().succeeded == [flow.flow_id]  # any worker resumes it
    assert_exactly_once(system, 2)


def test_lookup_rechecks_survive_parking_and_stay_bounded(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.TIMEOUT_AFTER)
    system.lag("charge", 10)
    policy = RetryPolicy(lookup_delays=(1.0, 60.0, 60.0), park_after=5.0)
    engine = engine_for(store, two_step_flow(system), clock, policy=policy)
    flow = submit(engine)
    for _ in range(2):
        assert engine.run_pending().parked == [flow.flow_id]
        assert engine.steps(flow.flow_id)[0].state is StepState.UNKNOWN
        clock.advance(60)
    assert engine.run_pending().dead == [flow.flow_id]
    assert clock.sleeps == [1.0]
    assert engine.steps(flow.flow_id)[0].lookup_checks == 3
    assert len(system.performs) == 1


def test_metrics_count_events_and_time_calls(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.TIMEOUT_AFTER)
    ticks = iter(float(n) for n in range(100))
    metrics = Metrics(timer=lambda: next(ticks))
    engine = Engine(
        store,
        [two_step_flow(system)],
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
        metrics=metrics,
    )
    engine.run_flow(submit(engine).flow_id)
    assert metrics.event_count("payment_to_receipt", "step.succeeded") == 2
    assert metrics.event_count("payment_to_receipt", "step.unknown") == 1
    text = metrics.render()
    assert "# TYPE paysync_events_total counter" in text
    assert 'paysync_events_total{use_case="payment_to_receipt",event="flow.succeeded"} 1' in text
    charge = 'use_case="payment_to_receipt",step="charge",system=""'
    assert f'paysync_call_seconds_count{{{charge},call="perform",outcome="error"}} 1' in text
    assert f'paysync_call_seconds_count{{{charge},call="lookup",outcome="found"}} 1' in text
    assert f'paysync_call_seconds_sum{{{charge},call="lookup",outcome="found"}} 1.000000' in text


def test_a_claimed_flow_calls_its_armed_first_step_and_releases_with_the_outcome(
    ledger_factory: Callable[[], LedgerStore],
) -> None:
    system, clock = FakeSystem(), FakeClock()
    store = ledger_factory()
    during: list[StepRecord] = []

    def charge(ctx: StepContext) -> Mapping[str, str]:
        with store.transaction() as tx:  # what any other reader sees while the call is out
            during.extend(tx.get_steps(ctx.flow_id))
        return system.perform(ctx)

    definition = FlowDefinition(
        "payment_to_receipt", [Step("charge", perform=charge, lookup=system.lookup)]
    )
    engine = engine_for(store, definition, clock)
    flow = submit(engine)
    assert engine.run_pending().succeeded == [flow.flow_id]
    # the claim armed the intent (no ``requested`` commit before the call), so a reader during
    # the call already sees "maybe sent" ...
    (seen,) = during
    assert seen.state is StepState.INTENDED
    assert seen.requested_at is not None
    assert seen.attempts == 0
    assert system.lookups == []  # ... while the claimer itself calls without a lookup
    assert_exactly_once(system, 1)
    finished = engine.flow(flow.flow_id)
    assert finished.state is FlowState.SUCCEEDED
    assert finished.lease_owner is None  # released in the outcome's commit
    kinds = [r.kind for r in AuditTrail(store).records() if r.flow_id == flow.flow_id]
    assert kinds == ["flow.submitted", "step.requested", "step.succeeded", "flow.succeeded"]
    AuditTrail(store).verify()


def test_a_flow_claimed_by_a_worker_that_died_is_looked_up_before_any_call(
    ledger_factory: Callable[[], LedgerStore],
) -> None:
    system, clock = FakeSystem(), FakeClock()
    system.script("charge", Fault.CRASH_BEFORE)  # the claimer dies before sending anything
    first = engine_for(ledger_factory(), two_step_flow(system), clock, worker="w1")
    flow = submit(first)
    assert flow.flow_id in first.run_pending().errors  # Crash: the lease is left to expire
    clock.advance(TTL.total_seconds() + 1)
    second = engine_for(ledger_factory(), two_step_flow(system), clock, worker="w2")
    assert second.run_pending().succeeded == [flow.flow_id]
    charge = second.steps(flow.flow_id)[0]
    assert system.lookups == [charge.idempotency_key]  # armed by w1's claim: looked up first
    assert charge.attempts == 2  # w1's possible attempt counts toward max_attempts
    assert_exactly_once(system, 2)


def test_statements_of_the_checkpoint_hook_see_the_outcome(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()
    seen: list[tuple[str, StepState]] = []

    def hook(tx: LedgerTransaction, flow: FlowRecord, step: StepRecord) -> None:
        # the ledger may hold back the step upsert to send it with the audit append; a read in
        # the same transaction must still see it
        stored = next(s for s in tx.get_steps(flow.flow_id) if s.index == step.index)
        seen.append((stored.name, stored.state))

    engine = engine_for(store, two_step_flow(system), clock, hook=hook)
    assert engine.run_flow(submit(engine).flow_id).state is FlowState.SUCCEEDED
    assert seen == [("charge", StepState.SUCCEEDED), ("create_receipt", StepState.SUCCEEDED)]
    AuditTrail(store).verify()
