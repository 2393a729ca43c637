"""Many flows in flight: per-entity ordering, several workers on one ledger, lease takeover."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import timedelta

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowState,
    LedgerStore,
    RunReport,
    Step,
    StepContext,
)
from paysync_core.testing import FakeClock, FakeSystem

TTL = timedelta(minutes=5)


class Tracker:
    """Records, per entity, which flow/step ran, and whether two ever overlapped."""

    def __init__(self, system: FakeSystem) -> None:
        self.system = system
        self.lock = threading.Lock()
        self.active: dict[str, str] = {}
        self.overlaps: list[str] = []
        self.order: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.running = 0
        self.max_running = 0

    def perform(self, ctx: StepContext) -> Mapping[str, str]:
        entity = str(ctx.input["entity"])
        with self.lock:
            holder = self.active.get(entity)
            if holder is not None and holder != ctx.flow_id:
                self.overlaps.append(entity)
            self.active[entity] = ctx.flow_id
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(0.004)
        with self.lock:
            self.running -= 1
            self.order[entity].append((int(str(ctx.input["n"])), ctx.step_name))
            if ctx.step_name == "second":
                del self.active[entity]
        return self.system.perform(ctx)

    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            "sync",
            [
                Step("first", perform=self.perform, lookup=self.system.lookup),
                Step("second", perform=self.perform, lookup=self.system.lookup),
            ],
        )


def make_engine(store: LedgerStore, definition: FlowDefinition, worker: str) -> Engine:
    clock = FakeClock()
    return Engine(
        store, [definition], worker_id=worker, lease_ttl=TTL, clock=clock, sleep=clock.sleep
    )


def submit_backlog(engine: Engine, entities: int, per_entity: int) -> list[str]:
    ids: list[str] = []
    for n in range(per_entity):
        for e in range(entities):
            flow = engine.submit(
                "sync",
                source_system="sf",
                source_id=f"E{e}-{n}",
                version=1,
                input={"entity": f"E{e}", "n": n},
                entity_key=f"E{e}",
            )
            ids.append(flow.flow_id)
    return ids


def assert_ordered(tracker: Tracker, entities: int, per_entity: int) -> None:
    assert tracker.overlaps == []
    expected = [(n, step) for n in range(per_entity) for step in ("first", "second")]
    for e in range(entities):
        assert tracker.order[f"E{e}"] == expected


def test_thread_pool_keeps_per_entity_order(store: LedgerStore) -> None:
    system = FakeSystem()
    tracker = Tracker(system)
    engine = make_engine(store, tracker.definition(), "w1")
    ids = submit_backlog(engine, entities=6, per_entity=4)
    report = engine.run_pending(max_workers=8)
    assert sorted(report.succeeded) == sorted(ids)
    assert report.errors == {}
    assert tracker.max_running > 1  # really concurrent
    assert_ordered(tracker, 6, 4)
    assert set(system.applied.values()) == {1}
    assert len(system.applied) == 48


def test_two_workers_share_a_backlog(ledger_factory: Callable[[], LedgerStore]) -> None:
    system = FakeSystem()
    tracker = Tracker(system)
    definition = tracker.definition()
    first = make_engine(ledger_factory(), definition, "w1")
    second = make_engine(ledger_factory(), definition, "w2")
    ids = submit_backlog(first, entities=5, per_entity=3)
    reports: list[RunReport] = []

    def work(engine: Engine) -> None:
        reports.append(engine.run_pending(max_workers=4))

    threads = [threading.Thread(target=work, args=(engine,)) for engine in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [flow_id for report in reports for flow_id in report.succeeded]
    assert sorted(done) == sorted(ids)  # each flow run by exactly one worker
    assert all(r.errors == {} for r in reports)
    assert_ordered(tracker, 5, 3)
    assert len(system.applied) == 30
    assert set(system.applied.values()) == {1}


def test_dead_workers_leases_are_taken_over_after_expiry(store: LedgerStore) -> None:
    system = FakeSystem()
    definition = FlowDefinition("sync", [system.step("first"), system.step("second")])
    clock = FakeClock()
    engine = Engine(
        store, [definition], worker_id="alive", lease_ttl=TTL, clock=clock, sleep=clock.sleep
    )
    ids = [
        engine.submit("sync", source_system="s", source_id=str(i), version=1, input={}).flow_id
        for i in range(5)
    ]
    now = clock()
    with store.transaction() as tx:  # a worker claims everything, then dies
        assert len(tx.claim(owner="dead", now=now, lease_expires_at=now + TTL, limit=10)) == 5
    assert engine.run_pending().processed == 0
    clock.advance(TTL.total_seconds() - 1)
    assert engine.run_pending().processed == 0
    clock.advance(2)
    report = engine.run_pending()
    assert sorted(report.succeeded) == sorted(ids)
    assert all(engine.flow(i).state is FlowState.SUCCEEDED for i in ids)
    assert len(system.applied) == 10


def test_engine_errors_do_not_spin_and_foreign_use_cases_are_left_alone(
    store: LedgerStore,
) -> None:
    system = FakeSystem()
    clock = FakeClock()
    broken_once: list[str] = []

    def hook(tx: object, flow: object, step: object) -> None:
        if not broken_once:
            broken_once.append("x")
            raise RuntimeError("replay store down")

    engine = Engine(
        store,
        [FlowDefinition("sync", [system.step("first")])],
        worker_id="w1",
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
        on_step_committed=hook,
    )
    other = Engine(
        store,
        [FlowDefinition("other", [system.step("first")])],
        worker_id="w2",
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
    )
    flow = engine.submit("sync", source_system="s", source_id="1", version=1, input={})
    assert other.run_pending().processed == 0  # not its use case
    report = engine.run_pending()
    assert list(report.errors) == [flow.flow_id]
    assert "replay store down" in report.errors[flow.flow_id]
    assert engine.run_pending().succeeded == [flow.flow_id]  # next pass resumes by lookup
    assert set(system.applied.values()) == {1}
