"""Test helpers for flows built on paysync-core: a controllable clock and a fake external
system with scriptable faults (timeouts before/after commit, 429 with Retry-After, 5xx,
connection resets, crashes). Import from ``paysync_core.testing``; not part of the engine.
"""

from __future__ import annotations

import enum
import itertools
import threading
from collections import defaultdict, deque
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from ._ledger import LedgerTransaction
from ._schema import AUDIT_GUARD_TRIGGERS
from ._steps import LookupResult, Step, StepContext

__all__ = ["Crash", "FakeClock", "FakeSystem", "Fault", "HttpStatusError", "drop_audit_guard"]


def drop_audit_guard(tx: LedgerTransaction) -> None:
    """Drop the append-only triggers of ``audit_log``, as an attacker with DDL rights could.

    Tamper tests use it to show that the hash chain still catches what the triggers no longer
    block; never call it on a real ledger.
    """
    on = " ON audit_log" if tx.dialect == "postgresql" else ""
    for name in AUDIT_GUARD_TRIGGERS[tx.dialect]:
        tx.execute(f"DROP TRIGGER {name}{on}")


class Crash(BaseException):
    """Simulated death of the worker: not an ``Exception``, so the engine cannot handle it and
    leaves the flow as a killed process would (lease held, outcome not recorded)."""


class HttpStatusError(Exception):
    """An HTTP-ish error as client libraries raise them (``status_code`` and ``headers``)."""

    def __init__(self, status_code: int, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.headers = dict(headers or {})


class FakeClock:
    """A thread-safe clock that only moves when told to (``sleep`` advances it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += timedelta(seconds=seconds)


class Fault(str, enum.Enum):
    OK = "ok"
    TIMEOUT_BEFORE = "timeout_before"
    """The request never reached the server, but the client cannot know: ``TimeoutError``."""
    TIMEOUT_AFTER = "timeout_after"
    """The server committed the write, then the client timed out."""
    RESET_AFTER = "reset_after"
    """The server committed the write, then the connection was reset."""
    RATE_LIMITED = "rate_limited"
    """429 with ``Retry-After: 7``; nothing applied."""
    SERVER_ERROR_BEFORE = "server_error_before"
    """500; nothing applied."""
    SERVER_ERROR_AFTER = "server_error_after"
    """500 after the write was committed."""
    REJECTED = "rejected"
    """422 validation error; nothing applied (permanent)."""
    CRASH_BEFORE = "crash_before"
    """The worker dies before sending the request."""
    CRASH_AFTER = "crash_after"
    """The worker dies after the server committed the write."""


_APPLIES = frozenset(
    {
        Fault.OK,
        Fault.TIMEOUT_AFTER,
        Fault.RESET_AFTER,
        Fault.SERVER_ERROR_AFTER,
        Fault.CRASH_AFTER,
    }
)


class FakeSystem:
    """An external system with no idempotency keys, searchable by correlation.

    Effects are keyed by the step's idempotency key (the correlation a real step would put in
    PayTrace ``invoice_id`` or a Fusion receipt number). ``applied`` counts how often each was
    applied: exactly-once means every count is 1.
    """

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.applied: dict[str, int] = defaultdict(int)
        self.external_ids: dict[str, str] = {}
        self.performs: list[str] = []
        self.lookups: list[str] = []
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._pending_lookups: dict[str, int] = defaultdict(int)

    def script(self, step_name: str, *faults: Fault) -> None:
        """Faults for the next calls of ``perform`` of that step (then ``OK``)."""
        with self._lock:
            self._faults[step_name].extend(faults)

    def lag(self, step_name: str, lookups: int) -> None:
        """The next ``lookups`` lookups of that step answer "pending" (export lag)."""
        with self._lock:
            self._pending_lookups[step_name] += lookups

    def clear_faults(self) -> None:
        """Forget every scripted fault and lookup lag (the system is healthy from now on)."""
        with self._lock:
            self._faults.clear()
            self._pending_lookups.clear()

    def _next_fault(self, step_name: str) -> Fault:
        queue = self._faults[step_name]
        return queue.popleft() if queue else Fault.OK

    def perform(self, ctx: StepContext) -> Mapping[str, str]:
        key = ctx.idempotency_key
        with self._lock:
            fault = self._next_fault(ctx.step_name)
            self.performs.append(key)
            if fault in _APPLIES:
                self.applied[key] += 1
                self.external_ids.setdefault(key, f"{self.name}-{next(self._ids)}")
            external = self.external_ids.get(key, "")
        if fault is Fault.OK:
            return {"id": external}
        if fault in (Fault.TIMEOUT_BEFORE, Fault.TIMEOUT_AFTER):
            raise TimeoutError("read timed out")
        if fault is Fault.RESET_AFTER:
            raise ConnectionResetError("connection reset by peer")
        if fault is Fault.RATE_LIMITED:
            raise HttpStatusError(429, {"Retry-After": "7"})
        if fault in (Fault.SERVER_ERROR_BEFORE, Fault.SERVER_ERROR_AFTER):
            raise HttpStatusError(500)
        if fault is Fault.REJECTED:
            raise HttpStatusError(422)
        raise Crash(fault.value)

    def lookup(self, ctx: StepContext) -> LookupResult:
        key = ctx.idempotency_key
        with self._lock:
            self.lookups.append(key)
            if self._pending_lookups[ctx.step_name] > 0:
                self._pending_lookups[ctx.step_name] -= 1
                return LookupResult.pending("export not up to date")
            if self.applied.get(key):
                return LookupResult.found({"id": self.external_ids[key]}, "found by correlation")
        return LookupResult.absent("no record with this correlation")

    def step(self, name: str, *, safe_to_retry: bool = False) -> Step:
        return Step(
            name=name,
            perform=self.perform,
            lookup=self.lookup,
            safe_to_retry=safe_to_retry,
            summarize=lambda ctx: {"system": self.name, "correlation": ctx.idempotency_key},
        )
