"""One HTTP exchange with PayTrace over ``requests``, and what a failure of it means.

Nothing here retries or classifies PayTrace's answers; it sends bytes, reads bytes, and tells
whether a failed exchange can have reached the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ._retry import ConnectionFailure

__all__ = ["RawResponse", "connection_failure_kind", "encode_json", "post"]


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: Mapping[str, Any] | None
    headers: Mapping[str, str]

    @property
    def request_id(self) -> str | None:
        return self.headers.get("X-Request-Id")


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_json(body: Mapping[str, Any]) -> bytes:
    """Compact JSON; a Decimal becomes a two-place string, as PayTrace expects amounts."""
    return json.dumps(body, separators=(",", ":"), default=_json_default).encode()


def _decode(response: requests.Response) -> Mapping[str, Any] | None:
    try:
        decoded: object = response.json()
    except ValueError:
        return None
    return cast(Mapping[str, Any], decoded) if isinstance(decoded, dict) else None


def post(
    session: requests.Session,
    url: str,
    *,
    data: bytes | Mapping[str, str],
    headers: Mapping[str, str],
    timeout: float | tuple[float, float],
) -> RawResponse:
    """POST and read the whole response. Raises ``requests.RequestException`` on failure.

    ``data`` is a JSON body already encoded, or form fields (which requests encodes). The
    response headers stay requests' case-insensitive mapping: proxies may lowercase them.
    """
    response = session.post(url, data=data, headers=dict(headers), timeout=timeout)
    try:
        return RawResponse(response.status_code, _decode(response), response.headers)
    finally:
        response.close()


def connection_failure_kind(exc: requests.RequestException) -> ConnectionFailure:
    """Whether PayTrace can have seen the request that failed with ``exc``.

    Only a failure to open the connection proves that nothing was sent. A read timeout, a
    reset or a half-received response all leave the outcome unknown.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ConnectionFailure.NOT_SENT
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return ConnectionFailure.NOT_SENT
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
        pending.extend(a for a in current.args if isinstance(a, BaseException))
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        if current.__context__ is not None:
            pending.append(current.__context__)
    return ConnectionFailure.RESPONSE_LOST
