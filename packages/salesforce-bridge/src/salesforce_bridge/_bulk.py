"""Bulk API 2.0: ingest jobs (chunked, keeping every finished job handle) and query to disk."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, Field

from ._errors import SalesforceBridgeError, SalesforceBulkError, status_error

__all__ = ["BulkClient", "BulkJob", "BulkQueryResult"]

_T = TypeVar("_T")
FINAL_STATES = frozenset({"JobComplete", "Failed", "Aborted"})
Operation = Literal["insert", "update", "upsert", "delete"]
ResultKind = Literal["successfulResults", "failedResults", "unprocessedrecords"]


class BulkJob(BaseModel):
    """A Bulk API 2.0 job as Salesforce reports it (``extra="allow"``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    id: str
    operation: str = ""
    object: str = ""
    state: str = ""
    external_id_field_name: str | None = Field(default=None, alias="externalIdFieldName")
    number_records_processed: int = Field(default=0, alias="numberRecordsProcessed")
    number_records_failed: int = Field(default=0, alias="numberRecordsFailed")
    error_message: str | None = Field(default=None, alias="errorMessage")

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES


class BulkQueryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    job: BulkJob
    path: Path
    records: int


def _cell(value: object) -> str:
    if value is None:
        return "#N/A"  # Bulk API 2.0's way to set a field to null
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record[c]) if c in record else "" for c in columns])
    return out.getvalue()


def _chunks(records: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class BulkClient:
    """Bulk API 2.0 over the bridge's session (same auth, refresh, quota and call options)."""

    def __init__(
        self,
        *,
        http: requests.Session,
        base_url: Callable[[], str],
        attempts: Callable[[Callable[[], requests.Response], bool], requests.Response],
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self._http = http
        self._base_url = base_url
        self._attempts = attempts
        self._sleep = sleep
        self._timeout = timeout

    def _send(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> requests.Response:
        url = f"{self._base_url()}/{path}"

        def call() -> requests.Response:
            response = self._http.request(method, url, timeout=self._timeout, **kwargs)
            if response.status_code >= 300:
                try:
                    body: object = response.json()
                except ValueError:
                    body = response.text
                raise status_error(response.status_code, body, url=url)
            return response

        return self._attempts(call, idempotent)

    def _job(self, response: requests.Response) -> BulkJob:
        return BulkJob.model_validate(response.json())

    # -- ingest -----------------------------------------------------------------------------

    def ingest(
        self,
        sobject: str,
        records: Iterable[Mapping[str, Any]],
        *,
        operation: Operation = "insert",
        external_id_field: str | None = None,
        chunk_size: int = 10_000,
        poll_interval: float = 2.0,
        max_wait: float = 600.0,
    ) -> list[BulkJob]:
        """Run one ingest job per ``chunk_size`` records, each to a final state, in order.

        If a chunk fails, :class:`SalesforceBulkError` carries the jobs that already finished
        (their results stay downloadable with :meth:`results`).
        """
        finished: list[BulkJob] = []
        for number, chunk in enumerate(_chunks(records, chunk_size)):
            job_id: str | None = None
            try:
                spec: dict[str, Any] = {
                    "object": sobject,
                    "operation": operation,
                    "contentType": "CSV",
                    "lineEnding": "LF",
                }
                if external_id_field:
                    spec["externalIdFieldName"] = external_id_field
                job = self._job(self._send("POST", "jobs/ingest", idempotent=False, json=spec))
                job_id = job.id
                self._send(
                    "PUT",
                    f"jobs/ingest/{job_id}/batches",
                    idempotent=False,
                    data=to_csv(chunk).encode(),
                    headers={"Content-Type": "text/csv"},
                )
                self._send(
                    "PATCH",
                    f"jobs/ingest/{job_id}",
                    idempotent=True,
                    json={"state": "UploadComplete"},
                )
                finished.append(self.wait(job_id, poll_interval=poll_interval, max_wait=max_wait))
            except SalesforceBridgeError as exc:
                msg = f"bulk {operation} of {sobject} stopped at chunk {number}: {exc}"
                raise SalesforceBulkError(msg, jobs=finished, failed_job_id=job_id) from exc
        return finished

    def job(self, job_id: str, *, kind: Literal["ingest", "query"] = "ingest") -> BulkJob:
        return self._job(self._send("GET", f"jobs/{kind}/{job_id}", idempotent=True))

    def wait(
        self,
        job_id: str,
        *,
        kind: Literal["ingest", "query"] = "ingest",
        poll_interval: float = 2.0,
        max_wait: float = 600.0,
    ) -> BulkJob:
        """Poll until the job is JobComplete, Failed or Aborted."""
        waited = 0.0
        while True:
            job = self.job(job_id, kind=kind)
            if job.done:
                return job
            if waited >= max_wait:
                raise SalesforceBridgeError(f"bulk job {job_id} still {job.state} after {waited}s")
            self._sleep(poll_interval)
            waited += poll_interval

    def results(self, job_id: str, kind: ResultKind = "successfulResults") -> list[dict[str, str]]:
        """An ingest job's result rows (``sf__Id``, ``sf__Created`` / ``sf__Error``, columns)."""
        text = self._send("GET", f"jobs/ingest/{job_id}/{kind}", idempotent=True).text
        return list(csv.DictReader(io.StringIO(text)))

    # -- query ------------------------------------------------------------------------------

    def query_to_file(
        self,
        soql: str,
        path: Path,
        *,
        max_records: int = 50_000,
        poll_interval: float = 2.0,
        max_wait: float = 600.0,
    ) -> BulkQueryResult:
        """Run a query job and stream its CSV result pages into ``path`` (one header row).

        If a page fails (after retries), :class:`SalesforceBulkError` carries the finished job,
        the ``locator`` of the failed page and the ``records`` already on disk; pass them to
        :meth:`resume_query` to continue without running the query again.
        """
        spec = {"operation": "query", "query": soql}
        job = self._job(self._send("POST", "jobs/query", idempotent=False, json=spec))
        job = self.wait(job.id, kind="query", poll_interval=poll_interval, max_wait=max_wait)
        if job.state != "JobComplete":
            raise SalesforceBulkError(f"bulk query {job.id} ended {job.state}", jobs=[job])
        return self._download(job, path, locator="", records=0, max_records=max_records)

    def resume_query(
        self, job_id: str, path: Path, *, locator: str, records: int, max_records: int = 50_000
    ) -> BulkQueryResult:
        """Append the pages of a finished query job from ``locator`` on (after a failed page)."""
        job = self.job(job_id, kind="query")
        return self._download(job, path, locator=locator, records=records, max_records=max_records)

    def _download(
        self, job: BulkJob, path: Path, *, locator: str, records: int, max_records: int
    ) -> BulkQueryResult:
        count = records
        first = not locator
        with path.open("w" if first else "a", encoding="utf-8", newline="") as out:
            while True:
                params = {"maxRecords": str(max_records)}
                if locator:
                    params["locator"] = locator
                try:
                    page = self._send(
                        "GET", f"jobs/query/{job.id}/results", idempotent=True, params=params
                    )
                except SalesforceBridgeError as exc:
                    msg = f"bulk query {job.id} results stopped after {count} records: {exc}"
                    raise SalesforceBulkError(
                        msg, jobs=[job], failed_job_id=job.id, locator=locator, records=count
                    ) from exc
                lines = page.text.splitlines(keepends=True)
                out.writelines(lines if first else lines[1:])
                first = False
                count += int(page.headers.get("Sforce-NumberOfRecords", max(len(lines) - 1, 0)))
                locator = page.headers.get("Sforce-Locator", "null")
                if not locator or locator == "null":
                    break
        return BulkQueryResult(job=job, path=path, records=count)
