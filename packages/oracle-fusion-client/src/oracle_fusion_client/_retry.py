"""The one retry decision: retry or not, and after how long.

:func:`retry_delay` is pure; the random source is passed in so that its bounds are testable.
It checks, in order: the attempt budget, whether the call may be repeated at all, the server's
``Retry-After`` hint (capped), the status (429, 502, 503, 504), then the connection-failure
kind. A write is repeatable only when Fusion cannot apply it twice: it carries
``Upsert-Mode: true`` or a natural key that Fusion rejects as a duplicate (``ReceiptNumber``),
or the request provably never left this process.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ConnectionFailure", "RetryConfig", "retry_delay"]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ConnectionFailure(enum.Enum):
    """How an exchange failed without a response."""

    NOT_SENT = "not_sent"  # the connection could not be opened: nothing reached Fusion
    LOST = "lost"  # reset or read timeout after sending: the outcome is unknown


@dataclass(frozen=True)
class RetryConfig:
    """Retry budget and backoff: ``base * 2**attempt`` with full jitter, at most ``cap``.

    ``max_retry_after`` caps the server's ``Retry-After`` hint; a hint above it is still
    honoured, at the cap.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("retry settings must not be negative")


def retry_delay(
    *,
    attempt: int,
    method: str,
    write_safe: bool,
    config: RetryConfig,
    status: int | None = None,
    retry_after: float | None = None,
    failure: ConnectionFailure | None = None,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or ``None`` to stop.

    ``attempt`` counts the retries already made (0 after the first try). Exactly one of
    ``status`` (a response arrived) and ``failure`` (none did) describes the outcome.
    """
    if attempt >= config.max_retries:
        return None
    repeatable = method.upper() in IDEMPOTENT_METHODS or write_safe
    if failure is ConnectionFailure.NOT_SENT:
        repeatable = True
    if not repeatable:
        return None
    if status is not None:
        if status not in RETRYABLE_STATUSES:
            return None
        if retry_after is not None:
            return min(max(retry_after, 0.0), config.max_retry_after)
    elif failure is None:
        return None
    ceiling = min(config.backoff_cap, config.backoff_base * (2**attempt))
    return ceiling * rand()
