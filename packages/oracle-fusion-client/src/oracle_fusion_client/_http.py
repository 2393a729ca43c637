"""The ADF REST framework, once: URLs, headers, retries, errors, paging and batch."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, cast

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ._auth import FusionAuth
from ._errors import (
    FusionBatchError,
    FusionConnectionError,
    FusionRateLimitError,
    FusionStatusError,
    FusionTimeoutError,
    error_from_response,
)
from ._query import MAX_PAGE_SIZE, Query
from ._retry import ConnectionFailure, RetryConfig, retry_delay

__all__ = ["BatchPart", "BatchResult", "FusionHTTP", "Item", "Page", "Timeouts"]

log = logging.getLogger("oracle_fusion_client")

ITEM_TYPE = "application/vnd.oracle.adf.resourceitem+json"
ACTION_TYPE = "application/vnd.oracle.adf.action+json"
BATCH_TYPE = "application/vnd.oracle.adf.batch+json"
DEFAULT_API_VERSION = "11.13.18.05"


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds (integrators use 120-300 s reads for Fusion)."""

    connect: float = 10.0
    read: float = 120.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class Item:
    """One resource item as returned by Fusion, with its ETag (if the server sent one)."""

    data: dict[str, Any]
    etag: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a collection: ``items``, ``count``, ``hasMore``, ``limit``, ``offset``."""

    items: list[dict[str, Any]]
    count: int
    has_more: bool
    limit: int
    offset: int
    total_results: int | None = None


@dataclass(frozen=True)
class BatchPart:
    """One part of a batch request; ``path`` is relative to the version root."""

    id: str
    path: str
    operation: Literal["get", "create", "update", "replace", "delete"]
    payload: Mapping[str, Any] | None = None
    if_match: str | None = None


@dataclass(frozen=True)
class BatchResult:
    id: str
    path: str
    operation: str
    payload: dict[str, Any] = field(default_factory=dict[str, Any])


DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryConfig()


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_json(body: Mapping[str, Any]) -> bytes:
    """Compact JSON; Decimals become strings (Oracle's own examples send ``"451.23"``)."""
    return json.dumps(body, separators=(",", ":"), default=_json_default).encode()


def decode_json(text: str) -> dict[str, Any]:
    """JSON with every non-integer number read as a Decimal."""
    value: object = json.loads(text, parse_float=Decimal)
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _failure_kind(exc: requests.RequestException) -> ConnectionFailure:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ConnectionFailure.NOT_SENT
    seen: BaseException | None = exc
    depth = 0
    while seen is not None and depth < 10:
        if isinstance(seen, NewConnectionError | ConnectTimeoutError):
            return ConnectionFailure.NOT_SENT
        reason = getattr(seen, "reason", None)
        args_exc = next((a for a in seen.args if isinstance(a, BaseException)), None)
        nxt = reason if isinstance(reason, BaseException) else args_exc
        seen = nxt or seen.__cause__ or seen.__context__
        depth += 1
    return ConnectionFailure.LOST


class FusionHTTP:
    """Shared request machinery; :class:`oracle_fusion_client.FusionClient` builds on it."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: FusionAuth,
        session: requests.Session | None = None,
        api_version: str = DEFAULT_API_VERSION,
        framework_version: str = "4",
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryConfig = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.root_url = f"{self.base_url}/fscmRestApi/resources/{api_version}"
        self.headers = dict(headers or {})
        self.auth = auth
        self.session = session or requests.Session()
        self.framework_version = framework_version
        self.timeouts = timeouts
        self.retry = retry
        self._sleep = sleep
        self._rand = rand

    def derive(
        self,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryConfig | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FusionHTTP:
        """A copy sharing session and auth, with these settings merged over the current ones."""
        return FusionHTTP(
            base_url=self.base_url,
            auth=self.auth,
            session=self.session,
            api_version=self.api_version,
            framework_version=self.framework_version,
            timeouts=timeouts or self.timeouts,
            retry=retry or self.retry,
            sleep=self._sleep,
            rand=self._rand,
            headers={**self.headers, **(headers or {})},
        )

    def url(self, path: str) -> str:
        return f"{self.root_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = ITEM_TYPE,
        write_safe: bool = False,
    ) -> requests.Response:
        """Send with retries; return the successful response or raise a FusionError."""
        url = self.url(path)
        merged = {"REST-Framework-Version": self.framework_version, "Accept": "application/json"}
        data = None
        if body is not None:
            merged["Content-Type"] = content_type
            data = encode_json(body)
        merged.update(self.headers)
        merged.update(headers or {})  # the per-call value wins
        attempt = 0
        refreshed = False
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=dict(params or {}),
                    data=data,
                    headers=merged,
                    auth=self.auth,
                    timeout=self.timeouts.as_tuple(),
                )
            except requests.RequestException as exc:
                kind = _failure_kind(exc)
                delay = retry_delay(
                    attempt=attempt,
                    method=method,
                    write_safe=write_safe,
                    config=self.retry,
                    failure=kind,
                    rand=self._rand,
                )
                if delay is None:
                    cls = (
                        FusionTimeoutError
                        if isinstance(exc, requests.Timeout)
                        else FusionConnectionError
                    )
                    raise cls(
                        f"no response from Fusion: {type(exc).__name__}",
                        method=method,
                        url=url,
                        sent=kind is ConnectionFailure.LOST,
                    ) from None
                log.warning(
                    "retrying %s %s after %s (%.2fs)", method, url, type(exc).__name__, delay
                )
                self._sleep(delay)
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            error = error_from_response(
                response.status_code,
                response.text,
                response.headers,
                method=method,
                url=url,
            )
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.auth.invalidate()
                continue
            retry_after = error.retry_after if isinstance(error, FusionRateLimitError) else None
            delay = retry_delay(
                attempt=attempt,
                method=method,
                write_safe=write_safe,
                config=self.retry,
                status=response.status_code,
                retry_after=retry_after,
                rand=self._rand,
            )
            if delay is None:
                error.attempts = attempt + 1
                raise error
            log.warning(
                "retrying %s %s after HTTP %s (%.2fs)", method, url, error.status_code, delay
            )
            self._sleep(delay)
            attempt += 1

    def json(self, method: str, path: str, **kwargs: Any) -> Item:
        response = self.request(method, path, **kwargs)
        data = decode_json(response.text) if response.text.strip() else {}
        return Item(data=data, etag=response.headers.get("ETag"))

    def page(self, path: str, query: Query, *, offset: int = 0) -> Page:
        data = self.json("GET", path, params=query.params(offset=offset)).data
        raw_items = data.get("items")
        items = cast(list[dict[str, Any]], raw_items) if isinstance(raw_items, list) else []
        total = data.get("totalResults")
        return Page(
            items=items,
            count=int(data.get("count", len(items))),
            has_more=bool(data.get("hasMore", False)),
            limit=int(data.get("limit", query.limit or len(items))),
            offset=int(data.get("offset", offset)),
            total_results=int(total) if total is not None else None,
        )

    def iterate(self, path: str, query: Query) -> Iterator[dict[str, Any]]:
        """Lazily yield every item, one page (``limit``, default 500) at a time."""
        if query.limit is None:
            query = dataclasses.replace(query, limit=MAX_PAGE_SIZE)
        offset = 0
        while True:
            page = self.page(path, query, offset=offset)
            yield from page.items
            if not page.has_more or not page.items:
                return
            offset += len(page.items)

    def batch(self, parts: Sequence[BatchPart]) -> list[BatchResult]:
        """Run ``parts`` in one all-or-none batch request to the version root."""
        payload_parts: list[dict[str, Any]] = []
        for part in parts:
            entry: dict[str, Any] = {
                "id": part.id,
                "path": "/" + part.path.lstrip("/"),
                "operation": part.operation,
            }
            if part.payload is not None:
                entry["payload"] = dict(part.payload)
            if part.if_match is not None:
                entry["preconditionSucceeded"] = False
                entry["ifMatch"] = part.if_match
            payload_parts.append(entry)
        try:
            body = {"parts": payload_parts}
            data = self.json("POST", "", body=body, content_type=BATCH_TYPE).data
        except FusionStatusError as exc:
            if isinstance(exc, FusionBatchError) or exc.status_code != 400:
                raise
            raise FusionBatchError(
                f"batch refused: {exc.detail or exc.title}",
                status_code=exc.status_code,
                error_code=exc.error_code,
                title=exc.title,
                detail=exc.detail,
                error_path=exc.error_path,
                details=exc.details,
                body=exc.body,
                request_id=exc.request_id,
            ) from None
        results: list[BatchResult] = []
        for raw in cast(list[dict[str, Any]], data.get("parts") or []):
            results.append(
                BatchResult(
                    id=str(raw.get("id")),
                    path=str(raw.get("path")),
                    operation=str(raw.get("operation")),
                    payload=cast(dict[str, Any], raw.get("payload") or {}),
                )
            )
        return results
