"""``/services/data/vXX.X/...``: sObjects CRUD, upsert, collections, query, describe, limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from ._avro import AvroRegistry, AvroSchema
from ._bulk import BulkApi
from ._cdc_feed import CdcFeed, change_origin
from ._query import QueryEngine
from ._replication import replication
from ._schema import ObjectDef, describe_json, global_entry
from ._store import ApiFailure, Org, error, render

__all__ = ["Answer", "RestApi"]

MAX_COLLECTION = 200
_NOT_FOUND = ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # JSON-able, str (CSV) or None (no content)
    headers: Mapping[str, str] = field(default_factory=dict[str, str])


# Methods each sObject resource answers (by number of path parts after the object name;
# -1 is /describe), for Salesforce's 405 body.
_ALLOWED = {
    0: "HEAD,GET,POST",
    1: "HEAD,GET,PATCH,DELETE",
    2: "HEAD,GET,PATCH,DELETE",
    -1: "HEAD,GET",
}


def _not_allowed(method: str, allowed: str) -> ApiFailure:
    if method in allowed.split(","):
        return _NOT_FOUND
    msg = f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    return ApiFailure(405, [error("METHOD_NOT_ALLOWED", msg)])


def _event_schema(schema: AvroSchema | None) -> dict[str, Any]:
    """An event's Avro schema over REST: the schema JSON plus its id in ``uuid`` (the shape
    the reference's captured platform-event schema shows)."""
    if schema is None:
        raise _NOT_FOUND
    return {**schema.schema, "uuid": schema.schema_id}


def _rollback_item(item: dict[str, Any]) -> dict[str, Any]:
    """With allOrNone, failed records keep their errors and the others are rolled back."""
    return _rolled_back() if item["success"] else item


def _rolled_back() -> dict[str, Any]:
    msg = (
        "Record rolled back because not all records were valid and the request was using "
        "AllOrNone header"
    )
    item: dict[str, Any] = {
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": msg,
        "fields": [],
    }
    return {"success": False, "errors": [item]}


# Static allocations of a Developer Edition-sized org, keyed as the Limits resource names them
# (alphabetical, each ``{"Max", "Remaining"}``); only DailyApiRequests tracks real usage.
_STATIC_LIMITS = {
    "ConcurrentAsyncGetReportInstances": 200,
    "DailyAsyncApexExecutions": 250000,
    "DailyBulkApiBatches": 15000,
    "DailyBulkV2QueryFileStorageMB": 976562,
    "DailyBulkV2QueryJobs": 10000,
    "DailyDeliveredPlatformEvents": 10000,
    "DailyDurableStreamingApiEvents": 10000,
    "DailyGenericStreamingApiEvents": 10000,
    "DailyStandardVolumePlatformEvents": 10000,
    "DailyStreamingApiEvents": 10000,
    "DataStorageMB": 5,
    "DurableStreamingApiConcurrentClients": 20,
    "FileStorageMB": 20,
    "HourlyPublishedPlatformEvents": 50000,
    "HourlyPublishedStandardVolumePlatformEvents": 1000,
    "StreamingApiConcurrentClients": 20,
}


def _limits_body(used: int, limit: int) -> dict[str, dict[str, int]]:
    allocations = {k: {"Max": v, "Remaining": v} for k, v in _STATIC_LIMITS.items()}
    allocations["DailyApiRequests"] = {"Max": limit, "Remaining": max(limit - used, 0)}
    return dict(sorted(allocations.items()))


class RestApi:
    """Stateless routing over an :class:`Org` plus query cursors."""

    def __init__(
        self,
        org: Org,
        *,
        limits: Callable[[], tuple[int, int]],
        feed: CdcFeed | None = None,
        schemas: AvroRegistry | None = None,
    ) -> None:
        self.org = org
        self.schemas = schemas if schemas is not None else AvroRegistry(org.objects.values())
        self._limits = limits
        self.feed = feed
        if feed is not None:
            org.event_sink = feed.publish_platform_event
        self.queries = QueryEngine(org)
        self.bulk = BulkApi(org, select=self.queries.bulk_select)

    def handle(
        self,
        method: str,
        parts: list[str],
        *,
        version: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
    ) -> Answer:
        with self.org.lock:
            # One request is one transaction: its writes become change events only if it succeeds.
            self.org.changes.clear()
            try:
                answer = self._route(
                    method, parts=parts, version=version, params=params, headers=headers, body=body
                )
            except BaseException:
                self.org.discard_changes()
                raise
            if self.feed is not None:
                options = next(
                    (v for k, v in headers.items() if k.lower() == "sforce-call-options"), None
                )
                self.feed.commit(self.org, origin=change_origin("rest", version, options))
            else:
                self.org.changes.clear()
            return answer

    def _route(
        self,
        method: str,
        *,
        parts: list[str],
        version: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
    ) -> Answer:
        head = parts[0] if parts else ""
        if not parts and method == "GET":
            return Answer(200, self._resources(version))
        if head == "sobjects":
            return self._sobjects(method, parts[1:], version=version, params=params, body=body)
        if head == "composite" and parts[1:2] == ["sobjects"]:
            return self._collections(method, parts[2:], version=version, params=params, body=body)
        if head in {"query", "queryAll"} and method == "GET":
            if len(parts) == 2:
                return Answer(*self.queries.more(parts[1], version))
            answer = self.queries.query(
                params.get("q", ""), version, headers, include_deleted=head == "queryAll"
            )
            return Answer(*answer)
        if head == "jobs" and parts[1:2] in (["ingest"], ["query"]):
            bulk = self.bulk.handle(method, parts[1:], version=version, params=params, body=body)
            return Answer(bulk.status, bulk.body, bulk.headers)
        if parts[:2] == ["event", "eventSchema"] and len(parts) == 3 and method == "GET":
            return Answer(200, _event_schema(self.schemas.by_id(parts[2])))
        if parts == ["limits"] and method == "GET":
            used, limit = self._limits()
            return Answer(200, _limits_body(used, limit))
        raise _NOT_FOUND

    @staticmethod
    def _resources(version: str) -> dict[str, str]:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "composite", "limits")
        return {n: f"{base}/{n}" for n in names}

    # -- sobjects ---------------------------------------------------------------------------

    def _sobjects(
        self,
        method: str,
        parts: list[str],
        *,
        version: str,
        params: Mapping[str, str],
        body: Any,
    ) -> Answer:
        if not parts:
            entries = [global_entry(o, version) for o in self.org.objects.values()]
            return Answer(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries})
        if parts[1:] == ["eventSchema"] and method == "GET":
            name = parts[0]
            topic = f"/data/{name}" if name.endswith("ChangeEvent") else f"/event/{name}"
            return Answer(200, _event_schema(self.schemas.for_topic(topic)))
        obj = self.org.obj(parts[0])
        rest = parts[1:]
        if not rest:
            if method == "GET":
                return Answer(
                    200, {"objectDescribe": global_entry(obj, version), "recentItems": []}
                )
            if method == "POST":
                record_id = self.org.create(obj, self._body(body))
                return Answer(201, self._created(obj, record_id))
        elif rest == ["describe"]:
            if method != "GET":
                raise _not_allowed(method, _ALLOWED[-1])
            return Answer(200, describe_json(obj, version))
        elif rest in (["updated"], ["deleted"]) and method == "GET" and not obj.event:
            return Answer(200, replication(self.org, obj, rest[0], params))
        elif len(rest) == 1 and not obj.event:
            return self._record(
                method, obj, record_id=rest[0], version=version, params=params, body=body
            )
        elif len(rest) == 2 and method == "PATCH" and not obj.event:
            return self._upsert(
                obj, field_name=rest[0], value=rest[1], version=version, params=params, body=body
            )
        elif len(rest) == 2 and method in {"GET", "DELETE"} and not obj.event:
            return self._by_external_id(method, obj, rest[0], rest[1], version)
        raise _not_allowed(method, _ALLOWED[min(len(rest), 2)])

    def _by_external_id(
        self, method: str, obj: ObjectDef, field_name: str, value: str, version: str
    ) -> Answer:
        """GET or DELETE ``/sobjects/<obj>/<extIdField>/<value>``."""
        fdef = obj.field(field_name)
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            msg = f"Provided external ID field does not exist or is not accessible: {field_name}"
            raise ApiFailure(404, [error("NOT_FOUND", msg)])
        matches = self.org.find_by(obj, fdef.name, value)
        if len(matches) > 1:
            base = f"/services/data/v{version}/sobjects/{obj.name}"
            return Answer(300, [f"{base}/{m['Id']}" for m in matches])
        if not matches:
            raise _NOT_FOUND
        if method == "DELETE":
            self.org.delete(obj, str(matches[0]["Id"]))
            return Answer(204)
        return Answer(200, self._render(obj, matches[0], version))

    def _created(self, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        if obj.event:
            uuid = self.org.events[-1]["EventUuid"]
            enqueued: dict[str, Any] = {
                "statusCode": "OPERATION_ENQUEUED",
                "message": uuid,
                "fields": [],
            }
            return {"id": record_id, "success": True, "errors": [enqueued]}
        return {"id": record_id, "success": True, "errors": []}

    @staticmethod
    def _body(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, [error("JSON_PARSER_ERROR", "Expected a JSON object")])
        return cast("dict[str, Any]", body)

    def _record(
        self,
        method: str,
        obj: ObjectDef,
        *,
        record_id: str,
        version: str,
        params: Mapping[str, str],
        body: Any,
    ) -> Answer:
        if method == "GET":
            record = self.org.get(obj, record_id)
            fields = [f for f in params.get("fields", "").split(",") if f]
            return Answer(200, self._render(obj, record, version, fields or None))
        if method == "PATCH":
            self.org.update(obj, record_id, self._body(body))
            return Answer(204)
        if method == "DELETE":
            self.org.delete(obj, record_id)
            return Answer(204)
        raise _not_allowed(method, _ALLOWED[1])

    def _upsert(
        self,
        obj: ObjectDef,
        *,
        field_name: str,
        value: str,
        version: str,
        params: Mapping[str, str],
        body: Any,
    ) -> Answer:
        update_only = params.get("updateOnly", "").lower() == "true"
        record_id, created, matches = self.org.upsert(
            obj, field_name, value, self._body(body), update_only=update_only
        )
        if matches:
            base = f"/services/data/v{version}/sobjects/{obj.name}"
            return Answer(300, [f"{base}/{m}" for m in matches])
        if not created and float(version) <= 45.0:
            return Answer(204)
        result: dict[str, Any] = {
            "id": record_id,
            "success": True,
            "errors": [],
            "created": created,
        }
        return Answer(201 if created else 200, result)

    @staticmethod
    def _render(
        obj: ObjectDef, record: Mapping[str, Any], version: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        return render(obj, record, version, fields)

    # -- composite/sobjects -----------------------------------------------------------------

    def _collections(
        self,
        method: str,
        parts: list[str],
        *,
        version: str,
        params: Mapping[str, str],
        body: Any,
    ) -> Answer:
        if len(parts) == 1 and method in {"GET", "POST"}:
            return self._retrieve(method, parts[0], version=version, params=params, body=body)
        if method == "DELETE" and not parts:
            ids = [i for i in params.get("ids", "").split(",") if i]
            all_or_none = params.get("allOrNone", "false").lower() == "true"
            return self._batch(ids, all_or_none, self._delete_any)
        data = self._body(body)
        records_raw: object = data.get("records")
        if not isinstance(records_raw, list):
            raise ApiFailure(400, [error("JSON_PARSER_ERROR", "records is required")])
        records = cast("list[Any]", records_raw)
        if len(records) > MAX_COLLECTION:
            msg = "record limit reached. cannot submit more than 200 records into this call"
            raise ApiFailure(400, [error("EXCEEDED_ID_LIMIT", msg)])
        all_or_none = bool(data.get("allOrNone", False))
        if method == "POST" and not parts:
            return self._batch(records, all_or_none, self._create_one)
        if method == "PATCH" and not parts:
            return self._batch(records, all_or_none, self._update_one)
        if method == "PATCH" and len(parts) == 2:
            obj = self.org.obj(parts[0])
            return self._batch(records, all_or_none, lambda r: self._upsert_one(obj, parts[1], r))
        raise _NOT_FOUND

    def _retrieve(
        self, method: str, sobject: str, *, version: str, params: Mapping[str, str], body: Any
    ) -> Answer:
        """Retrieve several records (``?ids=&fields=``, or POST ``{"ids","fields"}``): the
        records in request order, ``null`` where an id matches nothing."""
        obj = self.org.obj(sobject)
        if method == "GET":
            ids = [i for i in params.get("ids", "").split(",") if i]
            fields = [f for f in params.get("fields", "").split(",") if f]
        else:
            data = self._body(body)
            ids = [str(i) for i in cast("list[Any]", data.get("ids") or [])]
            fields = [str(f) for f in cast("list[Any]", data.get("fields") or [])]
        found: list[dict[str, Any] | None] = []
        for record_id in ids:
            try:
                record = self.org.get(obj, record_id)
            except ApiFailure:
                found.append(None)
                continue
            found.append(self._render(obj, record, version, fields or None))
        return Answer(200, found)

    def _batch(
        self, items: list[Any], all_or_none: bool, op: Callable[[Any], dict[str, Any]]
    ) -> Answer:
        snapshot = self.org.snapshot() if all_or_none else None
        results: list[dict[str, Any]] = []
        for item in items:
            try:
                results.append(op(item))
            except ApiFailure as exc:
                errs = [
                    {
                        "statusCode": e["errorCode"],
                        "message": e["message"],
                        "fields": e.get("fields", []),
                    }
                    for e in exc.errors
                ]
                results.append({"success": False, "errors": errs})
        if snapshot is not None and not all(r["success"] for r in results):
            self.org.records = snapshot
            self.org.discard_changes()
            results = [_rollback_item(r) for r in results]
        return Answer(200, results)

    def _typed(self, record: Any) -> tuple[ObjectDef, dict[str, Any]]:
        data = self._body(record)
        attributes: object = data.get("attributes")
        sobject = (
            cast("dict[str, Any]", attributes).get("type") if isinstance(attributes, dict) else None
        )
        if not sobject:
            raise ApiFailure(400, [error("INVALID_TYPE", "No type defined for record")])
        return self.org.obj(str(sobject)), data

    def _create_one(self, record: Any) -> dict[str, Any]:
        obj, data = self._typed(record)
        return self._created(obj, self.org.create(obj, data))

    def _update_one(self, record: Any) -> dict[str, Any]:
        obj, data = self._typed(record)
        record_id = data.get("Id")
        if not record_id:
            raise ApiFailure(
                400, [error("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])]
            )
        try:
            self.org.update(obj, str(record_id), data)
        except ApiFailure as exc:
            if exc.status == 404:
                msg = "invalid cross reference id"
                raise ApiFailure(400, [error("INVALID_CROSS_REFERENCE_KEY", msg, [])]) from None
            raise
        return {"id": self.org.get(obj, str(record_id))["Id"], "success": True, "errors": []}

    def _upsert_one(self, obj: ObjectDef, field_name: str, record: Any) -> dict[str, Any]:
        data = self._body(record)
        fdef = obj.field(field_name)
        value = data.get(fdef.name) if fdef is not None else None
        if value is None:
            msg = f"Field {field_name} is required for upsert"
            raise ApiFailure(400, [error("MISSING_ARGUMENT", msg, [field_name])])
        record_id, created, matches = self.org.upsert(
            obj, field_name, str(value), data, update_only=False
        )
        if matches:
            msg = f"Multiple records found with {field_name} = {value}"
            raise ApiFailure(300, [error("DUPLICATE_EXTERNAL_ID", msg, [field_name])])
        return {"id": record_id, "success": True, "errors": [], "created": created}

    def _delete_any(self, record_id: str) -> dict[str, Any]:
        for obj in self.org.objects.values():
            if record_id.startswith(obj.key_prefix) and not obj.event:
                self.org.delete(obj, record_id)
                return {"id": record_id, "success": True, "errors": []}
        raise ApiFailure(400, [error("MALFORMED_ID", f"malformed id {record_id}", [])])
