"""The request pipeline of PayTraceClient, mocked at the wire with `responses`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from paytrace_client import (
    PayTraceAPIError,
    PayTraceAuthError,
    PayTraceConnectionError,
    PayTraceOutcomeUnknownError,
    PayTraceRateLimitError,
    PayTraceTimeoutError,
)
from paytrace_client._client import PayTraceClient
from paytrace_client._config import RetryConfig
from paytrace_client._requester import CallKind, RequestOptions, WriteCorrelation

BASE = "https://api.sandbox.paytrace.com"
TOKEN_URL = f"{BASE}/oauth/token"
SALE_URL = f"{BASE}/v1/transactions/sale/keyed"
EXPORT_URL = f"{BASE}/v1/transactions/export/by_date_range"
TOKEN_BODY = {
    "access_token": "aa:bb:cc",
    "token_type": "bearer",
    "expires_in": 7200,
    "created_at": 1507667632,
}
APPROVED = {
    "success": True,
    "response_code": 101,
    "status_message": "Your transaction was successfully approved.",
    "transaction_id": 395970044,
    "approval_code": "TAS679",
    "approval_message": "  NO  MATCH - Approved and completed",
    "avs_response": "No Match",
    "csc_response": "",
    "external_transaction_id": "",
    "masked_card_number": "xxxxxxxxxxxx5439",
}
EXPORT_OK: dict[str, object] = {
    "success": True,
    "response_code": 0,
    "status_message": "",
    "transactions": [],
}
SALE_BODY = {"amount": "1.00", "invoice_id": "INV-1"}


def refused() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        MaxRetryError(pool=None, url="/", reason=NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> Iterator[PayTraceClient]:
    with PayTraceClient(
        username="demo123",
        password="pass-w0rd",
        integrator_id="INT123",
        base_url=BASE,
        retry=RetryConfig(max_retries=2),
        sleep=sleeps,
        random=lambda: 1.0,
        clock=lambda: datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc),
    ) as c:
        yield c


@responses.activate
def test_token_then_call_with_bearer_and_integrator_id(client: PayTraceClient) -> None:
    responses.post(
        TOKEN_URL,
        json=TOKEN_BODY,
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "password", "username": "demo123", "password": "pass-w0rd"}
            )
        ],
    )
    responses.post(
        SALE_URL,
        json=APPROVED,
        match=[
            matchers.header_matcher(
                {"Authorization": "Bearer aa:bb:cc", "Content-Type": "application/json"}
            ),
            matchers.json_params_matcher(SALE_BODY | {"integrator_id": "INT123"}),
        ],
    )
    result = client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert result["transaction_id"] == 395970044
    client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 1


@responses.activate
def test_invalid_token_refreshes_once_and_retries(client: PayTraceClient) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(
        SALE_URL,
        status=401,
        json={"error": "invalid_token", "error_description": "The access token expired"},
    )
    responses.post(SALE_URL, json=APPROVED)
    assert client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)["success"]
    assert [c.request.url for c in responses.calls] == [TOKEN_URL, SALE_URL, TOKEN_URL, SALE_URL]


@responses.activate
def test_second_invalid_token_is_an_auth_error(client: PayTraceClient) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, status=401, json={"error": "invalid_token"})
    with pytest.raises(PayTraceAuthError):
        client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert len([c for c in responses.calls if c.request.url == SALE_URL]) == 2


@responses.activate
def test_invalid_grant_is_an_auth_error_without_the_password(client: PayTraceClient) -> None:
    responses.post(
        TOKEN_URL,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "The provided authorization grant is invalid, expired, revoked, "
            "does not match the redirection URI used in the authorization request, or was issued "
            "to another client.",
        },
    )
    with pytest.raises(PayTraceAuthError) as info:
        client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert "invalid_grant" in str(info.value)
    assert "pass-w0rd" not in str(info.value) + repr(info.value) + repr(client)


@responses.activate
def test_read_timeout_on_a_write_is_an_unknown_outcome_never_resent(
    client: PayTraceClient,
) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(PayTraceOutcomeUnknownError) as info:
        client.call(
            "transactions/sale/keyed",
            SALE_BODY,
            kind=CallKind.WRITE,
            correlation=WriteCorrelation(invoice_id="INV-1", amount=Decimal("1.00")),
        )
    hint = info.value.hint
    assert hint.invoice_id == "INV-1"
    assert hint.amount == Decimal("1.00")
    assert hint.path == "transactions/sale/keyed"
    assert hint.started_at.tzinfo is not None
    assert len([c for c in responses.calls if c.request.url == SALE_URL]) == 1


@responses.activate
def test_5xx_after_a_write_is_an_unknown_outcome(client: PayTraceClient) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(PayTraceOutcomeUnknownError):
        client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert len([c for c in responses.calls if c.request.url == SALE_URL]) == 1


@responses.activate
def test_429_on_a_write_is_a_rate_limit_error_not_retried(client: PayTraceClient) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, status=429, headers={"Retry-After": "4"}, body="slow down")
    with pytest.raises(PayTraceRateLimitError) as info:
        client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert info.value.retry_after == 4.0
    assert len([c for c in responses.calls if c.request.url == SALE_URL]) == 1


@responses.activate
def test_write_is_retried_when_the_connection_never_opened(
    client: PayTraceClient, sleeps: Sleeps
) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, body=refused())
    responses.post(SALE_URL, json=APPROVED)
    assert client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)["success"]
    assert sleeps == [0.5]


@responses.activate
def test_connection_refused_gives_up_with_a_connection_error(
    client: PayTraceClient, sleeps: Sleeps
) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    for _ in range(3):
        responses.post(SALE_URL, body=refused())
    with pytest.raises(PayTraceConnectionError) as info:
        client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)
    assert info.value.sent is False
    assert len(sleeps) == 2


@responses.activate
def test_reads_retry_5xx_and_honour_retry_after(client: PayTraceClient, sleeps: Sleeps) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(EXPORT_URL, status=503)
    responses.post(EXPORT_URL, status=429, headers={"Retry-After": "3"})
    responses.post(EXPORT_URL, json=EXPORT_OK)
    assert client.call("transactions/export/by_date_range", {}, kind=CallKind.READ)["success"]
    assert sleeps == [0.5, 3.0]


@responses.activate
def test_read_timeouts_on_reads_are_retried_then_raised(
    client: PayTraceClient, sleeps: Sleeps
) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    for _ in range(3):
        responses.post(EXPORT_URL, body=requests.exceptions.ReadTimeout())
    with pytest.raises(PayTraceTimeoutError):
        client.call("transactions/export/by_date_range", {}, kind=CallKind.READ)
    assert len(sleeps) == 2


@responses.activate
def test_token_endpoint_failures_are_retried(client: PayTraceClient, sleeps: Sleeps) -> None:
    responses.post(TOKEN_URL, status=503)
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, json=APPROVED)
    assert client.call("transactions/sale/keyed", SALE_BODY, kind=CallKind.WRITE)["success"]
    assert sleeps == [0.5]


@responses.activate
def test_per_call_options_win(client: PayTraceClient, sleeps: Sleeps) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(EXPORT_URL, status=503, match=[matchers.header_matcher({"X-Trace": "abc"})])
    with pytest.raises(Exception, match="HTTP"):
        client.call(
            "transactions/export/by_date_range",
            {},
            kind=CallKind.READ,
            options=RequestOptions(max_retries=0, timeout=1.5, extra_headers={"X-Trace": "abc"}),
        )
    assert sleeps == []


@responses.activate
def test_logs_never_contain_card_data_or_secrets(
    client: PayTraceClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, body=requests.exceptions.ReadTimeout())
    body = {
        "amount": "1.00",
        "credit_card": {
            "number": "4012000098765439",
            "expiration_month": "09",
            "expiration_year": "2030",
        },
        "csc": "999",
    }
    with pytest.raises(PayTraceOutcomeUnknownError) as info:
        client.call("transactions/sale/keyed", body, kind=CallKind.WRITE)
    everything = caplog.text + str(info.value) + repr(info.value.hint) + repr(client)
    for secret in ("4012000098765439", "pass-w0rd", "aa:bb:cc", '"999"'):
        assert secret not in everything


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="username"):
        PayTraceClient(base_url=BASE)
    with pytest.raises(ValueError, match="http"):
        PayTraceClient(username="u", password="p", base_url="api.paytrace.com")


@responses.activate
def test_decimal_in_body_is_sent_as_two_place_string(client: PayTraceClient) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(SALE_URL, json=APPROVED)
    client.call("transactions/sale/keyed", {"amount": Decimal("2.5")}, kind=CallKind.WRITE)
    raw = responses.calls[1].request.body
    assert isinstance(raw, bytes)
    sent = json.loads(raw)
    assert sent["amount"] == "2.50"


@responses.activate
def test_lowercased_retry_after_and_request_id_are_read(
    client: PayTraceClient, sleeps: Sleeps
) -> None:
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    responses.post(EXPORT_URL, status=429, headers={"retry-after": "3"})
    responses.post(
        EXPORT_URL,
        status=400,
        headers={"x-request-id": "req-7"},
        json={
            "success": False,
            "response_code": 1,
            "status_message": "x",
            "errors": {"811": ["The Transaction ID that you provided was not found."]},
        },
    )
    with pytest.raises(PayTraceAPIError) as info:
        client.call("transactions/export/by_date_range", {}, kind=CallKind.READ)
    assert sleeps == [3.0]
    assert info.value.request_id == "req-7"
