"""One Pub/Sub subscription: flow control, keepalive watchdog, reconnects, checkpoints.

- Flow control: at most ``batch_size`` (<= 100) events are ever owed by the server. When a
  response leaves ``batch_size // 2`` or fewer owed, the client tops up to ``batch_size``
  at once, so the server is never owed zero (its rule closes a stream left at zero for 60 s);
  a timer also tops up if the owed count somehow reached zero and stayed there.
- Watchdog: no message at all (events or keepalive) for ``watchdog`` seconds cancels the call
  and reconnects. Salesforce sends a keepalive within 270 s, so keep ``watchdog`` above that.
- Reconnect: drops, ``service.unavailable`` and a silent stream resubscribe with exponential
  backoff plus jitter, CUSTOM from the last delivered replay id (or the last keepalive's
  ``latest_replay_id``), so nothing is lost and nothing is repeated; recently delivered replay
  ids are also remembered so a server-side duplicate is not yielded twice. ``max_retries``
  consecutive failures without a successful response raise :class:`PubSubConnectionError`.
  Failure ``n`` waits ``min(max_backoff, backoff * 2**(n-1)) * jitter(0.5, 1.0)`` seconds.
- Auth errors refresh the credentials and retry once; invalid replay ids raise
  :class:`PubSubInvalidReplayError` (choose a fallback and resubscribe).
- Checkpoints: with a ``store``, the subscription starts after the stored replay id and saves
  the last event of a batch once the consumer has asked for the event after it, i.e. once the
  batch was handled (at-least-once). Saves are coalesced to one per ``checkpoint_interval``
  seconds (0: every batch) because a durable store commit costs milliseconds; a keepalive
  (the stream is idle) flushes the pending one. A crash replays at most that interval.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, cast

import grpc

from salesforce_bridge.events import (
    ReplayStore,
    SalesforceEvent,
    SchemaField,
    decode_field_bitmaps,
    event_from_pubsub,
)

from . import _wire as wire
from ._client import ReplayStart, Schema, error_from_rpc, is_auth_error
from ._codec import decode_avro
from ._credentials import PubSubCredentials
from ._errors import PubSubConnectionError, PubSubError, PubSubInvalidReplayError

if TYPE_CHECKING:
    from ._client import PubSubClient

__all__ = ["MAX_BATCH", "PubSubSubscription"]

_log = logging.getLogger(__name__)
MAX_BATCH = 100
_RECENT = 1024
Fields = tuple[SchemaField, ...]
_FATAL = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNIMPLEMENTED,
}


class _Watchdog:
    """Cancels ``call`` when :meth:`feed` was not called for ``timeout`` seconds."""

    def __init__(self, timeout: float, cancel: Callable[[], object]) -> None:
        self.timeout = timeout
        self.tripped = False
        self._cancel = cancel
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pubsub-watchdog", daemon=True)
        self._thread.start()

    def feed(self) -> None:
        self._last = time.monotonic()

    def _run(self) -> None:
        step = min(1.0, self.timeout / 4)
        while not self._stop.wait(step):
            if time.monotonic() - self._last > self.timeout:
                self.tripped = True
                _log.warning("Pub/Sub stream silent for %.1f s; reconnecting", self.timeout)
                self._cancel()
                return

    def stop(self) -> None:
        self._stop.set()


class _Requests:
    """The ``FetchRequest`` stream of one call, with the client's view of the owed count."""

    def __init__(self, first: wire.FetchRequest, batch_size: int, topup_after: float) -> None:
        self.batch_size = batch_size
        self.topup_after = topup_after
        self.owed = first.num_requested
        self.sent: list[int] = [first.num_requested]
        self._lock = threading.Lock()
        self._queue: queue.Queue[wire.FetchRequest | None] = queue.Queue()
        self._queue.put(first)

    def __iter__(self) -> Iterator[wire.FetchRequest]:
        while True:
            try:
                item = self._queue.get(timeout=self.topup_after)
            except queue.Empty:
                with self._lock:
                    if self.owed > 0:
                        continue
                    item = self._request_locked(self.batch_size)
            if item is None:
                return
            yield item

    def _request_locked(self, amount: int) -> wire.FetchRequest:
        self.owed += amount
        self.sent.append(amount)
        return wire.FetchRequest(num_requested=amount)

    def received(self, pending: int) -> None:
        """The server's ``pending_num_requested``; top up when half or less is owed."""
        with self._lock:
            self.owed = pending
            if pending <= self.batch_size // 2:
                self._queue.put(self._request_locked(self.batch_size - pending))

    def close(self) -> None:
        self._queue.put(None)


class PubSubSubscription(Iterator[SalesforceEvent]):
    """Iterate for typed events (``PlatformEvent``/``ChangeEvent``) of one topic, forever."""

    def __init__(
        self,
        client: PubSubClient,
        topic: str,
        *,
        replay: ReplayStart,
        store: ReplayStore | None,
        store_key: str | None,
        batch_size: int,
        watchdog: float,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        sleep: Callable[[float], None],
        checkpoint_interval: float = 1.0,
        topup_after: float = 30.0,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size: must be 1..{MAX_BATCH}, got {batch_size}")
        if watchdog <= 0:
            raise ValueError("watchdog: must be positive")
        if isinstance(replay, str) and replay not in {"latest", "earliest"}:
            raise ValueError(f"replay: must be 'latest', 'earliest' or bytes, got {replay!r}")
        self.client = client
        self.topic = topic
        self.replay = replay
        self.store = store
        self.store_key = store_key or topic
        self.batch_size = batch_size
        self.watchdog = watchdog
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.topup_after = topup_after
        self.checkpoint_interval = checkpoint_interval
        self._sleep = sleep
        self._jitter = jitter
        self.resume_from: bytes | None = store.load(self.store_key) if store else None
        self.last_replay_id: bytes | None = None
        self.reconnects = 0
        self.keepalives = 0
        self.duplicates_skipped = 0
        self.requested: list[int] = []
        self.max_owed = 0
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._used: PubSubCredentials | None = None
        self._unsaved: bytes | None = None
        self._saved_at = float("-inf")
        self._bitmap_names: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self._schemas: dict[str, Schema] = {}
        self._closed = False
        self._call: wire.ResponseStream[wire.FetchResponse] | None = None
        self._events = self._run()

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self) -> PubSubSubscription:
        return self

    def __next__(self) -> SalesforceEvent:
        return next(self._events)

    def close(self) -> None:
        """End the subscription (the current call is cancelled)."""
        self._closed = True
        call = self._call
        if call is not None:
            call.cancel()
        # Running in another thread: then the cancelled call ends it instead.
        with contextlib.suppress(ValueError):
            self._events.close()

    def __enter__(self) -> PubSubSubscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- one call ----------------------------------------------------------------------------

    def _first_request(self) -> wire.FetchRequest:
        position = self.last_replay_id or self.resume_from
        if position:
            return wire.FetchRequest(
                topic_name=self.topic,
                replay_preset=wire.CUSTOM,
                replay_id=position,
                num_requested=self.batch_size,
            )
        if isinstance(self.replay, bytes):
            return wire.FetchRequest(
                topic_name=self.topic,
                replay_preset=wire.CUSTOM,
                replay_id=self.replay,
                num_requested=self.batch_size,
            )
        preset = wire.EARLIEST if self.replay == "earliest" else wire.LATEST
        return wire.FetchRequest(
            topic_name=self.topic, replay_preset=preset, num_requested=self.batch_size
        )

    def _checkpoint(self, *, force: bool) -> None:
        """Save the last handled batch end, at most every ``checkpoint_interval`` seconds."""
        if self.store is None or self._unsaved is None:
            return
        now = time.monotonic()
        if force or now - self._saved_at >= self.checkpoint_interval:
            self.store.save(self.store_key, self._unsaved)
            self._unsaved = None
            self._saved_at = now

    def _field_names(self, schema_id: str, fields: Fields, values: list[str]) -> list[str]:
        # The same few bitmaps recur on a topic: decode each once (a big share of CPU/event).
        key = (schema_id, tuple(values))
        names = self._bitmap_names.get(key)
        if names is None:
            if len(self._bitmap_names) > _RECENT:
                self._bitmap_names.clear()
            names = self._bitmap_names[key] = list(decode_field_bitmaps(values, fields))
        return names

    def _decode(self, consumer: wire.ConsumerEvent) -> SalesforceEvent:
        event = consumer.event
        schema = self._schemas.get(event.schema_id)
        if schema is None:  # the client caches too; this skips its lock per event
            schema = self._schemas[event.schema_id] = self.client.get_schema(event.schema_id)
        payload = decode_avro(schema.parsed, event.payload)
        header = payload.get("ChangeEventHeader")
        if isinstance(header, dict):
            typed = cast("dict[str, Any]", header)
            for key in ("changedFields", "nulledFields", "diffFields"):
                values = cast("list[str] | None", typed.get(key))
                if values:
                    typed[key] = self._field_names(event.schema_id, schema.fields, values)
        return event_from_pubsub(
            topic=self.topic,
            replay_id=consumer.replay_id,
            event_id=event.id or None,
            schema_id=event.schema_id,
            payload=payload,
            schema=schema.fields,
        )

    def _seen(self, replay_id: bytes) -> bool:
        if replay_id in self._recent:
            return True
        self._recent[replay_id] = None
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        return False

    def _stream(self, refresh: bool) -> Iterator[SalesforceEvent]:
        """Events of one ``Subscribe`` call; returns when the server ends it cleanly."""
        first = self._first_request()
        requests = _Requests(first, self.batch_size, self.topup_after)
        used = self.client.credentials(refresh=refresh, stale=self._used)
        self._used = used
        call = self.client.stub.subscribe(iter(requests), metadata=used.metadata)
        self._call = call
        dog = _Watchdog(self.watchdog, call.cancel)
        try:
            for response in call:
                dog.feed()
                self._retries = 0
                self._auth_refreshed = False
                requests.received(response.pending_num_requested)
                self.max_owed = max(self.max_owed, requests.owed)
                if not response.events:
                    self.keepalives += 1
                    self._checkpoint(force=True)  # idle: flush a coalesced checkpoint
                    if response.latest_replay_id:
                        # Nothing is owed to us before this position: resume here.
                        self.last_replay_id = bytes(response.latest_replay_id)
                    continue
                last: bytes | None = None
                for consumer in response.events:
                    replay_id = bytes(consumer.replay_id)
                    if self._seen(replay_id):
                        self.duplicates_skipped += 1
                        continue
                    event = self._decode(consumer)
                    yield event
                    dog.feed()
                    self.last_replay_id = last = replay_id
                if last is not None:
                    self._unsaved = last
                    self._checkpoint(force=False)
        except grpc.RpcError:
            if dog.tripped:
                raise _Reconnect("watchdog") from None
            raise
        finally:
            dog.stop()
            requests.close()
            self.requested.extend(requests.sent)
            call.cancel()
            self._call = None

    # -- the reconnect loop ------------------------------------------------------------------

    def _run(self) -> Generator[SalesforceEvent, None, None]:
        self._retries = 0
        self._auth_refreshed = False
        refresh = False
        while not self._closed:
            try:
                yield from self._stream(refresh)
                refresh = False
                reason = "stream ended"
            except _Reconnect as again:
                refresh = False
                reason = again.reason
            except grpc.RpcError as err:
                if self._closed:
                    return
                position = self._first_request().replay_id
                typed = error_from_rpc(
                    err, topic=self.topic, replay_id=position, what=f"Subscribe({self.topic})"
                )
                if isinstance(typed, PubSubInvalidReplayError):
                    raise typed from None
                if is_auth_error(err):
                    if self._auth_refreshed:
                        raise typed from None
                    self._auth_refreshed = True
                    refresh = True
                    self.reconnects += 1
                    continue  # retry at once with fresh credentials
                status = typed.status
                if status in {s.name for s in _FATAL}:
                    raise typed from None
                reason = typed.error_code or status
                refresh = False
            self._retries += 1
            if self._retries > self.max_retries:
                raise PubSubConnectionError(
                    f"Subscribe({self.topic}) failed {self._retries} times in a row ({reason})"
                )
            delay = min(self.max_backoff, self.backoff * 2 ** (self._retries - 1))
            delay *= self._jitter(0.5, 1.0)  # spreads reconnecting clients apart
            _log.info("Pub/Sub %s: %s; reconnecting in %.2f s", self.topic, reason, delay)
            self.reconnects += 1
            self._sleep(delay)

    def __repr__(self) -> str:
        return (
            f"PubSubSubscription(topic={self.topic!r}, reconnects={self.reconnects}, "
            f"keepalives={self.keepalives})"
        )


class _Reconnect(PubSubError):  # noqa: N818 - an internal signal
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
