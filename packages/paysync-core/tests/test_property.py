"""Property: whatever faults hit the calls (timeouts before/after commit, resets, 429, 5xx,
rejections, lookup lag, worker crashes before/after the call), every effect is applied at most
once; dead-lettered flows carry a DLQ entry; and once the faults stop, retrying the dead
letters brings every effect to exactly once."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paysync_core import (
    DeadLetterQueue,
    Engine,
    FlowDefinition,
    FlowState,
    LedgerStore,
    RetryPolicy,
    SqliteLedger,
)
from paysync_core.testing import FakeClock, FakeSystem, Fault

STEPS = ("charge", "receipt", "apply")
TTL = timedelta(minutes=5)
POLICY = RetryPolicy(max_attempts=6, lookup_delays=(1.0, 3.0))

FaultScript = dict[str, list[Fault]]
LagScript = dict[str, int]

entities_st = st.lists(st.sampled_from(["E1", "E2", "E3"]), min_size=1, max_size=4)
faults_st = st.fixed_dictionaries(
    {name: st.lists(st.sampled_from(list(Fault)), max_size=6) for name in STEPS}
)
lag_st = st.fixed_dictionaries({name: st.integers(0, 4) for name in STEPS})


def _engine(store: LedgerStore, system: FakeSystem, clock: FakeClock, worker: str) -> Engine:
    """A fresh worker (new id, nothing in memory) on the shared ledger: a restarted process."""
    definition = FlowDefinition("uc", [system.step(name) for name in STEPS])
    return Engine(
        store,
        [definition],
        policy=POLICY,
        worker_id=worker,
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.5,
    )


def _drain(store: LedgerStore, system: FakeSystem, clock: FakeClock, round_no: int) -> int:
    """Run workers, each 'crashing' where the script says, until nothing is left to run."""
    for attempt in range(40):
        engine = _engine(store, system, clock, f"w{round_no}-{attempt}")
        report = engine.run_pending(max_workers=1)
        with store.transaction() as tx:
            live = [f for f in tx.list_flows() if f.state in (FlowState.PENDING, FlowState.RUNNING)]
        if not live and not report.errors:
            return attempt
        clock.advance(TTL.total_seconds() + 1)  # crashed workers' leases expire
    raise AssertionError("flows left behind")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(entities=entities_st, faults=faults_st, lag=lag_st)
def test_any_fault_interleaving_applies_each_effect_once(
    entities: list[str], faults: FaultScript, lag: LagScript
) -> None:
    system, clock = FakeSystem(), FakeClock()
    for name, script in faults.items():
        system.script(name, *script)
    for name, lookups in lag.items():
        system.lag(name, lookups)
    store = SqliteLedger(":memory:")  # executor logic under test; durability is tested elsewhere
    try:
        submitter = _engine(store, system, clock, "submitter")
        for n, entity in enumerate(entities):
            submitter.submit(
                "uc", source_system="s", source_id=str(n), version=1, input={}, entity_key=entity
            )
        _drain(store, system, clock, 0)
        assert all(count == 1 for count in system.applied.values())

        with store.transaction() as tx:
            flows = tx.list_flows()
            steps = {f.flow_id: tx.get_steps(f.flow_id) for f in flows}
        queue = DeadLetterQueue(store)
        open_entries = {e.flow_id for e in queue.list()}
        for flow in flows:
            assert flow.state in (FlowState.SUCCEEDED, FlowState.DEAD)
            if flow.state is FlowState.DEAD:
                assert flow.flow_id in open_entries
            else:
                for step in steps[flow.flow_id]:
                    assert system.applied[step.idempotency_key] == 1
                    assert step.external_ids == {"id": system.external_ids[step.idempotency_key]}
        system.clear_faults()
        for entry in queue.list():
            queue.retry(entry.entry_id)
        _drain(store, system, clock, 1)
        assert len(system.applied) == len(entities) * len(STEPS)
        assert set(system.applied.values()) == {1}
    finally:
        store.close()
