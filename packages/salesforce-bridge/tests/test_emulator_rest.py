"""The emulator's REST surface, exercised raw through the in-process adapter."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ORG_ID,
    SalesforceEmulator,
    emulator_session,
)

V = f"{DEFAULT_BASE_URL}/services/data/v62.0"


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def http(emulator: SalesforceEmulator) -> requests.Session:
    session = emulator_session(emulator)
    token = session.post(
        f"{DEFAULT_BASE_URL}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": "c",
            "client_secret": "s",
            "username": "u@example.com",
            "password": "p",
        },
        timeout=5,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def test_token_response_shape(emulator: SalesforceEmulator) -> None:
    session = emulator_session(emulator)
    body = session.post(
        f"{DEFAULT_BASE_URL}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "k", "client_secret": "s"},
        timeout=5,
    ).json()
    assert set(body) >= {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["instance_url"] == DEFAULT_BASE_URL
    assert body["id"].startswith(f"{DEFAULT_BASE_URL}/id/{ORG_ID}/005")
    info = session.get(
        body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5
    )
    assert info.json()["organization_id"] == ORG_ID


def test_unknown_grant_type(emulator: SalesforceEmulator) -> None:
    answer = emulator_session(emulator).post(
        f"{DEFAULT_BASE_URL}/services/oauth2/token", data={"grant_type": "magic"}, timeout=5
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_missing_token_is_invalid_session(emulator: SalesforceEmulator) -> None:
    answer = emulator_session(emulator).get(f"{V}/sobjects", timeout=5)
    assert answer.status_code == 401
    assert answer.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_crud_and_limit_info(http: requests.Session) -> None:
    created = http.post(f"{V}/sobjects/Account/", json={"Name": "Umbrella"}, timeout=5)
    assert created.status_code == 201
    record_id = created.json()["id"]
    assert created.json() == {"id": record_id, "success": True, "errors": []}
    assert len(record_id) == 18
    assert record_id.startswith("001")
    assert created.headers["Sforce-Limit-Info"].startswith("api-usage=")
    assert (
        http.patch(
            f"{V}/sobjects/Account/{record_id}", json={"Phone": "555"}, timeout=5
        ).status_code
        == 204
    )
    got = http.get(f"{V}/sobjects/Account/{record_id}", timeout=5).json()
    assert got["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v62.0/sobjects/Account/{record_id}",
    }
    assert (got["Name"], got["Phone"]) == ("Umbrella", "555")
    assert http.get(f"{V}/sobjects/Account/{record_id[:15]}", timeout=5).status_code == 200
    assert http.delete(f"{V}/sobjects/Account/{record_id}", timeout=5).status_code == 204
    missing = http.get(f"{V}/sobjects/Account/{record_id}", timeout=5)
    assert missing.status_code == 404
    assert missing.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": "x", "Bogus__c": 1}, "INVALID_FIELD", ["Bogus__c"]),
        ({"Name": "x", "Id": "001"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Id"]),
        ({"Name": "x", "Customer_ID__c": "CUST-0001"}, "DUPLICATE_VALUE", []),
    ],
)
def test_create_errors(
    http: requests.Session, body: dict[str, Any], code: str, fields: list[str]
) -> None:
    answer = http.post(f"{V}/sobjects/Account/", json=body, timeout=5)
    assert answer.status_code == 400
    [item] = answer.json()
    assert item["errorCode"] == code
    assert item["fields"] == fields


def test_upsert_by_external_id(http: requests.Session) -> None:
    url = f"{V}/sobjects/Payment__c/Payment_ID__c/PAY-9"
    created = http.patch(url, json={"Amount__c": 5, "Status__c": "Authorized"}, timeout=5)
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = http.patch(url, json={"Status__c": "Captured"}, timeout=5)
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    legacy = http.patch(url.replace("v62.0", "v45.0"), json={"Status__c": "Settled"}, timeout=5)
    assert legacy.status_code == 204
    only = http.patch(
        f"{V}/sobjects/Payment__c/Payment_ID__c/NOPE",
        params={"updateOnly": "true"},
        json={"Amount__c": 1},
        timeout=5,
    )
    assert only.status_code == 404
    bad_field = http.patch(f"{V}/sobjects/Payment__c/Amount__c/1", json={}, timeout=5)
    assert bad_field.status_code == 404


def test_upsert_multiple_matches_300(http: requests.Session) -> None:
    answer = http.patch(
        f"{V}/sobjects/Account/Legacy_Ref__c/LEGACY-1", json={"Phone": "1"}, timeout=5
    )
    assert answer.status_code == 300
    assert len(answer.json()) == 2
    assert all(u.startswith("/services/data/v62.0/sobjects/Account/001") for u in answer.json())


def test_collections_partial_failure_and_all_or_none(
    http: requests.Session, emulator: SalesforceEmulator
) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "A"},
        {"attributes": {"type": "Account"}},
    ]
    answer = http.post(
        f"{V}/composite/sobjects", json={"allOrNone": False, "records": records}, timeout=5
    )
    assert answer.status_code == 200
    first, second = answer.json()
    assert first["success"]
    assert first["errors"] == []
    assert second == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }
    before = len(emulator.state()["records"]["Account"])
    rolled = http.post(
        f"{V}/composite/sobjects", json={"allOrNone": True, "records": records}, timeout=5
    ).json()
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert len(emulator.state()["records"]["Account"]) == before
    too_many = http.post(f"{V}/composite/sobjects", json={"records": records * 101}, timeout=5)
    assert too_many.status_code == 400


def test_collections_update_upsert_delete(http: requests.Session) -> None:
    pay = {
        "attributes": {"type": "Payment__c"},
        "Payment_ID__c": "PAY-1001",
        "Status__c": "Settled",
    }
    new = {"attributes": {"type": "Payment__c"}, "Payment_ID__c": "PAY-7", "Amount__c": 1}
    upserted = http.patch(
        f"{V}/composite/sobjects/Payment__c/Payment_ID__c",
        json={"allOrNone": False, "records": [pay, new]},
        timeout=5,
    ).json()
    assert [r["created"] for r in upserted] == [False, True]
    updated = http.patch(
        f"{V}/composite/sobjects",
        json={
            "records": [
                {
                    "attributes": {"type": "Payment__c"},
                    "Id": upserted[1]["id"],
                    "Status__c": "Voided",
                },
                {"attributes": {"type": "Payment__c"}, "Id": "a01000000000zzzAAA"},
            ]
        },
        timeout=5,
    ).json()
    assert updated[0]["success"]
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    deleted = http.delete(
        f"{V}/composite/sobjects", params={"ids": upserted[1]["id"]}, timeout=5
    ).json()
    assert deleted == [{"id": upserted[1]["id"], "success": True, "errors": []}]


def test_platform_event_publish(http: requests.Session, emulator: SalesforceEmulator) -> None:
    answer = http.post(
        f"{V}/sobjects/Payment_Event__e/",
        json={"Payment_ID__c": "PAY-1", "Status__c": "Captured"},
        timeout=5,
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["success"] is True
    [enqueued] = body["errors"]
    assert enqueued["statusCode"] == "OPERATION_ENQUEUED"
    assert emulator.state()["events"][-1]["EventUuid"] == enqueued["message"]
    not_queryable = http.get(
        f"{V}/query/", params={"q": "SELECT Id FROM Payment_Event__e"}, timeout=5
    )
    assert not_queryable.json()[0]["errorCode"] == "INVALID_TYPE"


def test_query_paging_and_errors(http: requests.Session) -> None:
    rows = [{"attributes": {"type": "Contact"}, "LastName": f"Z{i:03d}"} for i in range(200)]
    for _ in range(2):
        http.post(f"{V}/composite/sobjects", json={"records": rows}, timeout=5)
    q = "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'z%' ORDER BY LastName DESC"
    page = http.get(
        f"{V}/query/", params={"q": q}, headers={"Sforce-Query-Options": "batchSize=250"}, timeout=5
    ).json()
    assert (page["totalSize"], page["done"], len(page["records"])) == (400, False, 250)
    assert page["records"][0]["LastName"] == "Z199"
    more = http.get(f"{DEFAULT_BASE_URL}{page['nextRecordsUrl']}", timeout=5).json()
    assert (more["done"], len(more["records"])) == (True, 150)
    count = http.get(f"{V}/query/", params={"q": "SELECT COUNT() FROM Account"}, timeout=5).json()
    assert count == {"totalSize": 3, "done": True, "records": []}
    for text, code in [
        ("SELECT FROM", "MALFORMED_QUERY"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
        ("SELECT Nope FROM Account", "INVALID_FIELD"),
    ]:
        answer = http.get(f"{V}/query/", params={"q": text}, timeout=5)
        assert answer.status_code == 400
        assert answer.json()[0]["errorCode"] == code


def test_describe_and_global(http: requests.Session) -> None:
    described = http.get(f"{V}/sobjects/Payment__c/describe", timeout=5).json()
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Payment_ID__c"]["externalId"] is True
    assert fields["Last4Digits__c"]["createable"] is True
    assert fields["Name"]["createable"] is False
    names = {s["name"] for s in http.get(f"{V}/sobjects", timeout=5).json()["sobjects"]}
    assert names >= {"Account", "Contact", "Opportunity", "Order", "Payment__c", "Payment_Event__e"}
    versions = requests.Session()
    assert http.get(f"{DEFAULT_BASE_URL}/services/data/", timeout=5).status_code == 200
    versions.close()


def test_daily_limit_runs_out(emulator: SalesforceEmulator, http: requests.Session) -> None:
    emulator.set_api_usage(9, 10)
    assert http.get(f"{V}/limits", timeout=5).headers["Sforce-Limit-Info"] == "api-usage=10/10"
    answer = http.get(f"{V}/limits", timeout=5)
    assert answer.status_code == 403
    assert answer.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_control_endpoints(emulator: SalesforceEmulator, http: requests.Session) -> None:
    control = f"{DEFAULT_BASE_URL}/__emulator__"
    seeded = http.post(
        f"{control}/seed", json={"records": {"Account": [{"Name": "Seeded"}]}}, timeout=5
    ).json()
    assert len(seeded["created"]["Account"]) == 1
    assert http.post(f"{control}/api_usage", json={"used": 5, "limit": 50}, timeout=5).json() == {
        "used": 5,
        "limit": 50,
    }
    assert (
        http.post(
            f"{control}/faults", json={"kind": "status", "status": 503}, timeout=5
        ).status_code
        == 200
    )
    assert http.post(f"{control}/faults", json={"kind": "nope"}, timeout=5).status_code == 400
    state = http.get(f"{control}/state", timeout=5).json()
    assert state["api_usage"] == {"used": 5, "limit": 50}
    assert len(state["faults"]) == 1
    assert http.delete(f"{control}/faults", timeout=5).json() == {"faults": []}
    assert http.post(f"{control}/expire_sessions", timeout=5).json()["expired"] >= 1
    assert http.get(f"{V}/limits", timeout=5).status_code == 401
    assert http.post(f"{control}/reset", json={"seed": False}, timeout=5).status_code == 200
    assert emulator.state()["records"] == {}
    assert http.get(f"{control}/nope", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"kind": "status", "status": 429, "retry_after": 3}, 429, "REQUEST_LIMIT_EXCEEDED"),
        ({"kind": "status", "status": 503}, 503, "SERVER_UNAVAILABLE"),
        (
            {"kind": "status", "status": 500, "error_code": "UNABLE_TO_LOCK_ROW"},
            500,
            "UNABLE_TO_LOCK_ROW",
        ),
        ({"kind": "latency", "delay": 0.01}, 200, None),
        ({"kind": "expire_session"}, 401, "INVALID_SESSION_ID"),
        ({"kind": "limit_exhausted"}, 403, "REQUEST_LIMIT_EXCEEDED"),
    ],
)
def test_faults_fire_once(
    emulator: SalesforceEmulator,
    http: requests.Session,
    fault: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    http.post(
        f"{DEFAULT_BASE_URL}/__emulator__/faults",
        json={**fault, "path": "/limits", "method": "GET"},
        timeout=5,
    )
    assert http.get(f"{V}/sobjects", timeout=5).status_code == 200  # path filter
    answer = http.get(f"{V}/limits", timeout=5)
    assert answer.status_code == status
    if code is not None:
        assert answer.json()[0]["errorCode"] == code
    if fault.get("retry_after"):
        assert answer.headers["Retry-After"] == "3"
    assert emulator.faults.pending() == []


def test_reset_and_timeout_after_commit_faults(
    emulator: SalesforceEmulator, http: requests.Session
) -> None:
    control = f"{DEFAULT_BASE_URL}/__emulator__/faults"
    http.post(control, json={"kind": "reset", "method": "POST"}, timeout=5)
    with pytest.raises(requests.ConnectionError):
        http.post(f"{V}/sobjects/Account/", json={"Name": "Lost"}, timeout=5)
    http.post(control, json={"kind": "timeout_after_commit", "method": "POST"}, timeout=5)
    with pytest.raises(requests.ReadTimeout):
        http.post(f"{V}/sobjects/Account/", json={"Name": "Committed"}, timeout=5)
    names = {r["Name"] for r in emulator.state()["records"]["Account"]}
    assert "Committed" in names
    assert "Lost" not in names


def test_configurable_objects() -> None:
    from salesforce_bridge.emulator import FieldDef, ObjectDef

    base = SalesforceEmulator().org.obj("Payment__c")
    payment = base.with_fields(FieldDef("Gateway__c", length=20))
    assert base.field("Gateway__c") is None
    refund = ObjectDef(
        "Refund__c",
        "a02",
        "Refund",
        (FieldDef("Id", "id", createable=False), FieldDef("Reason__c")),
    )
    emulator = SalesforceEmulator(objects=[payment, refund])
    http = emulator_session(emulator)
    http.headers["Authorization"] = "Bearer any"
    described = http.get(f"{V}/sobjects/Payment__c/describe", timeout=5).json()
    assert "Gateway__c" in {f["name"] for f in described["fields"]}
    created = http.post(f"{V}/sobjects/Refund__c/", json={"Reason__c": "dup"}, timeout=5).json()
    assert created["id"].startswith("a02")
