"""Exceptions raised by :mod:`paytrace_client`.

Every exception derives from :class:`PayTraceError`::

    PayTraceError
    ├── PayTraceInputError (also ValueError)   bad input caught before anything is sent
    ├── PayTraceConnectionError                the network failed; ``sent`` says whether the
    │   │                                      request may have reached PayTrace
    │   └── PayTraceTimeoutError
    ├── PayTraceOutcomeUnknownError            a write may or may not have been processed;
    │                                          carries a :class:`LookupHint` to resolve it
    └── PayTraceStatusError                    PayTrace answered, but not with success
        ├── PayTraceHTTPError                  no usable PayTrace JSON body (5xx, HTML, ...)
        │   └── PayTraceRateLimitError         HTTP 429, with ``retry_after``
        ├── PayTraceAuthError                  invalid_grant / invalid_token / code 981
        ├── PayTraceAPIError                   a JSON body with ``success: false``
        │   ├── PayTraceValidationError        ``response_code`` 1 with the ``errors`` map
        │   │   ├── PayTraceNotFoundError      codes 30, 58, 80, 811
        │   │   ├── PayTraceStateError         codes 816, 817, 818 (lifecycle rules)
        │   │   └── PayTraceDuplicateError     code 171 (customer id already used)
        │   └── PayTraceDeclinedError          102, 103 (auto-voided), 107, 110, 113, 125

The decision between these classes is always made from the JSON body (``success``,
``response_code``, ``errors``), whatever the HTTP status: PayTrace answers errors with 200
or 400 depending on the endpoint. Messages never contain card numbers, CSCs, passwords or
tokens; the ``body`` attribute holds PayTrace's response, which only ever carries masked
card numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "DECLINE_CODES",
    "NOT_FOUND_CODES",
    "STATE_CODES",
    "LookupHint",
    "PayTraceAPIError",
    "PayTraceAuthError",
    "PayTraceConnectionError",
    "PayTraceDeclinedError",
    "PayTraceDuplicateError",
    "PayTraceError",
    "PayTraceHTTPError",
    "PayTraceInputError",
    "PayTraceNotFoundError",
    "PayTraceOutcomeUnknownError",
    "PayTraceRateLimitError",
    "PayTraceStateError",
    "PayTraceStatusError",
    "PayTraceTimeoutError",
    "PayTraceValidationError",
]

#: ``response_code`` values that mean "not approved" (S4's classification plus 103).
DECLINE_CODES = frozenset({102, 103, 107, 110, 113, 125})
#: ``errors`` keys that mean the referenced object does not exist.
NOT_FOUND_CODES = frozenset({"30", "58", "80", "811"})
#: ``errors`` keys that mean the transaction is in the wrong lifecycle state.
STATE_CODES = frozenset({"816", "817", "818"})
DUPLICATE_CUSTOMER_CODE = "171"
PERMISSION_CODE = "981"


class PayTraceError(Exception):
    """Root of every exception raised by this package."""


class PayTraceInputError(PayTraceError, ValueError):
    """A request argument failed local validation; nothing was sent.

    ``field`` names the argument (dotted for nested values, e.g. ``credit_card.number``) and
    ``problem`` says what is wrong with it. The offending value is never included when it is
    card data.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class PayTraceConnectionError(PayTraceError):
    """The HTTP exchange failed before a response arrived.

    ``sent`` is False only when the request provably never reached the server (for example the
    TCP connection could not be opened); such failures are safe to retry for any call.
    """

    def __init__(self, message: str, *, path: str, sent: bool) -> None:
        self.path = path
        self.sent = sent
        super().__init__(message)


class PayTraceTimeoutError(PayTraceConnectionError):
    """The server did not answer in time."""


@dataclass(frozen=True)
class LookupHint:
    """What is needed to find out whether a write of unknown outcome took effect.

    PayTrace v1 has no idempotency key; a transaction is found again through the transaction
    exports, filtered by the time window and matched on ``invoice_id`` / ``amount`` /
    ``customer_id``. :meth:`paytrace_client.PayTraceClient.find_transaction` performs that lookup.
    """

    path: str
    started_at: datetime
    finished_at: datetime
    invoice_id: str | None = None
    amount: Decimal | None = None
    customer_id: str | None = None
    transaction_id: int | None = None
    check_transaction_id: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict[str, str])


class PayTraceOutcomeUnknownError(PayTraceError):
    """A write may or may not have been processed by PayTrace.

    It is never retried blindly (that could charge a card twice). Resolve it with
    ``client.find_transaction(err.hint)`` once PayTrace's exports catch up.
    """

    def __init__(self, message: str, *, hint: LookupHint) -> None:
        self.hint = hint
        super().__init__(message)


class PayTraceStatusError(PayTraceError):
    """PayTrace answered, but not with a success."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body: Mapping[str, Any] = body if body is not None else {}
        self.request_id = request_id
        self.code = code
        suffix = f" (HTTP {status_code}"
        suffix += f", request id {request_id})" if request_id else ")"
        super().__init__(message + suffix)


class PayTraceHTTPError(PayTraceStatusError):
    """An HTTP error without a usable PayTrace JSON body (502 from a proxy, HTML, ...)."""


class PayTraceRateLimitError(PayTraceHTTPError):
    """HTTP 429; ``retry_after`` is the server's hint in seconds, if it sent one."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        retry_after: float | None,
        body: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)


class PayTraceAuthError(PayTraceStatusError):
    """The credentials or the access token were refused (``invalid_grant``, ``invalid_token``,
    error 981 "Log in failed for insufficient permissions.")."""


class PayTraceAPIError(PayTraceStatusError):
    """A PayTrace JSON response with ``success: false``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response_code: int,
        status_message: str,
        body: Mapping[str, Any],
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        self.response_code = response_code
        self.status_message = status_message
        super().__init__(
            message, status_code=status_code, body=body, request_id=request_id, code=code
        )


class PayTraceValidationError(PayTraceAPIError):
    """``response_code`` 1: PayTrace rejected the request; ``errors`` keeps every code and
    message exactly as sent (``{"35": ["Please provide a valid Credit Card Number."]}``)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response_code: int,
        status_message: str,
        errors: Mapping[str, list[str]],
        body: Mapping[str, Any],
        request_id: str | None = None,
    ) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        first = next(iter(self.errors), None)
        super().__init__(
            message,
            status_code=status_code,
            response_code=response_code,
            status_message=status_message,
            body=body,
            request_id=request_id,
            code=first,
        )

    @property
    def codes(self) -> list[str]:
        """The error codes, in the order PayTrace sent them."""
        return list(self.errors)


class PayTraceNotFoundError(PayTraceValidationError):
    """The transaction, check or customer referenced does not exist (30, 58, 80, 811)."""


class PayTraceStateError(PayTraceValidationError):
    """The transaction is in the wrong state: not capturable (816), not refundable because
    unsettled (817), or not voidable because settled (818)."""


class PayTraceDuplicateError(PayTraceValidationError):
    """The customer id is already used by another vault profile (171)."""


class PayTraceDeclinedError(PayTraceAPIError):
    """The payment was not approved (102 and friends), or approved and then auto-voided by the
    account's AVS/CSC rules (103, ``auto_voided`` True). ``transaction_id`` and the
    processor's ``approval_message`` are kept."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response_code: int,
        status_message: str,
        body: Mapping[str, Any],
        request_id: str | None = None,
    ) -> None:
        raw_id = body.get("transaction_id", body.get("check_transaction_id"))
        self.transaction_id: int | None = raw_id if isinstance(raw_id, int) else None
        approval = body.get("approval_message")
        self.approval_message: str = approval.strip() if isinstance(approval, str) else ""
        self.auto_voided = response_code == 103
        super().__init__(
            message,
            status_code=status_code,
            response_code=response_code,
            status_message=status_message,
            body=body,
            request_id=request_id,
            code=str(response_code),
        )
