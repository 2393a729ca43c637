"""The pure retry decision and its backoff bounds."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracle_fusion_client import ConnectionFailure, RetryConfig, retry_delay

CONFIG = RetryConfig(max_retries=3, backoff_base=0.5, backoff_cap=4.0, max_retry_after=30.0)
decide = functools.partial(retry_delay, config=CONFIG)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_retries_transient_statuses(status: int) -> None:
    delay = decide(attempt=0, method="GET", write_safe=False, status=status, rand=lambda: 1.0)
    assert delay == 0.5


@pytest.mark.parametrize("status", [400, 401, 404, 409, 412, 500])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert decide(attempt=0, method="GET", write_safe=False, status=status) is None


def test_unsafe_write_is_not_retried_unless_never_sent() -> None:
    assert decide(attempt=0, method="POST", write_safe=False, status=503) is None
    lost = ConnectionFailure.LOST
    assert decide(attempt=0, method="POST", write_safe=False, failure=lost) is None
    never = ConnectionFailure.NOT_SENT
    assert decide(attempt=0, method="POST", write_safe=False, failure=never) is not None


def test_safe_write_is_retried() -> None:
    assert decide(attempt=0, method="POST", write_safe=True, status=503) is not None
    assert (
        decide(attempt=0, method="POST", write_safe=True, failure=ConnectionFailure.LOST)
        is not None
    )


def test_retry_after_is_honoured_and_capped() -> None:
    assert decide(attempt=0, method="GET", write_safe=False, status=429, retry_after=12) == 12
    assert decide(attempt=0, method="GET", write_safe=False, status=429, retry_after=999) == 30.0


def test_budget_is_respected() -> None:
    assert decide(attempt=3, method="GET", write_safe=False, status=503) is None
    none = RetryConfig(max_retries=0)
    assert decide(attempt=0, method="GET", write_safe=False, config=none, status=503) is None


def test_no_outcome_means_no_retry() -> None:
    assert decide(attempt=0, method="GET", write_safe=False, config=CONFIG) is None


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryConfig(max_retries=-1)


@given(attempt=st.integers(0, 2), r=st.floats(0.0, 1.0))
def test_backoff_is_jittered_within_exponential_bounds(attempt: int, r: float) -> None:
    delay = decide(attempt=attempt, method="GET", write_safe=False, status=503, rand=lambda: r)
    assert delay is not None
    ceiling = min(CONFIG.backoff_cap, CONFIG.backoff_base * 2**attempt)
    assert 0.0 <= delay <= ceiling
    assert delay == pytest.approx(ceiling * r)
