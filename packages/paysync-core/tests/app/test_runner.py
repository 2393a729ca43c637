"""The runner loop: sources on their interval, a failing source isolated, stop between passes."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from paysync_core import Engine
from paysync_core.app import Runner, get_usecase, offline_ports
from paysync_core.app._runner import PassReport


@dataclass
class CountingSource:
    name: str
    polls: int = 0
    fail: bool = False

    def poll(self, engine: Engine) -> int:
        self.polls += 1
        if self.fail:
            raise ConnectionError("host unreachable")
        return 0


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sources_are_polled_on_their_interval_and_failures_are_isolated() -> None:
    ports = offline_ports()
    ticks = Ticks()
    runner = Runner(
        ports,
        [get_usecase("settlement_gl")],
        intervals={"paytrace": 60.0, "salesforce": 10.0},
        monotonic=ticks,
    )
    paytrace = CountingSource("paytrace-settlements")
    broken = CountingSource("salesforce-subscriptions", fail=True)
    runner.sources = (paytrace, broken)
    stop = threading.Event()
    reports: list[PassReport] = []

    def on_pass(report: PassReport) -> None:
        reports.append(report)
        ticks.now += 15.0  # each pass "takes" 15 s
        if len(reports) == 5:
            stop.set()

    runner.idle_sleep = 0.0
    passes = runner.run_forever(stop, on_pass=on_pass)
    ports.store.close()
    assert passes == 5
    # t = 0, 15, 30, 45, 60: PayTrace every 60 s, Salesforce every 10 s (so every pass)
    assert paytrace.polls == 2
    assert broken.polls == 5
    assert all("salesforce-subscriptions" in r.poll_errors for r in reports)
    assert reports[0].poll_errors["salesforce-subscriptions"] == "ConnectionError: host unreachable"
    assert reports[0].polled == {"paytrace-settlements": 0}


def test_once_polls_every_source_and_stop_ends_the_loop_before_a_pass() -> None:
    ports = offline_ports()
    runner = Runner(ports, [get_usecase("settlement_gl")], monotonic=Ticks())
    source = CountingSource("paytrace-settlements")
    runner.sources = (source,)
    runner.run_once()
    runner.run_once()
    assert source.polls == 2  # --once ignores intervals: cron decides the cadence
    stop = threading.Event()
    stop.set()
    assert runner.run_forever(stop) == 0
    ports.store.close()
