"""Scriptable faults, consumed one call at a time."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

__all__ = ["Fault", "FaultQueue"]

FaultKind = Literal[
    "latency", "status", "reset", "timeout_after_commit", "expired_token", "api_limit"
]
KINDS: frozenset[str] = frozenset(
    {"latency", "status", "reset", "timeout_after_commit", "expired_token", "api_limit"}
)


@dataclass(frozen=True)
class Fault:
    """One fault for the next ``times`` matching calls.

    - ``latency``: wait ``delay`` seconds, then answer normally;
    - ``status``: answer ``status`` (429, 500, 502, 503, 504 ...) without processing, with
      ``Retry-After: retry_after`` when given;
    - ``reset``: drop the connection before processing;
    - ``timeout_after_commit``: process and commit, then wait ``delay`` and drop the connection
      (in-process: the client sees a read timeout);
    - ``expired_token``: answer 401 as for an expired token;
    - ``api_limit``: a daily API quota is exhausted: 429 with ``Retry-After`` = the seconds
      until the next UTC midnight (Fusion publishes no such limit; the shape is the
      emulator's own).

    ``method`` and ``path`` (a substring of the request path) restrict the calls it matches.
    """

    kind: FaultKind
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    times: int = 1
    method: str | None = None
    path: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        kind = str(data.get("kind"))
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        retry_after = data.get("retry_after")
        return cls(
            kind=cast(FaultKind, kind),
            status=int(data.get("status", 503)),
            retry_after=float(retry_after) if retry_after is not None else None,
            delay=float(data.get("delay", 0.0)),
            times=int(data.get("times", 1)),
            method=str(data["method"]).upper() if data.get("method") else None,
            path=str(data["path"]) if data.get("path") else None,
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and (
            self.path is None or self.path in path
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultQueue:
    """Faults in order; the first matching one with calls left is used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[list[Any]] = []  # [fault, remaining]

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append([fault, fault.times])

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for entry in self._faults:
                fault: Fault = entry[0]
                if entry[1] > 0 and fault.matches(method, path):
                    entry[1] -= 1
                    return fault
            return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**e[0].to_json(), "remaining": e[1]} for e in self._faults if e[1] > 0]
