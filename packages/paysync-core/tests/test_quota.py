"""Shared API-quota budgets: flows pause (park) when a window is spent and resume after."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from paysync_core import (
    ConfigurationError,
    Engine,
    FlowDefinition,
    FlowState,
    LedgerStore,
    Quota,
    Step,
)
from paysync_core.testing import FakeClock, FakeSystem, Fault

TTL = timedelta(minutes=5)
START = datetime(2026, 1, 1, 10, 0, 5, tzinfo=timezone.utc)


def _engine(store: LedgerStore, system: FakeSystem, clock: FakeClock, quota: Quota) -> Engine:
    step = system.step("charge")
    paytrace_step = Step(step.name, perform=step.perform, lookup=step.lookup, system="paytrace")
    return Engine(
        store,
        [FlowDefinition("uc", [paytrace_step])],
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
        quotas={"paytrace": quota},
    )


def _submit(engine: Engine, count: int) -> list[str]:
    return [
        engine.submit("uc", source_system="s", source_id=str(i), version=1, input={}).flow_id
        for i in range(count)
    ]


def test_minute_budget_parks_and_resumes(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    engine = _engine(store, system, clock, Quota(per_minute=2))
    ids = _submit(engine, 3)
    report = engine.run_pending(max_workers=1)
    assert report.succeeded == ids[:2]
    assert report.parked == [ids[2]]
    assert engine.flow(ids[2]).not_before == datetime(2026, 1, 1, 10, 1, tzinfo=timezone.utc)
    assert engine.run_pending().processed == 0
    clock.advance(55)
    assert engine.run_pending().succeeded == [ids[2]]
    assert len(system.applied) == 3


def test_day_budget_and_lookups_count(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    system.script("charge", Fault.TIMEOUT_AFTER)  # one perform plus one lookup
    engine = _engine(store, system, clock, Quota(per_minute=100, per_day=2))
    ids = _submit(engine, 2)
    report = engine.run_pending(max_workers=1)
    assert report.succeeded == ids[:1]
    assert report.parked == ids[1:]
    assert engine.flow(ids[1]).not_before == datetime(2026, 1, 2, tzinfo=timezone.utc)
    with store.transaction() as tx:
        rows = tx.execute("SELECT span, used FROM quota_usage ORDER BY span")
    assert rows == [("day", 2), ("minute", 2)]  # a refused draw takes nothing
    clock.advance(24 * 3600)
    assert engine.run_pending().succeeded == ids[1:]
    assert set(system.applied.values()) == {1}


def test_concurrent_workers_never_overdraw(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    engines = [_engine(store, system, clock, Quota(per_minute=5)) for _ in range(3)]
    _submit(engines[0], 12)
    threads = [
        threading.Thread(target=engine.run_pending, kwargs={"max_workers": 4}) for engine in engines
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(system.performs) == 5
    with store.transaction() as tx:
        parked = [f for f in tx.list_flows() if f.state is FlowState.PENDING]
    assert len(parked) == 7


def test_quota_validation() -> None:
    with pytest.raises(ConfigurationError):
        Quota(per_minute=0)
