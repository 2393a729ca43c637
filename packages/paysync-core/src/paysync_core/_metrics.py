"""Counters and call timings in the Prometheus text exposition format.

Pass one :class:`Metrics` to every :class:`Engine` of a process and serve
:meth:`Metrics.render` on your ``/metrics`` endpoint (or push it anywhere that reads the text
format, e.g. the OpenTelemetry collector's Prometheus receiver).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_BUCKETS", "Metrics"]

_Event = tuple[str, str]
_Call = tuple[str, str, str, str, str]

DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""Upper bounds (seconds) of the call-latency histogram; ``+Inf`` is implicit."""


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Thread-safe metrics of the engine.

    * ``paysync_events_total{use_case, event}``: every audited event (``step.succeeded``,
      ``step.unknown``, ``flow.dead_lettered``, ``flow.parked``, ...);
    * ``paysync_call_seconds`` histogram ``{use_case, step, system, call, outcome}``
      (``_bucket{le=...}``, ``_sum``, ``_count``): latency of port calls, ``call`` being
      ``perform`` or ``lookup``; ``buckets`` are the upper bounds in seconds.
    """

    def __init__(
        self,
        *,
        timer: Callable[[], float] = time.perf_counter,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if not bounds or list(bounds) != sorted(set(bounds)) or bounds[0] <= 0:
            raise ValueError("buckets must be positive, strictly increasing and not empty")
        self.timer = timer
        self.buckets = bounds
        self._lock = threading.Lock()
        self._events: dict[_Event, int] = {}
        self._calls: dict[_Call, _Histogram] = {}

    def count_event(self, use_case: str, event: str) -> None:
        with self._lock:
            key = (use_case, event)
            self._events[key] = self._events.get(key, 0) + 1

    def observe_call(
        self, *, use_case: str, step: str, system: str, call: str, outcome: str, seconds: float
    ) -> None:
        with self._lock:
            key = (use_case, step, system, call, outcome)
            histogram = self._calls.get(key)
            if histogram is None:
                histogram = self._calls[key] = _Histogram([0] * len(self.buckets))
            histogram.observe(self.buckets, seconds)

    def event_count(self, use_case: str, event: str) -> int:
        with self._lock:
            return self._events.get((use_case, event), 0)

    def render(self) -> str:
        """The Prometheus text format (version 0.0.4)."""
        with self._lock:
            events = sorted(self._events.items())
            calls = sorted((k, v.copy()) for k, v in self._calls.items())
        lines = [
            "# HELP paysync_events_total Audited engine events.",
            "# TYPE paysync_events_total counter",
        ]
        for (use_case, event), count in events:
            lines.append(
                f'paysync_events_total{{use_case="{_label(use_case)}",event="{_label(event)}"}}'
                f" {count}"
            )
        lines += [
            "# HELP paysync_call_seconds Latency of external calls (perform, lookup).",
            "# TYPE paysync_call_seconds histogram",
        ]
        for (use_case, step, system, call, outcome), histogram in calls:
            labels = (
                f'use_case="{_label(use_case)}",step="{_label(step)}",system="{_label(system)}",'
                f'call="{_label(call)}",outcome="{_label(outcome)}"'
            )
            cumulative = 0
            for bound, count in zip(self.buckets, histogram.counts, strict=True):
                cumulative += count
                lines.append(f'paysync_call_seconds_bucket{{{labels},le="{bound:g}"}} {cumulative}')
            lines.append(f'paysync_call_seconds_bucket{{{labels},le="+Inf"}} {histogram.count}')
            lines.append(f"paysync_call_seconds_sum{{{labels}}} {histogram.total:.6f}")
            lines.append(f"paysync_call_seconds_count{{{labels}}} {histogram.count}")
        return "\n".join(lines) + "\n"


@dataclass
class _Histogram:
    counts: list[int]
    """Observations per bucket (not cumulative); the ``+Inf`` overflow is ``count - sum``."""
    count: int = 0
    total: float = 0.0

    def observe(self, bounds: Sequence[float], seconds: float) -> None:
        index = bisect.bisect_left(bounds, seconds)
        if index < len(bounds):
            self.counts[index] += 1
        self.count += 1
        self.total += seconds

    def copy(self) -> _Histogram:
        return _Histogram(list(self.counts), self.count, self.total)
