"""``PubSubClient``: the Salesforce Pub/Sub API over grpcio (topics, schemas, publish, subscribe).

Every RPC carries ``accesstoken``/``instanceurl``/``tenantid`` from a credentials provider. An
auth failure (UNAUTHENTICATED or ``error-code: ...service.auth.error``) refreshes the
credentials and retries once; a second failure raises :class:`PubSubAuthError`. Schemas are
fetched with ``GetSchema`` and cached by schema id (ids are fingerprints, so they never change).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import grpc

from salesforce_bridge.events import ReplayStore, SchemaField, schema_fields

from . import _wire as wire
from ._codec import ParsedSchema, encode_avro, parse_avro_schema, record_for_schema
from ._credentials import CredentialsProvider, PubSubCredentials
from ._errors import (
    AUTH_ERROR,
    PubSubAuthError,
    PubSubError,
    PubSubInvalidReplayError,
    PubSubSchemaError,
)

__all__ = [
    "PubSubClient",
    "PublishOutcome",
    "ReplayStart",
    "Schema",
    "TopicInfo",
    "error_from_rpc",
    "is_auth_error",
]

if TYPE_CHECKING:
    from ._subscription import PubSubSubscription

_T = TypeVar("_T")
ReplayStart = Literal["latest", "earliest"] | bytes
"""Where a subscription starts: ``"latest"``, ``"earliest"`` or after a stored replay id."""


@dataclass(frozen=True)
class TopicInfo:
    """``GetTopic``: permissions and the id of the schema to publish with."""

    topic_name: str
    tenant_guid: str
    can_publish: bool
    can_subscribe: bool
    schema_id: str


@dataclass(frozen=True)
class Schema:
    """An Avro schema fetched by id: parsed JSON, fastavro's parsed form, top-level fields."""

    schema_id: str
    schema: Mapping[str, Any]
    parsed: ParsedSchema = field(repr=False, compare=False)
    fields: tuple[SchemaField, ...] = field(repr=False, compare=False)


@dataclass(frozen=True)
class PublishOutcome:
    """The result for one published event, matched by ``correlation_key`` (the event id)."""

    correlation_key: str
    replay_id: bytes | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.replay_id)


def _trailer(err: grpc.RpcError, key: str) -> str:
    call = cast("grpc.Call", err)
    try:
        pairs = call.trailing_metadata() or ()
    except Exception:
        return ""
    for item_key, value in cast("Iterable[tuple[str, str | bytes]]", pairs):
        if item_key == key:
            return value.decode() if isinstance(value, bytes) else value
    return ""


def _status(err: grpc.RpcError) -> grpc.StatusCode | None:
    try:
        return cast("grpc.Call", err).code()
    except Exception:
        return None


def is_auth_error(err: grpc.RpcError) -> bool:
    """Whether ``err`` says the credentials were refused."""
    return (
        _status(err) == grpc.StatusCode.UNAUTHENTICATED or _trailer(err, "error-code") == AUTH_ERROR
    )


def error_from_rpc(
    err: grpc.RpcError, *, topic: str = "", replay_id: bytes = b"", what: str = "Pub/Sub call"
) -> PubSubError:
    """The typed error for a failed RPC (the message never contains credentials)."""
    status = _status(err)
    status_name = status.name if status is not None else "UNKNOWN"
    error_code = _trailer(err, "error-code")
    rpc_id = _trailer(err, "rpc-id")
    try:
        details = str(cast("grpc.Call", err).details() or "")
    except Exception:
        details = ""
    message = f"{what} failed: {status_name} {error_code or ''} {details}".strip()
    if "replayid" in error_code:
        return PubSubInvalidReplayError(
            message,
            topic=topic,
            replay_id=replay_id,
            status=status_name,
            error_code=error_code,
            rpc_id=rpc_id,
        )
    kind = PubSubAuthError if is_auth_error(err) else PubSubError
    return kind(message, status=status_name, error_code=error_code, rpc_id=rpc_id)


class PubSubClient:
    """A client of ``eventbus.v1.PubSub`` at ``target`` (``host:port``).

    ``tls``: ``True`` (system roots, or ``root_certificates``) or ``False`` for plaintext (the
    local emulator). ``credentials(refresh)`` supplies the auth metadata. Use as a context
    manager or call :meth:`close`.
    """

    def __init__(
        self,
        target: str = "api.pubsub.salesforce.com:7443",
        *,
        credentials: CredentialsProvider,
        tls: bool = True,
        root_certificates: bytes | None = None,
        timeout: float = 30.0,
        channel: grpc.Channel | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self._provider = credentials
        self._credentials: PubSubCredentials | None = None
        self._lock = threading.Lock()
        if channel is None:
            options = [("grpc.max_receive_message_length", 8 * 1024 * 1024)]
            if tls:
                secure = grpc.ssl_channel_credentials(root_certificates=root_certificates)
                channel = grpc.secure_channel(target, secure, options=options)
            else:
                channel = grpc.insecure_channel(target, options=options)
        self.channel = channel
        self.stub = wire.stub_for(channel)
        self._schemas: dict[str, Schema] = {}
        self._topics: dict[str, TopicInfo] = {}
        self.schema_fetches = 0

    # -- credentials -------------------------------------------------------------------------

    def credentials(
        self, *, refresh: bool = False, stale: PubSubCredentials | None = None
    ) -> PubSubCredentials:
        """The current credentials; ``refresh=True`` asks the provider for new ones.

        With ``stale``, a refresh happens only if the current credentials are still those
        (another call may already have refreshed after the same expiry).
        """
        with self._lock:
            current = self._credentials
            if refresh and stale is not None and current is not None and current != stale:
                return current
            if refresh or current is None:
                current = self._credentials = self._provider(refresh)
            return current

    @property
    def metadata(self) -> wire.Metadata:
        return self.credentials().metadata

    def _unary(self, what: str, call: Callable[[wire.Metadata], _T]) -> _T:
        used = self.credentials()
        try:
            return call(used.metadata)
        except grpc.RpcError as err:
            if not is_auth_error(err):
                raise error_from_rpc(err, what=what) from None
        try:
            return call(self.credentials(refresh=True, stale=used).metadata)
        except grpc.RpcError as err:
            raise error_from_rpc(err, what=what) from None

    # -- topics and schemas ------------------------------------------------------------------

    def get_topic(self, topic: str) -> TopicInfo:
        """``GetTopic``: whether we may publish/subscribe, and the topic's schema id."""
        request = wire.TopicRequest(topic_name=topic)
        info = self._unary(
            f"GetTopic({topic})",
            lambda md: self.stub.get_topic(request, metadata=md, timeout=self.timeout),
        )
        result = TopicInfo(
            info.topic_name, info.tenant_guid, info.can_publish, info.can_subscribe, info.schema_id
        )
        with self._lock:
            self._topics[topic] = result
        return result

    def get_schema(self, schema_id: str) -> Schema:
        """``GetSchema``, cached by id."""
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        request = wire.SchemaRequest(schema_id=schema_id)
        info = self._unary(
            f"GetSchema({schema_id})",
            lambda md: self.stub.get_schema(request, metadata=md, timeout=self.timeout),
        )
        try:
            parsed = parse_avro_schema(info.schema_json)
        except Exception as exc:
            raise PubSubSchemaError(f"schema {schema_id}: not a valid Avro schema") from exc
        raw = cast("Mapping[str, Any]", json.loads(info.schema_json))
        schema = Schema(schema_id, raw, parsed, schema_fields(raw))
        with self._lock:
            self._schemas[schema_id] = schema
            self.schema_fetches += 1
        return schema

    # -- publishing --------------------------------------------------------------------------

    def _topic_schema(self, topic: str) -> Schema:
        with self._lock:
            info = self._topics.get(topic)
        if info is None:
            info = self.get_topic(topic)
        if not info.can_publish:
            raise PubSubError(f"topic: {topic} does not accept publishing")
        return self.get_schema(info.schema_id)

    def _producer_events(
        self, schema: Schema, events: Sequence[Mapping[str, Any]], ids: Sequence[str] | None
    ) -> list[wire.ProducerEvent]:
        if ids is not None and len(ids) != len(events):
            raise ValueError("ids: must have one id per event")
        now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
        produced: list[wire.ProducerEvent] = []
        for index, values in enumerate(events):
            filled = {"CreatedDate": now_ms, "CreatedById": "", **values}
            try:
                record = record_for_schema(schema.schema, filled)
                payload = encode_avro(schema.parsed, record)
            except (ValueError, TypeError) as exc:
                raise PubSubSchemaError(f"events[{index}]: {exc}") from exc
            event_id = ids[index] if ids is not None else str(uuid.uuid4())
            produced.append(
                wire.ProducerEvent(id=event_id, schema_id=schema.schema_id, payload=payload)
            )
        return produced

    @staticmethod
    def _outcomes(response: wire.PublishResponse) -> list[PublishOutcome]:
        return [
            PublishOutcome(
                correlation_key=r.correlation_key,
                replay_id=bytes(r.replay_id) or None,
                error=r.error.msg if r.HasField("error") else None,
            )
            for r in response.results
        ]

    def publish(
        self,
        topic: str,
        events: Sequence[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
    ) -> list[PublishOutcome]:
        """``Publish`` a batch of platform events; one outcome per event, in order.

        Values are plain Python (``Decimal``, aware ``datetime``, ``date``, ``str``...);
        ``CreatedDate``/``CreatedById`` are filled when absent. ``ids`` become the events'
        ids and the outcomes' correlation keys (uuid4 by default).
        """
        schema = self._topic_schema(topic)
        request = wire.PublishRequest(
            topic_name=topic, events=self._producer_events(schema, events, ids)
        )
        response = self._unary(
            f"Publish({topic})",
            lambda md: self.stub.publish(request, metadata=md, timeout=self.timeout),
        )
        return self._outcomes(response)

    def publish_stream(
        self, topic: str, batches: Iterable[Sequence[Mapping[str, Any]]]
    ) -> Iterator[list[PublishOutcome]]:
        """``PublishStream``: batches are sent as they come (pipelined); one list per batch.

        The stream must publish at least every 70 s or Salesforce closes it.
        """
        schema = self._topic_schema(topic)

        def requests() -> Iterator[wire.PublishRequest]:
            for batch in batches:
                yield wire.PublishRequest(
                    topic_name=topic, events=self._producer_events(schema, batch, None)
                )

        stream = self.stub.publish_stream(requests(), metadata=self.metadata)
        try:
            for response in stream:
                yield self._outcomes(response)
        except grpc.RpcError as err:
            raise error_from_rpc(err, topic=topic, what=f"PublishStream({topic})") from None
        finally:
            stream.cancel()

    # -- subscribing -------------------------------------------------------------------------

    def subscribe(
        self,
        topic: str,
        *,
        replay: ReplayStart = "latest",
        store: ReplayStore | None = None,
        store_key: str | None = None,
        batch_size: int = 100,
        watchdog: float = 300.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        checkpoint_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> PubSubSubscription:
        """Subscribe to ``topic``; iterate the result for typed events.

        ``replay`` applies when ``store`` holds no checkpoint for ``store_key`` (default: the
        topic). ``batch_size`` (1..100) bounds the events the server owes us; ``watchdog``
        seconds of silence reconnect; ``sleep`` and ``jitter`` (called ``jitter(0.5, 1.0)``
        for each backoff's factor) are injectable; see :class:`PubSubSubscription` for the rest.
        """
        from ._subscription import PubSubSubscription

        return PubSubSubscription(
            self,
            topic,
            replay=replay,
            store=store,
            store_key=store_key,
            batch_size=batch_size,
            watchdog=watchdog,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            checkpoint_interval=checkpoint_interval,
            sleep=sleep,
            jitter=jitter,
        )

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> PubSubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PubSubClient(target={self.target!r})"
