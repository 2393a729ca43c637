"""Typed events with the same shape whichever transport (CometD or Pub/Sub) delivered them.

- ``replay_id`` is always opaque ``bytes``. CometD's integer replay ids are carried as
  8 big-endian bytes (:func:`cometd_replay_bytes` / :func:`cometd_replay_int` convert).
- ``ChangeEvent.header`` is a decoded :class:`ChangeEventHeader` (field names, never bitmaps).
- ``created_date`` is an aware UTC datetime (CometD sends ISO strings, Pub/Sub epoch ms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict

from ._cdc import ChangeEventHeader, SchemaField

__all__ = [
    "ChangeEvent",
    "PlatformEvent",
    "SalesforceEvent",
    "Transport",
    "cometd_replay_bytes",
    "cometd_replay_int",
    "event_from_cometd",
    "event_from_pubsub",
    "parse_salesforce_datetime",
]

Transport = Literal["cometd", "pubsub"]


def cometd_replay_bytes(replay_id: int) -> bytes:
    """A CometD replay id (a non-negative integer) as opaque 8 big-endian bytes."""
    return replay_id.to_bytes(8, "big")


def cometd_replay_int(replay_id: bytes) -> int:
    """The CometD integer form of a replay id stored by :func:`cometd_replay_bytes`."""
    return int.from_bytes(replay_id, "big")


def parse_salesforce_datetime(value: object) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds or an ISO-8601 string; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    channel: str
    replay_id: bytes
    event_uuid: str | None = None
    schema_id: str | None = None
    transport: Transport
    payload: dict[str, Any]
    """The event's fields (for change events: the record fields, without the header)."""

    @property
    def created_date(self) -> datetime | None:
        """The payload's ``CreatedDate`` as an aware UTC datetime, when present."""
        return parse_salesforce_datetime(self.payload.get("CreatedDate"))


class PlatformEvent(_Event):
    """A platform event (``/event/<Name>__e``)."""

    kind: Literal["platform"] = "platform"


class ChangeEvent(_Event):
    """A Change Data Capture event with its decoded header."""

    kind: Literal["change"] = "change"
    header: ChangeEventHeader


SalesforceEvent = PlatformEvent | ChangeEvent


def _build(
    *,
    channel: str,
    replay_id: bytes,
    event_uuid: str | None,
    schema_id: str | None,
    transport: Transport,
    payload: Mapping[str, Any],
    schema: Mapping[str, Any] | Sequence[SchemaField] | None,
) -> SalesforceEvent:
    fields = dict(payload)
    raw_header = fields.pop("ChangeEventHeader", None)
    common: dict[str, Any] = {
        "channel": channel,
        "replay_id": replay_id,
        "event_uuid": event_uuid,
        "schema_id": schema_id,
        "transport": transport,
        "payload": fields,
    }
    if isinstance(raw_header, Mapping):
        header = ChangeEventHeader.from_wire(cast("Mapping[str, Any]", raw_header), schema)
        return ChangeEvent(header=header, **common)
    return PlatformEvent(**common)


def event_from_cometd(message: Mapping[str, Any]) -> SalesforceEvent:
    """The typed event of one CometD data message (``{"channel", "data": {...}}``)."""
    data = cast("Mapping[str, Any]", message.get("data") or {})
    event = cast("Mapping[str, Any]", data.get("event") or {})
    return _build(
        channel=str(message["channel"]),
        replay_id=cometd_replay_bytes(int(event["replayId"])),
        event_uuid=cast("str | None", event.get("EventUuid")),
        schema_id=cast("str | None", data.get("schema")),
        transport="cometd",
        payload=cast("Mapping[str, Any]", data.get("payload") or {}),
        schema=None,
    )


def event_from_pubsub(
    *,
    topic: str,
    replay_id: bytes,
    event_id: str | None,
    schema_id: str,
    payload: Mapping[str, Any],
    schema: Mapping[str, Any] | Sequence[SchemaField],
) -> SalesforceEvent:
    """The typed event of one Pub/Sub ``ConsumerEvent`` whose Avro payload is decoded."""
    return _build(
        channel=topic,
        replay_id=bytes(replay_id),
        event_uuid=event_id,
        schema_id=schema_id,
        transport="pubsub",
        payload=payload,
        schema=schema,
    )
