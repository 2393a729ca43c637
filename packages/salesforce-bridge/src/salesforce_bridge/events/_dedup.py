"""Dropping redelivered events: a bounded window of recently delivered event identities.

An event's identities are its ``EventUuid`` and, for change events, its
``(transactionKey, sequenceNumber)`` pair (unique per change within an org). A redelivery
(server duplicate, a reconnect that replays a batch, an ``EARLIEST`` fallback) carries the
same identities, so a second sighting within the window is dropped. Memory is bounded: the
oldest identities are forgotten first. Across restarts the stored checkpoint and the
application's idempotent effects (unique keys) guard instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ._models import ChangeEvent, SalesforceEvent

__all__ = ["DedupWindow", "event_keys"]

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

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"DedupWindow(size={self.size}, dropped={self.dropped})"
