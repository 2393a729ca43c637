"""Counters and call timings in the Prometheus text exposition format.

Pass one :class:`Metrics` to every :class:`Engine` of a process and serve
:meth:`Metrics.render` on your ``/metrics`` endpoint (or push it anywhere that reads the text
format, e.g. the OpenTelemetry collector's Prometheus receiver).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Metrics"]

_Event = tuple[str, str]
_Call = tuple[str, str, str, str, str]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Thread-safe metrics of the engine.

    * ``paysync_events_total{use_case, event}``: every audited event (``step.succeeded``,
      ``step.unknown``, ``flow.dead_lettered``, ``flow.parked``, ...);
    * ``paysync_call_seconds_sum`` / ``_count{use_case, step, system, call, outcome}``: time
      spent in ports, ``call`` being ``perform`` or ``lookup``.
    """

    def __init__(self, *, timer: Callable[[], float] = time.perf_counter) -> None:
        self.timer = timer
        self._lock = threading.Lock()
        self._events: dict[_Event, int] = {}
        self._calls: dict[_Call, tuple[int, float]] = {}

    def count_event(self, use_case: str, event: str) -> None:
        with self._lock:
            key = (use_case, event)
            self._events[key] = self._events.get(key, 0) + 1

    def observe_call(
        self, *, use_case: str, step: str, system: str, call: str, outcome: str, seconds: float
    ) -> None:
        with self._lock:
            key = (use_case, step, system, call, outcome)
            count, total = self._calls.get(key, (0, 0.0))
            self._calls[key] = (count + 1, total + seconds)

    def event_count(self, use_case: str, event: str) -> int:
        with self._lock:
            return self._events.get((use_case, event), 0)

    def render(self) -> str:
        """The Prometheus text format (version 0.0.4)."""
        with self._lock:
            events = sorted(self._events.items())
            calls = sorted(self._calls.items())
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
            "# HELP paysync_call_seconds Time spent in external calls (perform, lookup).",
            "# TYPE paysync_call_seconds summary",
        ]
        for (use_case, step, system, call, outcome), (count, total) in calls:
            labels = (
                f'use_case="{_label(use_case)}",step="{_label(step)}",system="{_label(system)}",'
                f'call="{call}",outcome="{_label(outcome)}"'
            )
            lines.append(f"paysync_call_seconds_sum{{{labels}}} {total:.6f}")
            lines.append(f"paysync_call_seconds_count{{{labels}}} {count}")
        return "\n".join(lines) + "\n"
