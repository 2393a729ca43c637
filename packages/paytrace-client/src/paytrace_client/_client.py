"""``PayTraceClient``: configuration, authentication and the request pipeline.

Every resource (``client.transactions``, ``client.customers``, ...) goes through
:meth:`PayTraceClient.call`, which adds the bearer token and ``integrator_id``, sends, retries
only where no money can move twice, refreshes a refused token once, and classifies the answer.
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from typing import Any

import requests

from ._auth import AccessToken, Grant, PasswordGrant, TokenCache
from ._classify import classify, is_invalid_token, parse_retry_after
from ._config import PRODUCTION_URL, RetryConfig, Timeouts
from ._errors import (
    LookupHint,
    PayTraceConnectionError,
    PayTraceOutcomeUnknownError,
    PayTraceTimeoutError,
)
from ._lookup import LookupResult, find_transaction
from ._requester import CallKind, JSONObject, RequestOptions, WriteCorrelation
from ._retry import ConnectionFailure, decide_retry
from ._transport import RawResponse, connection_failure_kind, encode_json, post
from .models import DEFAULT_EXPORT_TIMEZONE
from .resources import Batches, Checks, Customers, Exports, LevelThree, Protect, Transactions

__all__ = ["PayTraceClient"]

logger = logging.getLogger("paytrace_client")

_USER_AGENT = "paytrace-client-python"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class PayTraceClient:
    """A typed client for the PayTrace JSON API v1.

    Give either ``username`` and ``password`` (the PayTrace API user; the common case) or an
    explicit ``auth`` grant object, never both::

        client = PayTraceClient(
            username="api-user", password="...", integrator_id="9XXXXXXXXXXX",
            base_url=SANDBOX_URL,
        )
        sale = client.transactions.sale_keyed(amount=Decimal("10.00"), credit_card=card)

    ``session`` is injectable (the emulator's in-process adapter, corporate proxies, pooling);
    ``sleep``, ``random`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: Grant | None = None,
        integrator_id: str | None = None,
        base_url: str = PRODUCTION_URL,
        session: requests.Session | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryConfig | None = None,
        export_timezone: tzinfo = DEFAULT_EXPORT_TIMEZONE,
        token_refresh_margin: timedelta = timedelta(seconds=120),
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if auth is not None and (username is not None or password is not None):
            raise ValueError("give either auth= or username=/password=, not both")
        if auth is None:
            if not username or not password:
                raise ValueError("username and password are required (or pass auth=)")
            auth = PasswordGrant(username=username, password=password)
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.integrator_id = integrator_id
        self.export_timezone = export_timezone
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryConfig()
        self._session = session or requests.Session()
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self._tokens = TokenCache(
            auth, self._fetch_token, clock=clock, refresh_margin=token_refresh_margin
        )
        self.transactions = Transactions(self)
        self.customers = Customers(self)
        self.checks = Checks(self, tz=export_timezone)
        self.exports = Exports(self, tz=export_timezone)
        self.batches = Batches(self, tz=export_timezone)
        self.level_three = LevelThree(self)
        self.protect = Protect(self)

    def __repr__(self) -> str:
        return f"PayTraceClient(base_url={self.base_url!r}, auth={self._tokens!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PayTraceClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the Requester protocol ------------------------------------------------------------

    def call(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        kind: CallKind,
        correlation: WriteCorrelation | None = None,
        options: RequestOptions | None = None,
    ) -> JSONObject:
        """POST ``body`` to ``/v1/<path>``; return the successful body or raise."""
        payload = dict(body)
        if self.integrator_id and "integrator_id" not in payload:
            payload["integrator_id"] = self.integrator_id
        data = encode_json(payload)
        started = self._clock()
        refreshed = False
        attempt = 0
        while True:
            token = self._tokens.get()
            send = partial(self._send, f"/v1/{path}", data, token, options)
            raw, attempt = self._exchange(
                path,
                send,
                kind=kind,
                attempt=attempt,
                options=options,
                started=started,
                correlation=correlation,
            )
            if (
                is_invalid_token(raw.status, raw.body)
                and not refreshed
                and self._tokens.can_refresh()
            ):
                # The token expired early or was revoked: fetch a new one and try once more.
                # PayTrace refused the request before processing it, so this is safe for writes.
                self._tokens.invalidate(token)
                refreshed = True
                continue
            if kind is CallKind.WRITE and raw.status >= 500:
                raise self._unknown(
                    path, f"HTTP {raw.status} after a write was sent", started, correlation
                )
            return self._classify(path, raw)

    def find_transaction(
        self, hint: LookupHint, *, slack: timedelta = timedelta(minutes=10)
    ) -> LookupResult:
        """Look up in the exports whether the write described by ``hint`` took effect.

        Use it with :class:`PayTraceOutcomeUnknownError`::

            except PayTraceOutcomeUnknownError as err:
                result = client.find_transaction(err.hint)
                if result.outcome is LookupOutcome.FOUND: ...

        ``NOT_FOUND`` may only mean that the export has not caught up yet: look again later
        before concluding that nothing happened.
        """
        return find_transaction(self.exports, hint, tz=self.export_timezone, slack=slack)

    # -- helpers ---------------------------------------------------------------------------

    def _headers(self, token: AccessToken | None, options: RequestOptions | None) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        if options is not None:
            headers.update(options.extra_headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token.value}"
        return headers

    def _timeout(self, options: RequestOptions | None) -> float | tuple[float, float]:
        if options is not None and options.timeout is not None:
            return options.timeout
        return self.timeouts.as_requests()

    def _send(
        self,
        path: str,
        data: bytes | Mapping[str, str],
        token: AccessToken | None,
        options: RequestOptions | None,
    ) -> RawResponse:
        """One POST: ``data`` is an encoded JSON body, or form fields for the token request."""
        headers = self._headers(token, options)
        if isinstance(data, bytes):
            headers["Content-Type"] = "application/json"
        begin = time.monotonic()
        raw = post(
            self._session,
            self.base_url + path,
            data=data,
            headers=headers,
            timeout=self._timeout(options),
        )
        logger.debug(
            "POST %s -> %s in %.0f ms (request id %s)",
            path,
            raw.status,
            (time.monotonic() - begin) * 1000,
            raw.request_id,
        )
        return raw

    def _wait(self, path: str, attempt: int, delay: float, reason: str) -> None:
        logger.info("retrying %s (retry %d) in %.2f s: %s", path, attempt + 1, delay, reason)
        self._sleep(delay)

    def _fetch_token(self, form: Mapping[str, str]) -> Mapping[str, Any]:
        """POST the grant to ``/oauth/token`` (form-encoded); safe to retry, it moves no money."""
        send = partial(self._send, "/oauth/token", dict(form), None, None)
        raw, _ = self._exchange(
            "oauth/token",
            send,
            kind=CallKind.READ,
            attempt=0,
            options=None,
            started=self._clock(),
            correlation=None,
        )
        return self._classify("oauth/token", raw)

    def _exchange(
        self,
        path: str,
        send: Callable[[], RawResponse],
        *,
        kind: CallKind,
        attempt: int,
        options: RequestOptions | None,
        started: datetime,
        correlation: WriteCorrelation | None,
    ) -> tuple[RawResponse, int]:
        """Send, repeating what ``decide_retry`` allows; return the last answer and the number
        of retries used so far (``attempt`` carries the count across a token refresh)."""
        max_retries = options.max_retries if options else None
        while True:
            try:
                raw = send()
            except requests.RequestException as exc:
                failure = connection_failure_kind(exc)
                decision = decide_retry(
                    kind=kind,
                    attempt=attempt,
                    config=self.retry,
                    random=self._random,
                    failure=failure,
                    max_retries=max_retries,
                )
                if not decision.retry:
                    raise self._connection_error(
                        path, exc, failure, kind=kind, started=started, correlation=correlation
                    ) from exc
            else:
                if raw.status < 400:
                    return raw, attempt
                decision = decide_retry(
                    kind=kind,
                    attempt=attempt,
                    config=self.retry,
                    random=self._random,
                    status=raw.status,
                    retry_after=parse_retry_after(raw.headers.get("Retry-After")),
                    max_retries=max_retries,
                )
                if not decision.retry:
                    return raw, attempt
            self._wait(path, attempt, decision.delay, decision.reason)
            attempt += 1

    @staticmethod
    def _classify(path: str, raw: RawResponse) -> JSONObject:
        return classify(
            path=path,
            status=raw.status,
            body=raw.body,
            request_id=raw.request_id,
            retry_after=parse_retry_after(raw.headers.get("Retry-After")),
        )

    def _unknown(
        self, path: str, why: str, started: datetime, correlation: WriteCorrelation | None
    ) -> PayTraceOutcomeUnknownError:
        c = correlation or WriteCorrelation()
        hint = LookupHint(
            path=path,
            started_at=started,
            finished_at=self._clock(),
            invoice_id=c.invoice_id,
            amount=c.amount,
            customer_id=c.customer_id,
            transaction_id=c.transaction_id,
            check_transaction_id=c.check_transaction_id,
        )
        logger.warning("outcome of %s unknown: %s", path, why)
        return PayTraceOutcomeUnknownError(
            f"{path}: {why}; the outcome is unknown, look it up before retrying", hint=hint
        )

    def _connection_error(
        self,
        path: str,
        exc: requests.RequestException,
        failure: ConnectionFailure,
        *,
        kind: CallKind,
        started: datetime,
        correlation: WriteCorrelation | None,
    ) -> Exception:
        what = type(exc).__name__
        if kind is CallKind.WRITE and failure is ConnectionFailure.RESPONSE_LOST:
            return self._unknown(path, f"{what} after the request was sent", started, correlation)
        sent = failure is ConnectionFailure.RESPONSE_LOST
        if isinstance(exc, requests.Timeout):
            return PayTraceTimeoutError(f"{path}: {what}", path=path, sent=sent)
        return PayTraceConnectionError(f"{path}: {what}", path=path, sent=sent)
