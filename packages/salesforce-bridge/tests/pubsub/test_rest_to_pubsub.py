"""REST writes to the emulator arrive over Pub/Sub as typed change and platform events."""

from __future__ import annotations

import itertools

from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session
from salesforce_bridge.events import ChangeEvent, PlatformEvent, is_echo
from salesforce_bridge.pubsub import PubSubClient

DATA = f"{DEFAULT_BASE_URL}/services/data/v66.0"


def test_rest_create_and_update_arrive_as_change_events(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    http = emulator_session(emulator)
    http.headers["Authorization"] = "Bearer 00Dtoken"
    http.headers["Sforce-Call-Options"] = "client=paysync"
    created = http.post(f"{DATA}/sobjects/Account", json={"Name": "Acme", "Phone": "555"})
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    patched = http.patch(f"{DATA}/sobjects/Account/{record_id}", json={"Phone": None})
    assert patched.status_code == 204, patched.text
    with client.subscribe("/data/AccountChangeEvent", replay="earliest") as subscription:
        create, update = itertools.islice(subscription, 2)
    assert isinstance(create, ChangeEvent)
    assert isinstance(update, ChangeEvent)
    assert create.header.change_type == "CREATE"
    assert create.header.record_ids == (record_id,)
    assert create.payload["Name"] == "Acme"
    assert isinstance(create.payload["CreatedDate"], int)  # Avro long, epoch ms
    assert update.header.change_type == "UPDATE"
    assert set(update.header.changed_fields) == {"Phone", "LastModifiedDate"}
    assert update.header.nulled_fields == ("Phone",)
    assert is_echo(update.header, "paysync")


def test_rest_published_platform_event_arrives_over_pubsub(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    http = emulator_session(emulator)
    http.headers["Authorization"] = "Bearer 00Dtoken"
    answer = http.post(
        f"{DATA}/sobjects/Order_Event__e", json={"Order_ID__c": "ORD-1", "Amount__c": 10.5}
    )
    assert answer.status_code == 201, answer.text
    with client.subscribe("/event/Order_Event__e", replay="earliest") as subscription:
        event = next(subscription)
    assert isinstance(event, PlatformEvent)
    assert event.payload["Order_ID__c"] == "ORD-1"
    assert event.payload["Amount__c"] == 10.5
    assert event.created_date is not None
