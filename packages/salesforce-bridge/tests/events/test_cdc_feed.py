"""Change events and platform events that REST writes put on the emulator's event bus."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
import requests

from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session
from salesforce_bridge.emulator._bus import BusEvent
from salesforce_bridge.emulator._cdc_feed import change_channel, change_origin
from salesforce_bridge.events import ChangeEventHeader, is_echo

V = f"{DEFAULT_BASE_URL}/services/data/v66.0"
CONTROL = f"{DEFAULT_BASE_URL}/__emulator__"
CLIENT = {"Sforce-Call-Options": "client=paysync-bridge"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def http(emulator: SalesforceEmulator) -> requests.Session:
    session = emulator_session(emulator)
    session.headers["Authorization"] = "Bearer 00Dtoken"
    return session


def events(emulator: SalesforceEmulator, topic: str) -> list[BusEvent]:
    return emulator.bus.read(topic, after=None, limit=1000)


def header_of(event: BusEvent) -> dict[str, Any]:
    return dict(event.payload["ChangeEventHeader"])


def body_of(event: BusEvent) -> dict[str, Any]:
    return {k: v for k, v in event.payload.items() if k != "ChangeEventHeader"}


def create_account(http: requests.Session, **fields: Any) -> str:
    answer = http.post(f"{V}/sobjects/Account/", json=fields, headers=CLIENT, timeout=5)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_seed_data_publishes_nothing(emulator: SalesforceEmulator) -> None:
    assert events(emulator, "/data/ChangeEvents") == []


def test_create_header_and_body(emulator: SalesforceEmulator, http: requests.Session) -> None:
    before = int(time.time() * 1000)
    record_id = create_account(http, Name="Umbrella", Industry="Retail")
    (event,) = events(emulator, "/data/AccountChangeEvent")
    header = header_of(event)
    assert list(header) == [
        "entityName",
        "recordIds",
        "changeType",
        "changeOrigin",
        "transactionKey",
        "sequenceNumber",
        "commitTimestamp",
        "commitNumber",
        "commitUser",
        "nulledFields",
        "diffFields",
        "changedFields",
    ]
    assert header["entityName"] == "Account"
    assert header["recordIds"] == [record_id]
    assert header["changeType"] == "CREATE"
    assert header["changeOrigin"] == "com/salesforce/api/rest/66.0;client=paysync-bridge"
    assert str(uuid.UUID(header["transactionKey"])) == header["transactionKey"]
    assert header["sequenceNumber"] == 1
    assert before <= header["commitTimestamp"] <= int(time.time() * 1000)
    assert isinstance(header["commitNumber"], int)
    assert header["commitUser"] == emulator.org.user_id
    assert (header["changedFields"], header["nulledFields"], header["diffFields"]) == ([], [], [])
    body = body_of(event)
    assert body["Name"] == "Umbrella"
    assert body["Industry"] == "Retail"
    assert "Id" not in body
    assert "IsDeleted" not in body
    assert "SystemModstamp" not in body
    assert "Phone" not in body  # null fields are left out
    assert ISO_Z.match(body["CreatedDate"])
    assert ISO_Z.match(body["LastModifiedDate"])
    parsed = ChangeEventHeader.from_wire(header)
    assert is_echo(parsed, "paysync-bridge")
    (copy,) = events(emulator, "/data/ChangeEvents")
    assert (copy.replay_id, copy.event_uuid, copy.payload) == (
        event.replay_id,
        event.event_uuid,
        event.payload,
    )


def test_update_carries_only_changed_fields_and_nulled_fields(
    emulator: SalesforceEmulator, http: requests.Session
) -> None:
    record_id = create_account(http, Name="Umbrella", Phone="555-0100", BillingCity="Raccoon")
    answer = http.patch(
        f"{V}/sobjects/Account/{record_id}",
        json={"Phone": None, "BillingCity": "Raccoon", "Industry": "Banking"},
        timeout=5,
    )
    assert answer.status_code == 204
    created, updated = events(emulator, "/data/AccountChangeEvent")
    header = header_of(updated)
    assert header["changeType"] == "UPDATE"
    assert header["recordIds"] == [record_id]
    assert header["changedFields"] == ["LastModifiedDate", "Industry", "Phone"]
    assert header["nulledFields"] == ["Phone"]
    assert header["changeOrigin"] == "com/salesforce/api/rest/66.0"  # no Sforce-Call-Options
    assert header["transactionKey"] != header_of(created)["transactionKey"]
    body = body_of(updated)
    assert set(body) == {"Industry", "Phone", "LastModifiedDate"}
    assert body["Phone"] is None
    assert body["Industry"] == "Banking"


def test_delete_and_undelete(emulator: SalesforceEmulator, http: requests.Session) -> None:
    record_id = create_account(http, Name="Umbrella", Phone="555-0100")
    assert http.delete(f"{V}/sobjects/Account/{record_id}", timeout=5).status_code == 204
    restored = http.post(
        f"{CONTROL}/undelete", json={"ids": [record_id, "001000000000zzzAAA"]}, headers=CLIENT
    )
    assert restored.status_code == 200
    ok, missing = restored.json()
    assert ok == {"id": record_id, "success": True, "errors": []}
    assert missing["success"] is False
    assert missing["errors"][0]["errorCode"] == "UNDELETE_FAILED"
    _, deleted, undeleted = events(emulator, "/data/AccountChangeEvent")
    assert header_of(deleted)["changeType"] == "DELETE"
    assert body_of(deleted) == {}
    assert header_of(undeleted)["changeType"] == "UNDELETE"
    assert (
        header_of(undeleted)["changeOrigin"] == "com/salesforce/api/soap/66.0;client=paysync-bridge"
    )
    assert body_of(undeleted)["Name"] == "Umbrella"
    assert body_of(undeleted)["Phone"] == "555-0100"
    assert http.get(f"{V}/sobjects/Account/{record_id}", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("sobject", "fields", "channel"),
    [
        ("Contact", {"LastName": "Lovelace"}, "/data/ContactChangeEvent"),
        (
            "Opportunity",
            {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"},
            "/data/OpportunityChangeEvent",
        ),
        (
            "Order",
            {"AccountId": "001000000000001AAA", "EffectiveDate": "2026-01-01", "Status": "Draft"},
            "/data/OrderChangeEvent",
        ),
        ("Payment__c", {"Payment_ID__c": "PAY-9", "Amount__c": 10.5}, "/data/Payment__ChangeEvent"),
    ],
)
def test_every_cdc_entity_has_its_channel(
    emulator: SalesforceEmulator,
    http: requests.Session,
    sobject: str,
    fields: dict[str, Any],
    channel: str,
) -> None:
    assert change_channel(sobject) == channel
    answer = http.post(f"{V}/sobjects/{sobject}/", json=fields, timeout=5)
    assert answer.status_code == 201, answer.text
    (event,) = events(emulator, channel)
    assert header_of(event)["entityName"] == sobject
    assert header_of(event)["recordIds"] == [answer.json()["id"]]


def test_collections_share_one_transaction(
    emulator: SalesforceEmulator, http: requests.Session
) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "A1"},
        {"attributes": {"type": "Contact"}, "LastName": "C1"},
        {"attributes": {"type": "Account"}},  # fails: Name missing
    ]
    answer = http.post(f"{V}/composite/sobjects", json={"records": records}, timeout=5).json()
    assert [r["success"] for r in answer] == [True, True, False]
    published = events(emulator, "/data/ChangeEvents")
    headers = [header_of(e) for e in published]
    assert [h["entityName"] for h in headers] == ["Account", "Contact"]
    assert [h["sequenceNumber"] for h in headers] == [1, 2]
    assert len({h["transactionKey"] for h in headers}) == 1


def test_rolled_back_and_failed_requests_publish_nothing(
    emulator: SalesforceEmulator, http: requests.Session
) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "ok"},
        {"attributes": {"type": "Account"}},
    ]
    body = {"allOrNone": True, "records": records}
    http.post(f"{V}/composite/sobjects", json=body, timeout=5)
    bad = http.post(f"{V}/sobjects/Account/", json={"Nope__c": 1}, timeout=5)
    assert bad.status_code == 400
    acme = emulator.org.find_by(emulator.org.obj("Account"), "Name", "Acme Corporation")[0]["Id"]
    deleted = http.delete(
        f"{V}/composite/sobjects", params={"ids": f"{acme},bad", "allOrNone": "true"}, timeout=5
    ).json()
    assert deleted[1]["success"] is False
    assert events(emulator, "/data/ChangeEvents") == []
    refused = http.post(f"{CONTROL}/undelete", json={"ids": [acme]}).json()
    assert refused[0]["success"] is False  # the rolled-back delete left no recycle-bin entry


def test_upsert_creates_then_updates(emulator: SalesforceEmulator, http: requests.Session) -> None:
    url = f"{V}/sobjects/Account/Customer_ID__c/CUST-9"
    assert http.patch(url, json={"Name": "Nine"}, timeout=5).status_code == 201
    assert http.patch(url, json={"Name": "Nine Ltd"}, timeout=5).status_code == 200
    rows = [{"attributes": {"type": "Account"}, "Customer_ID__c": "CUST-9", "Phone": "1"}]
    collection = http.patch(
        f"{V}/composite/sobjects/Account/Customer_ID__c", json={"records": rows}, timeout=5
    )
    assert collection.json()[0]["created"] is False
    kinds = [header_of(e)["changeType"] for e in events(emulator, "/data/AccountChangeEvent")]
    assert kinds == ["CREATE", "UPDATE", "UPDATE"]
    last = events(emulator, "/data/AccountChangeEvent")[-1]
    assert set(body_of(last)) == {"Phone", "LastModifiedDate"}


def test_platform_event_publish_goes_on_the_event_channel(
    emulator: SalesforceEmulator, http: requests.Session
) -> None:
    answer = http.post(
        f"{V}/sobjects/Order_Event__e/", json={"Order_ID__c": "ORD-1", "Amount__c": 12.5}
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["id"].startswith("e00")
    assert body["success"] is True
    assert body["errors"] == [
        {"statusCode": "OPERATION_ENQUEUED", "message": body["errors"][0]["message"], "fields": []}
    ]
    (event,) = events(emulator, "/event/Order_Event__e")
    assert event.event_uuid == body["errors"][0]["message"]
    assert event.payload["Order_ID__c"] == "ORD-1"
    assert event.payload["Amount__c"] == 12.5
    assert event.payload["CreatedById"] == emulator.org.user_id
    assert ISO_Z.match(event.payload["CreatedDate"])
    assert "ReplayId" not in event.payload
    assert "EventUuid" not in event.payload
    assert events(emulator, "/data/ChangeEvents") == []
    records = [
        {"attributes": {"type": "Order_Event__e"}, "Order_ID__c": "ORD-2"},
        {"attributes": {"type": "Order_Event__e"}},  # Order_ID__c is required
    ]
    composite = http.post(f"{V}/composite/sobjects", json={"records": records}).json()
    assert composite[0]["errors"][0]["statusCode"] == "OPERATION_ENQUEUED"
    assert composite[1]["success"] is False
    assert [e.payload["Order_ID__c"] for e in events(emulator, "/event/Order_Event__e")] == [
        "ORD-1",
        "ORD-2",
    ]


def test_gap_events_on_demand(emulator: SalesforceEmulator, http: requests.Session) -> None:
    answer = http.post(
        f"{CONTROL}/events/gap",
        json={"entity": "Payment__c", "changeType": "GAP_UPDATE", "recordIds": ["a01x"]},
    )
    assert answer.status_code == 200
    assert answer.json()["channel"] == "/data/Payment__ChangeEvent"
    (event,) = events(emulator, "/data/Payment__ChangeEvent")
    assert body_of(event) == {}
    header = ChangeEventHeader.from_wire(header_of(event))
    assert header.is_gap
    assert header.record_ids == ("a01x",)
    wrong = http.post(f"{CONTROL}/events/gap", json={"entity": "Account", "changeType": "UPDATE"})
    assert wrong.status_code == 400
    assert wrong.json()["error"].startswith("changeType:")
    unknown = http.post(f"{CONTROL}/events/gap", json={"entity": "Lead"})
    assert unknown.json()["error"].startswith("entity:")
    assert emulator.api_used == 0


@pytest.mark.parametrize(
    ("options", "origin"),
    [
        (None, "com/salesforce/api/rest/61.0"),
        ("client=SalesforceListener", "com/salesforce/api/rest/61.0;client=SalesforceListener"),
        ("defaultNamespace=ns, client=etl", "com/salesforce/api/rest/61.0;client=etl"),
        ("client=", "com/salesforce/api/rest/61.0"),
    ],
)
def test_change_origin_from_call_options(options: str | None, origin: str) -> None:
    assert change_origin("rest", "61.0", options) == origin


def test_bulk_ingest_publishes_one_transaction(
    emulator: SalesforceEmulator, http: requests.Session
) -> None:
    job = http.post(
        f"{V}/jobs/ingest", json={"object": "Contact", "operation": "insert"}, timeout=5
    ).json()
    upload = http.put(
        f"{V}/jobs/ingest/{job['id']}/batches",
        data="LastName\nOne\nTwo\n",
        headers={"Content-Type": "text/csv"},
        timeout=5,
    )
    assert upload.status_code == 201
    http.patch(f"{V}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"}, headers=CLIENT)
    headers = [header_of(e) for e in events(emulator, "/data/ContactChangeEvent")]
    assert [h["changeType"] for h in headers] == ["CREATE", "CREATE"]
    assert [h["sequenceNumber"] for h in headers] == [1, 2]
    assert headers[0]["changeOrigin"] == "com/salesforce/api/rest/66.0;client=paysync-bridge"
