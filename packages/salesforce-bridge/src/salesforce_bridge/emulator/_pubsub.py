"""The Pub/Sub API (``eventbus.v1.PubSub``) over the emulator's event bus, served with grpcio.

Wire behaviour follows the proto's service documentation and Salesforce's guides:

- ``Subscribe``: replay preset/id read from the first ``FetchRequest`` only; a later different
  ``topic_name`` fails with INVALID_ARGUMENT; ``num_requested`` accumulates, capped at 100
  outstanding; never more events than owed; an empty keepalive ``FetchResponse`` (with
  ``latest_replay_id`` and ``pending_num_requested``) after ``keepalive_interval`` seconds
  without a response; a stream owed nothing for ``idle_timeout`` seconds is closed;
- errors are gRPC statuses with ``error-code`` and ``rpc-id`` trailers;
- replay ids are 8 big-endian bytes of the bus's integer id;
- auth: ``accesstoken``/``instanceurl``/``tenantid`` metadata; the token must be accepted by the
  REST emulator's token issuer (any well-formed token in default mode, issued ones in strict
  mode, never an expired one) and ``tenantid`` must be the org id.

Faults (:class:`PubSubFault`) are scripted on the servicer and consumed in order.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, NoReturn

import grpc

from salesforce_bridge.pubsub import _wire as wire
from salesforce_bridge.pubsub._errors import (
    AUTH_ERROR,
    REPLAY_ID_CORRUPTED,
    REPLAY_ID_VALIDATION_FAILED,
    REQUESTED_EVENTS_INVALID,
    SERVICE_UNAVAILABLE,
)

from ._app import SalesforceEmulator
from ._avro import AvroRegistry, AvroSchema
from ._bus import ALL_CHANGE_EVENTS, BusEvent, EventBus
from ._server import TlsFiles
from ._store import ORG_ID

__all__ = [
    "MAX_REQUESTED",
    "PUBSUB_FAULT_KINDS",
    "PubSubFault",
    "PubSubServer",
    "PubSubServicer",
    "replay_bytes",
    "replay_int",
]

MAX_REQUESTED = 100
_ORG_ID = re.compile(r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
_MAX_EVENT_BYTES = 1024 * 1024
_TOPIC_NOT_FOUND = "sfdc.platform.eventbus.grpc.topic.not.found"  # [I] exact code unpublished
_SCHEMA_NOT_FOUND = "sfdc.platform.eventbus.grpc.schema.not.found"  # [I]

FaultKind = Literal["drop_stream", "unavailable", "expire_token", "duplicate", "slow"]
PUBSUB_FAULT_KINDS: tuple[FaultKind, ...] = (
    "drop_stream",
    "unavailable",
    "expire_token",
    "duplicate",
    "slow",
)


def replay_bytes(replay_id: int) -> bytes:
    """The wire form of a bus replay id: 8 big-endian bytes."""
    return replay_id.to_bytes(8, "big")


def replay_int(replay_id: bytes) -> int | None:
    """The bus replay id of wire bytes, or ``None`` if they are not 8 bytes."""
    return int.from_bytes(replay_id, "big") if len(replay_id) == 8 else None


@dataclass
class PubSubFault:
    """One scripted fault, consumed by the next matching call.

    - ``drop_stream``: a Subscribe stream ends with UNAVAILABLE ``RST_STREAM closed stream``
      once ``after_events`` events were delivered on it;
    - ``unavailable``: the next RPC (``rpc``: a method name or ``"*"``) fails with INTERNAL and
      ``error-code: ...service.unavailable`` (Subscribe: after ``after_events`` events);
    - ``expire_token``: after ``after_events`` events the stream's token is expired, so the
      stream fails with UNAUTHENTICATED ``...service.auth.error`` (token expiry mid-stream);
    - ``duplicate``: after ``after_events`` events, the last delivered batch is sent again;
    - ``slow``: each of the next ``count`` Subscribe responses is delayed by ``delay`` seconds.
    """

    kind: FaultKind
    after_events: int = 0
    rpc: str = "Subscribe"
    delay: float = 0.0
    count: int = 1

    def __post_init__(self) -> None:
        if self.kind not in PUBSUB_FAULT_KINDS:
            raise ValueError(f"kind: unknown fault {self.kind!r}")
        if self.after_events < 0 or self.count < 1 or self.delay < 0:
            raise ValueError("after_events/count/delay: must be >= 0 (count >= 1)")


def _iso_ms(epoch_ms: object) -> object:
    if isinstance(epoch_ms, int) and not isinstance(epoch_ms, bool):
        moment = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return epoch_ms


class _AbortCall(Exception):  # noqa: N818 - a control-flow signal, not an error type
    """Raised inside a handler to end the call with a status and Salesforce trailers."""

    def __init__(self, status: grpc.StatusCode, message: str, error_code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code


class _Stream:
    """Flow-control state of one Subscribe call, fed by its request-reader thread."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.cond = threading.Condition()
        self.pending = 0
        self.closed = False
        self.error: _AbortCall | None = None
        self.last_request = time.monotonic()

    def add(self, requested: int) -> None:
        with self.cond:
            self.pending = min(MAX_REQUESTED, self.pending + requested)
            self.last_request = time.monotonic()
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


class PubSubServicer:
    """The ``eventbus.v1.PubSub`` service over an :class:`EventBus` (see the module docs)."""

    def __init__(
        self,
        emulator: SalesforceEmulator,
        *,
        keepalive_interval: float = 270.0,
        idle_timeout: float = 60.0,
        registry: AvroRegistry | None = None,
    ) -> None:
        self.emulator = emulator
        self.keepalive_interval = keepalive_interval
        self.idle_timeout = idle_timeout
        self.registry = registry or AvroRegistry(emulator.org.objects.values())
        self.max_batch = MAX_REQUESTED
        self._faults: list[PubSubFault] = []
        self._lock = threading.Lock()
        self._encoded: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        # (topic, num_requested) of recent FetchRequests, so tests can check flow control.
        self.requests_seen: deque[tuple[str, int]] = deque(maxlen=10_000)

    @property
    def bus(self) -> EventBus:
        return self.emulator.bus

    # -- faults ------------------------------------------------------------------------------

    def add_fault(self, fault: PubSubFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, rpc: str, delivered: int | None = None) -> PubSubFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.rpc not in {rpc, "*"}:
                    continue
                if delivered is not None and fault.after_events > delivered:
                    continue
                if (delivered is None) != (fault.kind == "unavailable"):
                    continue  # unary calls take only "unavailable"; streams the others
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _give_back(self, fault: PubSubFault) -> None:
        with self._lock:
            fault.count += 1
            if all(f is not fault for f in self._faults):
                self._faults.insert(0, fault)

    @staticmethod
    def _fail(context: grpc.ServicerContext, rpc_id: str, abort: _AbortCall) -> NoReturn:
        trailers: list[tuple[str, str]] = [("rpc-id", rpc_id)]
        if abort.error_code:
            trailers.insert(0, ("error-code", abort.error_code))
        context.set_trailing_metadata(tuple(trailers))
        context.abort(abort.status, f"{abort.message} rpcId: {rpc_id}")

    def _authorize(self, context: grpc.ServicerContext) -> str:
        """The caller's access token, after checking all three auth headers."""
        metadata = {key.lower(): value for key, value in context.invocation_metadata()}
        token, instance, tenant = (
            str(metadata.get("accesstoken", "")),
            str(metadata.get("instanceurl", "")),
            str(metadata.get("tenantid", "")),
        )
        strict = self.emulator.tokens.strict
        tenant_ok = tenant in {ORG_ID, ORG_ID[:15]} if strict else _ORG_ID.match(tenant)
        if not instance.startswith(("https://", "http://")) or not tenant_ok:
            raise _AbortCall(
                grpc.StatusCode.UNAUTHENTICATED, "Invalid instance or tenant", AUTH_ERROR
            )
        if not self.emulator.tokens.accepts(token):
            raise _AbortCall(
                grpc.StatusCode.UNAUTHENTICATED,
                "The access token is invalid or expired",
                AUTH_ERROR,
            )
        return token

    def _schema_of_topic(self, topic: str) -> AvroSchema | None:
        return self.registry.for_topic(topic)

    def _known(self, topic: str) -> bool:
        return topic == ALL_CHANGE_EVENTS or self.registry.for_topic(topic) is not None

    def _consumer_event(self, event: BusEvent) -> wire.ConsumerEvent:
        schema = self.registry.for_event(event.topic, event.payload)
        if schema is None:
            raise _AbortCall(grpc.StatusCode.INTERNAL, f"no schema for {event.topic}")
        key = (event.replay_id, schema.schema_id)
        with self._lock:
            payload = self._encoded.get(key)
        if payload is None:
            published_ms = int(event.published_at * 1000)
            payload = self.registry.encode(schema, event.payload, published_ms=published_ms)
            with self._lock:
                self._encoded[key] = payload
                if len(self._encoded) > 50_000:
                    self._encoded.popitem(last=False)
        producer = wire.ProducerEvent(
            id=event.event_uuid, schema_id=schema.schema_id, payload=payload
        )
        return wire.ConsumerEvent(event=producer, replay_id=replay_bytes(event.replay_id))

    # -- unary RPCs --------------------------------------------------------------------------

    def GetTopic(  # noqa: N802 - the proto's method name
        self, request: wire.TopicRequest, context: grpc.ServicerContext
    ) -> wire.TopicInfo:
        rpc_id = str(uuid.uuid4())
        try:
            self._authorize(context)
            self._maybe_unavailable("GetTopic")
            if not self._known(request.topic_name):
                raise _AbortCall(
                    grpc.StatusCode.NOT_FOUND,
                    f"Topic not found: {request.topic_name}",
                    _TOPIC_NOT_FOUND,
                )
        except _AbortCall as abort:
            self._fail(context, rpc_id, abort)
        schema = self._schema_of_topic(request.topic_name)
        return wire.TopicInfo(
            topic_name=request.topic_name,
            tenant_guid=ORG_ID,
            can_publish=request.topic_name.startswith("/event/"),
            can_subscribe=True,
            schema_id=schema.schema_id if schema else "",
            rpc_id=rpc_id,
        )

    def GetSchema(  # noqa: N802
        self, request: wire.SchemaRequest, context: grpc.ServicerContext
    ) -> wire.SchemaInfo:
        rpc_id = str(uuid.uuid4())
        try:
            self._authorize(context)
            self._maybe_unavailable("GetSchema")
            schema = self.registry.by_id(request.schema_id)
            if schema is None:
                raise _AbortCall(
                    grpc.StatusCode.NOT_FOUND,
                    f"Schema not found: {request.schema_id}",
                    _SCHEMA_NOT_FOUND,
                )
        except _AbortCall as abort:
            self._fail(context, rpc_id, abort)
        return wire.SchemaInfo(
            schema_json=schema.schema_json, schema_id=schema.schema_id, rpc_id=rpc_id
        )

    def _maybe_unavailable(self, rpc: str) -> None:
        if self._take_fault(rpc) is not None:
            raise _AbortCall(
                grpc.StatusCode.INTERNAL,
                "The service is unavailable. Try again later.",
                SERVICE_UNAVAILABLE,
            )

    # -- publishing --------------------------------------------------------------------------

    def _publish_batch(self, request: wire.PublishRequest, rpc_id: str) -> wire.PublishResponse:
        topic = request.topic_name
        schema = self._schema_of_topic(topic)
        if schema is None or not topic.startswith("/event/"):
            raise _AbortCall(
                grpc.StatusCode.PERMISSION_DENIED if schema else grpc.StatusCode.NOT_FOUND,
                f"Publishing to {topic} is not allowed",
                _TOPIC_NOT_FOUND,
            )
        results: list[wire.PublishResult] = []
        for producer in request.events:
            key = producer.id or str(uuid.uuid4())
            problem = self._check_event(producer, schema)
            if problem:
                error = wire.Error(code=wire.ErrorCode.PUBLISH, msg=problem)
                results.append(wire.PublishResult(error=error, correlation_key=key))
                continue
            record = self.registry.decode(schema, producer.payload)
            record["CreatedDate"] = _iso_ms(record.get("CreatedDate"))
            event = self.bus.publish(topic, record, event_uuid=key)
            results.append(
                wire.PublishResult(replay_id=replay_bytes(event.replay_id), correlation_key=key)
            )
        return wire.PublishResponse(results=results, schema_id=schema.schema_id, rpc_id=rpc_id)

    def _check_event(self, producer: wire.ProducerEvent, schema: AvroSchema) -> str:
        if producer.schema_id != schema.schema_id:
            return f"schema_id {producer.schema_id!r} is not the topic's schema"
        if len(producer.payload) > _MAX_EVENT_BYTES:
            return "payload: event exceeds 1 MB"
        try:
            # CreatedDate/CreatedById must be present (the schema says so) but Salesforce does
            # not validate their values. Any decoding failure is a per-event error.
            self.registry.decode(schema, producer.payload)
        except Exception as exc:
            return f"payload: not valid Avro for the schema ({type(exc).__name__})"
        return ""

    def Publish(  # noqa: N802
        self, request: wire.PublishRequest, context: grpc.ServicerContext
    ) -> wire.PublishResponse:
        rpc_id = str(uuid.uuid4())
        try:
            self._authorize(context)
            self._maybe_unavailable("Publish")
            return self._publish_batch(request, rpc_id)
        except _AbortCall as abort:
            self._fail(context, rpc_id, abort)

    def PublishStream(  # noqa: N802
        self, request_iterator: Iterator[wire.PublishRequest], context: grpc.ServicerContext
    ) -> Iterator[wire.PublishResponse]:
        rpc_id = str(uuid.uuid4())
        try:
            self._authorize(context)
            self._maybe_unavailable("PublishStream")
            topic: str | None = None
            for request in request_iterator:
                if topic is None:
                    topic = request.topic_name
                elif request.topic_name and request.topic_name != topic:
                    raise _AbortCall(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"topic_name: {request.topic_name!r} differs from {topic!r}",
                    )
                yield self._publish_batch(request, rpc_id)
        except _AbortCall as abort:
            self._fail(context, rpc_id, abort)

    def ManagedSubscribe(  # noqa: N802
        self, request_iterator: Iterator[object], context: grpc.ServicerContext
    ) -> Iterator[object]:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "ManagedSubscribe is not emulated")
        yield from ()

    # -- Subscribe ---------------------------------------------------------------------------

    def _start_after(self, first: wire.FetchRequest) -> int | None:
        """The bus position to deliver after (``None``: from the earliest retained)."""
        topic = first.topic_name
        if first.replay_preset == wire.EARLIEST:
            return None
        if first.replay_preset == wire.CUSTOM:
            if not first.replay_id:
                raise _AbortCall(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "replay_id: required with the CUSTOM preset",
                    REPLAY_ID_VALIDATION_FAILED,
                )
            position = replay_int(first.replay_id)
            if position is None or not self.bus.is_retained(topic, position):
                raise _AbortCall(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "The Replay ID validation failed: unknown or expired replay id",
                    REPLAY_ID_CORRUPTED,
                )
            return position
        # LATEST on an empty topic: everything published from now on is new ("after None").
        return self.bus.latest_replay_id(topic)

    def _read_requests(
        self, stream: _Stream, requests: Iterator[wire.FetchRequest], context: grpc.ServicerContext
    ) -> None:
        try:
            for request in requests:
                if request.topic_name and request.topic_name != stream.topic:
                    stream.error = _AbortCall(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"topic_name: {request.topic_name!r} differs from {stream.topic!r}",
                    )
                    break
                if request.num_requested < 0:
                    stream.error = _AbortCall(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        "num_requested: must not be negative",
                        REQUESTED_EVENTS_INVALID,
                    )
                    break
                self.requests_seen.append((stream.topic, request.num_requested))
                stream.add(request.num_requested)
        except Exception:  # noqa: S110 - the call ended; the main loop sees it
            pass
        finally:
            with stream.cond:
                stream.closed = True
                stream.cond.notify_all()
            if not context.is_active():
                stream.wake()

    def Subscribe(  # noqa: N802, PLR0912, PLR0915 - one state machine reads best in one place
        self, request_iterator: Iterator[wire.FetchRequest], context: grpc.ServicerContext
    ) -> Iterator[wire.FetchResponse]:
        rpc_id = str(uuid.uuid4())
        try:
            token = self._authorize(context)
            first = next(request_iterator, None)
            if first is None:
                return
            topic = first.topic_name
            if not self._known(topic):
                raise _AbortCall(
                    grpc.StatusCode.NOT_FOUND, f"Topic not found: {topic}", _TOPIC_NOT_FOUND
                )
            if first.num_requested < 0:
                raise _AbortCall(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "num_requested: must not be negative",
                    REQUESTED_EVENTS_INVALID,
                )
            position = self._start_after(first)
            stream = _Stream(topic)
            self.requests_seen.append((topic, first.num_requested))
            stream.add(first.num_requested)
            reader = threading.Thread(
                target=self._read_requests,
                args=(stream, request_iterator, context),
                name="pubsub-fetch-reader",
                daemon=True,
            )
            reader.start()
            context.add_callback(stream.wake)

            def on_publish(event: BusEvent) -> None:
                if event.topic == topic:
                    stream.wake()

            self.bus.add_listener(on_publish)
            delivered = 0
            last_batch: list[wire.ConsumerEvent] = []
            last_sent = time.monotonic()
            try:
                while context.is_active():
                    if stream.error is not None:
                        raise stream.error
                    self._maybe_unavailable_subscribe(delivered)
                    fault = self._take_fault("Subscribe", delivered)
                    if fault is not None:
                        if fault.kind == "drop_stream":
                            raise _AbortCall(
                                grpc.StatusCode.UNAVAILABLE, "RST_STREAM closed stream"
                            )
                        if fault.kind == "expire_token":
                            self.emulator.tokens.revoke(token)
                        elif fault.kind == "slow":
                            time.sleep(fault.delay)
                        elif fault.kind == "duplicate":
                            with stream.cond:
                                take = min(stream.pending, len(last_batch))
                                stream.pending -= take
                                owed = stream.pending
                            if take:
                                yield wire.FetchResponse(
                                    events=last_batch[:take],
                                    latest_replay_id=last_batch[take - 1].replay_id,
                                    rpc_id=rpc_id,
                                    pending_num_requested=owed,
                                )
                                last_sent = time.monotonic()
                            else:  # nothing to repeat or nothing owed yet: keep it armed
                                self._give_back(fault)
                    if not self.emulator.tokens.accepts(token):
                        raise _AbortCall(
                            grpc.StatusCode.UNAUTHENTICATED,
                            "The access token expired",
                            AUTH_ERROR,
                        )
                    with stream.cond:
                        owed = stream.pending
                    if owed > 0:
                        events = self.bus.read(topic, after=position, limit=owed)
                        if events:
                            batch = [self._consumer_event(e) for e in events]
                            with stream.cond:
                                stream.pending -= len(batch)
                                owed = stream.pending
                            position = events[-1].replay_id
                            delivered += len(batch)
                            last_batch = batch
                            yield wire.FetchResponse(
                                events=batch,
                                latest_replay_id=replay_bytes(position),
                                rpc_id=rpc_id,
                                pending_num_requested=owed,
                            )
                            last_sent = time.monotonic()
                            continue
                    now = time.monotonic()
                    if now - last_sent >= self.keepalive_interval:
                        # The stream's own position: resuming there loses nothing, even when
                        # undelivered events wait for more num_requested (empty before any).
                        yield wire.FetchResponse(
                            latest_replay_id=replay_bytes(position)
                            if position is not None
                            else b"",
                            rpc_id=rpc_id,
                            pending_num_requested=owed,
                        )
                        last_sent = now
                        continue
                    with stream.cond:
                        if stream.pending == 0 and now - stream.last_request >= self.idle_timeout:
                            return  # nothing requested for too long: the server closes
                        if stream.closed and stream.pending == 0:
                            return
                        wait = self.keepalive_interval - (now - last_sent)
                        if stream.pending == 0:
                            wait = min(wait, self.idle_timeout - (now - stream.last_request))
                        stream.cond.wait(max(0.0, min(wait, 1.0)))
            finally:
                self.bus.remove_listener(on_publish)
        except _AbortCall as abort:
            self._fail(context, rpc_id, abort)

    def _maybe_unavailable_subscribe(self, delivered: int) -> None:
        with self._lock:
            match = next(
                (
                    f
                    for f in self._faults
                    if f.kind == "unavailable"
                    and f.rpc in {"Subscribe", "*"}
                    and f.after_events <= delivered
                ),
                None,
            )
            if match is None:
                return
            match.count -= 1
            if match.count <= 0:
                self._faults.remove(match)
        raise _AbortCall(
            grpc.StatusCode.INTERNAL,
            "The service is unavailable. Try again later.",
            SERVICE_UNAVAILABLE,
        )


class PubSubServer:
    """The Pub/Sub servicer on ``host:port`` (0 picks a free port), plaintext or TLS."""

    def __init__(
        self,
        emulator: SalesforceEmulator,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_workers: int = 16,
        tls: TlsFiles | None = None,
        keepalive_interval: float = 270.0,
        idle_timeout: float = 60.0,
    ) -> None:
        self.emulator = emulator
        self.servicer = PubSubServicer(
            emulator, keepalive_interval=keepalive_interval, idle_timeout=idle_timeout
        )
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pubsub")
        )
        wire.add_servicer(self.servicer, self._server)
        address = f"{host}:{port}"
        if tls is None:
            self.port = self._server.add_insecure_port(address)
        else:
            credentials = grpc.ssl_server_credentials(
                [(tls.key.read_bytes(), tls.cert.read_bytes())]
            )
            self.port = self._server.add_secure_port(address, credentials)
        self.host = host
        self.tls = tls

    @property
    def target(self) -> str:
        """``host:port`` for a gRPC channel."""
        return f"{self.host}:{self.port}"

    def add_fault(self, fault: PubSubFault) -> None:
        self.servicer.add_fault(fault)

    def start(self) -> PubSubServer:
        self._server.start()
        return self

    def stop(self, grace: float | None = 0.5) -> None:
        """Stop accepting calls, cancel running ones after ``grace`` seconds, and wait."""
        self._server.stop(grace).wait()

    def __enter__(self) -> PubSubServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PubSubServer(target={self.target!r}, tls={self.tls is not None})"
