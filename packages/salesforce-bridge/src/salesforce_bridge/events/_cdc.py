"""Change Data Capture: the typed ``ChangeEventHeader``, field-bitmap decoding, echo suppression.

Pub/Sub delivers ``changedFields`` / ``nulledFields`` / ``diffFields`` as bitmaps over the event
schema; CometD delivers field names. Decoding turns both into names:

- an element ``0x<hex>`` is a bitmap over the schema's **top-level** fields: bit *i*, counted
  from the least-significant bit, selects ``schema.fields[i]``;
- an element ``<parentIndex>-0x<hex>`` is a bitmap over the child fields of the compound field
  ``schema.fields[parentIndex]`` (its type unwrapped from a union such as ``["null", record]``),
  giving names like ``BillingAddress.City``; every flagged child is listed.

Anything else is already a field name and is kept as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from salesforce_bridge._errors import SalesforceBridgeError

__all__ = [
    "CdcDecodeError",
    "ChangeEventHeader",
    "SchemaField",
    "change_origin_client",
    "decode_field_bitmaps",
    "encode_field_bitmaps",
    "is_echo",
    "schema_fields",
]

_TOP = re.compile(r"^0x([0-9A-Fa-f]+)$")
_NESTED = re.compile(r"^(\d+)-0x([0-9A-Fa-f]+)$")


class CdcDecodeError(SalesforceBridgeError, ValueError):
    """A change-event bitmap does not fit the schema it is decoded against."""


@dataclass(frozen=True)
class SchemaField:
    """One top-level field of an event schema, with its child names if it is compound."""

    name: str
    children: tuple[str, ...] = ()


def _record_of(avro_type: object) -> Mapping[str, Any] | None:
    """The record schema inside ``avro_type`` (a record, or a union containing one)."""
    if isinstance(avro_type, Mapping):
        mapping = cast("Mapping[str, Any]", avro_type)
        return mapping if mapping.get("type") == "record" else None
    if isinstance(avro_type, list):
        for member in cast("list[object]", avro_type):
            found = _record_of(member)
            if found is not None:
                return found
    return None


def schema_fields(schema: Mapping[str, Any] | Sequence[SchemaField]) -> tuple[SchemaField, ...]:
    """The ordered top-level fields of an Avro record schema (parsed JSON), children included."""
    if not isinstance(schema, Mapping):
        return tuple(schema)
    raw_fields = cast("list[Mapping[str, Any]]", schema.get("fields") or [])
    result: list[SchemaField] = []
    for item in raw_fields:
        record = _record_of(item.get("type"))
        children = cast("list[Mapping[str, Any]]", record.get("fields") or []) if record else []
        result.append(SchemaField(str(item["name"]), tuple(str(c["name"]) for c in children)))
    return tuple(result)


def _bits(hex_digits: str) -> list[int]:
    value = int(hex_digits, 16)
    return [i for i in range(value.bit_length()) if (value >> i) & 1]


def decode_field_bitmaps(
    values: Iterable[str], schema: Mapping[str, Any] | Sequence[SchemaField] | None
) -> tuple[str, ...]:
    """Decode bitmap elements to field names; plain names pass through unchanged.

    Raises :class:`CdcDecodeError` for a bitmap without a schema, or a bit past the fields.
    """
    # A tuple is already the field list (what the Pub/Sub client passes for every event):
    # skip the Mapping ABC check, which costs more than decoding a few names.
    fields: tuple[SchemaField, ...] | None
    if schema is None or type(schema) is tuple:
        fields = cast("tuple[SchemaField, ...] | None", schema)
    else:
        fields = schema_fields(schema)
    names: list[str] = []
    for value in values:
        if "0x" not in value:  # both bitmap forms contain "0x": a name, skip the regexes
            names.append(value)
            continue
        top, nested = _TOP.match(value), _NESTED.match(value)
        if top is None and nested is None:
            names.append(value)
            continue
        if fields is None:
            raise CdcDecodeError(f"bitmap {value!r} needs the event schema to decode")
        if top is not None:
            for bit in _bits(top.group(1)):
                if bit >= len(fields):
                    raise CdcDecodeError(f"bit {bit} of {value!r} is past the schema's fields")
                names.append(fields[bit].name)
            continue
        assert nested is not None
        parent_index = int(nested.group(1))
        if parent_index >= len(fields) or not fields[parent_index].children:
            raise CdcDecodeError(f"{value!r}: field {parent_index} is not a compound field")
        parent = fields[parent_index]
        for bit in _bits(nested.group(2)):
            if bit >= len(parent.children):
                raise CdcDecodeError(f"bit {bit} of {value!r} is past {parent.name}'s fields")
            names.append(f"{parent.name}.{parent.children[bit]}")
    return tuple(names)


def _hex(value: int) -> str:
    digits = f"{value:X}"
    return "0x" + ("0" if len(digits) % 2 else "") + digits


def encode_field_bitmaps(
    names: Iterable[str], schema: Mapping[str, Any] | Sequence[SchemaField]
) -> list[str]:
    """Encode field names (``Name``, ``Parent.Child``) as Pub/Sub bitmap elements.

    The top-level element comes first (omitted when no top-level field is named), then one
    ``<idx>-0x<hex>`` element per compound field, by index. Unknown names raise ``CdcDecodeError``.
    """
    fields = schema_fields(schema)
    index = {f.name: i for i, f in enumerate(fields)}
    top = 0
    nested: dict[int, int] = {}
    for name in names:
        parent, dot, child = name.partition(".")
        if parent not in index or (dot and child not in fields[index[parent]].children):
            raise CdcDecodeError(f"field {name!r} is not in the schema")
        if dot:
            position = fields[index[parent]].children.index(child)
            nested[index[parent]] = nested.get(index[parent], 0) | (1 << position)
        else:
            top |= 1 << index[parent]
    encoded = [_hex(top)] if top else []
    encoded.extend(f"{i}-{_hex(nested[i])}" for i in sorted(nested))
    return encoded


class ChangeEventHeader(BaseModel):
    """The decoded ``ChangeEventHeader`` of a change event (field lists hold names)."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    entity_name: str = Field(alias="entityName")
    record_ids: tuple[str, ...] = Field(default=(), alias="recordIds")
    change_type: str = Field(alias="changeType")
    change_origin: str = Field(default="", alias="changeOrigin")
    transaction_key: str = Field(default="", alias="transactionKey")
    sequence_number: int = Field(default=0, alias="sequenceNumber")
    commit_timestamp: int = Field(default=0, alias="commitTimestamp")
    commit_number: int = Field(default=0, alias="commitNumber")
    commit_user: str = Field(default="", alias="commitUser")
    changed_fields: tuple[str, ...] = Field(default=(), alias="changedFields")
    nulled_fields: tuple[str, ...] = Field(default=(), alias="nulledFields")
    diff_fields: tuple[str, ...] = Field(default=(), alias="diffFields")

    @property
    def committed_at(self) -> datetime:
        """``commitTimestamp`` (epoch milliseconds) as an aware UTC datetime."""
        return datetime.fromtimestamp(self.commit_timestamp / 1000, tz=timezone.utc)

    @property
    def is_gap(self) -> bool:
        """Whether this is a GAP_* event (the record must be re-read)."""
        return self.change_type.startswith("GAP_")

    @classmethod
    def from_wire(
        cls,
        raw: Mapping[str, Any],
        schema: Mapping[str, Any] | Sequence[SchemaField] | None = None,
    ) -> ChangeEventHeader:
        """Parse a wire header, decoding field bitmaps against ``schema`` when present."""
        data = dict(raw)
        for key in ("changedFields", "nulledFields", "diffFields"):
            values = cast("list[str] | None", data.get(key))
            data[key] = decode_field_bitmaps(values or (), schema)
        return cls.model_validate(data)


def change_origin_client(change_origin: str) -> str | None:
    """The ``client=<id>`` value of a ``changeOrigin`` (trailing ``/`` removed), if any."""
    for part in change_origin.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == "client":
            return value.rstrip("/")
    return None


def is_echo(header: ChangeEventHeader, client_name: str) -> bool:
    """Whether the change was made by us (REST calls sent ``Sforce-Call-Options: client=...``)."""
    return change_origin_client(header.change_origin) == client_name
