"""``/erpintegrations`` in the emulator: FBDI uploads become ESS jobs that move through
``WAIT`` -> ``RUNNING`` -> ``SUCCEEDED`` / ``ERROR`` one status poll at a time, then post
their rows (GL journals from ``GlInterface.csv``)."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ._fbdi import RECEIVABLES_FILES, post_receivables
from ._gl import check_ledgers, record_journal_batches
from ._qparse import QueryError, parse_finder
from ._state import ApiError, State, oracle_error

__all__ = ["erp_get", "erp_post", "job_log", "job_status"]

KNOWN_FILES = frozenset({"GlInterface.csv", *RECEIVABLES_FILES})
DR, CR = 38, 39  # ENTERED_DR / ENTERED_CR positions in GlInterface.csv


def _check_journals(rows: list[list[str]]) -> list[str]:
    """Errors of a GL import: every journal (ledger, date, source, category, currency)
    must balance."""
    totals: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    errors: list[str] = []
    for number, row in enumerate(rows, start=1):
        if len(row) <= CR:
            errors.append(f"line {number}: {len(row)} columns, at least {CR + 1} expected")
            continue
        try:
            debit = Decimal(row[DR] or 0)
            credit = Decimal(row[CR] or 0)
        except InvalidOperation:
            errors.append(f"line {number}: the amounts are not numbers")
            continue
        totals[tuple(row[1:6])] += debit - credit
    errors += [
        f"journal {'/'.join(key)} is out of balance by {total}"
        for key, total in totals.items()
        if total != 0
    ]
    return errors


def _load(body: Mapping[str, Any]) -> dict[str, list[list[str]]] | None:
    """The zip's CSV files, or None when ``DocumentContent`` is not a base64 zip.

    Fusion accepts the upload (201 + ``ReqstId``) and reports a bad file through the ESS
    job **[inferred]**: Oracle's own ``importBulkData`` example, whose content is truncated
    (``"UEsDBBQ…"``), is documented as answering 201.
    """
    try:
        raw = base64.b64decode(str(body["DocumentContent"]), validate=True)
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (binascii.Error, zipfile.BadZipFile, ValueError):
        return None
    with archive:
        return {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }


def erp_post(state: State, body: Mapping[str, Any]) -> dict[str, Any]:
    operation = body.get("OperationName")
    job: dict[str, Any]
    if operation == "importBulkData":
        for name in ("DocumentContent", "FileName", "DocumentAccount", "JobName"):
            if not body.get(name):
                raise oracle_error("FND_CMN_REQ_ATTRIB_API_SERV", path=name, ATTRIBUTE_NAME=name)
        loaded = _load(body)
        files = loaded or {}
        errors = [f"{n} isn't a known interface file" for n in files if n not in KNOWN_FILES]
        if loaded is None:
            errors.append("DocumentContent isn't a base64-encoded zip file")
        if "GlInterface.csv" in files:
            errors += _check_journals(files["GlInterface.csv"])
            errors += check_ledgers(state, files["GlInterface.csv"])
        job = {"files": files, "errors": errors, "polls": 0, "JobName": body["JobName"]}
    elif operation == "submitESSJobRequest":
        if not body.get("JobPackageName") or not body.get("JobDefName"):
            raise oracle_error(
                "FND_CMN_REQ_ATTRIB_API_SERV", path="JobDefName", ATTRIBUTE_NAME="JobDefName"
            )
        no_files: dict[str, list[list[str]]] = {}
        job = {"files": no_files, "errors": [], "polls": 0, "JobName": body["JobDefName"]}
    else:
        raise ApiError(400, f"The operation {operation} isn't supported by the emulator.")
    request_id = str(state.new_id())
    state.jobs[request_id] = job
    return {**body, "ReqstId": request_id}


def job_status(state: State, request_id: str) -> str:
    """The job's status; every call is one poll and advances it."""
    job = state.jobs.get(request_id)
    if job is None:
        raise ApiError(404, f"The ESS request {request_id} doesn't exist.")
    job["polls"] += 1
    if job["polls"] == 1:
        return "WAIT"
    if job["polls"] == 2:
        return "RUNNING"
    if job["errors"]:
        return "ERROR"
    if not job.get("posted"):
        snapshot = state.snapshot()
        try:
            post_receivables(state, job["files"], datetime.now(timezone.utc).date())
        except ApiError as exc:
            state.restore(snapshot)
            job = state.jobs[request_id]
            job["errors"].append(f"{exc.code or exc.status}: {exc.detail}")
            return "ERROR"
        job["posted"] = True
        state.gl_journal_lines.extend(job["files"].get("GlInterface.csv", []))
        record_journal_batches(state, request_id, job["files"].get("GlInterface.csv", []))
    return "SUCCEEDED"


def job_log(state: State, request_id: str) -> str:
    """The job log, as a base64 zip."""
    job = state.jobs.get(request_id)
    if job is None:
        raise ApiError(404, f"The ESS request {request_id} doesn't exist.")
    lines = [f"ESS request {request_id}: {job['JobName']}"]
    lines += [f"{name}: {len(rows)} rows" for name, rows in job["files"].items()]
    lines += [f"ERROR {e}" for e in job["errors"]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{request_id}.log", "\n".join(lines) + "\n")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def erp_get(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    try:
        name, variables = parse_finder(params.get("finder", ""))
    except QueryError as exc:
        raise ApiError(400, str(exc)) from None
    request_id = variables.get("requestId", "")
    if name == "ESSJobStatusRF":
        items: list[dict[str, Any]] = [
            {"ReqstId": request_id, "RequestStatus": job_status(state, request_id)}
        ]
    elif name == "ESSJobExecutionDetailsRF":
        items = [
            {
                "ReqstId": request_id,
                "FileType": variables.get("fileType", "ALL"),
                "DocumentContent": job_log(state, request_id),
                "ContentType": "zip",
            }
        ]
    else:
        raise ApiError(400, f"The finder {name} isn't defined for erpintegrations.")
    return {"items": items, "count": 1, "hasMore": False, "limit": 25, "offset": 0}
