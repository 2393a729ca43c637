"""The one place that decides whether a failed attempt is retried, and after how long.

Pure: no I/O, no clock, no global random state (the jitter source is a parameter), so every
branch is unit-tested. The rule that matters: a request that may have moved money is never
sent twice. Writes are retried only when the request provably never left this machine;
everything else about a write surfaces as an error for the caller (or paysync-core) to resolve.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from ._config import RetryConfig
from ._requester import CallKind

__all__ = ["RETRYABLE_STATUSES", "ConnectionFailure", "RetryDecision", "backoff", "decide_retry"]

#: HTTP statuses worth another try for calls without side effects.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ConnectionFailure(enum.Enum):
    #: The connection could not be opened: PayTrace cannot have seen the request.
    NOT_SENT = "not_sent"
    #: The request was (or may have been) sent, but no response arrived.
    RESPONSE_LOST = "response_lost"


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0
    reason: str = ""


def backoff(attempt: int, config: RetryConfig, random: Callable[[], float]) -> float:
    """Exponential backoff with "equal jitter": between half and all of the capped delay.

    ``attempt`` is 0 for the first retry. Half of the delay is kept so that retries never
    collapse to zero, the other half is random so that many clients spread out.
    """
    ceiling = min(config.backoff_max, config.backoff_base * (2**attempt))
    return ceiling / 2 + random() * ceiling / 2


def decide_retry(
    *,
    kind: CallKind,
    attempt: int,
    config: RetryConfig,
    random: Callable[[], float],
    status: int | None = None,
    retry_after: float | None = None,
    failure: ConnectionFailure | None = None,
    max_retries: int | None = None,
) -> RetryDecision:
    """Decide about the attempt that just failed.

    Exactly one of ``status`` (an HTTP answer) and ``failure`` (no answer) describes it.
    ``attempt`` counts retries already made (0 after the first attempt failed).
    ``max_retries`` overrides ``config.max_retries`` for one call.
    """
    limit = config.max_retries if max_retries is None else max_retries
    if attempt >= limit:
        return RetryDecision(False, reason=f"gave up after {attempt} retries")
    if failure is not None:
        if failure is ConnectionFailure.RESPONSE_LOST and kind is CallKind.WRITE:
            return RetryDecision(False, reason="a write may have been processed; never resent")
        return RetryDecision(True, backoff(attempt, config, random), f"connection {failure.value}")
    if status is None or status not in RETRYABLE_STATUSES:
        return RetryDecision(False, reason=f"HTTP {status} is not retryable")
    if kind is CallKind.WRITE:
        return RetryDecision(False, reason=f"HTTP {status} on a write is not retried")
    if retry_after is not None:
        return RetryDecision(
            True, min(max(retry_after, 0.0), config.retry_after_max), "retry-after"
        )
    return RetryDecision(True, backoff(attempt, config, random), f"HTTP {status}")
