"""``SalesforceBridge``: typed Salesforce REST operations on top of simple-salesforce."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar, cast
from urllib.parse import quote

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.format import format_soql

from ._auth import SalesforceGrant
from ._bulk import BulkClient
from ._errors import (
    FieldProblem,
    SalesforceBridgeError,
    SalesforceConnectionError,
    SalesforceFieldDriftError,
    SalesforceStatusError,
    SalesforceTimeoutError,
    status_error,
)
from ._models import PublishResult, Record, RecordResult, SObjectDescribe, UpsertResult
from ._retry import RETRYABLE_CODES, RetryConfig, retry_delay
from ._session_auth import ApiUsage, BridgeAuth, UsageTracker

__all__ = ["COLLECTION_CHUNK", "DEFAULT_API_VERSION", "SalesforceBridge"]

DEFAULT_API_VERSION = "62.0"
COLLECTION_CHUNK = 200
_T = TypeVar("_T")


@contextmanager
def _translated() -> Generator[None, None, None]:
    """Turn simple-salesforce and requests failures into this package's error tree."""
    try:
        yield
    except SalesforceBridgeError:
        raise
    except SalesforceError as exc:
        raise status_error(exc.status, exc.content, url=exc.url) from None
    except requests.Timeout as exc:
        raise SalesforceTimeoutError(f"Salesforce call timed out: {type(exc).__name__}") from exc
    except requests.RequestException as exc:
        raise SalesforceConnectionError(f"Salesforce call failed: {type(exc).__name__}") from exc


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _retryable(result: RecordResult) -> bool:
    return not result.success and any(e.code in RETRYABLE_CODES for e in result.errors)


def _as_list(body: object) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise SalesforceBridgeError(f"expected a JSON array, got {type(body).__name__}")
    return [cast("dict[str, Any]", item) for item in cast("list[object]", body)]


class SalesforceBridge:
    """One Salesforce org, reached through simple-salesforce with refreshing auth.

    * ``grant`` supplies and refreshes the session (see the grant classes);
    * ``client_name`` is sent as ``Sforce-Call-Options: client=<name>`` (echo suppression);
    * ``quota_floor``: when the remaining daily API calls drop to this number, calls raise
      :class:`SalesforceQuotaError` before anything is sent;
    * ``session``: an injectable ``requests.Session`` (adapters, proxies, ``verify``);
    * ``retry``: backoff for idempotent calls (reads, queries, upserts by key) on 408/429/5xx,
      ``UNABLE_TO_LOCK_ROW`` and connection errors; ``sleep``/``rand`` are injectable.
    """

    def __init__(
        self,
        *,
        grant: SalesforceGrant,
        client_name: str = "salesforce-bridge",
        api_version: str = DEFAULT_API_VERSION,
        session: requests.Session | None = None,
        quota_floor: int = 0,
        timeout: float = 30.0,
        retry: RetryConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.grant = grant
        self.client_name = client_name
        self.api_version = api_version
        self.timeout = timeout
        self.retry = retry or RetryConfig()
        self._sleep = sleep
        self._rand = rand
        self.http = session or requests.Session()
        self._usage = UsageTracker(floor=quota_floor)
        self._auth = BridgeAuth(
            grant=grant, http=self.http, client_name=client_name, usage=self._usage
        )
        self.http.auth = self._auth
        self._sf: Salesforce | None = None
        self._instance = ""
        self._lock = threading.Lock()
        self._describes: dict[str, SObjectDescribe] = {}
        self.bulk = BulkClient(
            http=self.http,
            base_url=lambda: self.simple_salesforce.base_url.rstrip("/"),
            attempts=lambda call, idempotent: self._attempts(call, idempotent=idempotent),
            sleep=sleep,
            timeout=timeout,
        )
        """Bulk API 2.0 (ingest jobs in chunks, query results streamed to disk)."""

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def simple_salesforce(self) -> Salesforce:
        """The underlying ``Salesforce`` (sharing this bridge's auth)."""
        with self._lock:
            with _translated():
                current = self.grant.session(self.http)
            if self._sf is None or self._instance != current.instance_url:
                # first use, or a refresh moved the org to another instance: follow it
                self._instance = current.instance_url
                self._sf = Salesforce(
                    instance_url=current.instance_url,
                    session_id=current.access_token,
                    session=self.http,
                    version=self.api_version,
                )
            return self._sf

    @property
    def api_usage(self) -> ApiUsage | None:
        """Daily API usage from the last ``Sforce-Limit-Info`` header seen."""
        return self._usage.usage

    @property
    def remaining_api_calls(self) -> int | None:
        usage = self._usage.usage
        return None if usage is None else usage.remaining

    @property
    def quota_floor(self) -> int:
        return self._usage.floor

    def _attempts(self, call: Callable[[], _T], *, idempotent: bool) -> _T:
        """Run ``call``, retrying per :func:`retry_delay`; errors come out translated."""
        attempt = 0
        while True:
            try:
                with _translated():
                    return call()
            except SalesforceBridgeError as exc:
                delay = retry_delay(
                    exc,
                    attempt,
                    idempotent=idempotent,
                    config=self.retry,
                    retry_after=self._auth.last_retry_after(),
                    rand=self._rand,
                )
                if delay is None:
                    raise
                self._sleep(delay)
                attempt += 1

    def _rest(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        sf = self.simple_salesforce
        return self._attempts(
            lambda: sf.restful(path, method=method, timeout=self.timeout, **kwargs),
            idempotent=idempotent,
        )

    # -- records ----------------------------------------------------------------------------

    def upsert(
        self,
        sobject: str,
        external_id_field: str,
        external_id: str,
        record: Mapping[str, Any],
        *,
        update_only: bool = False,
    ) -> UpsertResult:
        """``PATCH /sobjects/<Obj>/<Field>/<value>``: insert or update by external id.

        Raises :class:`SalesforceMultipleMatchesError` when several records match (300).
        """
        path = f"sobjects/{sobject}/{external_id_field}/{quote(str(external_id), safe='')}"
        params = {"updateOnly": "true"} if update_only else None
        body = self._rest("PATCH", path, idempotent=True, json=dict(record), params=params)
        if body is None:  # 204 on API <= 45: an update
            return UpsertResult(created=False)
        data = cast("dict[str, Any]", body)
        return UpsertResult(
            id=data.get("id"), created=bool(data.get("created")), success=data.get("success", True)
        )

    def get(self, sobject: str, record_id: str, *, fields: Sequence[str] = ()) -> Record:
        params = {"fields": ",".join(fields)} if fields else None
        body = self._rest("GET", f"sobjects/{sobject}/{record_id}", idempotent=True, params=params)
        return Record.model_validate(body)

    def create_many(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """sObject Collections create, 200 per request, allOrNone off; results in input order."""
        return self._collections("POST", "composite/sobjects", sobject, records)

    def update_many(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """sObject Collections update (every record carries ``Id``)."""
        return self._collections("PATCH", "composite/sobjects", sobject, records)

    def upsert_many(
        self, sobject: str, external_id_field: str, records: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        """sObject Collections upsert on an external id field."""
        path = f"composite/sobjects/{sobject}/{external_id_field}"
        return self._collections("PATCH", path, sobject, records)

    def _collections(
        self, method: str, path: str, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        results: list[RecordResult] = []
        for chunk in _chunks(records, COLLECTION_CHUNK):
            results.extend(self._collection_chunk(method, path, sobject, chunk))
        return results

    def _collection_chunk(
        self, method: str, path: str, sobject: str, chunk: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        """One request of <= 200 records. On idempotent calls (update/upsert), the records that
        failed with a retryable per-record code (``UNABLE_TO_LOCK_ROW``) are sent again alone."""
        idempotent = method != "POST"
        out: dict[int, RecordResult] = {}
        pending = list(range(len(chunk)))
        attempt = 0
        while True:
            payload = {
                "allOrNone": False,
                "records": [{"attributes": {"type": sobject}, **dict(chunk[i])} for i in pending],
            }
            items = _as_list(self._rest(method, path, idempotent=idempotent, json=payload))
            if len(items) != len(pending):
                msg = f"collections answered {len(items)} results for {len(pending)} records"
                raise SalesforceBridgeError(msg)
            out.update(
                (i, RecordResult.from_wire(item)) for i, item in zip(pending, items, strict=True)
            )
            locked = [i for i in pending if _retryable(out[i])]
            if not locked:
                break
            lock_error = SalesforceStatusError(200, [e for i in locked for e in out[i].errors])
            delay = retry_delay(
                lock_error, attempt, idempotent=idempotent, config=self.retry, rand=self._rand
            )
            if delay is None:
                break
            self._sleep(delay)
            attempt += 1
            pending = locked
        return [out[i] for i in range(len(chunk))]

    # -- platform events --------------------------------------------------------------------

    def publish_event(self, event: str, payload: Mapping[str, Any]) -> PublishResult:
        """Publish one platform event via REST; returns the EventUuid when the org sends it."""
        body = self._rest("POST", f"sobjects/{event}/", idempotent=False, json=dict(payload))
        return PublishResult.from_wire(cast("dict[str, Any]", body))

    def publish_events(
        self, event: str, payloads: Sequence[Mapping[str, Any]]
    ) -> list[PublishResult]:
        """Publish many events through sObject Collections (200 per request)."""
        results: list[PublishResult] = []
        for chunk in _chunks(payloads, COLLECTION_CHUNK):
            body = {
                "allOrNone": False,
                "records": [{"attributes": {"type": event}, **dict(p)} for p in chunk],
            }
            answer = self._rest("POST", "composite/sobjects", idempotent=False, json=body)
            items = _as_list(answer)
            results.extend(PublishResult.from_wire(item) for item in items)
        return results

    # -- SOQL -------------------------------------------------------------------------------

    @staticmethod
    def format_soql(soql: str, *args: Any, **kwargs: Any) -> str:
        """simple-salesforce's ``format_soql``: ``{}`` placeholders are quoted and escaped."""
        return format_soql(soql, *args, **kwargs)

    def query(
        self,
        soql: str,
        *args: Any,
        batch_size: int | None = None,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> Iterator[Record]:
        """Lazily yield every row, following ``nextRecordsUrl``; nothing is sent until iterated.

        Placeholders in ``soql`` are filled by :meth:`format_soql` from ``args``/``kwargs``.
        ``batch_size`` (200-2000) is sent as ``Sforce-Query-Options: batchSize=N``.
        ``include_deleted`` reads through ``queryAll``: deleted (recycle bin) and archived rows
        too, with ``IsDeleted`` true and the values they had.
        """
        text = format_soql(soql, *args, **kwargs) if args or kwargs else soql
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        return self._iterate(text, headers, include_deleted=include_deleted)

    def _iterate(
        self, soql: str, headers: dict[str, str], *, include_deleted: bool = False
    ) -> Iterator[Record]:
        sf = self.simple_salesforce
        first = self._attempts(
            lambda: sf.query(
                soql, include_deleted=include_deleted, timeout=self.timeout, headers=headers
            ),
            idempotent=True,
        )
        page = cast("dict[str, Any]", first)
        while True:
            for row in cast("list[dict[str, Any]]", page.get("records") or []):
                yield Record.model_validate(row)
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            fetch = partial(
                sf.query_more,
                str(next_url),
                identifier_is_url=True,
                include_deleted=include_deleted,
                timeout=self.timeout,
                headers=headers,
            )
            more = self._attempts(fetch, idempotent=True)
            page = cast("dict[str, Any]", more)

    def count(self, soql: str, *args: Any, **kwargs: Any) -> int:
        """Run a ``SELECT COUNT() FROM ...`` query and return ``totalSize``."""
        text = format_soql(soql, *args, **kwargs) if args or kwargs else soql
        sf = self.simple_salesforce
        page = self._attempts(lambda: sf.query(text, timeout=self.timeout), idempotent=True)
        return int(cast("dict[str, Any]", page).get("totalSize", 0))

    # -- describe ---------------------------------------------------------------------------

    def describe(self, sobject: str, *, refresh: bool = False) -> SObjectDescribe:
        """``GET /sobjects/<Obj>/describe`` (cached per bridge unless ``refresh``)."""
        if not refresh and sobject in self._describes:
            return self._describes[sobject]
        path = f"sobjects/{sobject}/describe"
        result = SObjectDescribe.model_validate(self._rest("GET", path, idempotent=True))
        self._describes[sobject] = result
        return result

    def check_fields(
        self,
        sobject: str,
        fields: Iterable[str] | Mapping[str, str],
        *,
        for_update: bool = False,
    ) -> list[FieldProblem]:
        """Problems of writing ``fields`` (or a mapping's Salesforce-side values) to ``sobject``."""
        pairs: list[tuple[str | None, str]] = (
            [(str(k), str(v)) for k, v in cast("Mapping[str, str]", fields).items()]
            if isinstance(fields, Mapping)
            else [(None, str(f)) for f in fields]
        )
        described = self.describe(sobject)
        problems: list[FieldProblem] = []
        for source, name in pairs:
            found = described.field(name)
            issues: list[str] = [] if found is not None else ["missing"]
            if found is not None and not found.createable:
                issues.append("not createable")
            if found is not None and for_update and not found.updateable:
                issues.append("not updateable")
            problems += [
                FieldProblem(sobject=sobject, field=name, problem=p, mapped_from=source)
                for p in issues
            ]
        return problems

    def validate_fields(
        self,
        sobject: str,
        fields: Iterable[str] | Mapping[str, str],
        *,
        for_update: bool = False,
    ) -> None:
        """Raise :class:`SalesforceFieldDriftError` listing every problem, if any."""
        problems = self.check_fields(sobject, fields, for_update=for_update)
        if problems:
            raise SalesforceFieldDriftError(problems)

    def __repr__(self) -> str:
        return (
            f"SalesforceBridge(grant={self.grant!r}, client_name={self.client_name!r}, "
            f"api_version={self.api_version!r})"
        )
