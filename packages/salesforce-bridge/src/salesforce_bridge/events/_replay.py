"""Replay checkpoints that lose nothing: stores, and the acknowledgement tracker.

A replay id is opaque ``bytes`` (Salesforce says so for both transports). The application
acknowledges an event only after its effects are durable; :class:`AckTracker` advances the
checkpoint only over a contiguous run of acknowledged events, so after a crash the stream
resumes at the first unfinished event instead of skipping it.

Stores implement :class:`ReplayStore`. SQLite and PostgreSQL stores also implement
:class:`TransactionalReplayStore`: ``save_in(connection, channel, replay_id)`` writes the
checkpoint through the caller's own connection, inside the caller's transaction, so it
commits (or rolls back) atomically with the effects it covers.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

__all__ = [
    "AckTracker",
    "Checkpointer",
    "DeliveryTicket",
    "InMemoryReplayStore",
    "ReplayStore",
    "TransactionalReplayStore",
    "validate_identifier",
]

ConnT_contra = TypeVar("ConnT_contra", contravariant=True)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def validate_identifier(name: str) -> str:
    """Return ``name`` if it is a plain SQL identifier (letters, digits, ``_``), else raise."""
    if not _IDENTIFIER.match(name):
        msg = f"not a plain SQL identifier: {name!r}"
        raise ValueError(msg)
    return name


@runtime_checkable
class ReplayStore(Protocol):
    """Where the last fully handled replay id of each channel is kept.

    ``channel`` is the store key; include the org id in it (``"00D.../event/X__e"``) when one
    store serves several orgs.
    """

    def load(self, channel: str) -> bytes | None:
        """The stored checkpoint, or ``None`` when the channel has none."""
        ...

    def save(self, channel: str, replay_id: bytes) -> None:
        """Durably replace the checkpoint (in the store's own transaction)."""
        ...

    def clear(self, channel: str) -> None:
        """Forget the checkpoint (the next subscription starts from the configured preset)."""
        ...


class TransactionalReplayStore(ReplayStore, Protocol[ConnT_contra]):
    """A store that can also write through the caller's connection, without committing."""

    def save_in(self, connection: ConnT_contra, channel: str, replay_id: bytes) -> None:
        """Write the checkpoint in ``connection``'s current transaction; the caller commits."""
        ...


class InMemoryReplayStore:
    """A process-local store, for tests and for consumers that may replay from the preset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, bytes] = {}

    def load(self, channel: str) -> bytes | None:
        with self._lock:
            return self._data.get(channel)

    def save(self, channel: str, replay_id: bytes) -> None:
        with self._lock:
            self._data[channel] = bytes(replay_id)

    def clear(self, channel: str) -> None:
        with self._lock:
            self._data.pop(channel, None)

    def __repr__(self) -> str:
        return f"InMemoryReplayStore(channels={len(self._data)})"


@dataclass(frozen=True)
class DeliveryTicket:
    """Handle of one delivered event: pass it to :meth:`AckTracker.ack` once it is handled."""

    sequence: int
    replay_id: bytes


class AckTracker:
    """Tracks delivered events and computes the checkpoint from contiguous acknowledgements.

    Call :meth:`delivered` in delivery order, and :meth:`ack` from any thread once an event's
    effects are durable. :meth:`ack` returns the new checkpoint when it advanced (persist it),
    else ``None``. The checkpoint never passes an unacknowledged event.
    """

    def __init__(self, checkpoint: bytes | None = None) -> None:
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        self._pending: OrderedDict[int, tuple[bytes, bool]] = OrderedDict()
        self._checkpoint = checkpoint

    @property
    def checkpoint(self) -> bytes | None:
        """The replay id up to which every delivered event has been acknowledged."""
        with self._lock:
            return self._checkpoint

    @property
    def pending(self) -> int:
        """How many delivered events are not yet covered by the checkpoint."""
        with self._lock:
            return len(self._pending)

    def delivered(self, replay_id: bytes) -> DeliveryTicket:
        """Register the next delivered event (in stream order)."""
        with self._lock:
            ticket = DeliveryTicket(next(self._sequence), bytes(replay_id))
            self._pending[ticket.sequence] = (ticket.replay_id, False)
            return ticket

    def ack(self, ticket: DeliveryTicket) -> bytes | None:
        """Mark ``ticket`` handled; return the new checkpoint if it advanced."""
        with self._lock:
            entry = self._pending.get(ticket.sequence)
            if entry is None:
                return None  # already covered by the checkpoint (double ack)
            self._pending[ticket.sequence] = (entry[0], True)
            advanced: bytes | None = None
            while self._pending:
                sequence, (replay_id, acked) = next(iter(self._pending.items()))
                if not acked:
                    break
                del self._pending[sequence]
                advanced = replay_id
            if advanced is not None:
                self._checkpoint = advanced
            return advanced

    def __repr__(self) -> str:
        return f"AckTracker(pending={self.pending})"


class Checkpointer:
    """An :class:`AckTracker` for one channel whose advances are saved to a store.

    ``resume_from`` is the stored checkpoint to subscribe from. :meth:`ack` saves in the
    store's own transaction; to commit the checkpoint with your effects instead, call
    ``tracker.ack`` and ``store.save_in(connection, channel, new_checkpoint)`` yourself.
    """

    def __init__(self, store: ReplayStore, channel: str) -> None:
        self.store = store
        self.channel = channel
        self.resume_from = store.load(channel)
        self.tracker = AckTracker(self.resume_from)

    def delivered(self, replay_id: bytes) -> DeliveryTicket:
        """Register the next delivered event."""
        return self.tracker.delivered(replay_id)

    def ack(self, ticket: DeliveryTicket) -> bytes | None:
        """Acknowledge ``ticket``; persist and return the checkpoint if it advanced."""
        advanced = self.tracker.ack(ticket)
        if advanced is not None:
            self.store.save(self.channel, advanced)
        return advanced

    def __repr__(self) -> str:
        return f"Checkpointer(channel={self.channel!r}, store={self.store!r})"
