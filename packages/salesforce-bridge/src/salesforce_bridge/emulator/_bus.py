"""The emulator's event bus: one retained, replayable log per topic, shared by every transport.

REST writes (change events), REST/Pub/Sub publishes (platform events), the CometD endpoint and
the Pub/Sub gRPC servicer all meet here. Replay ids come from one global counter, so an id is
unique across topics and "newer" is a plain integer comparison. Events older than
``retention_seconds`` (by the bus clock) are dropped lazily on read; their ids stop being valid.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

__all__ = ["ALL_CHANGE_EVENTS", "BusEvent", "BusListener", "EventBus"]

ALL_CHANGE_EVENTS = "/data/ChangeEvents"
"""The channel carrying the change events of every entity."""


@dataclass(frozen=True)
class BusEvent:
    """One event as stored on the bus (CDC field lists are field names, never bitmaps)."""

    replay_id: int
    event_uuid: str
    topic: str
    payload: Mapping[str, Any]
    published_at: float


BusListener = Callable[[BusEvent], None]


class EventBus:
    """Thread-safe per-topic event logs with retention, replay and waiting for news."""

    def __init__(
        self, *, retention_seconds: float = 72 * 3600, clock: Callable[[], float] = time.time
    ) -> None:
        self.retention_seconds = retention_seconds
        self._clock = clock
        self._lock = threading.Condition()
        self._logs: dict[str, deque[BusEvent]] = {}
        self._issued: dict[str, set[int]] = {}
        self._next_id = 1
        self._listeners: list[BusListener] = []

    def publish(
        self, topic: str, payload: Mapping[str, Any], *, event_uuid: str | None = None
    ) -> BusEvent:
        """Append an event to ``topic`` (change events also go to ``/data/ChangeEvents``).

        ``event_uuid`` keeps a publisher-chosen id (Pub/Sub ``ProducerEvent.id``); else a uuid4.
        """
        frozen = MappingProxyType(dict(payload))
        with self._lock:
            now = self._clock()
            # The same event keeps its replay id and uuid on the all-entities channel.
            event_id = event_uuid or str(uuid.uuid4())
            event = BusEvent(self._next_id, event_id, topic, frozen, now)
            self._next_id += 1
            self._append(event)
            if topic.startswith("/data/") and topic != ALL_CHANGE_EVENTS:
                self._append(replace(event, topic=ALL_CHANGE_EVENTS))
            listeners = list(self._listeners)
            self._lock.notify_all()
        for listener in listeners:
            listener(event)
        return event

    def _append(self, event: BusEvent) -> None:
        self._logs.setdefault(event.topic, deque()).append(event)
        self._issued.setdefault(event.topic, set()).add(event.replay_id)

    def _expire(self, topic: str) -> deque[BusEvent]:
        log = self._logs.setdefault(topic, deque())
        horizon = self._clock() - self.retention_seconds
        while log and log[0].published_at < horizon:
            log.popleft()
        return log

    def read(self, topic: str, *, after: int | None, limit: int) -> list[BusEvent]:
        """Up to ``limit`` retained events with ``replay_id > after`` (all retained if None)."""
        with self._lock:
            log = self._expire(topic)
            if not log or limit <= 0:
                return []
            if after is None or after < log[0].replay_id:
                start = 0
            else:
                start = self._first_after(log, after)
            result: list[BusEvent] = []
            for index in range(start, len(log)):
                if len(result) >= limit:
                    break
                result.append(log[index])
            return result

    @staticmethod
    def _first_after(log: deque[BusEvent], after: int) -> int:
        # Replay ids increase along a log, so bisect by position.
        low, high = 0, len(log)
        while low < high:
            mid = (low + high) // 2
            if log[mid].replay_id <= after:
                low = mid + 1
            else:
                high = mid
        return low

    def latest_replay_id(self, topic: str) -> int | None:
        """The newest retained replay id of ``topic``, if any."""
        with self._lock:
            log = self._expire(topic)
            return log[-1].replay_id if log else None

    def earliest_replay_id(self, topic: str) -> int | None:
        """The oldest retained replay id of ``topic``, if any."""
        with self._lock:
            log = self._expire(topic)
            return log[0].replay_id if log else None

    def is_retained(self, topic: str, replay_id: int) -> bool:
        """Whether ``replay_id`` was issued on ``topic`` and is still retained."""
        with self._lock:
            log = self._expire(topic)
            if replay_id not in self._issued.get(topic, ()):
                return False
            return bool(log) and replay_id >= log[0].replay_id

    def wait(self, topic: str, after: int | None, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until ``topic`` has an event newer than ``after``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                log = self._expire(topic)
                if log and (after is None or log[-1].replay_id > after):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)

    def add_listener(self, listener: BusListener) -> None:
        """Call ``listener`` (outside the bus lock) with every published event."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: BusListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def clear(self) -> None:
        """Forget every event (replay ids keep increasing, so old ids stay invalid)."""
        with self._lock:
            self._logs.clear()
            self._issued.clear()
            self._lock.notify_all()
