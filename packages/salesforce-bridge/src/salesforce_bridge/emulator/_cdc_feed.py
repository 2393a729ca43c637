"""Change Data Capture and platform events fed onto the emulator's event bus.

Every REST request is one transaction: the writes it makes (``Org.changes``) are published when
it succeeds and dropped when it fails or an ``allOrNone`` batch rolls back. Each write becomes
one change event on ``/data/<Entity>ChangeEvent`` (the bus copies it to ``/data/ChangeEvents``)
with Salesforce's ``ChangeEventHeader``:

- ``changeOrigin`` is ``com/salesforce/api/<api>/<version>`` plus ``;client=<id>`` when the
  request sent ``Sforce-Call-Options: client=<id>`` (what echo suppression matches);
- the writes of one request share a ``transactionKey`` and count ``sequenceNumber`` from 1;
- ``changedFields`` (UPDATE only, always with ``LastModifiedDate``), ``nulledFields`` and
  ``diffFields`` hold field names; the Pub/Sub servicer encodes them to bitmaps;
- CREATE and UNDELETE bodies carry the record's non-null fields, UPDATE bodies only the changed
  fields (nulled ones as ``null``), DELETE bodies nothing. ``Id`` travels in ``recordIds``;
  ``IsDeleted`` and ``SystemModstamp`` are never in change events. Datetimes are ISO strings in
  UTC with ``Z``, as CometD shows them.

Platform events published through REST go to ``/event/<Name>`` at once (Salesforce's default
"publish immediately", so a rolled-back request still publishes them).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from ._bus import BusEvent, EventBus
from ._schema import ObjectDef
from ._store import ApiFailure, Org, RecordChange

__all__ = [
    "CDC_ENTITIES",
    "GAP_CHANGE_TYPES",
    "CdcFeed",
    "change_channel",
    "change_origin",
    "change_payload",
    "cometd_datetime",
]

CDC_ENTITIES: tuple[str, ...] = ("Account", "Contact", "Opportunity", "Order", "Payment__c")
"""Entities with Change Data Capture enabled in the emulated org."""

GAP_CHANGE_TYPES: tuple[str, ...] = (
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
)
_NEVER_IN_BODY = frozenset({"Id", "IsDeleted", "SystemModstamp"})


def change_channel(entity: str) -> str:
    """``/data/AccountChangeEvent``; custom objects drop ``c``: ``/data/Payment__ChangeEvent``."""
    base = entity.removesuffix("c") if entity.endswith("__c") else entity
    return f"/data/{base}ChangeEvent"


def _client_option(call_options: str | None) -> str | None:
    for part in (call_options or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "client" and value.strip():
            return value.strip()
    return None


def change_origin(api: str, version: str, call_options: str | None) -> str:
    """``com/salesforce/api/rest/66.0;client=<id>`` from a ``Sforce-Call-Options`` header."""
    origin = f"com/salesforce/api/{api}/{version}"
    client = _client_option(call_options)
    return f"{origin};client={client}" if client else origin


def cometd_datetime(value: object) -> object:
    """A REST datetime (``2026-01-02T03:04:05.000+0000``) as ``2026-01-02T03:04:05.000Z``."""
    if isinstance(value, str) and value.endswith("+0000"):
        return value.removesuffix("+0000") + "Z"
    return value


def _body_value(obj: ObjectDef, name: str, value: object) -> object:
    fdef = obj.field(name)
    return cometd_datetime(value) if fdef is not None and fdef.type == "datetime" else value


def change_payload(change: RecordChange, header: Mapping[str, Any]) -> dict[str, Any]:
    """The bus payload of one write: ``ChangeEventHeader`` first, then the body fields.

    ``header`` holds the transaction fields; the change type, record id and field lists are
    filled in here.
    """
    obj = change.obj
    body: dict[str, Any] = {}
    changed: list[str] = []
    nulled: list[str] = []
    if change.kind in {"CREATE", "UNDELETE"} and change.after is not None:
        body = {
            name: _body_value(obj, name, value)
            for name, value in change.after.items()
            if value is not None and name not in _NEVER_IN_BODY
        }
    elif change.kind == "UPDATE" and change.before is not None and change.after is not None:
        for fdef in obj.fields:
            name = fdef.name
            unchanged = change.before.get(name) == change.after.get(name)
            # Salesforce always lists LastModifiedDate, even within the same second.
            if name in _NEVER_IN_BODY or (unchanged and name != "LastModifiedDate"):
                continue
            changed.append(name)
            value = change.after.get(name)
            body[name] = _body_value(obj, name, value)
            if value is None:
                nulled.append(name)
    full_header = {
        "entityName": obj.name,
        "recordIds": [change.record_id],
        "changeType": change.kind,
        **header,
        "nulledFields": nulled,
        "diffFields": [],
        "changedFields": changed,
    }
    return {"ChangeEventHeader": full_header, **body}


class CdcFeed:
    """Turns committed writes into change events, and platform-event publishes into events."""

    def __init__(
        self,
        bus: EventBus,
        *,
        entities: Sequence[str] = CDC_ENTITIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.entities = frozenset(entities)
        self._clock = clock
        self._lock = threading.Lock()
        # Diagnostic only in Salesforce; any increasing number does.
        self._commit_numbers = itertools.count(1_000_000_001)

    def enabled(self, entity: str) -> bool:
        return entity in self.entities

    def _transaction(self, origin: str, user_id: str) -> dict[str, Any]:
        with self._lock:
            commit_number = next(self._commit_numbers)
        return {
            "changeOrigin": origin,
            "transactionKey": str(uuid.uuid4()),
            "commitTimestamp": int(self._clock() * 1000),
            "commitNumber": commit_number,
            "commitUser": user_id,
        }

    def commit(self, org: Org, *, origin: str) -> list[BusEvent]:
        """Publish ``org.changes`` as one transaction and clear them."""
        changes = [c for c in org.changes if self.enabled(c.obj.name)]
        org.changes.clear()
        if not changes:
            return []
        transaction = self._transaction(origin, org.user_id)
        published: list[BusEvent] = []
        for sequence, change in enumerate(changes, start=1):
            header = {**transaction, "sequenceNumber": sequence}
            header = {k: header[k] for k in _HEADER_ORDER if k in header}
            payload = change_payload(change, header)
            published.append(self.bus.publish(change_channel(change.obj.name), payload))
        return published

    def gap(
        self,
        entity: str,
        change_type: str,
        record_ids: Sequence[str],
        *,
        user_id: str,
        origin: str = "",
    ) -> BusEvent:
        """Publish a GAP_* event (header only: subscribers must re-read the records)."""
        if change_type not in GAP_CHANGE_TYPES:
            raise ValueError(f"changeType must be one of {GAP_CHANGE_TYPES}, not {change_type!r}")
        header = {
            "entityName": entity,
            "recordIds": list(record_ids),
            "changeType": change_type,
            **self._transaction(origin, user_id),
            "sequenceNumber": 1,
            "nulledFields": [],
            "diffFields": [],
            "changedFields": [],
        }
        return self.bus.publish(change_channel(entity), {"ChangeEventHeader": header})

    def publish_platform_event(self, obj: ObjectDef, record: dict[str, Any]) -> tuple[str, int]:
        """The ``Org.event_sink``: put a REST-published event on ``/event/<Name>``."""
        payload = {
            name: _body_value(obj, name, value)
            for name, value in record.items()
            if name not in {"Id", "ReplayId", "EventUuid"}
        }
        event = self.bus.publish(f"/event/{obj.name}", payload)
        return event.event_uuid, event.replay_id

    # ---- control endpoints (under the emulator's control prefix) -------------------------------

    def control(
        self, org: Org, name: str, payload: Mapping[str, Any], call_options: str | None
    ) -> tuple[int, Any] | None:
        """``POST events/gap`` and ``POST undelete``; ``None`` for other names."""
        if name == "events/gap":
            return self._gap_control(org, payload)
        if name == "undelete":
            return self._undelete_control(org, payload, call_options)
        return None

    def _gap_control(self, org: Org, payload: Mapping[str, Any]) -> tuple[int, Any]:
        entity = str(payload.get("entity", ""))
        change_type = str(payload.get("changeType", "GAP_UPDATE"))
        raw_ids: object = payload.get("recordIds", [])
        if not self.enabled(entity):
            return 400, {"error": f"entity: CDC is not enabled for {entity!r}"}
        if not isinstance(raw_ids, list):
            return 400, {"error": "recordIds: must be a list of record ids"}
        record_ids = [str(i) for i in cast("list[object]", raw_ids)]
        try:
            event = self.gap(entity, change_type, record_ids, user_id=org.user_id)
        except ValueError as exc:
            return 400, {"error": f"changeType: {exc}"}
        return 200, {
            "channel": event.topic,
            "replayId": event.replay_id,
            "eventUuid": event.event_uuid,
        }

    def _undelete_control(
        self, org: Org, payload: Mapping[str, Any], call_options: str | None
    ) -> tuple[int, Any]:
        raw_ids: object = payload.get("ids")
        if not isinstance(raw_ids, list) or not raw_ids:
            return 400, {"error": "ids: must be a non-empty list of record ids"}
        results: list[dict[str, Any]] = []
        with org.lock:
            org.changes.clear()
            for record_id in cast("list[object]", raw_ids):
                try:
                    _, restored = org.undelete(str(record_id))
                    results.append({"id": restored, "success": True, "errors": []})
                except ApiFailure as failure:
                    results.append(
                        {"id": str(record_id), "success": False, "errors": failure.errors}
                    )
            # undelete() is a SOAP call in Salesforce.
            self.commit(org, origin=change_origin("soap", "66.0", call_options))
        return 200, results


_HEADER_ORDER = (
    "changeOrigin",
    "transactionKey",
    "sequenceNumber",
    "commitTimestamp",
    "commitNumber",
    "commitUser",
)
