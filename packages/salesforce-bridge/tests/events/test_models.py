"""Typed events: the same shape from CometD messages and decoded Pub/Sub payloads."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from salesforce_bridge import events
from salesforce_bridge.events import (
    ChangeEvent,
    PlatformEvent,
    SchemaField,
    cometd_replay_bytes,
    cometd_replay_int,
    event_from_cometd,
    event_from_pubsub,
    parse_salesforce_datetime,
)

# verbatim from the reference (Message Durability page)
PLATFORM_MESSAGE = json.loads(
    '{"data":{"schema":"dffQ2QLzDNHqwB8_sHMxdA","payload":{"CreatedDate":"2023-04-09T18:31:40.517Z",'
    '"CreatedById":"005D0000001cSZs","Printer_Model__c":"XZO-5","Serial_Number__c":"12345",'
    '"Ink_Percentage__c":0.2},"event":{"EventUuid":"2ec0e371-1395-457f-9275-be1b527a72f7",'
    '"replayId":2112}},"channel":"/event/Low_Ink__e"}'
)
CDC_MESSAGE = json.loads(
    '{"data":{"schema":"IeRuaY6cbI_HsV8Rv1Mc5g","payload":{"ChangeEventHeader":{"entityName":'
    '"Account","recordIds":["<record_ID>"],"changeType":"CREATE","changeOrigin":'
    '"com.salesforce.core","transactionKey":"001b7375-0086-250e-e6ca-b99bc3a8b69f",'
    '"sequenceNumber":1,"isTransactionEnd":true,"commitTimestamp":1501010206653,'
    '"commitNumber":92847272780,"commitUser":"<User_ID>"},"Name":"Acme","Description":'
    '"Everyone is talking about the cloud. But what does it mean?","OwnerId":"<Owner_ID>",'
    '"CreatedDate":"2017-07-25T19:16:44Z","CreatedById":"<User_ID>","LastModifiedDate":'
    '"2017-07-25T19:16:44Z","LastModifiedById":"<User_ID>"},"event":{"replayId":6421}},'
    '"channel":"/data/ChangeEvents"}'
)


def test_platform_event_from_cometd() -> None:
    event = event_from_cometd(PLATFORM_MESSAGE)
    assert isinstance(event, PlatformEvent)
    assert event.channel == "/event/Low_Ink__e"
    assert event.replay_id == cometd_replay_bytes(2112)
    assert cometd_replay_int(event.replay_id) == 2112
    assert event.event_uuid == "2ec0e371-1395-457f-9275-be1b527a72f7"
    assert event.schema_id == "dffQ2QLzDNHqwB8_sHMxdA"
    assert event.payload["Printer_Model__c"] == "XZO-5"
    assert event.created_date == datetime(2023, 4, 9, 18, 31, 40, 517000, tzinfo=timezone.utc)
    assert event.transport == "cometd"


def test_change_event_from_cometd_and_pubsub_have_the_same_shape() -> None:
    via_cometd = event_from_cometd(CDC_MESSAGE)
    assert isinstance(via_cometd, ChangeEvent)
    assert via_cometd.header.entity_name == "Account"
    assert "ChangeEventHeader" not in via_cometd.payload
    fields = [SchemaField("ChangeEventHeader"), SchemaField("Name"), SchemaField("CreatedDate")]
    header = dict(CDC_MESSAGE["data"]["payload"]["ChangeEventHeader"])
    header.update(changeType="UPDATE", changedFields=["0x02"])
    via_pubsub = event_from_pubsub(
        topic="/data/ChangeEvents",
        replay_id=b"\x00\x00\x00\x00\x00\x00\x19\x15",
        event_id="e-1",
        schema_id="IeRuaY6cbI_HsV8Rv1Mc5g",
        payload={"ChangeEventHeader": header, "Name": "Acme", "CreatedDate": 1501010204000},
        schema=fields,
    )
    assert isinstance(via_pubsub, ChangeEvent)
    assert via_pubsub.header.changed_fields == ("Name",)
    assert via_pubsub.replay_id == via_cometd.replay_id
    assert via_pubsub.created_date == via_cometd.created_date
    assert set(type(via_pubsub).model_fields) == set(type(via_cometd).model_fields)


def test_datetime_parsing_is_always_aware() -> None:
    assert parse_salesforce_datetime("2017-07-25T19:16:44") == datetime(
        2017, 7, 25, 19, 16, 44, tzinfo=timezone.utc
    )
    assert parse_salesforce_datetime(None) is None
    assert parse_salesforce_datetime(True) is None


def test_events_exports_are_pinned() -> None:
    public = sorted(n for n in vars(events) if not n.startswith("_"))
    assert events.__all__ == sorted(events.__all__)
    assert set(events.__all__) <= set(public)
    assert all(getattr(events, name) is not None for name in events.__all__)
