"""The overview's finished-flows series: closed buckets cached, the open bucket always live."""

from __future__ import annotations

from datetime import datetime, timedelta

from paysync_core import DeadLetterQueue, LedgerStore
from paysync_core.dashboard._queries import FinishedSeries, FlowTotals, overview

from .conftest import Demo


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _dead(demo: Demo) -> tuple[str, datetime]:
    demo.fail_next_charge()
    flow = demo.submit()
    demo.engine.run_pending()
    with demo.store.transaction() as tx:
        dead = tx.get_flow(flow.flow_id)
    assert dead is not None
    return flow.flow_id, dead.updated_at


def _dead_in(store: LedgerStore, series: FinishedSeries, now: datetime, bucket: datetime) -> int:
    result = overview(store, FlowTotals(margin=0), now=now, series=series)
    key = bucket.strftime("%Y-%m-%dT%H:%M")
    (match,) = [b for b in result.buckets if b.start == key]
    return match.dead


def test_closed_buckets_are_reused_until_max_age_the_open_one_is_live(
    store: LedgerStore, demo: Demo
) -> None:
    _, died_at = _dead(demo)
    clock = Clock()
    series = FinishedSeries(max_age=30.0, clock=clock)
    # the flow's minute is the open bucket: read live, so the retry shows at once
    assert _dead_in(demo.store, series, died_at, died_at) == 1
    (entry,) = DeadLetterQueue(demo.store).list()
    DeadLetterQueue(demo.store).retry(entry.entry_id)
    assert _dead_in(demo.store, series, died_at, died_at) == 0

    # two minutes on, that minute is a closed bucket: counted once, then reused
    _, died_again = _dead(demo)
    later = died_again + timedelta(minutes=2)
    assert _dead_in(demo.store, series, later, died_again) == 1
    assert _dead_in(demo.store, FinishedSeries(max_age=-1.0), later, died_again) == 1
    (entry,) = DeadLetterQueue(demo.store).list()
    DeadLetterQueue(demo.store).retry(entry.entry_id)
    clock.now = 29.0
    assert _dead_in(demo.store, series, later, died_again) == 1  # cached, as documented
    clock.now = 31.0
    assert _dead_in(demo.store, series, later, died_again) == 0
    # without a cache every bucket is counted now
    assert _dead_in(demo.store, FinishedSeries(max_age=-1.0), later, died_again) == 0
