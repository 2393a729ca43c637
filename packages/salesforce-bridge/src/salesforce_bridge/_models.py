"""Typed results of bridge operations (pydantic, ``extra="allow"`` for upstream additions)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._errors import ErrorDetail, parse_error_details

__all__ = [
    "FieldDescribe",
    "PublishResult",
    "Record",
    "RecordAttributes",
    "RecordResult",
    "SObjectDescribe",
    "UpsertResult",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class UpsertResult(_Model):
    """Outcome of an upsert by external id: ``created`` distinguishes insert from update."""

    id: str | None = None
    created: bool
    success: bool = True


class RecordResult(_Model):
    """One record's outcome in an sObject Collections call (input order is kept)."""

    id: str | None = None
    success: bool
    created: bool | None = None
    errors: tuple[ErrorDetail, ...] = ()

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> RecordResult:
        created = item.get("created")
        return cls(
            id=item.get("id"),
            success=bool(item.get("success")),
            created=created if isinstance(created, bool) else None,
            errors=parse_error_details(item.get("errors") or []),
        )


class PublishResult(_Model):
    """A published platform event. ``OPERATION_ENQUEUED`` is success; its message is the UUID."""

    success: bool
    event_uuid: str | None = None
    id: str | None = None
    errors: tuple[ErrorDetail, ...] = ()

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> PublishResult:
        details = parse_error_details(item.get("errors") or [])
        uuid = next((d.message for d in details if d.code == "OPERATION_ENQUEUED"), None)
        real = tuple(d for d in details if d.code != "OPERATION_ENQUEUED")
        return cls(
            success=bool(item.get("success")) and not real,
            event_uuid=uuid,
            id=item.get("id"),
            errors=real,
        )


class RecordAttributes(_Model):
    type: str
    url: str | None = None


class Record(_Model):
    """One SOQL row: ``attributes`` plus the selected fields (``record["Name"]``)."""

    attributes: RecordAttributes | None = None

    def __getitem__(self, name: str) -> Any:
        extra = self.model_extra or {}
        return extra[name]

    def get(self, name: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(name, default)

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FieldDescribe(_Model):
    name: str
    type: str = "string"
    label: str = ""
    createable: bool = False
    updateable: bool = False
    nillable: bool = True
    external_id: bool = Field(default=False, alias="externalId")
    unique: bool = False


class SObjectDescribe(_Model):
    name: str
    label: str = ""
    custom: bool = False
    createable: bool = False
    updateable: bool = False
    queryable: bool = True
    key_prefix: str | None = Field(default=None, alias="keyPrefix")
    fields: tuple[FieldDescribe, ...] = ()

    def field(self, name: str) -> FieldDescribe | None:
        lowered = name.lower()
        return next((f for f in self.fields if f.name.lower() == lowered), None)
