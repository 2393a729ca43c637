"""Typed access to the generated Pub/Sub stubs (``_proto``, generated at build time).

The message classes are typed by the generated ``.pyi``; the gRPC module is untyped, so its two
entry points (the client stub and the servicer registration) are given typed shapes here and
nothing else in the package imports ``_proto`` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar, cast

import grpc

from ._proto import pubsub_api_pb2 as pb2
from ._proto import pubsub_api_pb2_grpc as pb2_grpc

__all__ = [
    "CUSTOM",
    "EARLIEST",
    "LATEST",
    "SERVICE_NAME",
    "ConsumerEvent",
    "Error",
    "ErrorCode",
    "EventHeader",
    "FetchRequest",
    "FetchResponse",
    "Metadata",
    "ProducerEvent",
    "PubSubStub",
    "PublishRequest",
    "PublishResponse",
    "PublishResult",
    "ReplayPreset",
    "ResponseStream",
    "SchemaInfo",
    "SchemaRequest",
    "TopicInfo",
    "TopicRequest",
    "add_servicer",
    "stub_for",
]

SERVICE_NAME = "eventbus.v1.PubSub"

ConsumerEvent = pb2.ConsumerEvent
Error = pb2.Error
ErrorCode = pb2.ErrorCode
EventHeader = pb2.EventHeader
FetchRequest = pb2.FetchRequest
FetchResponse = pb2.FetchResponse
ProducerEvent = pb2.ProducerEvent
PublishRequest = pb2.PublishRequest
PublishResponse = pb2.PublishResponse
PublishResult = pb2.PublishResult
ReplayPreset = pb2.ReplayPreset
SchemaInfo = pb2.SchemaInfo
SchemaRequest = pb2.SchemaRequest
TopicInfo = pb2.TopicInfo
TopicRequest = pb2.TopicRequest
LATEST = pb2.LATEST
EARLIEST = pb2.EARLIEST
CUSTOM = pb2.CUSTOM

Metadata = Sequence[tuple[str, str]]
_T_co = TypeVar("_T_co", covariant=True)


class ResponseStream(Protocol[_T_co]):
    """A server-streaming call: an iterator of responses that can also be cancelled."""

    def __iter__(self) -> Iterator[_T_co]: ...
    def __next__(self) -> _T_co: ...
    def cancel(self) -> bool: ...


class _Unary(Protocol):
    def __call__(
        self, request: object, *, metadata: Metadata = ..., timeout: float | None = ...
    ) -> object: ...


class _Stream(Protocol):
    def __call__(
        self, request_iterator: Iterator[object], *, metadata: Metadata = ...
    ) -> ResponseStream[object]: ...


class PubSubStub:
    """The generated client stub with typed methods."""

    def __init__(self, channel: grpc.Channel) -> None:
        stub: object = pb2_grpc.PubSubStub(channel)
        self._get_schema = cast("_Unary", getattr(stub, "GetSchema"))  # noqa: B009
        self._get_topic = cast("_Unary", getattr(stub, "GetTopic"))  # noqa: B009
        self._publish = cast("_Unary", getattr(stub, "Publish"))  # noqa: B009
        self._subscribe = cast("_Stream", getattr(stub, "Subscribe"))  # noqa: B009
        self._publish_stream = cast("_Stream", getattr(stub, "PublishStream"))  # noqa: B009

    def get_schema(
        self, request: pb2.SchemaRequest, *, metadata: Metadata, timeout: float | None
    ) -> pb2.SchemaInfo:
        return cast("pb2.SchemaInfo", self._get_schema(request, metadata=metadata, timeout=timeout))

    def get_topic(
        self, request: pb2.TopicRequest, *, metadata: Metadata, timeout: float | None
    ) -> pb2.TopicInfo:
        return cast("pb2.TopicInfo", self._get_topic(request, metadata=metadata, timeout=timeout))

    def publish(
        self, request: pb2.PublishRequest, *, metadata: Metadata, timeout: float | None
    ) -> pb2.PublishResponse:
        response = self._publish(request, metadata=metadata, timeout=timeout)
        return cast("pb2.PublishResponse", response)

    def subscribe(
        self, requests: Iterator[pb2.FetchRequest], *, metadata: Metadata
    ) -> ResponseStream[pb2.FetchResponse]:
        stream = self._subscribe(cast("Iterator[object]", requests), metadata=metadata)
        return cast("ResponseStream[pb2.FetchResponse]", stream)

    def publish_stream(
        self, requests: Iterator[pb2.PublishRequest], *, metadata: Metadata
    ) -> ResponseStream[pb2.PublishResponse]:
        stream = self._publish_stream(cast("Iterator[object]", requests), metadata=metadata)
        return cast("ResponseStream[pb2.PublishResponse]", stream)


def stub_for(channel: grpc.Channel) -> PubSubStub:
    return PubSubStub(channel)


def add_servicer(servicer: object, server: grpc.Server) -> None:
    """Register ``servicer`` (methods named as in the proto) under ``eventbus.v1.PubSub``."""
    register = cast(
        "Callable[[object, grpc.Server], None]",
        getattr(pb2_grpc, "add_PubSubServicer_to_server"),  # noqa: B009
    )
    register(servicer, server)
