from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytrace_client._config import RetryConfig
from paytrace_client._requester import CallKind
from paytrace_client._retry import ConnectionFailure, backoff, decide_retry

CONFIG = RetryConfig(max_retries=3, backoff_base=0.5, backoff_max=4.0, retry_after_max=30.0)


def half() -> float:
    return 0.5


@pytest.mark.parametrize("kind", list(CallKind))
def test_connection_never_opened_is_retried_for_every_kind(kind: CallKind) -> None:
    decision = decide_retry(
        kind=kind, attempt=0, config=CONFIG, random=half, failure=ConnectionFailure.NOT_SENT
    )
    assert decision.retry


def test_lost_response_of_a_write_is_never_retried() -> None:
    decision = decide_retry(
        kind=CallKind.WRITE,
        attempt=0,
        config=CONFIG,
        random=half,
        failure=ConnectionFailure.RESPONSE_LOST,
    )
    assert not decision.retry
    assert "never resent" in decision.reason


def test_lost_response_of_a_read_is_retried() -> None:
    decision = decide_retry(
        kind=CallKind.READ,
        attempt=0,
        config=CONFIG,
        random=half,
        failure=ConnectionFailure.RESPONSE_LOST,
    )
    assert decision.retry


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_retry_reads_but_not_writes(status: int) -> None:
    read = decide_retry(kind=CallKind.READ, attempt=0, config=CONFIG, random=half, status=status)
    write = decide_retry(kind=CallKind.WRITE, attempt=0, config=CONFIG, random=half, status=status)
    assert read.retry
    assert not write.retry


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not decide_retry(
        kind=CallKind.READ, attempt=0, config=CONFIG, random=half, status=status
    ).retry


def test_retry_after_is_honoured_and_capped() -> None:
    honoured = decide_retry(
        kind=CallKind.READ, attempt=0, config=CONFIG, random=half, status=429, retry_after=7
    )
    capped = decide_retry(
        kind=CallKind.READ, attempt=0, config=CONFIG, random=half, status=429, retry_after=999
    )
    assert honoured.delay == 7
    assert capped.delay == CONFIG.retry_after_max


def test_gives_up_after_max_retries_and_per_call_override_wins() -> None:
    assert not decide_retry(
        kind=CallKind.READ, attempt=3, config=CONFIG, random=half, status=503
    ).retry
    assert not decide_retry(
        kind=CallKind.READ, attempt=0, config=CONFIG, random=half, status=503, max_retries=0
    ).retry
    assert decide_retry(
        kind=CallKind.READ, attempt=4, config=CONFIG, random=half, status=503, max_retries=9
    ).retry


@given(attempt=st.integers(min_value=0, max_value=60), r=st.floats(min_value=0, max_value=1))
def test_backoff_stays_within_half_and_full_capped_delay(attempt: int, r: float) -> None:
    ceiling = min(CONFIG.backoff_max, CONFIG.backoff_base * 2**attempt)
    delay = backoff(attempt, CONFIG, lambda: r)
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_grows_exponentially_until_the_cap() -> None:
    delays = [backoff(a, CONFIG, lambda: 1.0) for a in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
