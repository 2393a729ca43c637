"""GetTopic, GetSchema (cached), Publish and PublishStream against the emulator's servicer."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from decimal import Decimal

import grpc
import pytest

from salesforce_bridge.emulator import SalesforceEmulator
from salesforce_bridge.emulator._pubsub import PubSubFault, PubSubServer
from salesforce_bridge.events import PlatformEvent
from salesforce_bridge.pubsub import (
    SERVICE_UNAVAILABLE,
    PubSubClient,
    PubSubError,
    PubSubSchemaError,
)
from salesforce_bridge.pubsub import _wire as wire

from .conftest import TokenBox

TOPIC = "/event/Payment_Event__e"


def test_get_topic_reports_permissions_and_schema(client: PubSubClient) -> None:
    event_topic = client.get_topic(TOPIC)
    assert event_topic.can_publish
    assert event_topic.can_subscribe
    assert event_topic.tenant_guid.startswith("00D")
    change_topic = client.get_topic("/data/Payment__ChangeEvent")
    assert not change_topic.can_publish
    assert change_topic.schema_id != event_topic.schema_id


def test_get_schema_is_cached_by_id(client: PubSubClient) -> None:
    schema_id = client.get_topic(TOPIC).schema_id
    first = client.get_schema(schema_id)
    second = client.get_schema(schema_id)
    assert first is second
    assert client.schema_fetches == 1
    assert first.schema["name"] == "Payment_Event__e"
    assert [f.name for f in first.fields][:2] == ["CreatedDate", "CreatedById"]


def test_unknown_schema_is_a_typed_error(client: PubSubClient) -> None:
    with pytest.raises(PubSubError) as caught:
        client.get_schema("no-such-schema")
    assert caught.value.status == "NOT_FOUND"


def test_publish_returns_one_result_per_event_with_correlation_keys(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    created = datetime(2024, 4, 9, 20, 19, 25, tzinfo=timezone.utc)
    outcomes = client.publish(
        TOPIC,
        [
            {"Payment_ID__c": "PAY-1", "Amount__c": Decimal("12.50"), "CreatedDate": created},
            {"Payment_ID__c": "PAY-2", "Status__c": "Captured"},
        ],
        ids=["key-1", "key-2"],
    )
    assert [o.correlation_key for o in outcomes] == ["key-1", "key-2"]
    assert all(o.ok for o in outcomes)
    stored = emulator.bus.read(TOPIC, after=None, limit=10)
    assert [e.event_uuid for e in stored] == ["key-1", "key-2"]
    assert stored[0].payload["Amount__c"] == 12.5
    assert stored[0].payload["CreatedDate"] == "2024-04-09T20:19:25.000Z"
    assert outcomes[0].replay_id == stored[0].replay_id.to_bytes(8, "big")


def test_published_events_come_back_through_subscribe(client: PubSubClient) -> None:
    client.publish(TOPIC, [{"Payment_ID__c": "PAY-9"}])
    with client.subscribe(TOPIC, replay="earliest") as subscription:
        event = next(subscription)
    assert isinstance(event, PlatformEvent)
    assert event.payload["Payment_ID__c"] == "PAY-9"
    assert event.created_date is not None


def test_publish_rejects_an_unknown_field_naming_it(client: PubSubClient) -> None:
    with pytest.raises(PubSubSchemaError, match=r"events\[0\]: Bogus__c"):
        client.publish(TOPIC, [{"Bogus__c": 1}])


def test_per_event_errors_for_bad_payload_and_schema(server: PubSubServer) -> None:
    channel = grpc.insecure_channel(server.target)
    stub = wire.stub_for(channel)
    metadata = (
        ("accesstoken", "raw"),
        ("instanceurl", "https://x.my.salesforce.com"),
        ("tenantid", "00D000000000001AAA"),
    )
    topic = stub.get_topic(wire.TopicRequest(topic_name=TOPIC), metadata=metadata, timeout=5)
    request = wire.PublishRequest(
        topic_name=TOPIC,
        events=[
            wire.ProducerEvent(id="bad-avro", schema_id=topic.schema_id, payload=b"\xff\xff"),
            wire.ProducerEvent(id="bad-schema", schema_id="nope", payload=b""),
        ],
    )
    response = stub.publish(request, metadata=metadata, timeout=5)
    channel.close()
    assert [r.correlation_key for r in response.results] == ["bad-avro", "bad-schema"]
    assert all(r.error.code == wire.ErrorCode.PUBLISH and not r.replay_id for r in response.results)
    assert response.schema_id == topic.schema_id


def test_publish_stream_answers_each_batch(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    batches = [[{"Payment_ID__c": f"S-{b}-{i}"} for i in range(3)] for b in range(4)]
    results = list(client.publish_stream(TOPIC, batches))
    assert [len(r) for r in results] == [3, 3, 3, 3]
    assert all(o.ok for r in results for o in r)
    keys = {o.correlation_key for r in results for o in r}
    assert len(keys) == 12
    assert {e.event_uuid for e in emulator.bus.read(TOPIC, after=None, limit=20)} == keys


def test_unary_auth_error_refreshes_once(
    emulator: SalesforceEmulator, client: PubSubClient, tokens: TokenBox
) -> None:
    client.get_topic(TOPIC)
    emulator.tokens.revoke("token-1")
    assert client.get_topic(TOPIC).can_publish
    assert tokens.refreshes == 1


def test_service_unavailable_fault_on_publish(server: PubSubServer, client: PubSubClient) -> None:
    client.get_topic(TOPIC)
    server.add_fault(PubSubFault("unavailable", rpc="Publish"))
    with pytest.raises(PubSubError) as caught:
        client.publish(TOPIC, [{"Payment_ID__c": "X"}])
    assert caught.value.error_code == SERVICE_UNAVAILABLE
    assert caught.value.status == "INTERNAL"
    assert client.publish(TOPIC, [{"Payment_ID__c": "X"}])[0].ok


def test_avro_schemas_follow_the_seed_objects(client: PubSubClient) -> None:
    info = client.get_topic("/data/Payment__ChangeEvent")
    schema = client.get_schema(info.schema_id).schema
    names = [f["name"] for f in schema["fields"]]
    assert names[0] == "ChangeEventHeader"
    assert "Amount__c" in names
    assert "Id" not in names
    header = schema["fields"][0]["type"]
    assert [f["name"] for f in header["fields"]] == [
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
    amount = next(f for f in schema["fields"] if f["name"] == "Amount__c")
    assert amount == {"name": "Amount__c", "type": ["null", "double"], "default": None}
    json.dumps(schema)  # plain JSON
    order_event = client.get_topic("/event/Order_Event__e")
    assert order_event.can_publish
    assert list(itertools.islice(iter(names), 1)) == ["ChangeEventHeader"]
