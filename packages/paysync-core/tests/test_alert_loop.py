"""``run_alert_loop``: alerts evaluated on a schedule, outside any flow, with a real ledger."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from paysync_core import (
    Alert,
    AlertContext,
    AlertManager,
    AlertReport,
    LedgerError,
    SqliteLedger,
    run_alert_loop,
)

AT = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


@dataclass
class _Switch:
    """A user-defined rule: fires while ``on`` is set."""

    on: bool = True
    name: str = "switch"

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
        if not self.on:
            return []
        return [Alert(rule=self.name, key="switch", severity="warning", summary="on", at=AT)]


@dataclass
class _Inbox:
    name: str = "inbox"
    received: list[str] = field(default_factory=list[str])

    def send(self, alert: Alert) -> None:
        self.received.append(alert.key)


class _FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _manager(tmp_path: Path, rule: _Switch, inbox: _Inbox) -> tuple[AlertManager, SqliteLedger]:
    store = SqliteLedger(tmp_path / "ledger.db")
    return AlertManager(store, [rule], [inbox]), store


def test_rounds_run_on_schedule_and_one_incident_is_one_alert(tmp_path: Path) -> None:
    rule, inbox, fake = _Switch(), _Inbox(), _FakeTime()
    manager, store = _manager(tmp_path, rule, inbox)
    reports: list[AlertReport] = []

    def seen(report: AlertReport) -> None:
        reports.append(report)
        if len(reports) == 2:
            rule.on = False  # the incident ends between rounds 2 and 3 ...
        if len(reports) == 3:
            rule.on = True  # ... and recurs: a new incident, a new alert

    rounds = run_alert_loop(
        manager,
        interval=60,
        max_rounds=4,
        on_report=seen,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    store.close()
    assert rounds == 4
    assert fake.sleeps == [60, 60, 60]
    assert [len(r.delivered) for r in reports] == [1, 0, 0, 1]
    assert inbox.received == ["switch", "switch"]


def test_fixed_rate_a_slow_evaluation_shortens_the_wait(tmp_path: Path) -> None:
    fake = _FakeTime()
    manager, store = _manager(tmp_path, _Switch(), _Inbox())

    class Slow:
        def evaluate(self) -> AlertReport:
            fake.now += 20  # the evaluation takes 20 s of the fake clock
            return manager.evaluate()

    run_alert_loop(Slow(), interval=60, max_rounds=3, clock=fake.clock, sleep=fake.sleep)
    store.close()
    assert fake.sleeps == [40, 40]


def test_a_failing_evaluation_is_reported_and_retried(tmp_path: Path) -> None:
    fake, errors = _FakeTime(), list[Exception]()
    manager, store = _manager(tmp_path, _Switch(), _Inbox())
    store.close()  # the ledger is gone: every evaluation raises
    rounds = run_alert_loop(
        manager,
        interval=5,
        max_rounds=3,
        on_error=errors.append,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert rounds == 3
    assert len(errors) == 3
    assert all(isinstance(e, LedgerError) for e in errors)
    assert fake.sleeps == [5, 5]


def test_stop_ends_a_wait_at_once(tmp_path: Path) -> None:
    inbox = _Inbox()
    manager, store = _manager(tmp_path, _Switch(), inbox)
    stop, first = threading.Event(), threading.Event()
    done: list[int] = []
    thread = threading.Thread(
        target=lambda: done.append(
            run_alert_loop(manager, interval=3600, stop=stop, on_report=lambda _: first.set())
        )
    )
    thread.start()
    assert first.wait(10)
    started = time.monotonic()
    stop.set()
    thread.join(10)
    store.close()
    assert not thread.is_alive()
    assert time.monotonic() - started < 5  # not the hour-long interval
    assert done == [1]
    assert inbox.received == ["switch"]


@pytest.mark.parametrize(
    ("interval", "max_rounds", "match"),
    [(0.0, None, "interval"), (-1.0, None, "interval"), (1.0, -1, "max_rounds")],
)
def test_bad_schedule_is_refused(
    tmp_path: Path, interval: float, max_rounds: int | None, match: str
) -> None:
    manager, store = _manager(tmp_path, _Switch(), _Inbox())
    with pytest.raises(ValueError, match=match):
        run_alert_loop(manager, interval=interval, max_rounds=max_rounds)
    store.close()
