"""Retry policy: error classification and backoff, as pure functions.

``classify`` turns any exception a port raises into one of four kinds; ``next_delay`` decides,
from the policy, the attempt number and that classification, whether to try again and after how
long. Randomness is injected (``rand`` returns a float in ``[0, 1)``) so the bounds are testable.
"""

from __future__ import annotations

import builtins
import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, cast

from ._errors import (
    ConfigurationError,
    NeedsHumanError,
    PermanentError,
    RetryableError,
    UnknownOutcomeError,
)

__all__ = [
    "Classification",
    "DefaultClassifier",
    "ErrorClassifier",
    "ErrorKind",
    "RetryPolicy",
    "backoff_delay",
    "next_delay",
    "parse_retry_after",
]


class ErrorKind(str, enum.Enum):
    RETRYABLE = "retryable"
    """Not applied; trying again may work."""
    PERMANENT = "permanent"
    """Not applied; trying again cannot work."""
    NEEDS_HUMAN = "needs_human"
    """Not applied; a person must fix data or configuration."""
    UNKNOWN_OUTCOME = "unknown_outcome"
    """Maybe applied; resolve by lookup before any retry."""


@dataclass(frozen=True)
class Classification:
    kind: ErrorKind
    retry_after: float | None = None
    """Server's hint in seconds (``Retry-After``), if any."""
    reason: str = ""


class ErrorClassifier(Protocol):
    def classify(self, error: BaseException) -> Classification: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff: attempt ``n`` waits ``min(max_delay, base_delay * multiplier**(n-1))``, jittered
    down by up to ``jitter`` of itself; a server ``Retry-After`` raises the wait to that value,
    capped at ``max_retry_after``. ``lookup_delays`` is the bounded schedule for re-checking an
    unknown outcome that a lookup cannot decide yet (e.g. export lag)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    lookup_delays: tuple[float, ...] = (1.0, 5.0, 15.0, 60.0, 120.0)
    park_after: float = 30.0
    """Waits longer than this park the flow (released, resumed later by any worker) instead of
    sleeping in the worker thread."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ConfigurationError("delays must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ConfigurationError("jitter must be within [0, 1]")
        if self.multiplier < 1.0:
            raise ConfigurationError("multiplier must be at least 1")
        if self.park_after < 0:
            raise ConfigurationError("park_after must not be negative")
        if any(d < 0 for d in self.lookup_delays):
            raise ConfigurationError("lookup_delays must not be negative")

    @property
    def longest_wait(self) -> float:
        """The longest wait this policy can ask for."""
        return max((self.max_delay, self.max_retry_after, *self.lookup_delays))

    @property
    def longest_sleep(self) -> float:
        """The longest wait spent sleeping in a worker thread (longer ones park the flow)."""
        return min(self.longest_wait, self.park_after)


def backoff_delay(policy: RetryPolicy, attempt: int, rand: Callable[[], float]) -> float:
    """Jittered exponential delay after failed attempt number ``attempt`` (1-based)."""
    exponent = max(attempt - 1, 0)
    # Guard against float overflow for absurd attempt numbers.
    raw = policy.base_delay * math.pow(policy.multiplier, min(exponent, 64))
    ceiling = min(policy.max_delay, raw)
    return ceiling * (1.0 - policy.jitter * rand())


def next_delay(
    policy: RetryPolicy,
    attempt: int,
    classification: Classification,
    rand: Callable[[], float],
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` to stop retrying.

    Only ``RETRYABLE`` failures (and ``UNKNOWN_OUTCOME`` ones the caller has resolved or may
    safely repeat) are retried; ``attempt >= max_attempts`` stops.
    """
    if classification.kind in (ErrorKind.PERMANENT, ErrorKind.NEEDS_HUMAN):
        return None
    if attempt >= policy.max_attempts:
        return None
    delay = backoff_delay(policy, attempt, rand)
    if classification.retry_after is not None:
        delay = max(delay, min(max(classification.retry_after, 0.0), policy.max_retry_after))
    return delay


def parse_retry_after(value: str, *, now: datetime) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date; ``None`` if unparseable."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max((moment - now).total_seconds(), 0.0)


_RETRYABLE_STATUS = frozenset({408, 425, 429})
_HUMAN_STATUS = frozenset({401, 403})


class DefaultClassifier:
    """A reasonable default for HTTP-ish errors.

    * :class:`~paysync_core.StepError` subclasses say what they are;
    * an exception with ``status_code``: 408/425/429 retryable (honouring a ``retry_after``
      attribute or a ``Retry-After`` header in ``headers``), 401/403 needs a human, other 4xx
      permanent, 5xx **unknown outcome** (a POST may have been applied before the error);
    * ``ConnectionRefusedError``: retryable (the request never reached the server);
    * ``TimeoutError``, ``ConnectionError`` and anything unrecognised: unknown outcome, so
      the engine looks before it retries.
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        from ._model import utc_now

        self._clock = clock or utc_now

    def classify(self, error: BaseException) -> Classification:
        name = type(error).__name__
        if isinstance(error, RetryableError):
            return Classification(ErrorKind.RETRYABLE, error.retry_after, name)
        if isinstance(error, PermanentError):
            return Classification(ErrorKind.PERMANENT, None, name)
        if isinstance(error, NeedsHumanError):
            return Classification(ErrorKind.NEEDS_HUMAN, None, name)
        if isinstance(error, UnknownOutcomeError):
            return Classification(ErrorKind.UNKNOWN_OUTCOME, None, name)
        status = getattr(error, "status_code", None)
        if isinstance(status, int):
            return self._by_status(status, error)
        if isinstance(error, ConnectionRefusedError):
            return Classification(ErrorKind.RETRYABLE, None, name)
        if isinstance(error, builtins.TimeoutError | builtins.ConnectionError):
            return Classification(ErrorKind.UNKNOWN_OUTCOME, None, name)
        return Classification(ErrorKind.UNKNOWN_OUTCOME, None, f"unclassified {name}")

    def _by_status(self, status: int, error: BaseException) -> Classification:
        reason = f"HTTP {status}"
        if status in _RETRYABLE_STATUS:
            return Classification(ErrorKind.RETRYABLE, self._retry_after(error), reason)
        if status in _HUMAN_STATUS:
            return Classification(ErrorKind.NEEDS_HUMAN, None, reason)
        if 400 <= status < 500:
            return Classification(ErrorKind.PERMANENT, None, reason)
        return Classification(ErrorKind.UNKNOWN_OUTCOME, self._retry_after(error), reason)

    def _retry_after(self, error: BaseException) -> float | None:
        hint = getattr(error, "retry_after", None)
        if isinstance(hint, int | float) and not isinstance(hint, bool):
            return float(hint)
        headers = getattr(error, "headers", None)
        if isinstance(headers, Mapping):
            for key, value in cast(Mapping[object, object], headers).items():
                if str(key).lower() == "retry-after":
                    return parse_retry_after(str(value), now=self._clock())
        return None
