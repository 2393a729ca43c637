"""The retry decision function and the bridge's retry loop (scripted with responses)."""

from __future__ import annotations

import datetime
from email.utils import format_datetime

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from salesforce_bridge import (
    RetryConfig,
    SalesforceAuthError,
    SalesforceBridge,
    SalesforceBridgeError,
    SalesforceConnectionError,
    SalesforceQuotaError,
    SalesforceSession,
    SalesforceTimeoutError,
    StaticSessionGrant,
    retry_delay,
    status_error,
)

CONFIG = RetryConfig(max_retries=3, backoff_base=0.5, backoff_cap=4.0, retry_after_cap=10.0)
LOCK = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}]


def one(_: float = 0) -> float:
    return 1.0


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (status_error(500, []), True),
        (status_error(503, []), True),
        (status_error(429, []), True),
        (status_error(408, []), True),
        (status_error(400, LOCK), True),
        (status_error(400, [{"errorCode": "INVALID_FIELD", "message": "x"}]), False),
        (status_error(404, []), False),
        (status_error(401, []), False),
        (SalesforceConnectionError("reset"), True),
        (SalesforceTimeoutError("slow"), True),
        (SalesforceAuthError("invalid_grant"), False),
        (SalesforceQuotaError(remaining=1, floor=1, limit=5), False),
    ],
)
def test_what_is_retryable(error: SalesforceBridgeError, retry: bool) -> None:
    delay = retry_delay(error, 0, idempotent=True, config=CONFIG, rand=one)
    assert (delay is not None) is retry
    assert retry_delay(error, 0, idempotent=False, config=CONFIG, rand=one) is None


def test_budget_and_retry_after() -> None:
    error = status_error(429, [])
    assert retry_delay(error, 3, idempotent=True, config=CONFIG) is None
    assert retry_delay(error, 0, idempotent=True, config=CONFIG, retry_after=3) == 3
    assert retry_delay(error, 0, idempotent=True, config=CONFIG, retry_after=999) == 10.0


@given(attempt=st.integers(min_value=0, max_value=2), r=st.floats(min_value=0, max_value=1))
def test_backoff_bounds(attempt: int, r: float) -> None:
    delay = retry_delay(
        status_error(500, []), attempt, idempotent=True, config=CONFIG, rand=lambda: r
    )
    assert delay is not None
    assert 0 <= delay <= min(4.0, 0.5 * 2**attempt)


INSTANCE = "https://acme.my.salesforce.com"
URL = f"{INSTANCE}/services/data/v62.0/sobjects/Account/001x"


def bridge(sleeps: list[float]) -> SalesforceBridge:
    grant = StaticSessionGrant(SalesforceSession(access_token="t", instance_url=INSTANCE))
    return SalesforceBridge(grant=grant, retry=CONFIG, sleep=sleeps.append, rand=lambda: 1.0)


def test_scripted_500_500_200() -> None:
    sleeps: list[float] = []
    with responses.RequestsMock(registry=responses.registries.OrderedRegistry) as rsps:
        rsps.get(URL, status=500, json=[{"errorCode": "UNKNOWN_EXCEPTION", "message": "x"}])
        rsps.get(URL, status=503, json=[], headers={"Retry-After": "2"})
        rsps.get(URL, status=400, json=LOCK)
        rsps.get(URL, json={"Id": "001x"})
        assert bridge(sleeps).get("Account", "001x")["Id"] == "001x"
    assert sleeps == [0.5, 2.0, 2.0]


def test_create_is_not_retried_on_connection_error() -> None:
    sleeps: list[float] = []
    with responses.RequestsMock() as rsps:
        rsps.post(
            f"{INSTANCE}/services/data/v62.0/composite/sobjects",
            body=requests.ConnectionError("reset"),
        )
        with pytest.raises(SalesforceConnectionError):
            bridge(sleeps).create_many("Account", [{"Name": "x"}])
        assert len(rsps.calls) == 1
    assert sleeps == []


def test_retry_after_as_an_http_date() -> None:
    sleeps: list[float] = []
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=6)
    with responses.RequestsMock(registry=responses.registries.OrderedRegistry) as rsps:
        rsps.get(URL, status=503, json=[], headers={"Retry-After": format_datetime(when, True)})
        rsps.get(URL, status=503, json=[], headers={"Retry-After": "not a date"})
        rsps.get(URL, json={"Id": "001x"})
        assert bridge(sleeps).get("Account", "001x")["Id"] == "001x"
    assert 4.0 < sleeps[0] <= 6.0
    assert sleeps[1] == 1.0  # unparseable: the backoff (0.5 * 2**1 with rand() == 1)
