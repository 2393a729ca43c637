"""Transport feeds behind :func:`~salesforce_bridge.events.subscribe`: CometD and Pub/Sub.

A feed is opened at a position (a replay id to resume after, or a preset) and hands out the
typed events it received, in stream order. Each transport's invalid-replay error becomes
:class:`ReplayRefused`, so the subscription applies one policy whichever transport refused.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol, cast

import requests

from ._cometd import CometdInvalidReplayError, CometdSubscriber
from ._models import SalesforceEvent, cometd_replay_bytes, cometd_replay_int

if TYPE_CHECKING:
    from salesforce_bridge.pubsub import PubSubClient, PubSubSubscription

__all__ = ["CometdFeed", "Feed", "Preset", "PubSubFeed", "ReplayRefused"]

_log = logging.getLogger(__name__)
Preset = Literal["latest", "earliest"]


class ReplayRefused(Exception):  # noqa: N818 - an internal signal, never leaves the package
    """The server refused the position the feed was opened at."""

    def __init__(self, replay_id: bytes | None, error: str) -> None:
        super().__init__(error)
        self.replay_id = replay_id
        self.error = error


class Feed(Protocol):
    def take(self, timeout: float) -> list[SalesforceEvent]:
        """Events received within about ``timeout`` seconds (possibly none)."""
        ...

    def close(self) -> None: ...


class CometdFeed:
    """One channel of a :class:`CometdSubscriber`; each :meth:`take` is one long poll.

    A poll cannot be cut short: against Salesforce it lasts until an event or the server's
    ``advice.timeout``. Failed polls back off exponentially; ``max_retries`` failures in a row
    raise the last error.
    """

    def __init__(
        self,
        subscriber: CometdSubscriber,
        channel: str,
        position: bytes | None,
        preset: Preset,
        *,
        idle_pause: float = 0.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.subscriber = subscriber
        self.channel = channel
        self.idle_pause = idle_pause
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self._failures = 0
        start = cometd_replay_int(position) if position else (-2 if preset == "earliest" else -1)
        subscriber.replay[channel] = start
        # A fresh handshake subscribes from ``start`` (also after a refused replay id).
        subscriber.client_id = None

    def take(self, timeout: float) -> list[SalesforceEvent]:
        try:
            events = self.subscriber.poll()
        except CometdInvalidReplayError as err:
            raise ReplayRefused(
                cometd_replay_bytes(err.replay_id) if err.replay_id >= 0 else None, err.error
            ) from err
        except requests.RequestException as err:
            self._failures += 1
            if self._failures > self.max_retries:
                raise
            delay = min(30.0, self.backoff * 2 ** (self._failures - 1))
            _log.info("CometD poll failed (%s); retrying in %.2f s", type(err).__name__, delay)
            self._sleep(delay)
            return []
        self._failures = 0
        mine = [event for event in events if event.channel == self.channel]
        if not mine and self.idle_pause:
            self._sleep(min(self.idle_pause, timeout))
        return mine

    def close(self) -> None:
        try:
            self.subscriber.disconnect()
        except requests.RequestException:
            _log.debug("CometD disconnect failed; the server expires the session", exc_info=True)


_END = object()


class PubSubFeed:
    """A Pub/Sub subscription read by a thread into a small queue (its size keeps the
    subscription's flow control meaningful: the reader waits while the consumer is busy)."""

    def __init__(
        self,
        client: PubSubClient,
        topic: str,
        position: bytes | None,
        preset: Preset,
        *,
        batch_size: int = 100,
    ) -> None:
        self.topic = topic
        self.batch_size = batch_size
        self._position = position
        self._closed = threading.Event()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=batch_size)
        self._subscription: PubSubSubscription = client.subscribe(
            topic, replay=position or preset, batch_size=batch_size
        )
        self._thread = threading.Thread(target=self._read, name=f"pubsub-{topic}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            for event in self._subscription:
                if not self._put(event):
                    return
        except Exception as exc:  # handed to the consumer's thread
            self._put(exc)
            return
        self._put(_END)

    def _item(self, item: object) -> SalesforceEvent | None:
        from salesforce_bridge.pubsub import PubSubInvalidReplayError

        if isinstance(item, PubSubInvalidReplayError):
            raise ReplayRefused(item.replay_id or self._position, item.error_code) from item
        if isinstance(item, BaseException):
            raise item
        if item is _END:
            raise EOFError(f"Pub/Sub subscription to {self.topic} ended")
        return cast("SalesforceEvent", item)

    def take(self, timeout: float) -> list[SalesforceEvent]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        events: list[SalesforceEvent] = []
        item = first
        while True:
            event = self._item(item)
            if event is not None:
                events.append(event)
            if len(events) >= self.batch_size:
                return events
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return events

    def close(self) -> None:
        self._closed.set()
        self._subscription.close()
        self._thread.join(timeout=5)
