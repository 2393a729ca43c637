"""Bulk API 2.0 in the emulator: ``jobs/ingest`` (CSV upload, processed on UploadComplete) and
``jobs/query`` (results paged with ``Sforce-Locator``)."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import itertools
import re
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
    query: str = ""


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


_REST_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\+0000$")


def _cell(value: Any) -> str:
    """A query result cell: booleans ``true``/``false``, datetimes in UTC with ``Z``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return _REST_DATETIME.sub(r"\1Z", text)


def _query_csv(
    rows: list[dict[str, Any]], columns: list[str], *, delimiter: str, line_ending: str
) -> str:
    """Query results quote every cell (the vendor's example: ``"Id","Name"``)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


class BulkApi:
    def __init__(
        self,
        org: Org,
        *,
        select: Callable[[str, str, bool], tuple[list[dict[str, Any]], list[str]]],
    ):
        self.org = org
        self._select = select  # (soql, version, include_deleted) -> (rows, columns)
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
            return BulkAnswer(200, dict(job.info))
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
            return BulkAnswer(200, self._ingest_results(job, tail[0]))
        if kind == "query" and tail == ["results"] and method == "GET":
            return self._results(job, params)
        raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])

    def _create(self, kind: str, version: str, body: Any) -> BulkAnswer:
        spec = cast("dict[str, Any]", body) if isinstance(body, dict) else {}
        job_id = make_id("750", next(self._ids))
        now = _timestamp()
        operation = str(spec.get("operation", ""))
        info: dict[str, Any] = {
            "id": job_id,
            "operation": operation,
            "object": str(spec.get("object", "")),
            "createdById": self.org.user_id,
            "createdDate": now,
            "systemModstamp": now,
            "state": "Open",
        }
        job = _Job(info)
        if kind == "ingest":
            if operation not in _OPERATIONS:
                msg = f"InvalidJob : Invalid operation: {operation}"
                raise ApiFailure(400, [error("INVALIDJOB", msg)])
            if str(info["object"]).lower() not in self.org.objects:
                msg = f"InvalidJob : Unable to find object: {info['object']}"
                raise ApiFailure(400, [error("INVALIDJOB", msg)])
            info["object"] = self.org.obj(str(info["object"])).name
            if operation == "upsert":
                if not spec.get("externalIdFieldName"):
                    raise ApiFailure(
                        400, [error("INVALIDJOB", "InvalidJob : External ID was blank")]
                    )
                info["externalIdFieldName"] = spec["externalIdFieldName"]
        elif operation not in {"query", "queryAll"}:
            msg = f"Invalid operation: {operation}. Valid values are query and queryAll."
            raise ApiFailure(400, [error("INVALIDJOB", msg)])
        info.update(
            concurrencyMode="Parallel",
            contentType="CSV",
            apiVersion=float(version),
        )
        if kind == "ingest":
            info["contentUrl"] = f"services/data/v{version}/jobs/ingest/{job_id}/batches"
        info.update(
            jobType=_job_type(kind),
            lineEnding=spec.get("lineEnding", "LF"),
            columnDelimiter=spec.get("columnDelimiter", "COMMA"),
            numberRecordsProcessed=0,
        )
        if kind == "ingest":
            info["numberRecordsFailed"] = 0
        info.update(retries=0, totalProcessingTime=0)
        if kind == "ingest":
            info.update(apiActiveProcessingTime=0, apexProcessingTime=0)
        else:
            info["isPkChunkingSupported"] = False
            query = str(spec.get("query", ""))
            # raises on bad SOQL; queryAll also returns deleted records
            rows, columns = self._select(query, version, operation == "queryAll")
            info["object"] = _from_object(query)
            job.query = query
            job.rows, job.columns = rows, columns
            info["numberRecordsProcessed"] = len(rows)
            # A fast server: the job is done by the first poll, but the answer to the create
            # call still reports it as just submitted (as Salesforce does).
            info["state"] = "JobComplete"
            self._jobs[job_id] = job
            return BulkAnswer(200, _view(info, _CREATED, state="UploadComplete"))
        self._jobs[job_id] = job
        return BulkAnswer(200, _view(info, _CREATED))

    def _set_state(self, job: _Job, body: Any) -> BulkAnswer:
        state = cast("dict[str, Any]", body).get("state") if isinstance(body, dict) else None
        if state == "Aborted" and job.info["state"] not in {"JobComplete", "Failed", "Aborted"}:
            job.info["state"] = "Aborted"
            delimiter = _DELIMITERS.get(str(job.info["columnDelimiter"]), ",")
            job.unprocessed = list(csv.DictReader(io.StringIO(job.data), delimiter=delimiter))
        elif state == "UploadComplete" and job.info["state"] == "Open":
            self._process(job)
            state = "UploadComplete"  # the close answer reports the requested state
        else:
            raise ApiFailure(400, [error("INVALIDJOBSTATE", f"Invalid state change: {state}")])
        job.info["systemModstamp"] = _timestamp()
        return BulkAnswer(200, _view(job.info, _CLOSED, state=str(state)))

    def _ingest_results(self, job: _Job, name: str) -> str:
        """Result CSV as Salesforce writes it: ``"sf__Id","sf__Created",Name,...`` (the sf__
        names quoted, the uploaded header as sent) and every value quoted."""
        # The docs spell "unprocessedrecords", simple-salesforce asks for "unprocessedRecords".
        name = name.lower()
        extra = {
            "successfulresults": ("sf__Id", "sf__Created"),
            "failedresults": ("sf__Id", "sf__Error"),
        }
        if name not in {*extra, "unprocessedrecords"}:
            raise ApiFailure(404, [error("NOT_FOUND", "The requested resource does not exist")])
        header = self._header(job)
        rows = {
            "successfulresults": job.successful,
            "failedresults": job.failed,
            "unprocessedrecords": job.unprocessed,
        }[name]
        sf_columns = extra.get(name, ())
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(header)
        head = ",".join([*(f'"{c}"' for c in sf_columns), out.getvalue().rstrip("\n")])
        body = io.StringIO()
        writer = csv.writer(body, lineterminator="\n", quoting=csv.QUOTE_ALL)
        for row in rows:
            writer.writerow([row.get(c) or "" for c in [*sf_columns, *header]])
        return f"{head}\n{body.getvalue()}"

    def _header(self, job: _Job) -> list[str]:
        delimiter = _DELIMITERS.get(str(job.info["columnDelimiter"]), ",")
        empty: list[str] = []
        return next(csv.reader(io.StringIO(job.data), delimiter=delimiter), empty)

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
                # e.g. "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --" and
                # "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"
                fields = ",".join(first.get("fields", []))
                text = f"{first['errorCode']}:{first['message']}:{fields + ' ' if fields else ''}--"
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
        start = _offset(params.get("locator") or "")
        size = int(params.get("maxRecords") or 10_000)
        page = job.rows[start : start + size]
        end = start + len(page)
        # Salesforce's locators look like "MTAwMDA": base64 of the next offset ("10000").
        locator = _locator(end) if end < len(job.rows) else "null"
        headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(page))}
        text = _query_csv(
            page,
            job.columns,
            delimiter=_DELIMITERS.get(str(job.info["columnDelimiter"]), ","),
            line_ending="\r\n" if job.info["lineEnding"] == "CRLF" else "\n",
        )
        return BulkAnswer(200, text, headers)


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int:
    if not locator:
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.isdigit():
        msg = f"Invalid locator: {locator}"
        raise ApiFailure(400, [error("INVALIDLOCATOR", msg)])
    return int(text)


# Keys of the close (PATCH state) and create answers (the create answer adds where the data
# goes and its CSV format); job info (GET) shows every key.
_CLOSED = (
    "id",
    "operation",
    "object",
    "createdById",
    "createdDate",
    "systemModstamp",
    "state",
    "externalIdFieldName",
    "concurrencyMode",
    "contentType",
    "apiVersion",
)
_CREATED = (*_CLOSED, "contentUrl", "lineEnding", "columnDelimiter")
_FROM = re.compile(r"\bFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)


def _view(info: Mapping[str, Any], keys: tuple[str, ...], **override: Any) -> dict[str, Any]:
    return {k: override.get(k, info[k]) for k in keys if k in info}


def _from_object(soql: str) -> str:
    found = _FROM.search(soql)
    return found.group(1) if found else ""


def _timestamp() -> str:
    """Bulk API 2.0's date format: ``2022-01-02T21:33:43.000+0000``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _job_type(kind: str) -> str:
    return "V2Ingest" if kind == "ingest" else "V2Query"
