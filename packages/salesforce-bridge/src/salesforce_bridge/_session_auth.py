"""Request-level policy for every call on the bridge's ``requests.Session``.

:class:`BridgeAuth` is installed as ``session.auth``, so it applies to every request, including
the ones simple-salesforce builds itself (query, queryMore, bulk, ...). For each request it

1. fails fast with :class:`SalesforceQuotaError` when the daily budget is at the floor;
2. sets ``Authorization: Bearer <current token>`` and ``Sforce-Call-Options: client=<name>``;
3. records ``Sforce-Limit-Info`` from the response;
4. on ``401 INVALID_SESSION_ID`` refreshes through the grant and re-sends the *same* prepared
   request (method, URL, body and every header preserved) exactly once;
5. follows a changed ``instance_url``: when a refreshed session names another instance, the
   retried request and every later request aimed at an earlier instance go to the new one.

This is why refresh also works for sessions simple-salesforce did not create itself.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import threading
from dataclasses import dataclass
from typing import Any, cast

import requests
from requests.auth import AuthBase

from ._auth import SalesforceGrant
from ._errors import SalesforceQuotaError

__all__ = ["ApiUsage", "BridgeAuth", "UsageTracker", "parse_limit_info", "retry_after_seconds"]

_API_USAGE = re.compile(r"(?:^|[;\s])api-usage=(\d+)/(\d+)")


@dataclass(frozen=True)
class ApiUsage:
    """The org's daily API usage as last reported in ``Sforce-Limit-Info``."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def parse_limit_info(value: str | None) -> ApiUsage | None:
    """Parse ``api-usage=N/M`` (ignoring ``per-app-api-usage=...``)."""
    if not value:
        return None
    match = _API_USAGE.search(value)
    return ApiUsage(int(match.group(1)), int(match.group(2))) if match else None


class UsageTracker:
    """Thread-safe holder of the latest :class:`ApiUsage` and the quota floor."""

    def __init__(self, floor: int = 0) -> None:
        self.floor = floor
        self._lock = threading.Lock()
        self._usage: ApiUsage | None = None

    @property
    def usage(self) -> ApiUsage | None:
        with self._lock:
            return self._usage

    def observe(self, header: str | None) -> None:
        usage = parse_limit_info(header)
        if usage is not None:
            with self._lock:
                self._usage = usage

    def check(self) -> None:
        usage = self.usage
        if usage is not None and self.floor > 0 and usage.remaining <= self.floor:
            raise SalesforceQuotaError(
                remaining=usage.remaining, floor=self.floor, limit=usage.limit
            )


def retry_after_seconds(value: str) -> float | None:
    """A ``Retry-After`` header (delay in seconds or an HTTP date) as seconds from now."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def _is_invalid_session(response: requests.Response) -> bool:
    if response.status_code != 401:
        return False
    try:
        body: object = response.json()
    except ValueError:
        return False
    if not isinstance(body, list) or not body:
        return False
    first = cast("list[object]", body)[0]
    return isinstance(first, dict) and cast("dict[str, Any]", first).get("errorCode") == (
        "INVALID_SESSION_ID"
    )


class BridgeAuth(AuthBase):
    """``requests`` auth that injects the current token and refreshes it once on 401."""

    def __init__(
        self,
        *,
        grant: SalesforceGrant,
        http: requests.Session,
        client_name: str,
        usage: UsageTracker,
    ) -> None:
        self._grant = grant
        self._http = http
        self._client_name = client_name
        self._usage = usage
        self._local = threading.local()
        self._instances_lock = threading.Lock()
        self._old_instances: list[str] = []
        self._instance: str | None = None

    def last_retry_after(self) -> float | None:
        """``Retry-After`` (seconds) of the last response seen on this thread, if any."""
        value: object = getattr(self._local, "retry_after", None)
        return value if isinstance(value, float) else None

    def _follow_instance(self, r: requests.PreparedRequest, instance_url: str) -> None:
        """Point ``r`` at ``instance_url`` if it targets an instance a refresh moved away from."""
        current = instance_url.rstrip("/")
        with self._instances_lock:
            previous = self._instance
            if previous and current and current != previous and previous not in self._old_instances:
                self._old_instances.append(previous)
            if current:
                self._instance = current
            old_instances = [o for o in self._old_instances if o != current]
        url = r.url or ""
        for old in old_instances:
            if url == old or url.startswith(f"{old}/"):
                r.url = current + url[len(old) :]
                return

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        self._usage.check()
        current = self._grant.session(self._http)
        self._follow_instance(r, current.instance_url)
        token = current.access_token
        r.headers["Authorization"] = f"Bearer {token}"
        r.headers["Sforce-Call-Options"] = f"client={self._client_name}"
        r.register_hook("response", self._on_response)
        return r

    def _observe(self, r: requests.Response, **_kwargs: Any) -> requests.Response:
        self._usage.observe(r.headers.get("Sforce-Limit-Info"))
        self._local.retry_after = retry_after_seconds(str(r.headers.get("Retry-After", "")))
        return r

    def _on_response(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        self._observe(r)
        if not self._grant.can_refresh or not _is_invalid_session(r):
            return r
        stale = str(r.request.headers.get("Authorization", "")).removeprefix("Bearer ")
        fresh = self._grant.refresh(self._http, stale_token=stale)
        retry = r.request.copy()
        self._follow_instance(retry, fresh.instance_url)
        retry.headers["Authorization"] = f"Bearer {fresh.access_token}"
        retry.hooks = {"response": [self._observe]}  # no second refresh
        _ = r.content  # release the connection of the failed attempt
        r.close()
        sent = self._http.send(retry, **kwargs)
        sent.history.insert(0, r)
        return sent

    def __repr__(self) -> str:
        return f"BridgeAuth(client_name={self._client_name!r}, grant={self._grant!r})"
