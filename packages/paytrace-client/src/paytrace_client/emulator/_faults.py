"""Scriptable faults: which calls misbehave, and how.

A :class:`FaultRule` matches request paths by glob and affects the next ``count`` matching
calls (after letting ``skip`` through). Rules are tried in the order they were added; the
first one that fires decides the call's fate. With no rules the check is a single attribute
read, so faults cost nothing when unused.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

__all__ = [
    "EmulatedConnectionResetError",
    "FaultBook",
    "FaultKind",
    "FaultRule",
    "ResponseWithheldError",
]

FaultKind = Literal[
    "latency", "http_error", "rate_limit", "reset", "timeout_after_commit", "expired_token"
]
_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One scripted fault.

    - ``latency``: sleep ``latency_seconds`` before handling the call normally.
    - ``http_error``: answer ``status`` (default 503) without touching state.
    - ``rate_limit``: answer 429 with ``Retry-After: <retry_after>``.
    - ``reset``: drop the connection without a response (in-process: requests'
      ``ConnectionError``); nothing is committed.
    - ``timeout_after_commit``: commit the write, then withhold the response (on a port the
      socket stays silent for ``latency_seconds`` or the config's withholding time, then
      closes; in-process: requests' ``ReadTimeout``).
    - ``expired_token``: the presented bearer token expires just before the call.
    """

    kind: FaultKind
    path: str = "*"
    count: int | None = 1
    skip: int = 0
    latency_seconds: float = 0.0
    status: int = 503
    retry_after: int = 1
    body: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(_KINDS)}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1, or None for every matching call")
        if self.skip < 0 or self.latency_seconds < 0:
            raise ValueError("skip and latency_seconds must not be negative")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build from a control-endpoint JSON object (unknown keys are an error)."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        kind = str(data.get("kind", ""))
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(_KINDS)}")
        count = data.get("count", 1)
        return cls(
            kind=cast(FaultKind, kind),
            path=str(data.get("path", "*")),
            count=None if count is None else int(count),
            skip=int(data.get("skip", 0)),
            latency_seconds=float(data.get("latency_seconds", 0.0)),
            status=int(data.get("status", 503)),
            retry_after=int(data.get("retry_after", 1)),
            body=None if data.get("body") is None else str(data.get("body")),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, path: str) -> bool:
        return self.path == "*" or fnmatch.fnmatchcase(path, self.path)


class _Entry:
    __slots__ = ("rule", "skipped", "used")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.skipped = 0
        self.used = 0


class FaultBook:
    """The active rules, consumed thread-safely as calls arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []

    def add(self, *rules: FaultRule) -> None:
        with self._lock:
            self._entries.extend(_Entry(rule) for rule in rules)

    def clear(self) -> None:
        with self._lock:
            self._entries = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {**e.rule.to_json(), "fired": e.used, "skipped": e.skipped} for e in self._entries
            ]

    def take(self, path: str) -> FaultRule | None:
        """The rule that fires for this call, if any (consuming one of its uses)."""
        if not self._entries:  # unlocked fast path; a racing add() applies from the next call
            return None
        with self._lock:
            for entry in self._entries:
                rule = entry.rule
                if not rule.matches(path):
                    continue
                if entry.skipped < rule.skip:
                    entry.skipped += 1
                    continue
                entry.used += 1
                if rule.count is not None and entry.used >= rule.count:
                    self._entries.remove(entry)
                return rule
        return None


class EmulatedConnectionResetError(ConnectionResetError):
    """Raised by the WSGI app to make its server drop the connection without answering."""


class ResponseWithheldError(Exception):
    """Raised after a write was committed: the response must never reach the client."""

    def __init__(self, hold_seconds: float) -> None:
        super().__init__(f"response withheld for {hold_seconds} s after commit")
        self.hold_seconds = hold_seconds
