"""One ``subscribe(...)`` over CometD or Pub/Sub: typed deliveries, acks, checkpoints, policies.

Each :class:`Delivery` carries a typed event (the same shape whichever transport) and a
ticket. Acknowledge it once the application's effects are durable: :meth:`Delivery.ack`
saves the checkpoint in the store's own transaction, :meth:`Delivery.ack_in` writes it through
your connection so it commits with your effects. The checkpoint only ever covers a contiguous
run of acknowledged events, so a crash replays what was not finished and skips nothing.

Before delivering, the subscription drops redeliveries (:class:`DedupWindow`) and, with
``echo_client_id``, change events our own REST calls caused; both are acknowledged for you so
the checkpoint moves past them. A refused replay id is reported and handled by the policy
(:mod:`._policy`). With a ``lease``, only its holder consumes; the checkpoint is read after the
lease is won, so a successor continues exactly where the last durable ack left off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ._cdc import is_echo
from ._cometd import CometdSubscriber
from ._dedup import DedupWindow, Key, dump_keys, event_keys, load_keys
from ._feeds import CometdFeed, Feed, Preset, PubSubFeed, ReplayRefused
from ._lease import ConsumerLease, LeaseLostError
from ._models import ChangeEvent, SalesforceEvent, Transport
from ._policy import InvalidReplayError, InvalidReplayEvent, InvalidReplayPolicy, ReplayGap
from ._replay import Checkpointer, DeliveryTicket, ReplayStore, TransactionalReplayStore

if TYPE_CHECKING:
    from salesforce_bridge._auth import SalesforceGrant
    from salesforce_bridge.pubsub import PubSubClient

__all__ = ["Delivery", "EventSubscription", "Opener", "Report", "subscribe"]

_log = logging.getLogger(__name__)
Report = InvalidReplayEvent | ReplayGap
Opener = Callable[[bytes | None, Preset], Feed]
"""Opens a transport feed after a replay id (or at a preset when there is none)."""


@dataclass(frozen=True)
class Delivery:
    """One delivered event and its ticket; acknowledge it once its effects are durable."""

    event: SalesforceEvent
    ticket: DeliveryTicket
    subscription: EventSubscription = field(repr=False, compare=False)
    issuer: Checkpointer = field(repr=False, compare=False)
    """The tracker that issued the ticket (a rewind or a lost lease replaces it)."""

    def ack(self) -> bytes | None:
        """Mark handled; the checkpoint is saved (store's own transaction) if it advanced."""
        return self.subscription.ack(self)

    def ack_in(self, connection: Any) -> bytes | None:
        """Mark handled and write any checkpoint advance through ``connection`` (uncommitted).

        Commit your transaction afterwards. If it rolls back instead, call
        :meth:`EventSubscription.rewind` (the in-memory position already counted it handled).
        """
        return self.subscription.ack_in(connection, self)


class EventSubscription(Iterator[Delivery]):
    """Deliveries of one channel; iterate (blocking) or call :meth:`fetch` (bounded wait)."""

    def __init__(
        self,
        opener: Opener,
        *,
        channel: str,
        transport: Transport,
        store: ReplayStore,
        store_key: str | None = None,
        replay: Preset = "latest",
        on_invalid_replay: InvalidReplayPolicy = InvalidReplayPolicy.FAIL,
        on_report: Callable[[Report], None] | None = None,
        dedup_window: int = 10_000,
        persist_dedup: int = 0,
        echo_client_id: str | None = None,
        lease: ConsumerLease | None = None,
        lease_retry: float = 1.0,
        checkpoint_interval: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if replay not in ("latest", "earliest"):
            raise ValueError(f"replay: must be 'latest' or 'earliest', got {replay!r}")
        if checkpoint_interval < 0:
            raise ValueError("checkpoint_interval: must be >= 0")
        self.channel = channel
        self.transport: Transport = transport
        self.store = store
        self.store_key = store_key or channel
        self.replay: Preset = replay
        self.policy = on_invalid_replay
        self.on_report = on_report
        self.dedup = DedupWindow(dedup_window)
        if not 0 <= persist_dedup <= dedup_window:
            raise ValueError("persist_dedup: must be between 0 and dedup_window")
        self.persist_dedup = persist_dedup
        self.dedup_key = f"{self.store_key}#dedup"
        self._acked_keys: deque[Key] = deque(maxlen=2 * persist_dedup)
        self._ticket_keys: dict[int, list[Key]] = {}
        self.echo_client_id = echo_client_id
        self.lease = lease
        self.lease_retry = lease_retry
        self.checkpoint_interval = checkpoint_interval
        self.reports: list[Report] = []
        self.echoes_dropped = 0
        self._open = opener
        self._sleep = sleep
        self._feed: Feed | None = None
        self._checkpointer: Checkpointer | None = None
        self._buffer: deque[Delivery] = deque()
        self._gap_after: tuple[bytes | None, datetime] | None = None
        self._save_lock = threading.Lock()
        self._unsaved: bytes | None = None
        self._saved_at = float("-inf")
        self._closed = False

    # -- state -------------------------------------------------------------------------------
    @property
    def checkpoint(self) -> bytes | None:
        """The replay id up to which every delivered event is acknowledged (in memory)."""
        return self._checkpointer.tracker.checkpoint if self._checkpointer else None

    @property
    def active(self) -> bool:
        """Whether this subscription is consuming (it holds the lease, if there is one)."""
        return self._feed is not None

    def _start(self) -> bool:
        if self._feed is not None:
            if self.lease is not None and not self.lease.held:
                with self._save_lock:
                    self._unsaved = None  # a successor owns the checkpoint now
                self._stop()
                raise LeaseLostError(f"{self.store_key}: consumer lease lost")
            return True
        if self.lease is not None and not self.lease.acquire():
            return False
        # Read the checkpoint only now: a predecessor may have advanced it until it died.
        self._checkpointer = Checkpointer(self.store, self.store_key)
        if self.persist_dedup:
            # Identities of events acknowledged before the restart: an EARLIEST fallback
            # replays them, and they are already handled.
            remembered = load_keys(self.store.load(self.dedup_key))
            self.dedup.remember(remembered)
            self._acked_keys.extend(remembered)
        self._feed = self._open(self._checkpointer.resume_from, self.replay)
        _log.info("subscribed to %s over %s", self.channel, self.transport)
        return True

    def _stop(self) -> None:
        feed, self._feed = self._feed, None
        self._buffer.clear()
        self._checkpointer = None
        self._ticket_keys.clear()
        self._acked_keys.clear()
        # In-flight events will come again and must not be mistaken for duplicates.
        self.dedup = DedupWindow(self.dedup.size)
        if feed is not None:
            feed.close()

    def rewind(self) -> None:
        """Forget what is in flight and resume from the stored checkpoint on the next fetch.

        Use it after a transaction that carried :meth:`Delivery.ack_in` rolled back. The lease
        (if any) is kept; unacknowledged events come again (the dedup window is reset too).
        """
        self._stop()

    # -- receiving ---------------------------------------------------------------------------
    def fetch(self, max_events: int = 100, timeout: float = 1.0) -> list[Delivery]:
        """Up to ``max_events`` deliveries, waiting about ``timeout`` s for the first ones.

        Returns ``[]`` at once while another consumer holds the lease.
        """
        if self._closed:
            raise ValueError("subscription is closed")
        if not self._buffer:
            if not self._start():
                return []
            self._receive(timeout)
        out: list[Delivery] = []
        while self._buffer and len(out) < max_events:
            out.append(self._buffer.popleft())
        return out

    def _receive(self, timeout: float) -> None:
        feed = self._feed
        checkpointer = self._checkpointer
        if feed is None or checkpointer is None:
            return
        try:
            events = feed.take(timeout)
        except ReplayRefused as refused:
            self._refused(refused)
            return
        if not events:
            self.flush()  # idle: persist a coalesced checkpoint
        for event in events:
            if self._gap_after is not None:
                after, detected = self._gap_after
                self._gap_after = None
                self._report(ReplayGap(self.channel, after, event.replay_id, detected))
            if self.dedup.seen(event):
                continue  # its first delivery holds the checkpoint until acknowledged
            ticket = checkpointer.delivered(event.replay_id)
            if self.persist_dedup:
                self._ticket_keys[ticket.sequence] = event_keys(event)
            if (
                self.echo_client_id is not None
                and isinstance(event, ChangeEvent)
                and is_echo(event.header, self.echo_client_id)
            ):
                self.echoes_dropped += 1
                self._acknowledge(checkpointer, ticket, None)
                continue
            self._buffer.append(Delivery(event, ticket, self, checkpointer))

    def _report(self, report: Report) -> None:
        self.reports.append(report)
        _log.warning("%s: %s", self.channel, report)
        if self.on_report is not None:
            self.on_report(report)

    def _refused(self, refused: ReplayRefused) -> None:
        report = InvalidReplayEvent(
            channel=self.channel,
            transport=self.transport,
            replay_id=refused.replay_id,
            error=refused.error,
            policy=self.policy,
        )
        self._report(report)
        if self.policy is InvalidReplayPolicy.FAIL:
            self._stop()
            raise InvalidReplayError(report) from refused.__cause__
        preset: Preset = "earliest" if self.policy is InvalidReplayPolicy.EARLIEST else "latest"
        if preset == "latest":
            self._gap_after = (refused.replay_id, report.at)
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()
        self._feed = self._open(None, preset)

    # -- acknowledging -----------------------------------------------------------------------
    def _dedup_blob(self) -> bytes:
        with self._save_lock:
            return dump_keys(list(self._acked_keys))

    def _acknowledge(
        self, issuer: Checkpointer, ticket: DeliveryTicket, connection: Any | None
    ) -> bytes | None:
        if issuer is not self._checkpointer:
            # Issued before a rewind, a lost lease or close: the event comes again (or a
            # successor has it), so this ack must not move the current position.
            return None
        keys = self._ticket_keys.pop(ticket.sequence, None)
        if keys:
            with self._save_lock:
                self._acked_keys.extend(keys)
        advanced = issuer.tracker.ack(ticket)
        if advanced is None:
            return None
        if connection is not None:
            save_in = cast("TransactionalReplayStore[Any]", self.store).save_in  # see ack_in
            save_in(connection, self.store_key, advanced)
            if self.persist_dedup:
                save_in(connection, self.dedup_key, self._dedup_blob())
            with self._save_lock:
                self._unsaved = None  # advances are monotonic: this one covers any pending
            return advanced
        with self._save_lock:
            self._unsaved = advanced
        if time.monotonic() - self._saved_at >= self.checkpoint_interval:
            self.flush()
        return advanced

    def ack(self, delivery: Delivery) -> bytes | None:
        """Acknowledge ``delivery``; save an advanced checkpoint (``checkpoint_interval``)."""
        return self._acknowledge(delivery.issuer, delivery.ticket, None)

    def ack_in(self, connection: Any, delivery: Delivery) -> bytes | None:
        """Acknowledge ``delivery``; write an advanced checkpoint in ``connection``'s tx."""
        if getattr(self.store, "save_in", None) is None:
            raise TypeError(f"store: {type(self.store).__name__} has no save_in(connection, ...)")
        return self._acknowledge(delivery.issuer, delivery.ticket, connection)

    def flush(self) -> None:
        """Save the latest acknowledged checkpoint now (if one is pending)."""
        with self._save_lock:
            pending, self._unsaved = self._unsaved, None
            if pending is None:
                return
            self.store.save(self.store_key, pending)
            self._saved_at = time.monotonic()
        if self.persist_dedup:
            self.store.save(self.dedup_key, self._dedup_blob())

    # -- iteration and lifetime ----------------------------------------------------------------
    def __iter__(self) -> EventSubscription:
        return self

    def __next__(self) -> Delivery:
        while True:
            if self._closed:
                raise StopIteration
            batch = self.fetch(1, timeout=1.0)
            if batch:
                return batch[0]
            if not self.active:
                self._sleep(self.lease_retry)  # a standby: wait for the lease

    def close(self) -> None:
        """Save the pending checkpoint, end the transport session and release the lease."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._stop()
            if self.lease is not None:
                self.lease.release()

    def __enter__(self) -> EventSubscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"EventSubscription(channel={self.channel!r}, transport={self.transport!r}, "
            f"active={self.active})"
        )


def subscribe(
    topic: str,
    *,
    store: ReplayStore,
    transport: Transport = "pubsub",
    pubsub: PubSubClient | None = None,
    cometd: CometdSubscriber | None = None,
    grant: SalesforceGrant | None = None,
    api_version: str = "66.0",
    store_key: str | None = None,
    replay: Preset = "latest",
    on_invalid_replay: InvalidReplayPolicy = InvalidReplayPolicy.FAIL,
    on_report: Callable[[Report], None] | None = None,
    dedup_window: int = 10_000,
    persist_dedup: int = 0,
    echo_client_id: str | None = None,
    lease: ConsumerLease | None = None,
    checkpoint_interval: float = 0.0,
    batch_size: int = 100,
    idle_pause: float = 0.0,
) -> EventSubscription:
    """Subscribe to ``topic`` (``/event/X__e`` or ``/data/...ChangeEvent``) with checkpoints.

    ``transport="pubsub"`` needs ``pubsub`` (a :class:`~salesforce_bridge.pubsub.PubSubClient`);
    ``"cometd"`` needs ``cometd`` (a :class:`CometdSubscriber`, one per subscription) or a
    ``grant`` to build one (``api_version`` for its ``/cometd/<version>`` URL).
    ``replay`` applies when ``store`` holds no checkpoint for ``store_key`` (default: the topic;
    prefix it with the org id when one store serves several orgs). ``checkpoint_interval``
    coalesces store saves (0: save each advance). ``persist_dedup`` (0: off) keeps the
    identities of that many last acknowledged events in the store under
    ``"<store_key>#dedup"``, written with each checkpoint, so the dedup window survives a
    restart (an ``EARLIEST`` fallback then drops what was handled). ``idle_pause`` (CometD)
    pauses after an empty poll, for servers that answer idle polls at once.
    """
    if transport == "pubsub":
        if pubsub is None:
            raise ValueError("pubsub: a PubSubClient is required for transport='pubsub'")
        client = pubsub

        def open_pubsub(position: bytes | None, preset: Preset) -> Feed:
            return PubSubFeed(client, topic, position, preset, batch_size=batch_size)

        opener: Opener = open_pubsub
    elif transport == "cometd":
        if cometd is None:
            if grant is None:
                raise ValueError("cometd: a CometdSubscriber or a grant is required")
            cometd = CometdSubscriber(grant=grant, api_version=api_version)
        subscriber = cometd

        def open_cometd(position: bytes | None, preset: Preset) -> Feed:
            return CometdFeed(subscriber, topic, position, preset, idle_pause=idle_pause)

        opener = open_cometd
    else:
        raise ValueError(f"transport: must be 'pubsub' or 'cometd', got {transport!r}")
    return EventSubscription(
        opener,
        channel=topic,
        transport=transport,
        store=store,
        store_key=store_key,
        replay=replay,
        on_invalid_replay=on_invalid_replay,
        on_report=on_report,
        dedup_window=dedup_window,
        persist_dedup=persist_dedup,
        echo_client_id=echo_client_id,
        lease=lease,
        checkpoint_interval=checkpoint_interval,
    )
