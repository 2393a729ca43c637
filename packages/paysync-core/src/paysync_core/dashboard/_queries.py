"""Read-only aggregate queries behind the overview (fast at a million flows).

Every query reads an index range (migration 6: ``flows (state, use_case)`` and
``flows (updated_at, state)``; migration 1: ``flows (state, seq)``, ``dead_letters (status,
seq)``) or only the newest rows (:class:`FlowTotals`), so the overview's cost follows the
number of unfinished flows and of flows finished in the chart's window, not the ledger's size.
Timestamps are fixed-width ISO text, so ``substr`` buckets them by minute or hour in both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from paysync_core import FlowState, LedgerStore, LedgerTransaction

__all__ = [
    "Bucket",
    "FinishedSeries",
    "FlowTotals",
    "Overview",
    "StateCount",
    "overview",
    "recent_flows",
]

UTC = timezone.utc

# window name -> (length, bucket width, characters of the ISO timestamp naming the bucket)
WINDOWS: dict[str, tuple[timedelta, timedelta, int]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=1), 16),
    "24h": (timedelta(hours=24), timedelta(hours=1), 13),
}


@dataclass(frozen=True)
class StateCount:
    use_case: str
    state: str
    count: int


@dataclass(frozen=True)
class Bucket:
    start: str
    succeeded: int
    dead: int

    @property
    def error_rate(self) -> float:
        total = self.succeeded + self.dead
        return self.dead / total if total else 0.0


@dataclass(frozen=True)
class Overview:
    counts: list[StateCount]
    buckets: list[Bucket]
    open_dead_letters: int
    oldest_pending_at: str | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _bucket_starts(now: datetime, window: str) -> list[str]:
    length, width, chars = WINDOWS[window]
    if width == timedelta(minutes=1):
        end = now.replace(second=0, microsecond=0)
    else:
        end = now.replace(minute=0, second=0, microsecond=0)
    count = int(length / width)
    return [_iso(end - width * i)[:chars] for i in range(count - 1, -1, -1)]


class FlowTotals:
    """Flows per use case, each flow counted once as it appears.

    Flows are never deleted and ``seq`` only grows, so the count up to a settled ``seq`` never
    changes: each call counts only the newer rows (a primary-key range), keeping the overview
    independent of the ledger's size. On PostgreSQL a sequence value can commit after larger
    ones, so the newest ``margin`` rows are recounted on every call instead of being settled.
    """

    def __init__(self, *, margin: int) -> None:
        self._margin = margin
        self._settled: dict[str, int] = {}
        self._upto = 0
        self._lock = threading.Lock()

    def read(self, tx: LedgerTransaction) -> dict[str, int]:
        with self._lock:
            top = int(str(tx.execute("SELECT COALESCE(MAX(seq), 0) FROM flows")[0][0]))
            settle = max(self._upto, top - self._margin)
            if settle > self._upto:
                for use_case, count in tx.execute(
                    "SELECT use_case, COUNT(*) FROM flows WHERE seq > ? AND seq <= ?"
                    " GROUP BY use_case",
                    (self._upto, settle),
                ):
                    key = str(use_case)
                    self._settled[key] = self._settled.get(key, 0) + int(str(count))
                self._upto = settle
            totals = dict(self._settled)
            for use_case, count in tx.execute(
                "SELECT use_case, COUNT(*) FROM flows WHERE seq > ? GROUP BY use_case",
                (self._upto,),
            ):
                totals[str(use_case)] = totals.get(str(use_case), 0) + int(str(count))
            return totals


_FINISHED = (
    # ``chars`` comes from WINDOWS, never from the request
    "SELECT substr(updated_at, 1, {chars}), state, COUNT(*) FROM flows"
    " WHERE updated_at >= ? AND updated_at < ? AND state IN ('succeeded', 'dead')"
    " GROUP BY substr(updated_at, 1, {chars}), state"
)
_END = "9"  # sorts after every timestamp: the open bucket has no upper bound


class FinishedSeries:
    """Finished flows per time bucket; the closed buckets cached for ``max_age`` seconds.

    Counting the chart's whole window was the overview's largest cost at a million flows
    (every flow finished in the last hour or day, grouped by bucket). A closed bucket only
    changes when one of its flows is updated again (a dead flow retried): its count is reused
    for up to ``max_age`` seconds, so such a move shows that much later. The open bucket
    (this minute or hour) is read on every call, so new outcomes show at once.
    """

    def __init__(
        self, *, max_age: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age
        self._clock = clock
        self._closed: dict[str, tuple[str, float, list[tuple[str, str, int]]]] = {}
        self._lock = threading.Lock()

    def read(
        self, tx: LedgerTransaction, window: str, starts: list[str]
    ) -> list[tuple[str, str, int]]:
        _, _, chars = WINDOWS[window]
        query = _FINISHED.format(chars=chars)
        with self._lock:
            cached = self._closed.get(window)
            at = self._clock()
            if cached is None or cached[0] != starts[0] or at - cached[1] > self._max_age:
                rows = _counts(tx.execute(query, (starts[0], starts[-1])))
                cached = (starts[0], at, rows)
                self._closed[window] = cached
        return cached[2] + _counts(tx.execute(query, (starts[-1], _END)))


def _counts(rows: list[tuple[object, ...]]) -> list[tuple[str, str, int]]:
    return [(str(start), str(state), int(str(count))) for start, state, count in rows]


# Every state but the one most flows end in: these are few, counted from the index.
_OPEN_STATES = tuple(s.value for s in FlowState if s is not FlowState.SUCCEEDED)


def overview(
    store: LedgerStore,
    totals: FlowTotals,
    *,
    now: datetime,
    window: str = "1h",
    series: FinishedSeries | None = None,
) -> Overview:
    """Flows per use case and state, finished flows per time bucket, DLQ size, oldest pending.

    ``succeeded`` is the use case's total minus its flows in every other state, so no query
    reads the (many) succeeded flows one by one. ``series`` caches the closed buckets (none
    given: every bucket is counted now).
    """
    series = series or FinishedSeries(max_age=-1.0)
    starts = _bucket_starts(now, window)
    marks = ", ".join("?" for _ in _OPEN_STATES)
    with store.transaction() as tx:
        per_use_case = totals.read(tx)
        open_rows = tx.execute(
            f"SELECT state, use_case, COUNT(*) FROM flows WHERE state IN ({marks})"  # noqa: S608
            " GROUP BY state, use_case",
            _OPEN_STATES,
        )
        finished = series.read(tx, window, starts)
        open_dlq = tx.execute("SELECT COUNT(*) FROM dead_letters WHERE status = 'open'")
        oldest = tx.execute(
            "SELECT created_at FROM flows WHERE state = 'pending' ORDER BY seq LIMIT 1"
        )
    states: dict[str, dict[str, int]] = {u: {} for u in per_use_case}
    for state, use_case, count in open_rows:
        states.setdefault(str(use_case), {})[str(state)] = int(str(count))
    counts: list[StateCount] = []
    for use_case in sorted(states):
        others = states[use_case]
        succeeded = per_use_case.get(use_case, 0) - sum(others.values())
        if succeeded > 0:
            others[FlowState.SUCCEEDED.value] = succeeded
        counts += [StateCount(use_case, s, c) for s, c in sorted(others.items())]
    per_bucket: dict[str, dict[str, int]] = {s: {"succeeded": 0, "dead": 0} for s in starts}
    for start, state, count in finished:
        slot = per_bucket.get(start)
        if slot is not None:
            slot[state] = count
    return Overview(
        counts=counts,
        buckets=[Bucket(s, v["succeeded"], v["dead"]) for s, v in per_bucket.items()],
        open_dead_letters=int(str(open_dlq[0][0])),
        oldest_pending_at=str(oldest[0][0]) if oldest else None,
    )


@dataclass(frozen=True)
class FlowRow:
    flow_id: str
    use_case: str
    state: str
    updated_at: str
    last_error: str | None


def recent_flows(store: LedgerStore, *, state: str, limit: int = 10) -> list[FlowRow]:
    """The newest flows in ``state`` (served by the ``(state, seq)`` index)."""
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT flow_id, use_case, state, updated_at, last_error FROM flows"
            " WHERE state = ? ORDER BY seq DESC LIMIT ?",
            (state, limit),
        )
    return [
        FlowRow(str(f), str(u), str(s), str(t), None if e is None else str(e))
        for f, u, s, t, e in rows
    ]
