"""Bulk API 2.0 in the emulator: ``jobs/ingest`` (CSV upload, processed on UploadComplete) and
``jobs/query`` (results paged with ``Sforce-Locator``)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from ._schema import ObjectDef
from ._store import ApiFailure, Org, error, make_id

__all__ = ["BulkAnswer", "BulkApi"]

_DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_OPERATIONS = {"insert", "update", "upsert", "delete"}
_NUMERIC = {"currency", "double", "percent", "int"}


@dataclass(frozen=True)
class BulkAnswer:
    status: int
    body: Any = None  # dict -> JSON, str -> CSV
    headers: Mapping[str, str] = field(default_factory=dict[str, str])


@dataclass
class _Job:
    info: dict[str, Any]
    data: str = ""
    successful: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    failed: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    unprocessed: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    rows: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    columns: list[str] = field(default_factory=list[str])


def _convert(obj: ObjectDef, row: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in row.items():
        if raw == "":
            continue  # empty cell: field unchanged
        fdef = obj.field(key)
        value: Any = None if raw == "#N/A" else raw
        if fdef is not None and value is not None:
            if fdef.type in _NUMERIC:
                try:
                    value = float(Decimal(raw))
                except InvalidOperation:
                    raise ApiFailure(
                        400,
                        [
                            error(
                                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                                f"{fdef.name}: value not of required type: {raw}",
                                [fdef.name],
                            )
                        ],
                    ) from None
            elif fdef.type == "boolean":
                value = raw.lower() == "true"
        out[key] = value
    return out


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


class BulkApi:
    def __init__(
        self, org: Org, *, select: Callable[[str, str], tuple[list[dict[str, Any]], list[str]]]
    ):
        self.org = org
        self._select = select  # (soql, version) -> (rows, columns)
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1)

    def handle(
        self, method: str, parts: list[str], *, version: str, params: Mapping[str, str], body: Any
    ) -> BulkAnswer:
        kind = parts[0]
        if len(parts) == 1 and method == "POST":
            return self._create(kind, version, body)
        if len(parts) == 1 and method == "GET":
            jobs = [j.info for j in self._jobs.values() if j.info["jobType"] == _job_type(kind)]
            return BulkAnswer(200, {"done": True, "records": jobs, "nextRecordsUrl": None})
        job = self._jobs.get(parts[1]) if len(parts) >= 2 else None
        if job is None or job.info["jobType"] != _job_type(kind):
            raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])
        tail = parts[2:]
        if not tail and method == "GET":
            return BulkAnswer(200, job.info)
        if not tail and method == "DELETE":
            del self._jobs[job.info["id"]]
            return BulkAnswer(204)
        if not tail and method == "PATCH":
            return self._set_state(job, body)
        if kind == "ingest" and tail == ["batches"] and method == "PUT":
            if job.info["state"] != "Open":
                raise ApiFailure(409, [error("INVALIDJOBSTATE", "Job is not open for upload")])
            job.data += body if isinstance(body, str) else ""
            return BulkAnswer(201)
        if kind == "ingest" and len(tail) == 1 and method == "GET":
            rows = {
                "successfulResults": job.successful,
                "failedResults": job.failed,
                "unprocessedrecords": job.unprocessed,
            }.get(tail[0])
            if rows is None:
                raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])
            columns = list(dict.fromkeys(k for r in rows for k in r)) or ["sf__Id"]
            return BulkAnswer(200, _csv(cast("list[dict[str, Any]]", rows), columns))
        if kind == "query" and tail == ["results"] and method == "GET":
            return self._results(job, params)
        raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])

    def _create(self, kind: str, version: str, body: Any) -> BulkAnswer:
        spec = cast("dict[str, Any]", body) if isinstance(body, dict) else {}
        job_id = make_id("750", next(self._ids))
        info: dict[str, Any] = {
            "id": job_id,
            "operation": spec.get("operation", ""),
            "object": spec.get("object", ""),
            "createdById": self.org.user_id,
            "createdDate": "",
            "systemModstamp": "",
            "state": "Open",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "jobType": _job_type(kind),
            "lineEnding": spec.get("lineEnding", "LF"),
            "columnDelimiter": spec.get("columnDelimiter", "COMMA"),
            "numberRecordsProcessed": 0,
            "numberRecordsFailed": 0,
            "retries": 0,
        }
        job = _Job(info)
        if kind == "ingest":
            if info["operation"] not in _OPERATIONS:
                msg = f"InvalidJob : Invalid operation: {info['operation']}"
                raise ApiFailure(400, [error("INVALIDJOB", msg)])
            self.org.obj(str(info["object"]))
            if info["operation"] == "upsert":
                if not spec.get("externalIdFieldName"):
                    raise ApiFailure(
                        400, [error("INVALIDJOB", "InvalidJob : External ID was blank")]
                    )
                info["externalIdFieldName"] = spec["externalIdFieldName"]
            info["contentUrl"] = f"services/data/v{version}/jobs/ingest/{job_id}/batches"
        else:
            info["query"] = spec.get("query", "")
            rows, columns = self._select(str(info["query"]), version)  # raises on bad SOQL
            job.rows, job.columns = rows, columns
            info.update(state="JobComplete", numberRecordsProcessed=len(rows))
        self._jobs[job_id] = job
        return BulkAnswer(200, info)

    def _set_state(self, job: _Job, body: Any) -> BulkAnswer:
        state = cast("dict[str, Any]", body).get("state") if isinstance(body, dict) else None
        if state == "Aborted":
            job.info["state"] = "Aborted"
        elif state == "UploadComplete" and job.info["state"] == "Open":
            self._process(job)
        else:
            raise ApiFailure(400, [error("INVALIDJOBSTATE", f"Invalid state change: {state}")])
        return BulkAnswer(200, job.info)

    def _process(self, job: _Job) -> None:
        obj = self.org.obj(str(job.info["object"]))
        delimiter = _DELIMITERS.get(str(job.info["columnDelimiter"]), ",")
        reader = csv.DictReader(io.StringIO(job.data), delimiter=delimiter)
        operation = str(job.info["operation"])
        for row in reader:
            try:
                data = _convert(obj, row)
                record_id, created = self._apply(obj, operation, data, job.info)
                job.successful.append(
                    {"sf__Id": record_id, "sf__Created": str(created).lower(), **row}
                )
            except ApiFailure as exc:
                first = exc.errors[0]
                text = (
                    f"{first['errorCode']}:{first['message']}:{','.join(first.get('fields', []))}"
                )
                job.failed.append({"sf__Id": str(row.get("Id") or ""), "sf__Error": text, **row})
        job.info.update(
            state="JobComplete",
            numberRecordsProcessed=len(job.successful) + len(job.failed),
            numberRecordsFailed=len(job.failed),
        )

    def _apply(
        self, obj: ObjectDef, operation: str, data: dict[str, Any], info: Mapping[str, Any]
    ) -> tuple[str, bool]:
        if operation == "insert":
            return self.org.create(obj, data), True
        record_id = str(data.pop("Id", "") or "")
        if operation == "update":
            self.org.update(obj, record_id, data)
            return str(self.org.get(obj, record_id)["Id"]), False
        if operation == "delete":
            self.org.delete(obj, record_id)
            return record_id, False
        field_name = str(info["externalIdFieldName"])
        fdef = obj.field(field_name)
        value = data.get(fdef.name if fdef else field_name)
        if value is None:
            raise ApiFailure(
                400, [error("MISSING_ARGUMENT", f"{field_name} not specified", [field_name])]
            )
        new_id, created, matches = self.org.upsert(
            obj, field_name, str(value), data, update_only=False
        )
        if matches:
            raise ApiFailure(
                300,
                [
                    error(
                        "DUPLICATE_EXTERNAL_ID",
                        f"more than one record found for external id field {field_name}",
                        [field_name],
                    )
                ],
            )
        return new_id, created

    def _results(self, job: _Job, params: Mapping[str, str]) -> BulkAnswer:
        start = int(params.get("locator") or 0)
        size = int(params.get("maxRecords") or 10_000)
        page = job.rows[start : start + size]
        end = start + len(page)
        locator = str(end) if end < len(job.rows) else "null"
        headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(page))}
        return BulkAnswer(200, _csv(page, job.columns), headers)


def _job_type(kind: str) -> str:
    return "V2Ingest" if kind == "ingest" else "V2Query"
