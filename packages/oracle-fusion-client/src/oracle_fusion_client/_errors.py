"""Exceptions raised by :mod:`oracle_fusion_client`.

Every exception derives from :class:`FusionError`::

    FusionError
    ├── FusionInputError (also ValueError)     bad input caught before anything is sent
    ├── FusionJobTimeoutError                  an ESS job did not finish in time
    ├── FusionRateNotFoundError (LookupError)  no daily rate for the pair, date and type
    ├── FusionConnectionError                  the network failed; ``sent`` says whether the
    │   │                                      request may have reached Fusion
    │   └── FusionTimeoutError
    └── FusionStatusError                      Fusion answered, but not with success
        │                                      (status_code, error_code, title, detail,
        │                                      error_path, details, body, request_id)
        ├── FusionBadRequestError              HTTP 400 (validation, business rules)
        │   ├── FusionDuplicateError           AR_RCP_DUP_NUM and other "already exists"
        │   └── FusionBatchError               a batch request failed (all or none)
        ├── FusionAuthError                    HTTP 401 / 403, or an OAuth token error
        ├── FusionNotFoundError                HTTP 404
        ├── FusionConflictError                HTTP 409
        ├── FusionPreconditionFailedError      HTTP 412 (``If-Match`` ETag mismatch)
        ├── FusionRateLimitError               HTTP 429, with ``retry_after``
        ├── FusionServerError                  HTTP >= 500
        └── FusionSoapFaultError               a SOAP fault (``fault_code``), in ``_soap.py``

The class is chosen from the HTTP status by :func:`status_error_class`, then refined by the
Oracle error code. Both error body forms are understood: the JSON error schema of
REST-Framework-Version >= 4 (``title``, ``detail``, ``o:errorCode``, ``o:errorPath``,
``o:errorDetails``) and the ``text/plain`` message of older framework versions, whose Oracle
code is recovered from the known message catalogue (:data:`ORACLE_MESSAGES`). Messages never
contain credentials: request headers are not kept, and ``body`` is the server's answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, cast

__all__ = [
    "ORACLE_MESSAGES",
    "ErrorDetail",
    "FusionAuthError",
    "FusionBadRequestError",
    "FusionBatchError",
    "FusionConflictError",
    "FusionConnectionError",
    "FusionDuplicateError",
    "FusionError",
    "FusionInputError",
    "FusionJobTimeoutError",
    "FusionNotFoundError",
    "FusionPreconditionFailedError",
    "FusionRateLimitError",
    "FusionRateNotFoundError",
    "FusionServerError",
    "FusionStatusError",
    "FusionTimeoutError",
    "error_from_response",
    "status_error_class",
]

#: Oracle's documented messages, verbatim, by error code (reference §3.1 and §3.2).
ORACLE_MESSAGES: Mapping[str, str] = {
    "AR_RCP_DUP_NUM": (
        "A receipt with this number, date, amount and customer already exists. "
        "Enter a unique receipt number."
    ),
    "FND_CMN_REQ_ATTRIB_API_SERV": "You must provide a value for the attribute {ATTRIBUTE_NAME}.",
    "AR_RAPI_BU_INVALID": "The business unit is invalid.",
    "AR_INVAL_RECEIPT_MTH_ID": "The receipt method that you selected is invalid.",
    "AR_BOE_OBSOLETE": (
        "Bills of exchange receipt methods are no longer valid. Enter another receipt method."
    ),
    "AR_RAPI_CURR_CODE_INVALID": "The currency is invalid.",
    "AR_BILL_TO_CUST_NOT_FOUND": (
        "The criteria you entered didn't return a bill-to customer. Ensure that you entered "
        "the correct customer name and account number."
    ),
    "AR_BU_NOT_FOUND": "The business unit you entered doesn't exist.",
    "AR_BATCH_SOURCE_NOT_FOUND": "The transaction source you entered doesn't exist.",
    "AR_FUNC_CURRENCY_REQ": (
        "The currency you entered is invalid. You can only create an invoice in the ledger "
        "currency."
    ),
}

DUPLICATE_CODES = frozenset({"AR_RCP_DUP_NUM"})
_CODE_PREFIX = re.compile(r"^([A-Z][A-Z0-9]*_[A-Z0-9_]+)\s*[:-]\s*(.*)$", re.DOTALL)


class FusionError(Exception):
    """Root of every exception raised by this package."""


class FusionInputError(FusionError, ValueError):
    """An argument failed local validation; nothing was sent."""


class FusionJobTimeoutError(FusionError):
    """An ESS job did not reach a terminal state in time; ``last_status`` is what was seen."""

    def __init__(self, request_id: str, last_status: str | None, waited: float) -> None:
        self.request_id = request_id
        self.last_status = last_status
        self.waited = waited
        super().__init__(
            f"ESS request {request_id} still {last_status or 'unknown'} after {waited:.0f}s"
        )


class FusionRateNotFoundError(FusionError, LookupError):
    """``currencyRates`` holds no rate for the pair on that date and of that type.

    Daily rates are loaded during the day (often by a scheduled import), so a missing rate is
    usually "not yet" rather than "never": callers decide whether to retry later.
    """

    def __init__(
        self, from_currency: str, to_currency: str, conversion_date: date, conversion_type: str
    ) -> None:
        self.from_currency = from_currency
        self.to_currency = to_currency
        self.conversion_date = conversion_date
        self.conversion_type = conversion_type
        super().__init__(
            f"no {conversion_type} rate from {from_currency} to {to_currency} on "
            f"{conversion_date.isoformat()} in currencyRates"
        )


class FusionConnectionError(FusionError):
    """The HTTP exchange failed before a response arrived.

    ``sent`` is False only when the request provably never reached the server (the connection
    could not be opened); such failures are safe to retry for any call. Otherwise the outcome
    of a write is unknown and must be resolved by looking the record up by its natural key.
    """

    def __init__(self, message: str, *, method: str, url: str, sent: bool) -> None:
        self.method = method
        self.url = url
        self.sent = sent
        super().__init__(f"{message} ({method} {url}, sent={sent})")


class FusionTimeoutError(FusionConnectionError):
    """Fusion did not answer in time."""


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of ``o:errorDetails`` (or the whole plain-text message)."""

    detail: str
    error_code: str | None = None
    error_path: str | None = None


class FusionStatusError(FusionError):
    """Fusion answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        error_path: str | None = None,
        details: Sequence[ErrorDetail] = (),
        body: str = "",
        request_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.title = title
        self.detail = detail
        self.error_path = error_path
        self.details = tuple(details)
        self.body = body
        self.request_id = request_id
        #: how many attempts the client made before giving up (set by the client)
        self.attempts = 1
        suffix = f" (HTTP {status_code}"
        suffix += f", {error_code}" if error_code else ""
        suffix += f", request id {request_id})" if request_id else ")"
        super().__init__(message + suffix)


class FusionBadRequestError(FusionStatusError):
    """HTTP 400: validation or a business rule refused the request."""


class FusionDuplicateError(FusionBadRequestError):
    """The natural key is already taken (``AR_RCP_DUP_NUM``)."""


class FusionBatchError(FusionBadRequestError):
    """A batch request failed; by ADF's all-or-none rule nothing was processed."""


class FusionAuthError(FusionStatusError):
    """HTTP 401 / 403, or the identity domain refused to issue a token."""


class FusionNotFoundError(FusionStatusError):
    """HTTP 404: no such resource item."""


class FusionConflictError(FusionStatusError):
    """HTTP 409."""


class FusionPreconditionFailedError(FusionStatusError):
    """HTTP 412: the item changed since the ETag sent in ``If-Match``."""


class FusionRateLimitError(FusionStatusError):
    """HTTP 429; ``retry_after`` is the server's hint in seconds, if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class FusionServerError(FusionStatusError):
    """HTTP >= 500."""


_BY_STATUS: Mapping[int, type[FusionStatusError]] = {
    400: FusionBadRequestError,
    401: FusionAuthError,
    403: FusionAuthError,
    404: FusionNotFoundError,
    409: FusionConflictError,
    412: FusionPreconditionFailedError,
    429: FusionRateLimitError,
}


def status_error_class(status_code: int, error_code: str | None = None) -> type[FusionStatusError]:
    """The one status (and Oracle code) to exception class table."""
    if error_code in DUPLICATE_CODES:
        return FusionDuplicateError
    if status_code >= 500:
        return FusionServerError
    return _BY_STATUS.get(status_code, FusionStatusError)


def _code_for_message(message: str) -> str | None:
    for code, template in ORACLE_MESSAGES.items():
        head = template.split("{", 1)[0]
        if message == template or (head and "{" in template and message.startswith(head)):
            return code
        if message.startswith(template):
            return code
    return None


def _str_or_none(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _parse_json_error(data: Mapping[str, Any]) -> tuple[str | None, list[ErrorDetail], str | None]:
    parts = data.get("parts")
    if isinstance(parts, list):  # a failed batch lists only its failing parts
        return _parse_batch_error(cast(list[object], parts))
    title = _str_or_none(data.get("title"))
    details: list[ErrorDetail] = []
    raw_details = data.get("o:errorDetails")
    if isinstance(raw_details, list):
        for entry in cast(list[object], raw_details):
            if isinstance(entry, dict):
                item = cast(dict[str, Any], entry)
                details.append(
                    ErrorDetail(
                        detail=str(item.get("detail") or ""),
                        error_code=_str_or_none(item.get("o:errorCode")),
                        error_path=_str_or_none(item.get("o:errorPath")),
                    )
                )
    top_detail = _str_or_none(data.get("detail"))
    top_code = _str_or_none(data.get("o:errorCode"))
    if top_detail is not None or top_code is not None:
        top = ErrorDetail(
            detail=top_detail or "",
            error_code=top_code,
            error_path=_str_or_none(data.get("o:errorPath")),
        )
        if top not in details:  # the top level often repeats the first errorDetails entry
            details.insert(0, top)
    return title, details, top_detail


def _parse_batch_error(parts: list[object]) -> tuple[str | None, list[ErrorDetail], str | None]:
    title: str | None = None
    details: list[ErrorDetail] = []
    top_detail: str | None = None
    for entry in parts:
        if not isinstance(entry, dict):
            continue
        payload = cast(dict[str, Any], entry).get("payload")
        if isinstance(payload, dict):
            part_title, part_details, part_top = _parse_json_error(cast(dict[str, Any], payload))
            title = title or part_title
            top_detail = top_detail or part_top
            details.extend(part_details)
        elif isinstance(payload, str) and payload.strip():
            details.append(ErrorDetail(detail=payload.strip(), error_code=None, error_path=None))
    return title, details, top_detail


def error_from_response(
    status_code: int,
    body: str,
    headers: Mapping[str, str],
    *,
    method: str,
    url: str,
) -> FusionStatusError:
    """Build the exception for an error response, from either body form."""
    content_type = headers.get("Content-Type", "")
    request_id = headers.get("X-ORACLE-DMS-ECID") or headers.get("X-Request-Id")
    title: str | None = None
    details: list[ErrorDetail] = []
    parsed: object = None
    if "json" in content_type or body.lstrip().startswith("{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        title, details, _ = _parse_json_error(cast(dict[str, Any], parsed))
    elif body.strip() and not body.lstrip().startswith("<"):
        text = body.strip()
        match = _CODE_PREFIX.match(text)
        if match:
            details = [ErrorDetail(detail=match.group(2), error_code=match.group(1))]
        else:
            details = [ErrorDetail(detail=text, error_code=_code_for_message(text))]
    first = next((d for d in details if d.error_code), details[0] if details else None)
    error_code = first.error_code if first else None
    detail = first.detail if first else None
    error_path = first.error_path if first else None
    cls = status_error_class(status_code, error_code)
    message = f"{method} {url} failed: {detail or title or 'no error detail'}"
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "error_code": error_code,
        "title": title,
        "detail": detail,
        "error_path": error_path,
        "details": details,
        "body": body,
        "request_id": request_id,
    }
    if cls is FusionRateLimitError:
        return FusionRateLimitError(
            message, retry_after=parse_retry_after(headers.get("Retry-After")), **kwargs
        )
    return cls(message, **kwargs)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header, in delta-seconds or HTTP-date form."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
        return max(seconds, 0.0)
    return seconds if seconds >= 0 else None
