"""Alert rules and the de-duplicating manager, on both stores (sinks are in-memory here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import pytest

from paysync_core import (
    Alert,
    AlertContext,
    AlertManager,
    AuditVerificationRule,
    DeadLetterQueue,
    DeadLetterRule,
    Engine,
    ErrorRateRule,
    FlowDefinition,
    LagRule,
    LedgerStore,
    Quota,
    QuotaNearlySpentRule,
    Step,
    quota_usage,
)
from paysync_core.testing import FakeClock, FakeSystem, Fault, drop_audit_guard

TTL = timedelta(minutes=5)
START = datetime(2026, 1, 1, 10, 0, 5, tzinfo=timezone.utc)


class MemorySink:
    def __init__(self, name: str = "memory", failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("sink down")
        self.sent.append(alert)


def _engine(
    store: LedgerStore, system: FakeSystem, clock: FakeClock, quotas: dict[str, Quota] | None = None
) -> Engine:
    base = system.step("charge")
    step = Step(base.name, perform=base.perform, lookup=base.lookup, system="paytrace")
    return Engine(
        store, [FlowDefinition("uc", [step])], lease_ttl=TTL, clock=clock, sleep=clock.sleep,
        quotas=quotas,
    )  # fmt: skip


def _run(engine: Engine, *source_ids: str) -> None:
    for source_id in source_ids:
        flow = engine.submit("uc", source_system="s", source_id=source_id, version=1, input={})
        engine.run_flow(flow.flow_id)


def test_dead_letter_is_one_alert_per_incident_across_processes(
    ledger_factory: Callable[[], LedgerStore],
) -> None:
    store, other_process = ledger_factory(), ledger_factory()
    system, clock = FakeSystem(), FakeClock(START)
    engine = _engine(store, system, clock)
    system.script("charge", Fault.REJECTED)
    _run(engine, "A")
    sink, other_sink = MemorySink(), MemorySink()
    manager = AlertManager(store, [DeadLetterRule()], [sink], clock=clock)
    other = AlertManager(other_process, [DeadLetterRule()], [other_sink], clock=clock)
    other_sink.name = sink.name  # the same sink configured in two worker processes

    first = manager.evaluate()
    assert [a.rule for a in first.firing] == ["dead_letter"]
    assert len(sink.sent) == 1
    assert "dead-lettered at step charge (permanent)" in sink.sent[0].summary
    assert manager.evaluate().delivered == []  # still firing: same incident, no new alert
    assert other.evaluate().delivered == []  # de-duplicated through the ledger
    assert other_sink.sent == []

    entry = DeadLetterQueue(store).list()[0]
    DeadLetterQueue(store).resolve(entry.entry_id, note="done")
    assert manager.evaluate().firing == []  # incident closed
    system.script("charge", Fault.REJECTED)
    _run(engine, "B")
    assert len(manager.evaluate().delivered) == 1  # a new incident is a new alert
    assert len(sink.sent) == 2


def test_failed_delivery_is_retried_and_broken_rules_are_reported(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    system.script("charge", Fault.REJECTED)
    _run(_engine(store, system, clock), "A")

    class Broken:
        name = "broken"

        def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
            raise RuntimeError("token=abc123 oops")

    sink = MemorySink(failures=1)
    manager = AlertManager(store, [Broken(), DeadLetterRule()], [sink], clock=clock)
    report = manager.evaluate()
    assert report.rule_errors == {"broken": "RuntimeError: token=<redacted> oops"}
    assert [d.error for d in report.failed] == ["ConnectionError: sink down"]
    assert sink.sent == []
    assert len(manager.evaluate().delivered) == 1
    assert len(sink.sent) == 1


def test_error_rate_over_threshold(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    engine = _engine(store, system, clock)
    _run(engine, *[f"ok-{i}" for i in range(7)])
    for i in range(3):
        system.script("charge", Fault.REJECTED)
        _run(engine, f"bad-{i}")
    sink = MemorySink()
    rules = [ErrorRateRule(threshold=0.25, min_flows=10)]
    report = AlertManager(store, rules, [sink], clock=clock).evaluate()
    assert [a.details for a in report.firing] == [{"dead": 3, "finished": 10, "rate": 0.3}]
    assert ErrorRateRule(threshold=0.5).evaluate(AlertContext(store, clock())) == []
    assert ErrorRateRule(min_flows=11).evaluate(AlertContext(store, clock())) == []
    later = AlertContext(store, clock() + timedelta(hours=1))
    assert ErrorRateRule(threshold=0.25).evaluate(later) == []  # outside the window


def test_lag_over_threshold(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    engine = _engine(store, system, clock)
    flow = engine.submit("uc", source_system="s", source_id="late", version=1, input={})
    rule = LagRule(max_lag=timedelta(minutes=15))
    assert rule.evaluate(AlertContext(store, clock())) == []
    clock.sleep(16 * 60)
    [alert] = rule.evaluate(AlertContext(store, clock()))
    assert alert.details == {"lag_seconds": 960.0, "backlog": 1}
    engine.run_flow(flow.flow_id)
    assert rule.evaluate(AlertContext(store, clock())) == []


def test_quota_nearly_spent(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    quotas = {"paytrace": Quota(per_minute=10, per_day=1000)}
    engine = _engine(store, system, clock, quotas)
    _run(engine, *[str(i) for i in range(8)])
    usage = {u.span: (u.used, u.limit, u.remaining) for u in quota_usage(store, quotas, clock())}
    assert usage == {"minute": (8, 10, 2), "day": (8, 1000, 992)}
    rule = QuotaNearlySpentRule(quotas, threshold=0.9)
    assert rule.evaluate(AlertContext(store, clock())) == []
    _run(engine, "8")
    [alert] = rule.evaluate(AlertContext(store, clock()))
    assert alert.key == "quota:paytrace:minute"
    assert alert.details["used"] == 9
    assert alert.details["resets_at"] == "2026-01-01T10:01:00.000000+00:00"
    next_minute = AlertContext(store, clock() + timedelta(minutes=1))
    assert rule.evaluate(next_minute) == []  # a fresh window


def test_audit_verification_failure_alerts(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock(START)
    _run(_engine(store, system, clock), "A")
    rule = AuditVerificationRule()
    assert rule.evaluate(AlertContext(store, clock())) == []
    with store.transaction() as tx:
        drop_audit_guard(tx)
        tx.execute("UPDATE audit_log SET kind = 'forged' WHERE seq = 2")
    [alert] = rule.evaluate(AlertContext(store, clock()))
    assert alert.severity == "critical"
    assert alert.details["seq"] == 2


def test_alerts_carry_no_secrets() -> None:
    alert = Alert(
        rule="r",
        key="k",
        severity="warning",
        summary="card 4111111111111111 failed",
        at=START,
        details={"last_error": "password=hunter2 Bearer abcdefgh.ijk", "api_key": "sk_live_x"},
    )
    text = alert.text()
    for secret in ("4111111111111111", "hunter2", "abcdefgh.ijk", "sk_live_x"):
        assert secret not in text
    with pytest.raises(Exception, match="aware"):
        Alert(rule="r", key="k", severity="w", summary="s", at=datetime(2026, 1, 1))  # noqa: DTZ001
