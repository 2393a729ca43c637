"""Dropping redelivered events: a bounded window of recently delivered event identities.

An event's identities are its ``EventUuid`` and, for change events, its
``(transactionKey, sequenceNumber)`` pair (unique per change within an org). A redelivery
(server duplicate, a reconnect that replays a batch, an ``EARLIEST`` fallback) carries the
same identities, so a second sighting within the window is dropped. Memory is bounded: the
oldest identities are forgotten first. Across restarts the stored checkpoint and the
application's idempotent effects (unique keys) guard instead.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import cast

from ._models import ChangeEvent, SalesforceEvent

__all__ = ["DedupWindow", "dump_keys", "event_keys", "load_keys"]

Key = tuple[str, ...]


def event_keys(event: SalesforceEvent) -> list[Key]:
    """The identities of ``event`` (empty when it carries none)."""
    keys: list[Key] = []
    if event.event_uuid:
        keys.append(("uuid", event.event_uuid))
    if isinstance(event, ChangeEvent):
        header = event.header
        if header.transaction_key:
            keys.append(("tx", header.transaction_key, str(header.sequence_number)))
    return keys


def dump_keys(keys: list[Key]) -> bytes:
    """Serialise identities for a replay store (JSON, opaque to the store)."""
    return json.dumps([list(key) for key in keys], separators=(",", ":")).encode()


def load_keys(blob: bytes | None) -> list[Key]:
    """The identities :func:`dump_keys` wrote (``[]`` for ``None`` or an unreadable blob)."""
    if not blob:
        return []
    try:
        raw = json.loads(blob)
    except ValueError:
        return []
    if not isinstance(raw, list):
        return []
    items = cast("list[object]", raw)
    return [
        tuple(str(part) for part in cast("list[object]", item))
        for item in items
        if isinstance(item, list)
    ]


class DedupWindow:
    """Remembers the identities of the last ``size`` events; :meth:`seen` tests-and-records."""

    def __init__(self, size: int = 10_000) -> None:
        if size < 0:
            raise ValueError(f"dedup_window: must be >= 0, got {size}")
        self.size = size
        self.dropped = 0
        self._lock = threading.Lock()
        self._keys: OrderedDict[Key, None] = OrderedDict()

    def seen(self, event: SalesforceEvent) -> bool:
        """``True`` if ``event`` was seen within the window (count it dropped), else record it."""
        if self.size == 0:
            return False
        keys = event_keys(event)
        with self._lock:
            if any(key in self._keys for key in keys):
                self.dropped += 1
                return True
            for key in keys:
                self._keys[key] = None
            while len(self._keys) > 2 * self.size:  # up to two identities per event
                self._keys.popitem(last=False)
        return False

    def remember(self, keys: list[Key]) -> None:
        """Record identities (e.g. reloaded from the store) without testing them."""
        with self._lock:
            for key in keys:
                self._keys[key] = None
            while len(self._keys) > 2 * self.size:
                self._keys.popitem(last=False)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"DedupWindow(size={self.size}, dropped={self.dropped})"
