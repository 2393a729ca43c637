"""Emulator answers against the shapes of the reference fixtures (salesforce-api.md section 4)."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session

V = f"{DEFAULT_BASE_URL}/services/data/v62.0"
ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header"
)


@pytest.fixture
def http() -> requests.Session:
    session = emulator_session(SalesforceEmulator())
    session.headers["Authorization"] = "Bearer any-token"  # default mode accepts any token
    return session


@pytest.mark.parametrize(
    ("sobject", "prefix", "required"),
    [
        ("Account", "001", "Name"),
        ("Contact", "003", "LastName"),
        ("Opportunity", "006", "Name"),
        ("Order", "801", "Status"),
        ("Payment__c", "a01", "Payment_ID__c"),
    ],
)
def test_describe_of_every_object_we_use(
    http: requests.Session, sobject: str, prefix: str, required: str
) -> None:
    answer = http.get(f"{V}/sobjects/{sobject}/describe", timeout=5)
    assert answer.status_code == 200
    assert re.fullmatch(r"api-usage=\d+/\d+", answer.headers["Sforce-Limit-Info"])
    described = answer.json()
    assert (described["name"], described["keyPrefix"]) == (sobject, prefix)
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Id"]["createable"] is False
    assert fields[required]["createable"] is True
    assert fields[required]["nillable"] is False


def test_publish_answer_has_the_reference_shape(http: requests.Session) -> None:
    answer = http.post(f"{V}/sobjects/Payment_Event__e/", json={"Payment_ID__c": "P"}, timeout=5)
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "success", "errors"}
    assert body["success"] is True
    [enqueued] = body["errors"]
    assert set(enqueued) == {"statusCode", "message", "fields"}
    assert (enqueued["statusCode"], enqueued["fields"]) == ("OPERATION_ENQUEUED", [])
    assert str(uuid.UUID(enqueued["message"])) == enqueued["message"]


def test_all_or_none_rollback_message(http: requests.Session) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "ok"},
        {"attributes": {"type": "Account"}},
    ]
    answer = http.post(
        f"{V}/composite/sobjects", json={"allOrNone": True, "records": records}, timeout=5
    )
    assert answer.status_code == 200
    first = answer.json()[0]
    assert first["success"] is False
    assert first["errors"] == [
        {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK, "fields": []}
    ]
