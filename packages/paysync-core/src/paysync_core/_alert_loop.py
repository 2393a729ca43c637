"""Evaluating alert rules on a schedule, outside any flow: ``run_alert_loop``.

The loop calls :meth:`AlertManager.evaluate` every ``interval`` seconds (fixed rate: a slow
evaluation shortens the following wait instead of shifting every later round) until ``stop``
is set or ``max_rounds`` rounds ran. An evaluation that raises (ledger unreachable) is logged,
reported to ``on_error`` and retried at the next round: an alerting loop that dies silently is
worse than none. Clock and sleep are injectable for tests; without an injected ``sleep`` the
loop waits on ``stop`` itself, so setting it ends a wait at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from ._alerts import AlertReport
from ._redact import redact_text

__all__ = ["AlertEvaluator", "run_alert_loop"]

log = logging.getLogger("paysync_core.alerts")


class AlertEvaluator(Protocol):
    """What the loop drives (an :class:`~paysync_core.AlertManager`)."""

    def evaluate(self) -> AlertReport: ...


def run_alert_loop(
    manager: AlertEvaluator,
    *,
    interval: float,
    stop: threading.Event | None = None,
    max_rounds: int | None = None,
    on_report: Callable[[AlertReport], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """Evaluate alerts every ``interval`` seconds; returns the number of rounds run.

    Runs in the calling thread; to run it in the background, start it in a thread and set
    ``stop`` to end it (the current evaluation finishes first).
    """
    if not interval > 0:
        raise ValueError(f"interval must be a positive number of seconds, not {interval!r}")
    if max_rounds is not None and max_rounds < 0:
        raise ValueError(f"max_rounds must not be negative, not {max_rounds!r}")
    stop = stop if stop is not None else threading.Event()
    rounds = 0
    next_at = clock()
    while not stop.is_set() and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        try:
            report = manager.evaluate()
        except Exception as exc:  # keep alerting alive; the next round retries
            log.error("alert evaluation failed: %s", redact_text(f"{type(exc).__name__}: {exc}"))
            if on_error is not None:
                on_error(exc)
        else:
            if on_report is not None:
                on_report(report)
        if max_rounds is not None and rounds >= max_rounds:
            break
        next_at += interval
        now = clock()
        next_at = max(next_at, now)  # fell behind by more than a round: skip the missed ones
        wait = next_at - now
        if sleep is None:
            stop.wait(wait)
        elif wait > 0:
            sleep(wait)
    return rounds
