"""The emulator's org: records with Salesforce's write rules, ids, and published events."""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ._schema import ObjectDef, default_objects

__all__ = ["ApiFailure", "EventSink", "Org", "RecordChange", "error", "make_id", "render"]

ORG_ID = "00D000000000001AAA"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    """One item of Salesforce's REST error array."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return item


class ApiFailure(Exception):  # noqa: N818 - mirrors Salesforce's own wording
    """An error answer: HTTP status plus the error array (``errorCode`` items)."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


def make_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: prefix + base62 counter + case-checksum suffix."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _B62[rest] + digits
    short = (prefix + "0" * 12)[: 15 - len(digits)] + digits
    suffix = ""
    for chunk in range(3):
        flags = sum(1 << i for i, c in enumerate(short[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += _SUFFIX[flags]
    return short + suffix


def render(
    obj: ObjectDef, record: Mapping[str, Any], version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """A record as the REST API shows it: ``attributes`` first, then the fields."""
    url = f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"
    out: dict[str, Any] = {"attributes": {"type": obj.name, "url": url}}
    for name in fields or [f.name for f in obj.fields]:
        fdef = obj.field(name)
        if fdef is None:
            msg = f"No such column '{name}' on entity '{obj.name}'."
            raise ApiFailure(400, [error("INVALID_FIELD", msg)])
        out[fdef.name] = record.get(fdef.name)
    return out


ChangeKind = Literal["CREATE", "UPDATE", "DELETE", "UNDELETE"]


@dataclass(frozen=True)
class RecordChange:
    """One write of the current request, kept until the request commits (for CDC)."""

    kind: ChangeKind
    obj: ObjectDef
    record_id: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


EventSink = Callable[[ObjectDef, dict[str, Any]], tuple[str, int]]
"""Publishes a platform event's fields; returns its (EventUuid, replay id)."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Org:
    """All records of one emulated org. Callers hold :attr:`lock` around compound updates."""

    objects: dict[str, ObjectDef] = field(default_factory=default_objects)
    records: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=dict[str, dict[str, dict[str, Any]]]
    )
    events: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    user_id: str = "005000000000001AAA"
    changes: list[RecordChange] = field(default_factory=list[RecordChange])
    """Writes not yet committed (the REST layer publishes or discards them per request)."""
    recycle_bin: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=dict[str, dict[str, dict[str, Any]]]
    )
    event_sink: EventSink | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def obj(self, name: str) -> ObjectDef:
        found = self.objects.get(name.lower())
        if found is None:
            raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])
        return found

    def table(self, obj: ObjectDef) -> dict[str, dict[str, Any]]:
        return self.records.setdefault(obj.name, {})

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        return copy.deepcopy(self.records)

    # -- validation -------------------------------------------------------------------------

    def _clean(self, obj: ObjectDef, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key == "attributes":
                continue
            fdef = obj.field(key)
            if fdef is None:
                msg = f"No such column '{key}' on sobject of type {obj.name}"
                raise ApiFailure(400, [error("INVALID_FIELD", msg, [key])])
            allowed = fdef.createable if creating else fdef.updateable
            if not allowed and not (fdef.name == "Id" and not creating):
                msg = (
                    f"Unable to create/update fields: {fdef.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set."
                )
                raise ApiFailure(400, [error("INVALID_FIELD_FOR_INSERT_UPDATE", msg, [fdef.name])])
            if value is None and not fdef.nillable:
                msg = f"Required fields are missing: [{fdef.name}]"
                raise ApiFailure(400, [error("REQUIRED_FIELD_MISSING", msg, [fdef.name])])
            text_type = fdef.type in {"string", "picklist"}
            if isinstance(value, str) and text_type and len(value) > fdef.length:
                msg = f"{fdef.label or fdef.name}: data value too large: {value[:20]}"
                raise ApiFailure(400, [error("STRING_TOO_LONG", msg, [fdef.name])])
            clean[fdef.name] = value
        return clean

    def _check_unique(self, obj: ObjectDef, record: dict[str, Any], own_id: str | None) -> None:
        for fdef in obj.fields:
            value = record.get(fdef.name)
            if not fdef.unique or value is None:
                continue
            for rid, other in self.table(obj).items():
                if rid != own_id and str(other.get(fdef.name, "")).lower() == str(value).lower():
                    msg = (
                        f"duplicate value found: {fdef.name} duplicates value on record "
                        f"with id: {rid}"
                    )
                    raise ApiFailure(400, [error("DUPLICATE_VALUE", msg, [])])

    # -- writes -----------------------------------------------------------------------------

    def create(self, obj: ObjectDef, data: dict[str, Any]) -> str:
        clean = self._clean(obj, data, creating=True)
        missing = [f.name for f in obj.fields if f.required and clean.get(f.name) is None]
        if missing:
            msg = f"Required fields are missing: [{', '.join(missing)}]"
            raise ApiFailure(400, [error("REQUIRED_FIELD_MISSING", msg, missing)])
        number = next(self._counter)
        record_id = make_id(obj.key_prefix, number)
        now = _now()
        record: dict[str, Any] = {f.name: None for f in obj.fields}
        record.update(clean)
        record.update(
            Id=record_id,
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=self.user_id,
            LastModifiedDate=now,
            SystemModstamp=now,
        )
        if obj.name == "Payment__c":
            record["Name"] = f"PAY-{number:06d}"
        if obj.name == "Order":
            record["OrderNumber"] = f"{number:08d}"
        if obj.event:
            return self._publish(obj, record, number)
        self._check_unique(obj, record, None)
        self.table(obj)[record_id] = record
        self.changes.append(RecordChange("CREATE", obj, record_id, None, dict(record)))
        return record_id

    def _publish(self, obj: ObjectDef, record: dict[str, Any], number: int) -> str:
        record.pop("IsDeleted", None)
        record.pop("LastModifiedDate", None)
        record.pop("SystemModstamp", None)
        if self.event_sink is not None:
            event_uuid, replay_id = self.event_sink(obj, dict(record))
        else:
            event_uuid, replay_id = str(uuid.uuid4()), len(self.events) + 1
        record["EventUuid"] = event_uuid
        record["ReplayId"] = str(replay_id)
        self.events.append({"type": obj.name, **record})
        # Publish results always carry an ``e00`` id; it is neither delivered nor unique.
        return make_id("e00", number)

    def get(self, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        table = self.table(obj)
        found = table.get(record_id) or next(
            (r for rid, r in table.items() if rid[:15] == record_id[:15]), None
        )
        if found is None:
            raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])
        return found

    def update(self, obj: ObjectDef, record_id: str, data: dict[str, Any]) -> None:
        record = self.get(obj, record_id)
        clean = self._clean(obj, data, creating=False)
        clean.pop("Id", None)
        merged = {**record, **clean}
        self._check_unique(obj, merged, record["Id"])
        before = dict(record)
        record.update(clean)
        record["LastModifiedDate"] = record["SystemModstamp"] = _now()
        self.changes.append(RecordChange("UPDATE", obj, record["Id"], before, dict(record)))

    def delete(self, obj: ObjectDef, record_id: str) -> None:
        record = self.get(obj, record_id)
        del self.table(obj)[record["Id"]]
        binned = {**record, "IsDeleted": True, "SystemModstamp": _now()}  # the deletion time
        self.recycle_bin.setdefault(obj.name, {})[record["Id"]] = binned
        self.changes.append(RecordChange("DELETE", obj, record["Id"], dict(record), None))

    def discard_changes(self) -> None:
        """Forget uncommitted writes (a rolled-back request); deletes leave the recycle bin."""
        for change in self.changes:
            if change.kind == "DELETE":
                self.recycle_bin.get(change.obj.name, {}).pop(change.record_id, None)
        self.changes.clear()

    def undelete(self, record_id: str) -> tuple[ObjectDef, str]:
        """Restore a deleted record from the recycle bin (Salesforce's ``undelete()`` call)."""
        for name, binned in self.recycle_bin.items():
            record = binned.get(record_id) or next(
                (r for rid, r in binned.items() if rid[:15] == record_id[:15]), None
            )
            if record is None:
                continue
            obj = self.obj(name)
            del binned[record["Id"]]
            record.update(IsDeleted=False, LastModifiedDate=_now(), SystemModstamp=_now())
            self.table(obj)[record["Id"]] = record
            self.changes.append(RecordChange("UNDELETE", obj, record["Id"], None, dict(record)))
            return obj, str(record["Id"])
        msg = f"entity is not in the recycle bin: {record_id}"
        raise ApiFailure(400, [error("UNDELETE_FAILED", msg, [])])

    def find_by(self, obj: ObjectDef, field_name: str, value: Any) -> list[dict[str, Any]]:
        target = str(value).lower()
        return [r for r in self.table(obj).values() if str(r.get(field_name, "")).lower() == target]

    def upsert(
        self,
        obj: ObjectDef,
        field_name: str,
        value: str,
        data: dict[str, Any],
        *,
        update_only: bool,
    ) -> tuple[str, bool, list[str]]:
        """Returns (id, created, ids of multiple matches)."""
        fdef = obj.field(field_name)
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            msg = f"Provided external ID field does not exist or is not accessible: {field_name}"
            raise ApiFailure(404, [error("NOT_FOUND", msg)])
        body = {k: v for k, v in data.items() if k.lower() != fdef.name.lower()}
        matches = (
            [self.get(obj, value)] if fdef.name == "Id" else self.find_by(obj, fdef.name, value)
        )
        if len(matches) > 1:
            return "", False, [m["Id"] for m in matches]
        if matches:
            self.update(obj, matches[0]["Id"], body)
            return str(matches[0]["Id"]), False, []
        if update_only:
            raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])
        return self.create(obj, {**body, fdef.name: value}), True, []

    # -- seed -------------------------------------------------------------------------------

    def seed_default(self) -> None:
        """The documented seed data set (see the package README)."""
        account = self.obj("Account")
        acme = self.create(
            account,
            {
                "Name": "Acme Corporation",
                "Customer_ID__c": "CUST-0001",
                "Industry": "Retail",
                "BillingCity": "San Francisco",
                "BillingCountry": "US",
                "Legacy_Ref__c": "LEGACY-1",
            },
        )
        globex = self.create(
            account,
            {
                "Name": "Globex",
                "Customer_ID__c": "CUST-0002",
                "Industry": "Technology",
                "BillingCity": "Springfield",
                "BillingCountry": "US",
                "Legacy_Ref__c": "LEGACY-1",
            },
        )
        self.create(account, {"Name": "Initech", "Customer_ID__c": "CUST-0003"})
        contact = self.obj("Contact")
        self.create(
            contact,
            {
                "FirstName": "Ada",
                "LastName": "Lovelace",
                "Email": "ada@acme.example",
                "AccountId": acme,
            },
        )
        self.create(contact, {"FirstName": "Hank", "LastName": "Scorpio", "AccountId": globex})
        self.create(
            self.obj("Opportunity"),
            {
                "Name": "Acme renewal",
                "StageName": "Prospecting",
                "CloseDate": "2026-12-31",
                "Amount": 12000,
                "AccountId": acme,
            },
        )
        order = self.create(
            self.obj("Order"),
            {
                "AccountId": acme,
                "EffectiveDate": "2026-01-15",
                "Status": "Draft",
                "External_Order_ID__c": "ORD-1001",
            },
        )
        payment = self.obj("Payment__c")
        self.create(
            payment,
            {
                "Payment_ID__c": "PAY-1001",
                "Amount__c": 149.99,
                "Currency__c": "USD",
                "Status__c": "Captured",
                "Last4Digits__c": "4242",
                "Account__c": acme,
                "Order__c": order,
            },
        )
        self.create(
            payment,
            {
                "Payment_ID__c": "PAY-1002",
                "Amount__c": 20.0,
                "Currency__c": "USD",
                "Status__c": "Refunded",
                "Last4Digits__c": "5439",
                "Account__c": globex,
            },
        )
