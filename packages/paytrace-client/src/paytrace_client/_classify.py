"""Turning one PayTrace HTTP response into a success body or the right exception.

PayTrace answers errors with 200 or 400 depending on the endpoint and the account, so the
decision is made from the JSON body (``success``, ``response_code``, ``errors``); the HTTP
status matters only when there is no PayTrace body at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._errors import (
    DECLINE_CODES,
    DUPLICATE_CUSTOMER_CODE,
    NOT_FOUND_CODES,
    PERMISSION_CODE,
    STATE_CODES,
    PayTraceAPIError,
    PayTraceAuthError,
    PayTraceDeclinedError,
    PayTraceDuplicateError,
    PayTraceHTTPError,
    PayTraceNotFoundError,
    PayTraceRateLimitError,
    PayTraceStateError,
    PayTraceStatusError,
    PayTraceValidationError,
)

__all__ = ["classify", "is_invalid_token", "parse_retry_after"]

_VALIDATION_CLASSES: tuple[tuple[frozenset[str], type[PayTraceValidationError]], ...] = (
    (NOT_FOUND_CODES, PayTraceNotFoundError),
    (STATE_CODES, PayTraceStateError),
    (frozenset({DUPLICATE_CUSTOMER_CODE}), PayTraceDuplicateError),
)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; None if absent or a date."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def is_invalid_token(status: int, body: Mapping[str, Any] | None) -> bool:
    """True when PayTrace refused the bearer token itself (not the credentials)."""
    if body is not None and body.get("error") == "invalid_token":
        return True
    return status == 401 and (body is None or "success" not in body)


def _errors_map(body: Mapping[str, Any]) -> dict[str, list[str]]:
    raw = body.get("errors")
    if not isinstance(raw, Mapping):
        return {}
    result: dict[str, list[str]] = {}
    for key, messages in cast(Mapping[object, object], raw).items():
        if isinstance(messages, list):
            result[str(key)] = [str(m) for m in cast(list[object], messages)]
        else:
            result[str(key)] = [str(messages)]
    return result


def _describe(errors: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{code}: {' '.join(msgs)}" for code, msgs in errors.items())


def classify(
    *,
    path: str,
    status: int,
    body: Mapping[str, Any] | None,
    request_id: str | None,
    retry_after: float | None = None,
) -> dict[str, Any]:
    """Return the body of a successful response, or raise the matching ``PayTraceError``."""
    if body is None:
        if status == 429:
            raise PayTraceRateLimitError(
                f"{path}: rate limited",
                status_code=status,
                retry_after=retry_after,
                request_id=request_id,
            )
        raise PayTraceHTTPError(
            f"{path}: response is not PayTrace JSON", status_code=status, request_id=request_id
        )
    if "error" in body and "success" not in body:
        error = str(body.get("error"))
        description = str(body.get("error_description", ""))
        raise PayTraceAuthError(
            f"{path}: {error}: {description}".rstrip(": "),
            status_code=status,
            body=body,
            request_id=request_id,
            code=error,
        )
    success = body.get("success")
    response_code = body.get("response_code")
    code = response_code if isinstance(response_code, int) else 0
    message = str(body.get("status_message", ""))
    if success is True and code not in DECLINE_CODES:
        return dict(body)
    if success is None and status < 400:
        # Some endpoints (payment_fields/token/create) answer without the common envelope.
        return dict(body)
    if code in DECLINE_CODES:
        raise PayTraceDeclinedError(
            f"{path}: {message} [{code}]",
            status_code=status,
            response_code=code,
            status_message=message,
            body=body,
            request_id=request_id,
        )
    errors = _errors_map(body)
    if PERMISSION_CODE in errors:
        raise PayTraceAuthError(
            f"{path}: {_describe(errors)}",
            status_code=status,
            body=body,
            request_id=request_id,
            code=PERMISSION_CODE,
        )
    if errors:
        error_class = PayTraceValidationError
        for codes, candidate in _VALIDATION_CLASSES:
            if codes & errors.keys():
                error_class = candidate
                break
        raise error_class(
            f"{path}: {message} {_describe(errors)}",
            status_code=status,
            response_code=code,
            status_message=message,
            errors=errors,
            body=body,
            request_id=request_id,
        )
    if status == 429:
        raise PayTraceRateLimitError(
            f"{path}: rate limited",
            status_code=status,
            retry_after=retry_after,
            body=body,
            request_id=request_id,
        )
    if status >= 500 or success is None:
        raise PayTraceHTTPError(
            f"{path}: HTTP error", status_code=status, body=body, request_id=request_id
        )
    api_error: PayTraceStatusError = PayTraceAPIError(
        f"{path}: {message or 'unsuccessful response'} [{code}]",
        status_code=status,
        response_code=code,
        status_message=message,
        body=body,
        request_id=request_id,
        code=str(code),
    )
    raise api_error
