"""Avro schemas of the emulator's Pub/Sub topics, and payload encoding with fastavro.

Salesforce publishes no authoritative CDC schema, so the shapes follow what real orgs send:

- platform events: a ``com.sforce.eventbus`` record with ``CreatedDate`` (long, epoch ms) and
  ``CreatedById`` first, then every custom field as ``["null", type]`` defaulting to null;
- change events: ``ChangeEventHeader`` first (so bitmap bit 0 is the header), then the record's
  fields (without ``Id``, which travels in ``recordIds``), all ``["null", type]``.

A schema id is the base64url MD5 of the schema's Parsing Canonical Form: stable across runs and
the same 22-character shape Salesforce uses. Values on the bus are REST-style JSON (ISO dates,
numbers); they are coerced to the Avro types here. CDC field lists on the bus are names and are
encoded to bitmaps here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, cast

from fastavro.schema import to_parsing_canonical_form

from salesforce_bridge.events import encode_field_bitmaps, schema_fields
from salesforce_bridge.pubsub._codec import (
    ParsedSchema,
    decode_avro,
    encode_avro,
    parse_avro_schema,
)

from ._bus import ALL_CHANGE_EVENTS
from ._schema import FieldDef, ObjectDef, default_objects

__all__ = [
    "AvroRegistry",
    "AvroSchema",
    "cdc_schema",
    "change_topic",
    "platform_event_schema",
    "schema_id_of",
]

_NAMESPACE = "com.sforce.eventbus"
_CHANGE_TYPES = (
    "CREATE",
    "UPDATE",
    "DELETE",
    "UNDELETE",
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
    "SNAPSHOT",
)
_FIELD_LISTS = ("changedFields", "nulledFields", "diffFields")
_EPOCH = date(1970, 1, 1)
_ZERO: dict[str, object] = {"long": 0, "int": 0, "double": 0.0, "boolean": False, "string": ""}
_HEADER_DEFAULTS: dict[str, object] = {
    "recordIds": [],
    "changeOrigin": "",
    "transactionKey": "",
    "sequenceNumber": 1,
    "commitTimestamp": 0,
    "commitNumber": 0,
    "commitUser": "",
}

# Order_Event__e is part of the Pub/Sub product promise but not of the REST seed catalog.
ORDER_EVENT = ObjectDef(
    "Order_Event__e",
    "e01",
    "Order Event",
    (
        FieldDef("CreatedDate", "datetime", createable=False, updateable=False),
        FieldDef("CreatedById", "reference", createable=False, updateable=False),
        FieldDef("Order_ID__c", nillable=False, length=64),
        FieldDef("Status__c", length=40),
        FieldDef("Amount__c", "currency"),
    ),
    event=True,
)


def _avro_type(field_def: FieldDef) -> str:
    if field_def.type == "boolean":
        return "boolean"
    if field_def.type in {"currency", "double", "percent"}:
        return "double"
    if field_def.type == "int":
        return "int"
    if field_def.type == "datetime":
        return "long"  # epoch milliseconds
    if field_def.type == "date":
        return "int"  # days since the epoch
    return "string"


def schema_id_of(schema: Mapping[str, Any]) -> str:
    """The stable id of ``schema``: base64url MD5 of its Parsing Canonical Form, unpadded."""
    canonical = to_parsing_canonical_form(dict(schema)).encode()
    digest = hashlib.md5(canonical, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def platform_event_schema(obj: ObjectDef) -> dict[str, Any]:
    """The Avro schema of platform event ``obj`` (``CreatedDate``/``CreatedById`` required)."""
    fields: list[dict[str, Any]] = [
        {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
        {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"},
    ]
    skip = {"CreatedDate", "CreatedById", "ReplayId", "EventUuid"}
    fields.extend(
        {"name": f.name, "type": ["null", _avro_type(f)], "default": None}
        for f in obj.fields
        if f.name not in skip
    )
    return {"name": obj.name, "namespace": _NAMESPACE, "type": "record", "fields": fields}


def _header_schema() -> dict[str, Any]:
    strings = {"type": "array", "items": "string"}
    return {
        "type": "record",
        "name": "ChangeEventHeader",
        "namespace": _NAMESPACE,
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {
                "name": "changeType",
                "type": {"type": "enum", "name": "ChangeType", "symbols": list(_CHANGE_TYPES)},
            },
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ],
    }


def change_topic(obj: ObjectDef) -> str:
    """The CDC channel of ``obj``: ``/data/AccountChangeEvent``, ``/data/Payment__ChangeEvent``."""
    base = obj.name.removesuffix("__c") + "__" if obj.name.endswith("__c") else obj.name
    return f"/data/{base}ChangeEvent"


def cdc_schema(obj: ObjectDef) -> dict[str, Any]:
    """The Avro schema of ``obj``'s change events (header first, every field nullable)."""
    name = change_topic(obj).removeprefix("/data/")
    fields: list[dict[str, Any]] = [{"name": "ChangeEventHeader", "type": _header_schema()}]
    fields.extend(
        {"name": f.name, "type": ["null", _avro_type(f)], "default": None}
        for f in obj.fields
        if f.name not in {"Id", "IsDeleted"}
    )
    return {"name": name, "namespace": _NAMESPACE, "type": "record", "fields": fields}


@dataclass(frozen=True)
class AvroSchema:
    """One registered schema: its JSON, id, parsed form and field types for coercion."""

    schema_id: str
    schema: Mapping[str, Any]
    parsed: ParsedSchema = field(repr=False, compare=False)
    types: Mapping[str, str] = field(repr=False, compare=False)
    required: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def schema_json(self) -> str:
        return json.dumps(self.schema, separators=(",", ":"))

    @classmethod
    def build(cls, schema: Mapping[str, Any]) -> AvroSchema:
        types: dict[str, str] = {}
        required: list[str] = []
        for item in cast("list[Mapping[str, Any]]", schema["fields"]):
            kind = item["type"]
            if isinstance(kind, list):
                types[str(item["name"])] = str(cast("list[object]", kind)[-1])
            elif isinstance(kind, str):
                types[str(item["name"])] = kind
                required.append(str(item["name"]))
        parsed = parse_avro_schema(schema)
        return cls(schema_id_of(schema), schema, parsed, types, tuple(required))


def _to_epoch_ms(value: object) -> object:
    if isinstance(value, str) and value:
        text = value.replace("Z", "+00:00")
        if text.endswith("+0000"):  # REST's form, which Python 3.10 cannot parse
            text = text.removesuffix("+0000") + "+00:00"
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return int(parsed.timestamp() * 1000)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return value


def _coerce(kind: str | None, value: object) -> object:
    """A REST-style JSON value as the Avro type ``kind`` expects."""
    if value is None or kind is None:
        return value
    if kind == "long":
        return _to_epoch_ms(value)
    if kind == "int" and isinstance(value, (str, date)):
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return (day - _EPOCH).days
    if kind == "double" and isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and not isinstance(value, str):
        return str(value)
    return value


class AvroRegistry:
    """Schemas by topic and by id, built from sObject definitions; encodes bus payloads."""

    def __init__(self, objects: Iterable[ObjectDef] | None = None) -> None:
        catalog = list(default_objects().values()) if objects is None else list(objects)
        if all(o.name != ORDER_EVENT.name for o in catalog):
            catalog.append(ORDER_EVENT)
        self._by_topic: dict[str, AvroSchema] = {}
        self._by_entity: dict[str, AvroSchema] = {}
        self._by_id: dict[str, AvroSchema] = {}
        for obj in catalog:
            if obj.event:
                self._add(f"/event/{obj.name}", AvroSchema.build(platform_event_schema(obj)))
            else:
                schema = AvroSchema.build(cdc_schema(obj))
                self._add(change_topic(obj), schema)
                self._by_entity[obj.name] = schema

    def _add(self, topic: str, schema: AvroSchema) -> None:
        self._by_topic[topic] = schema
        self._by_id[schema.schema_id] = schema

    @property
    def topics(self) -> tuple[str, ...]:
        return (*self._by_topic, ALL_CHANGE_EVENTS)

    def for_topic(self, topic: str) -> AvroSchema | None:
        """The schema of ``topic`` (``None`` for ``/data/ChangeEvents``: one per entity)."""
        return self._by_topic.get(topic)

    def by_id(self, schema_id: str) -> AvroSchema | None:
        return self._by_id.get(schema_id)

    def for_event(self, topic: str, payload: Mapping[str, Any]) -> AvroSchema | None:
        """The schema a bus payload on ``topic`` is written with (by entity on ChangeEvents)."""
        if topic != ALL_CHANGE_EVENTS:
            return self._by_topic.get(topic)
        header = cast("Mapping[str, Any]", payload.get("ChangeEventHeader") or {})
        return self._by_entity.get(str(header.get("entityName", "")))

    def encode(
        self, schema: AvroSchema, payload: Mapping[str, Any], *, published_ms: int = 0
    ) -> bytes:
        """Avro binary (no container) of ``payload``; CDC field names become bitmaps.

        Required fields the bus payload lacks get their zero value; a platform event without
        ``CreatedDate`` gets ``published_ms`` (REST publishes may leave the system fields out).
        """
        record: dict[str, Any] = {
            name: _coerce(kind, payload.get(name)) for name, kind in schema.types.items()
        }
        for name in schema.required:
            if record.get(name) is None:
                record[name] = published_ms if name == "CreatedDate" else _ZERO[schema.types[name]]
        raw_header = payload.get("ChangeEventHeader")
        if isinstance(raw_header, Mapping):
            given = cast("Mapping[str, Any]", raw_header)
            header = {**_HEADER_DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
            fields = schema_fields(schema.schema)
            known = {f.name for f in fields}
            for key in _FIELD_LISTS:
                names = [
                    n
                    for n in cast("list[str]", header.get(key) or [])
                    if n.partition(".")[0] in known
                ]
                header[key] = encode_field_bitmaps(names, fields)
            record["ChangeEventHeader"] = header
        return encode_avro(schema.parsed, record)

    def decode(self, schema: AvroSchema, data: bytes) -> dict[str, Any]:
        """The record of Avro binary ``data`` written with ``schema``."""
        return decode_avro(schema.parsed, data)
