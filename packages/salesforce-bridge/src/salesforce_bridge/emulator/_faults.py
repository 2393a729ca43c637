"""Scripted faults: each matches calls by method and path and fires a number of times."""

from __future__ import annotations

import re
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

__all__ = [
    "COMETD_FAULT_KINDS",
    "FAULT_KINDS",
    "EmulatedDisconnect",
    "EmulatedTimeout",
    "Fault",
    "FaultBook",
]

FaultKind = Literal[
    "latency",
    "status",
    "reset",
    "timeout_after_commit",
    "expire_session",
    "limit_exhausted",
    "cometd_unknown_client",
    "cometd_invalid_replay",
    "cometd_duplicate",
    "cometd_hold",
]
# Matched per Bayeux message (``path`` is searched in the message's channel, e.g.
# ``/meta/connect``) by the CometD endpoint, never per HTTP request.
COMETD_FAULT_KINDS: tuple[str, ...] = (
    "cometd_unknown_client",
    "cometd_invalid_replay",
    "cometd_duplicate",
    "cometd_hold",
)
FAULT_KINDS: tuple[str, ...] = (
    "latency",
    "status",
    "reset",
    "timeout_after_commit",
    "expire_session",
    "limit_exhausted",
    *COMETD_FAULT_KINDS,
)


class EmulatedDisconnect(Exception):  # noqa: N818 - a signal, not an error of the emulator
    """Raised by the app: the transport must drop the connection without an answer."""


class EmulatedTimeout(Exception):  # noqa: N818
    """Raised by the app *after* committing: the transport must time out (or stall)."""

    def __init__(self, delay: float, response: Any) -> None:
        super().__init__(delay)
        self.delay = delay
        self.response = response


@dataclass
class Fault:
    """One scripted fault.

    ``kind``: latency | status | reset | timeout_after_commit | expire_session | limit_exhausted,
    or a CometD message fault (``COMETD_FAULT_KINDS``, see the package README).
    ``method``/``path``: filters (``path`` is a regular expression searched in the URL path).
    ``times``: how many matching calls it affects, after letting ``after`` matching calls
    pass. ``status``/``error_code``/``retry_after``:
    the answer of a ``status`` fault. ``delay``: seconds of latency, or of the stall of a
    ``timeout_after_commit`` on a real socket.
    """

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 503
    error_code: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    after: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        retry_after = data.get("retry_after")
        return cls(
            kind=cast("FaultKind", kind),
            method=str(data["method"]).upper() if data.get("method") else None,
            path=str(data["path"]) if data.get("path") else None,
            times=int(data.get("times", 1)),
            status=int(data.get("status", 503)),
            error_code=str(data["error_code"]) if data.get("error_code") else None,
            retry_after=int(retry_after) if retry_after is not None else None,
            delay=float(data.get("delay", 1.0 if kind == "timeout_after_commit" else 0.0)),
            after=int(data.get("after", 0)),
        )

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str, *, kinds: Collection[str] | None = None) -> Fault | None:
        """The first matching fault of ``kinds``, counting one use of it.

        ``kinds=None`` means every kind except the CometD message faults, which only the
        CometD endpoint takes (per Bayeux message, not per HTTP request).
        """
        with self._lock:
            for fault in self._faults:
                wanted = (
                    fault.kind in kinds
                    if kinds is not None
                    else (fault.kind not in COMETD_FAULT_KINDS)
                )
                if wanted and fault.times > 0 and fault.matches(method, path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None
