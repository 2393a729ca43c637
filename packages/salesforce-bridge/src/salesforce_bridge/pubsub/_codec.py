"""Typed wrappers over fastavro's schemaless (container-less) binary encoding.

Pub/Sub payloads are bare Avro binary, so only the schemaless reader/writer are used.
fastavro's own annotations leave the file type unparameterised; these wrappers pin it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, cast

import fastavro

__all__ = [
    "ParsedSchema",
    "decode_avro",
    "encode_avro",
    "parse_avro_schema",
    "record_for_schema",
]

ParsedSchema = dict[str, Any]
_EPOCH = date(1970, 1, 1)

_reader = cast(
    "Callable[[IO[bytes], ParsedSchema, None], object]",
    getattr(fastavro, "schemaless_reader"),  # noqa: B009 - erases fastavro's IO[Unknown]
)
_writer = cast(
    "Callable[[IO[bytes], ParsedSchema, object], None]",
    getattr(fastavro, "schemaless_writer"),  # noqa: B009
)


def parse_avro_schema(schema: Mapping[str, Any] | str) -> ParsedSchema:
    """Parse a schema (a JSON string or parsed JSON) once, for fast repeated use."""
    raw: object = json.loads(schema) if isinstance(schema, str) else json.loads(json.dumps(schema))
    return cast("ParsedSchema", fastavro.parse_schema(cast("dict[str, Any]", raw)))


def encode_avro(schema: ParsedSchema, record: Mapping[str, Any]) -> bytes:
    """Avro binary of ``record`` without any container or header."""
    buffer = io.BytesIO()
    _writer(buffer, schema, record)
    return buffer.getvalue()


def decode_avro(schema: ParsedSchema, data: bytes) -> dict[str, Any]:
    """The record of Avro binary ``data`` written with ``schema``."""
    return cast("dict[str, Any]", _reader(io.BytesIO(data), schema, None))


def _avro_kind(avro_type: object) -> str:
    """The non-null branch of a field type (``["null", "double"]`` -> ``"double"``)."""
    if isinstance(avro_type, list):
        branches = [b for b in cast("list[object]", avro_type) if b != "null"]
        return _avro_kind(branches[0]) if branches else "null"
    if isinstance(avro_type, Mapping):
        return str(cast("Mapping[str, Any]", avro_type).get("type", ""))
    return str(avro_type)


def _coerce(name: str, kind: str, value: object) -> object:
    if value is None:
        return None
    if kind == "long" and isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name}: datetime must be timezone-aware")
        return int(value.timestamp() * 1000)
    if kind == "int" and isinstance(value, date) and not isinstance(value, datetime):
        return (value - _EPOCH).days
    if kind in {"double", "float"} and isinstance(value, (Decimal, int)):
        # Salesforce's Avro type for currency is double; Decimal is converted only here.
        return float(value)
    return value


def record_for_schema(schema: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as a record of ``schema``: unknown names rejected, Python types converted.

    ``datetime`` (aware) -> epoch ms for ``long`` fields, ``date`` -> days for ``int`` fields,
    ``Decimal`` -> ``double``. Missing fields are left out (their Avro default applies).
    """
    kinds = {
        str(f["name"]): _avro_kind(f.get("type"))
        for f in cast("list[Mapping[str, Any]]", schema.get("fields") or [])
    }
    record: dict[str, Any] = {}
    for name, value in values.items():
        if name not in kinds:
            raise ValueError(f"{name}: not a field of {schema.get('name')}")
        record[name] = _coerce(name, kinds[name], value)
    return record
