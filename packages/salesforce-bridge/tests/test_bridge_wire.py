"""Wire-level tests of SalesforceBridge against scripted answers (responses)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from responses import matchers

from salesforce_bridge import (
    PasswordGrant,
    RetryConfig,
    SalesforceBadRequestError,
    SalesforceBridge,
    SalesforceBridgeError,
    SalesforceConnectionError,
    SalesforceFieldDriftError,
    SalesforceForbiddenError,
    SalesforceMultipleMatchesError,
    SalesforceNotFoundError,
    SalesforceQuotaError,
    SalesforceRequestLimitError,
    SalesforceServerError,
    SalesforceSession,
    SalesforceSessionError,
    SalesforceStatusError,
    SalesforceTimeoutError,
    StaticSessionGrant,
    status_error,
)

INSTANCE = "https://acme.my.salesforce.com"
BASE = f"{INSTANCE}/services/data/v62.0"
TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"


def body_json(request: requests.PreparedRequest) -> Any:
    body = request.body
    assert isinstance(body, bytes | str)
    return json.loads(body)


def make_bridge(**kwargs: Any) -> SalesforceBridge:
    grant = StaticSessionGrant(SalesforceSession(access_token="tok-1", instance_url=INSTANCE))
    kwargs.setdefault("retry", RetryConfig(max_retries=0))
    return SalesforceBridge(grant=grant, client_name="paysync", **kwargs)


def token(tok: str) -> dict[str, str]:
    return {"access_token": tok, "instance_url": INSTANCE, "id": "https://login/id/00D1/0051"}


@responses.activate
def test_upsert_created_updated_and_legacy_204() -> None:
    url = f"{BASE}/sobjects/Payment__c/Payment_ID__c/PAY%2F1"
    responses.patch(
        url, status=201, json={"id": "a01x", "success": True, "errors": [], "created": True}
    )
    responses.patch(
        url, status=200, json={"id": "a01x", "success": True, "errors": [], "created": False}
    )
    responses.patch(url, status=204)
    bridge = make_bridge()
    first = bridge.upsert("Payment__c", "Payment_ID__c", "PAY/1", {"Amount__c": 10})
    second = bridge.upsert("Payment__c", "Payment_ID__c", "PAY/1", {"Amount__c": 10})
    third = bridge.upsert("Payment__c", "Payment_ID__c", "PAY/1", {"Amount__c": 10})
    assert (first.created, first.id) == (True, "a01x")
    assert (second.created, second.id) == (False, "a01x")
    assert (third.created, third.id) == (False, None)
    sent = responses.calls[0].request
    assert body_json(sent) == {"Amount__c": 10}
    assert sent.headers["Sforce-Call-Options"] == "client=paysync"
    assert sent.headers["Authorization"] == "Bearer tok-1"


@responses.activate
def test_upsert_multiple_matches_is_typed() -> None:
    matches = [f"/services/data/v62.0/sobjects/Payment__c/a01{i}" for i in range(2)]
    responses.patch(f"{BASE}/sobjects/Payment__c/Payment_ID__c/P1", status=300, json=matches)
    with pytest.raises(SalesforceMultipleMatchesError) as info:
        make_bridge().upsert("Payment__c", "Payment_ID__c", "P1", {})
    assert info.value.status_code == 300
    assert info.value.matches == tuple(matches)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            400,
            [
                {
                    "message": "Required fields are missing: [Name]",
                    "errorCode": "REQUIRED_FIELD_MISSING",
                    "fields": ["Name"],
                }
            ],
            SalesforceBadRequestError,
        ),
        (
            401,
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            SalesforceSessionError,
        ),
        (
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            SalesforceRequestLimitError,
        ),
        (403, [{"message": "no", "errorCode": "INSUFFICIENT_ACCESS"}], SalesforceForbiddenError),
        (
            404,
            [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
            SalesforceNotFoundError,
        ),
        (500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}], SalesforceServerError),
        (409, [{"errorCode": "CONFLICT", "message": "x"}], SalesforceStatusError),
    ],
)
def test_status_errors_map_to_classes(
    status: int, body: list[dict[str, Any]], cls: type[SalesforceStatusError]
) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/sobjects/Account/001x", status=status, json=body)
        with pytest.raises(cls) as info:
            make_bridge().get("Account", "001x")
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.code == body[0]["errorCode"]
    assert body[0]["errorCode"] in str(info.value)
    assert isinstance(info.value, SalesforceBridgeError)


def test_status_error_details_keep_fields() -> None:
    err = status_error(
        400, [{"message": "m", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}]
    )
    assert err.errors[0].fields == ("Name",)
    assert status_error(418, "teapot").errors == ()


@responses.activate
def test_connection_and_timeout_errors() -> None:
    responses.get(f"{BASE}/sobjects/Account/1", body=requests.ConnectionError("reset"))
    responses.get(f"{BASE}/sobjects/Account/2", body=requests.ReadTimeout("slow"))
    bridge = make_bridge()
    with pytest.raises(SalesforceConnectionError) as info:
        bridge.get("Account", "1")
    assert not isinstance(info.value, SalesforceTimeoutError)
    with pytest.raises(SalesforceTimeoutError):
        bridge.get("Account", "2")


@responses.activate
def test_invalid_session_refreshes_once_and_keeps_headers() -> None:
    responses.post(TOKEN_URL, json=token("tok-1"))
    responses.post(TOKEN_URL, json=token("tok-2"))
    url = f"{BASE}/sobjects/Payment__c/Payment_ID__c/P9"
    responses.patch(
        url,
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        match=[matchers.header_matcher({"Authorization": "Bearer tok-1"})],
    )
    responses.patch(
        url,
        status=201,
        json={"id": "a01", "success": True, "errors": [], "created": True},
        match=[
            matchers.header_matcher(
                {"Authorization": "Bearer tok-2", "Sforce-Call-Options": "client=paysync"}
            ),
            matchers.json_params_matcher({"Status__c": "Captured"}),
        ],
    )
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    bridge = SalesforceBridge(grant=grant, client_name="paysync")
    result = bridge.upsert("Payment__c", "Payment_ID__c", "P9", {"Status__c": "Captured"})
    assert result.created
    assert grant.session().access_token == "tok-2"
    assert len(responses.calls) == 4  # token, 401, token, retry


@responses.activate
def test_second_invalid_session_is_raised_not_looped() -> None:
    responses.post(TOKEN_URL, json=token("tok-1"))
    responses.post(TOKEN_URL, json=token("tok-2"))
    body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    responses.get(f"{BASE}/sobjects/Account/1", status=401, json=body)
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    with pytest.raises(SalesforceSessionError):
        SalesforceBridge(grant=grant).get("Account", "1")
    assert len(responses.calls) == 4


@responses.activate
def test_refresh_also_covers_simple_salesforce_calls() -> None:
    responses.post(TOKEN_URL, json=token("tok-1"))
    responses.post(TOKEN_URL, json=token("tok-2"))
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    responses.get(f"{BASE}/limits/", status=401, json=expired)
    responses.get(f"{BASE}/limits/", json={"DailyApiRequests": {"Max": 5, "Remaining": 4}})
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    sf = SalesforceBridge(grant=grant).simple_salesforce
    assert sf.limits()["DailyApiRequests"]["Max"] == 5


@responses.activate
def test_limit_info_tracked_and_floor_fails_fast() -> None:
    url = f"{BASE}/sobjects/Account/1"
    responses.get(
        url,
        json={"Id": "1"},
        headers={"Sforce-Limit-Info": "api-usage=4990/5000; per-app-api-usage=17/250(appName=x)"},
    )
    bridge = make_bridge(quota_floor=10)
    assert bridge.remaining_api_calls is None
    bridge.get("Account", "1")
    assert bridge.api_usage is not None
    assert (bridge.api_usage.used, bridge.api_usage.limit) == (4990, 5000)
    assert bridge.remaining_api_calls == 10
    with pytest.raises(SalesforceQuotaError) as info:
        bridge.get("Account", "1")
    assert (info.value.remaining, info.value.floor) == (10, 10)
    assert len(responses.calls) == 1


def collection_callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    payload = body_json(request)
    assert payload["allOrNone"] is False
    out: list[dict[str, Any]] = [
        {"id": f"id-{r['N']}", "success": True, "errors": []}
        if r["N"] % 3
        else {
            "success": False,
            "errors": [{"statusCode": "DUPLICATE_VALUE", "message": "dup", "fields": ["N"]}],
        }
        for r in payload["records"]
    ]
    return 200, {}, json.dumps(out)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=1, max_value=650))
def test_collections_chunk_by_200_and_keep_order(n: int) -> None:
    records = [{"N": i} for i in range(n)]
    with responses.RequestsMock() as rsps:
        rsps.add_callback(
            responses.POST, f"{BASE}/composite/sobjects", callback=collection_callback
        )
        results = make_bridge().create_many("Payment__c", records)
        sizes = [len(body_json(c.request)["records"]) for c in rsps.calls]
    assert len(sizes) == math.ceil(n / 200)
    assert all(s <= 200 for s in sizes)
    assert len(results) == n
    for i, result in enumerate(results):
        assert result.success is bool(i % 3)
        assert result.id == (f"id-{i}" if i % 3 else None)
        if not result.success:
            assert result.errors[0].code == "DUPLICATE_VALUE"


@responses.activate
def test_update_and_upsert_many_paths() -> None:
    responses.patch(f"{BASE}/composite/sobjects", json=[{"id": "1", "success": True, "errors": []}])
    responses.patch(
        f"{BASE}/composite/sobjects/Payment__c/Payment_ID__c",
        json=[{"id": "2", "success": True, "errors": [], "created": True}],
    )
    bridge = make_bridge()
    assert bridge.update_many("Account", [{"Id": "1", "Name": "n"}])[0].id == "1"
    upserted = bridge.upsert_many("Payment__c", "Payment_ID__c", [{"Payment_ID__c": "P"}])
    assert upserted[0].created is True
    body = body_json(responses.calls[1].request)
    assert body["records"][0]["attributes"] == {"type": "Payment__c"}


@responses.activate
def test_collections_length_mismatch_is_an_error() -> None:
    responses.post(f"{BASE}/composite/sobjects", json=[])
    with pytest.raises(SalesforceBridgeError, match="JSON array"):
        make_bridge().create_many("Account", [{"Name": "a"}])


@responses.activate
def test_publish_event_operation_enqueued_is_success() -> None:
    responses.post(
        f"{BASE}/sobjects/Low_Ink__e/",
        status=201,
        json={
            "id": "e01xx0000000001AAA",
            "success": True,
            "errors": [
                {
                    "statusCode": "OPERATION_ENQUEUED",
                    "message": "232fd30e-0a71-42bd-a97b-be0e329b2ded",
                    "fields": [],
                }
            ],
        },
    )
    result = make_bridge().publish_event("Low_Ink__e", {"Printer_Model__c": "XZO-5"})
    assert result.success
    assert result.event_uuid == "232fd30e-0a71-42bd-a97b-be0e329b2ded"
    assert result.errors == ()


@responses.activate
def test_publish_events_many_with_partial_failure() -> None:
    responses.post(
        f"{BASE}/composite/sobjects",
        json=[
            {"id": "e1", "success": True, "errors": []},
            {
                "success": False,
                "errors": [{"statusCode": "LIMIT_EXCEEDED", "message": "hourly", "fields": []}],
            },
        ],
    )
    results = make_bridge().publish_events("Payment_Event__e", [{"A__c": 1}, {"A__c": 2}])
    assert [r.success for r in results] == [True, False]
    assert results[0].event_uuid is None
    assert results[1].errors[0].code == "LIMIT_EXCEEDED"


@responses.activate
def test_query_is_lazy_and_follows_next_records_url() -> None:
    responses.get(
        f"{BASE}/query/",
        match=[
            matchers.query_param_matcher({"q": "SELECT Id FROM Account WHERE Name = 'O\\'Hara'"})
        ],
        json={
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": "/services/data/v62.0/query/01gX-2",
            "records": [
                {"attributes": {"type": "Account"}, "Id": "1"},
                {"attributes": {"type": "Account"}, "Id": "2"},
            ],
        },
    )
    responses.get(
        f"{BASE}/query/01gX-2",
        json={
            "totalSize": 3,
            "done": True,
            "records": [{"attributes": {"type": "Account"}, "Id": "3"}],
        },
    )
    bridge = make_bridge()
    rows = bridge.query("SELECT Id FROM Account WHERE Name = {}", "O'Hara")
    assert len(responses.calls) == 0
    assert [r["Id"] for r in rows] == ["1", "2", "3"]
    assert len(responses.calls) == 2


@responses.activate
def test_count() -> None:
    responses.get(f"{BASE}/query/", json={"totalSize": 42, "done": True, "records": []})
    assert make_bridge().count("SELECT COUNT() FROM Account WHERE Name = {name}", name="x") == 42


DESCRIBE = {
    "name": "Payment__c",
    "custom": True,
    "keyPrefix": "a01",
    "fields": [
        {"name": "Id", "type": "id", "createable": False, "updateable": False},
        {
            "name": "Payment_ID__c",
            "type": "string",
            "createable": True,
            "updateable": True,
            "externalId": True,
            "unique": True,
        },
        {"name": "Last4Digits__c", "type": "string", "createable": True, "updateable": False},
    ],
}


@responses.activate
def test_describe_field_validation_reports_each_problem() -> None:
    responses.get(f"{BASE}/sobjects/Payment__c/describe", json=DESCRIBE)
    bridge = make_bridge()
    described = bridge.describe("Payment__c")
    assert described.key_prefix == "a01"
    payment_id = described.field("payment_id__c")
    assert payment_id is not None
    assert payment_id.external_id
    bridge.validate_fields("Payment__c", {"payment_id": "Payment_ID__c", "last4": "Last4Digits__c"})
    with pytest.raises(SalesforceFieldDriftError) as info:
        bridge.validate_fields(
            "Payment__c", ["Payment_ID__c", "Last4Digits__c", "Id", "Gone__c"], for_update=True
        )
    problems = {(p.field, p.problem) for p in info.value.problems}
    assert problems == {
        ("Last4Digits__c", "not updateable"),
        ("Id", "not createable"),
        ("Id", "not updateable"),
        ("Gone__c", "missing"),
    }
    assert len(responses.calls) == 1  # describe is cached


def test_bridge_repr_has_no_token() -> None:
    bridge = make_bridge()
    assert "tok-1" not in repr(bridge)
    assert "tok-1" not in repr(bridge.http.auth)
