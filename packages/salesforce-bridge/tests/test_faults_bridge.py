"""The bridge against every emulator fault kind (in-process, plus latency over a real socket)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from salesforce_bridge import (
    PasswordGrant,
    RetryConfig,
    SalesforceBridge,
    SalesforceConnectionError,
    SalesforceQuotaError,
    SalesforceRequestLimitError,
    SalesforceServerError,
    SalesforceStatusError,
    SalesforceTimeoutError,
)
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    Fault,
    SalesforceEmulator,
    emulator_session,
    serve,
)

COUNT = "SELECT COUNT() FROM Account"


def make_bridge(
    emulator: SalesforceEmulator,
    sleeps: list[float],
    *,
    http: requests.Session | None = None,
    login_url: str = DEFAULT_BASE_URL,
    quota_floor: int = 0,
    timeout: float = 30.0,
) -> SalesforceBridge:
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u@acme.com", password="p", login_url=login_url
    )
    bridge = SalesforceBridge(
        grant=grant,
        session=http or emulator_session(emulator),
        retry=RetryConfig(max_retries=2, backoff_base=0.5, backoff_cap=4.0),
        sleep=sleeps.append,
        rand=lambda: 1.0,
        quota_floor=quota_floor,
        timeout=timeout,
    )
    assert bridge.count(COUNT) == 3  # logged in before the fault is armed
    return bridge


def payments(bridge: SalesforceBridge, payment_id: str) -> int:
    return bridge.count("SELECT COUNT() FROM Payment__c WHERE Payment_ID__c = {}", payment_id)


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


def test_latency_is_waited_out(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps)
    emulator.add_fault(Fault(kind="latency", delay=0.2, path="/query"))
    started = time.monotonic()
    assert bridge.count(COUNT) == 3
    assert time.monotonic() - started >= 0.2
    assert sleeps == []


def test_latency_beyond_the_timeout_over_a_socket(
    emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    server = serve(emulator, port=0, tls_dir=tmp_path)
    http = requests.Session()
    http.trust_env = False
    http.verify = str(server.ca_path)
    try:
        sleeps: list[float] = []
        bridge = make_bridge(emulator, sleeps, http=http, login_url=server.url, timeout=0.3)
        emulator.add_fault(Fault(kind="latency", delay=0.8, path="/query"))
        assert bridge.count(COUNT) == 3  # the read timed out once, the retry answered
        assert sleeps == [0.5]
        emulator.add_fault(Fault(kind="latency", delay=0.8, method="POST"))
        with pytest.raises(SalesforceTimeoutError):  # a create is not retried
            bridge.create_many("Payment__c", [{"Payment_ID__c": "PAY-L", "Amount__c": 1}])
    finally:
        http.close()
        server.stop()


def test_429_with_retry_after(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps)
    emulator.add_fault(Fault(kind="status", status=429, retry_after=7, path="/query"))
    assert bridge.count(COUNT) == 3
    assert sleeps == [7.0]  # the server's hint wins over the backoff
    emulator.add_fault(Fault(kind="status", status=429, retry_after=7, method="POST"))
    with pytest.raises(SalesforceStatusError) as info:
        bridge.create_many("Payment__c", [{"Payment_ID__c": "PAY-429", "Amount__c": 1}])
    assert info.value.status_code == 429
    assert sleeps == [7.0]  # not retried
    assert payments(bridge, "PAY-429") == 0


def test_5xx_and_lock_errors(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps)
    emulator.add_fault(Fault(kind="status", status=503, method="PATCH"))
    emulator.add_fault(
        Fault(kind="status", status=500, error_code="UNABLE_TO_LOCK_ROW", method="PATCH")
    )
    result = bridge.upsert("Payment__c", "Payment_ID__c", "PAY-5XX", {"Amount__c": 5})
    assert result.created
    assert sleeps == [0.5, 1.0]
    emulator.add_fault(Fault(kind="status", status=500, method="POST"))
    with pytest.raises(SalesforceServerError):
        bridge.publish_event("Payment_Event__e", {"Payment_ID__c": "PAY-5XX"})
    assert emulator.state()["events"] == []
    emulator.add_fault(Fault(kind="status", status=502, path="/query", times=3))
    with pytest.raises(SalesforceServerError) as info:
        bridge.count(COUNT)
    assert info.value.status_code == 502


def test_connection_reset(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps)
    emulator.add_fault(Fault(kind="reset", path="/query"))
    assert bridge.count(COUNT) == 3
    emulator.add_fault(Fault(kind="reset", method="POST"))
    with pytest.raises(SalesforceConnectionError) as info:
        bridge.create_many("Payment__c", [{"Payment_ID__c": "PAY-RST", "Amount__c": 1}])
    assert not isinstance(info.value, SalesforceTimeoutError)
    assert payments(bridge, "PAY-RST") == 0  # dropped before processing
    assert sleeps == [0.5]


def test_timeout_after_commit(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps)
    emulator.add_fault(Fault(kind="timeout_after_commit", method="POST"))
    with pytest.raises(SalesforceTimeoutError):
        bridge.create_many("Payment__c", [{"Payment_ID__c": "PAY-TAC", "Amount__c": 1}])
    assert payments(bridge, "PAY-TAC") == 1  # committed: resolved by lookup, not by a retry
    emulator.add_fault(Fault(kind="timeout_after_commit", method="PATCH"))
    again = bridge.upsert("Payment__c", "Payment_ID__c", "PAY-TAC", {"Status__c": "Captured"})
    assert again.created is False
    assert payments(bridge, "PAY-TAC") == 1
    assert sleeps == [0.5]


def test_expired_session_on_a_write_is_refreshed_once(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps)
    before = bridge.grant.session().access_token
    emulator.add_fault(Fault(kind="expire_session", method="POST"))
    results = bridge.create_many("Payment__c", [{"Payment_ID__c": "PAY-EXP", "Amount__c": 1}])
    assert results[0].success
    assert bridge.grant.session().access_token != before
    assert payments(bridge, "PAY-EXP") == 1  # sent again once after the refresh, created once
    assert sleeps == []


def test_daily_limit_exhausted(emulator: SalesforceEmulator) -> None:
    sleeps: list[float] = []
    bridge = make_bridge(emulator, sleeps, quota_floor=1)
    emulator.add_fault(Fault(kind="limit_exhausted", path="/query"))
    with pytest.raises(SalesforceRequestLimitError) as info:
        bridge.count(COUNT)
    assert info.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert sleeps == []  # a spent daily limit is not retried
    sent = len(emulator.calls)
    with pytest.raises(SalesforceQuotaError):  # the 403's Sforce-Limit-Info was recorded
        bridge.count(COUNT)
    assert len(emulator.calls) == sent  # failed fast, nothing sent
