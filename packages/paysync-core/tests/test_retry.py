from __future__ import annotations

from datetime import datetime, timezone

import pytest

from paysync_core import (
    Classification,
    DefaultClassifier,
    ErrorKind,
    NeedsHumanError,
    PermanentError,
    RetryableError,
    RetryPolicy,
    UnknownOutcomeError,
    backoff_delay,
    next_delay,
    parse_retry_after,
)
from paysync_core.testing import HttpStatusError

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
RETRY = Classification(ErrorKind.RETRYABLE)


@pytest.mark.parametrize("attempt", range(1, 12))
@pytest.mark.parametrize("r", [0.0, 0.5, 0.999999])
def test_backoff_bounds(attempt: int, r: float) -> None:
    policy = RetryPolicy(base_delay=0.5, multiplier=2.0, max_delay=10.0, jitter=0.5)
    ceiling = min(10.0, 0.5 * 2 ** (attempt - 1))
    delay = backoff_delay(policy, attempt, lambda: r)
    assert ceiling * 0.5 <= delay <= ceiling


def test_backoff_without_jitter_is_exact_and_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, multiplier=3.0, max_delay=20.0, jitter=0.0)
    assert [backoff_delay(policy, n, lambda: 0.7) for n in (1, 2, 3, 4)] == [1.0, 3.0, 9.0, 20.0]
    assert backoff_delay(policy, 10_000, lambda: 0.7) == 20.0


def test_next_delay_stops_at_max_attempts_and_on_permanent() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    assert next_delay(policy, 1, RETRY, lambda: 0.0) == 0.5
    assert next_delay(policy, 2, RETRY, lambda: 0.0) == 1.0
    assert next_delay(policy, 3, RETRY, lambda: 0.0) is None
    assert next_delay(policy, 1, Classification(ErrorKind.PERMANENT), lambda: 0.0) is None
    assert next_delay(policy, 1, Classification(ErrorKind.NEEDS_HUMAN), lambda: 0.0) is None


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(max_retry_after=60.0, jitter=0.0)
    hinted = Classification(ErrorKind.RETRYABLE, retry_after=7.0)
    assert next_delay(policy, 1, hinted, lambda: 0.0) == 7.0
    huge = Classification(ErrorKind.RETRYABLE, retry_after=3600.0)
    assert next_delay(policy, 1, huge, lambda: 0.0) == 60.0
    tiny = Classification(ErrorKind.RETRYABLE, retry_after=0.0)
    assert next_delay(policy, 3, tiny, lambda: 0.0) == 2.0  # backoff still applies


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=NOW) == 30.0
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:30 GMT", now=NOW) == 0.0
    assert parse_retry_after("soon", now=NOW) is None


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2.0)
    with pytest.raises(ValueError, match="multiplier"):
        RetryPolicy(multiplier=0.5)


@pytest.mark.parametrize(
    ("error", "kind", "retry_after"),
    [
        (RetryableError("busy", retry_after=3.0), ErrorKind.RETRYABLE, 3.0),
        (PermanentError("bad"), ErrorKind.PERMANENT, None),
        (NeedsHumanError("config"), ErrorKind.NEEDS_HUMAN, None),
        (UnknownOutcomeError("?"), ErrorKind.UNKNOWN_OUTCOME, None),
        (HttpStatusError(429, {"retry-after": "9"}), ErrorKind.RETRYABLE, 9.0),
        (HttpStatusError(408), ErrorKind.RETRYABLE, None),
        (HttpStatusError(401), ErrorKind.NEEDS_HUMAN, None),
        (HttpStatusError(422), ErrorKind.PERMANENT, None),
        (HttpStatusError(500), ErrorKind.UNKNOWN_OUTCOME, None),
        (HttpStatusError(503, {"Retry-After": "4"}), ErrorKind.UNKNOWN_OUTCOME, 4.0),
        (ConnectionRefusedError(), ErrorKind.RETRYABLE, None),
        (ConnectionResetError(), ErrorKind.UNKNOWN_OUTCOME, None),
        (TimeoutError(), ErrorKind.UNKNOWN_OUTCOME, None),
        (KeyError("bug"), ErrorKind.UNKNOWN_OUTCOME, None),
    ],
)
def test_default_classifier(error: Exception, kind: ErrorKind, retry_after: float | None) -> None:
    verdict = DefaultClassifier(clock=lambda: NOW).classify(error)
    assert verdict.kind is kind
    assert verdict.retry_after == retry_after
