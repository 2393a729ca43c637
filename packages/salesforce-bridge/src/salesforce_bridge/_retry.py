"""The one retry decision: whether to retry a failed call, and after how long.

Only idempotent calls are retried (reads, queries, describe, and upserts keyed by an external
id or record id). A create or publish that failed in transit has an *unknown outcome*: it is
raised to the caller, who resolves it by lookup (for example a query by external id).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import SalesforceBridgeError, SalesforceConnectionError, SalesforceStatusError

__all__ = ["RETRYABLE_CODES", "RetryConfig", "retry_delay"]

RETRYABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
)


@dataclass(frozen=True)
class RetryConfig:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**attempt))``.

    A server ``Retry-After`` wins over the backoff but is capped at ``retry_after_cap``.
    ``max_retries=0`` turns retries off.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0


def retry_delay(
    error: SalesforceBridgeError,
    attempt: int,
    *,
    idempotent: bool,
    config: RetryConfig,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or ``None`` to give up.

    Checks, in order: budget and idempotency; the server's ``Retry-After`` hint; the status
    (408, 429, >= 500) or Salesforce error code (``UNABLE_TO_LOCK_ROW``...); connection errors.
    """
    if attempt >= config.max_retries or not idempotent:
        return None
    if isinstance(error, SalesforceStatusError):
        retryable = (
            error.status_code in {408, 429}
            or error.status_code >= 500
            or any(e.code in RETRYABLE_CODES for e in error.errors)
        )
        if not retryable:
            return None
        if retry_after is not None:
            return max(0.0, min(retry_after, config.retry_after_cap))
    elif not isinstance(error, SalesforceConnectionError):
        return None
    ceiling = min(config.backoff_cap, config.backoff_base * (2**attempt))
    return rand() * ceiling
