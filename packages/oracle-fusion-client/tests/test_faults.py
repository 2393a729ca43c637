"""Every emulator fault kind, observed through the client (in-process and over TCP)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from oracle_fusion_client import (
    BasicAuth,
    FusionAuthError,
    FusionClient,
    FusionConnectionError,
    FusionRateLimitError,
    FusionServerError,
    FusionTimeoutError,
    NewStandardReceipt,
    RetryConfig,
    Timeouts,
)
from oracle_fusion_client.emulator import Fault, FusionEmulator, running_emulator

BASE = "https://fusion.emulator"


def _receipt(number: str) -> NewStandardReceipt:
    return NewStandardReceipt(
        ReceiptNumber=number,
        ReceiptMethod="Manual",
        BusinessUnit="Vision Operations",
        Amount=Decimal("10.00"),
        Currency="USD",
    )


def _client(emulator: FusionEmulator, sleeps: list[float]) -> FusionClient:
    return FusionClient(
        base_url=BASE,
        auth=BasicAuth("u", "p"),
        session=emulator.session(BASE),
        retry=RetryConfig(max_retries=2),
        sleep=sleeps.append,
        rand=lambda: 0.5,
    )


def test_latency_delays_one_matching_call() -> None:
    emulator = FusionEmulator()
    client = _client(emulator, [])
    emulator.inject(Fault("latency", delay=0.3, method="GET"))
    started = time.monotonic()
    assert client.standard_receipts.find_by_number("x") is None
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert client.standard_receipts.find_by_number("x") is None  # consumed: no delay now
    assert time.monotonic() - started < 0.3


def test_latency_over_tcp_trips_the_read_timeout() -> None:
    with running_emulator() as (url, emulator):
        client = FusionClient(
            base_url=url,
            auth=BasicAuth("u", "p"),
            timeouts=Timeouts(connect=5, read=0.2),
            retry=RetryConfig(max_retries=0),
        )
        emulator.inject(Fault("latency", delay=0.6, method="GET"))
        with pytest.raises(FusionTimeoutError):
            client.standard_receipts.find_by_number("x")
        assert client.standard_receipts.find_by_number("x") is None


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_with_backoff(status: int) -> None:
    emulator = FusionEmulator()
    sleeps: list[float] = []
    client = _client(emulator, sleeps)
    emulator.inject(Fault("status", status=status, times=2, method="GET"))
    assert client.standard_receipts.find_by_number("x") is None
    assert sleeps == [0.25, 0.5]  # full jitter 0.5 of 0.5 * 2**n


def test_500_is_not_retried() -> None:
    emulator = FusionEmulator()
    sleeps: list[float] = []
    client = _client(emulator, sleeps)
    emulator.inject(Fault("status", status=500, method="GET"))
    with pytest.raises(FusionServerError) as info:
        client.standard_receipts.find_by_number("x")
    assert info.value.status_code == 500
    assert sleeps == []


def test_429_sends_retry_after_on_the_wire() -> None:
    emulator = FusionEmulator()
    emulator.inject(Fault("status", status=429, retry_after=7))
    response = emulator.session(BASE).get(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/standardReceipts", auth=("u", "p")
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    client = _client(emulator, [])
    emulator.inject(Fault("status", status=429, retry_after=7, times=3))
    with pytest.raises(FusionRateLimitError) as info:
        client.standard_receipts.find_by_number("x")
    assert info.value.retry_after == 7.0


def test_reset_drops_the_connection_before_processing() -> None:
    emulator = FusionEmulator()
    client = _client(emulator, [])
    emulator.inject(Fault("reset", method="POST", path="standardReceipts", times=3))
    with pytest.raises(FusionConnectionError):
        client.standard_receipts.create(_receipt("R-1"))
    assert emulator.state.records["standardReceipts"] == {}  # never processed


def test_timeout_after_commit_over_tcp_is_resolved_by_lookup() -> None:
    with running_emulator() as (url, emulator):
        client = FusionClient(
            base_url=url, auth=BasicAuth("u", "p"), sleep=lambda _: None, rand=lambda: 0.0
        )
        emulator.inject(Fault("timeout_after_commit", method="POST", path="standardReceipts"))
        receipt = client.standard_receipts.create(_receipt("T-1"))
        assert receipt.ReceiptNumber == "T-1"
        assert len(emulator.state.records["standardReceipts"]) == 1


def test_expired_token_is_a_401_with_an_oracle_body() -> None:
    emulator = FusionEmulator()
    emulator.inject(Fault("expired_token"))
    response = emulator.session(BASE).get(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/standardReceipts", auth=("u", "p")
    )
    assert response.status_code == 401
    client = _client(emulator, [])
    emulator.inject(Fault("expired_token", times=2))
    with pytest.raises(FusionAuthError) as info:
        client.standard_receipts.find_by_number("x")
    assert info.value.status_code == 401


def test_daily_api_limit_is_a_429_until_midnight() -> None:
    emulator = FusionEmulator()
    sleeps: list[float] = []
    client = _client(emulator, sleeps)
    emulator.inject(Fault("api_limit", times=3))
    with pytest.raises(FusionRateLimitError) as info:
        client.standard_receipts.find_by_number("x")
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 86400
    assert sleeps == [60.0, 60.0]  # the hint is honoured at RetryConfig.max_retry_after
    assert "daily API request limit" in str(info.value.detail)
    assert client.standard_receipts.find_by_number("x") is None  # quota back
