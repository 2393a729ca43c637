"""Subscribe through PubSubClient against the emulator's Pub/Sub servicer on a real port."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from salesforce_bridge.emulator import ORG_ID, EventBus, SalesforceEmulator
from salesforce_bridge.emulator._pubsub import PubSubFault, PubSubServer
from salesforce_bridge.events import ChangeEvent, InMemoryReplayStore, SalesforceEvent
from salesforce_bridge.pubsub import (
    AUTH_ERROR,
    REPLAY_ID_CORRUPTED,
    REPLAY_ID_VALIDATION_FAILED,
    PubSubAuthError,
    PubSubClient,
    PubSubInvalidReplayError,
    PubSubSubscription,
)
from salesforce_bridge.pubsub import _wire as wire

from .conftest import TokenBox, cdc_payload

TOPIC = "/data/AccountChangeEvent"


def _publish(emulator: SalesforceEmulator, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        emulator.bus.publish(TOPIC, cdc_payload(f"Acme {i}"))


def _names(events: list[SalesforceEvent]) -> list[str]:
    return [str(e.payload["Name"]) for e in events]


def _take(subscription: PubSubSubscription, count: int) -> list[SalesforceEvent]:
    return list(itertools.islice(subscription, count))


def test_earliest_yields_typed_change_events_with_decoded_bitmaps(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    _publish(emulator, 3)
    with client.subscribe(TOPIC, replay="earliest") as subscription:
        events = _take(subscription, 3)
    assert _names(events) == ["Acme 0", "Acme 1", "Acme 2"]
    first = events[0]
    assert isinstance(first, ChangeEvent)
    assert first.transport == "pubsub"
    assert first.channel == TOPIC
    assert first.replay_id == (1).to_bytes(8, "big")
    assert first.header.changed_fields == ("Name",)
    assert first.header.nulled_fields == ("Phone",)
    assert first.header.change_type == "UPDATE"
    assert first.payload["LastModifiedDate"] == 1712693965000  # Avro long, epoch ms
    assert first.payload["Phone"] is None  # every schema field is present, unchanged ones null
    assert first.event_uuid is not None


def test_latest_skips_history_and_delivers_new_events(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    _publish(emulator, 2)
    subscription = client.subscribe(TOPIC, replay="latest")
    publisher = threading.Timer(0.2, _publish, args=(emulator, 2, 10))
    publisher.start()
    try:
        events = _take(subscription, 2)
    finally:
        subscription.close()
        publisher.join()
    assert _names(events) == ["Acme 10", "Acme 11"]


def test_custom_resumes_after_the_given_replay_id(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    _publish(emulator, 5)
    with client.subscribe(TOPIC, replay=(2).to_bytes(8, "big")) as subscription:
        events = _take(subscription, 3)
    assert _names(events) == ["Acme 2", "Acme 3", "Acme 4"]


def test_store_checkpoint_is_the_resume_point(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    _publish(emulator, 6)
    store = InMemoryReplayStore()
    with client.subscribe(TOPIC, replay="earliest", store=store, batch_size=3) as subscription:
        _take(subscription, 4)  # asking for the 4th means batch one (1..3) was handled
    assert store.load(TOPIC) == (3).to_bytes(8, "big")
    with client.subscribe(TOPIC, replay="earliest", store=store) as again:
        assert _names(_take(again, 3)) == ["Acme 3", "Acme 4", "Acme 5"]


def test_flow_control_never_exceeds_the_request(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 95)
    subscription = client.subscribe(TOPIC, replay="earliest", batch_size=10)
    events = _take(subscription, 95)
    subscription.close()
    assert len(events) == 95
    assert subscription.max_owed <= 10
    # Every top-up keeps the client's outstanding request at or under the batch size.
    assert all(0 < n <= 10 for _, n in server.servicer.requests_seen)
    assert sum(n for _, n in server.servicer.requests_seen) <= 95 + 10


@pytest.mark.parametrize(("requested", "expected"), [(7, 7), (500, 100)])
def test_server_sends_no_more_than_requested_and_caps_at_100(
    emulator: SalesforceEmulator, server: PubSubServer, requested: int, expected: int
) -> None:
    _publish(emulator, 150)
    channel = grpc.insecure_channel(server.target)
    stub = wire.stub_for(channel)
    done = threading.Event()

    def requests() -> Iterator[wire.FetchRequest]:
        yield wire.FetchRequest(
            topic_name=TOPIC, replay_preset=wire.EARLIEST, num_requested=requested
        )
        done.wait(5)

    metadata = (
        ("accesstoken", "raw-token"),
        ("instanceurl", "https://x.my.salesforce.com"),
        ("tenantid", ORG_ID),
    )
    stream = stub.subscribe(requests(), metadata=metadata)
    received = 0
    for response in stream:
        received += len(response.events)
        assert response.pending_num_requested == expected - received
        if not response.events:  # the keepalive once the request is used up
            assert response.latest_replay_id == expected.to_bytes(8, "big")
            assert response.rpc_id
            break
    done.set()
    stream.cancel()
    channel.close()
    assert received == expected


def test_keepalive_arrives_when_idle(client: PubSubClient) -> None:
    with client.subscribe(TOPIC, replay="latest") as subscription:
        deadline = time.monotonic() + 3
        consumer = threading.Thread(target=lambda: _take(subscription, 1), daemon=True)
        consumer.start()
        while subscription.keepalives == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert subscription.keepalives >= 1


@pytest.mark.parametrize(
    ("replay", "code"),
    [((999).to_bytes(8, "big"), REPLAY_ID_CORRUPTED), (b"", REPLAY_ID_VALIDATION_FAILED)],
)
def test_invalid_replay_id_raises_typed_error(
    emulator: SalesforceEmulator, client: PubSubClient, replay: bytes, code: str
) -> None:
    _publish(emulator, 1)
    subscription = client.subscribe(TOPIC, replay=replay)  # b"": CUSTOM without an id
    with pytest.raises(PubSubInvalidReplayError) as caught:
        next(subscription)
    assert caught.value.error_code == code
    assert caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.topic == TOPIC
    assert caught.value.rpc_id


def test_expired_replay_id_raises_typed_error() -> None:
    clock = [1000.0]
    bus_emulator = SalesforceEmulator(bus=EventBus(retention_seconds=10, clock=lambda: clock[0]))
    bus_emulator.bus.publish(TOPIC, cdc_payload("old"))
    clock[0] += 60
    bus_emulator.bus.publish(TOPIC, cdc_payload("new"))
    with PubSubServer(bus_emulator) as server:
        tokens = TokenBox()
        with PubSubClient(server.target, credentials=tokens, tls=False) as other:
            subscription = other.subscribe(TOPIC, replay=(1).to_bytes(8, "big"))
            with pytest.raises(PubSubInvalidReplayError):
                next(subscription)
            with other.subscribe(TOPIC, replay="earliest") as fallback:
                assert _names(_take(fallback, 1)) == ["new"]


def test_reconnect_after_dropped_stream_resumes_without_loss_or_duplicate(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 30)
    # after_events counts per stream: one stream fails after 8, the next one after 8 more.
    server.add_fault(PubSubFault("drop_stream", after_events=8))
    server.add_fault(PubSubFault("unavailable", after_events=8))
    subscription = client.subscribe(TOPIC, replay="earliest", batch_size=4, backoff=0.01)
    events = _take(subscription, 30)
    subscription.close()
    assert _names(events) == [f"Acme {i}" for i in range(30)]
    assert subscription.reconnects == 2


def test_duplicate_delivery_is_not_yielded_twice(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 10)
    server.add_fault(PubSubFault("duplicate", after_events=4))
    subscription = client.subscribe(TOPIC, replay="earliest", batch_size=4)
    events = _take(subscription, 10)
    subscription.close()
    assert _names(events) == [f"Acme {i}" for i in range(10)]
    assert subscription.duplicates_skipped >= 1


def test_token_expiry_mid_stream_refreshes_and_resumes(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient, tokens: TokenBox
) -> None:
    _publish(emulator, 10)
    server.add_fault(PubSubFault("expire_token", after_events=4))
    subscription = client.subscribe(TOPIC, replay="earliest", batch_size=4)
    events = _take(subscription, 10)
    subscription.close()
    assert _names(events) == [f"Acme {i}" for i in range(10)]
    assert tokens.refreshes == 1
    assert "token-1" in emulator.tokens.expired


def test_auth_error_after_refresh_raises_typed_error(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    emulator.tokens.strict = True  # no token of ours was issued by the org
    with pytest.raises(PubSubAuthError) as caught:
        next(client.subscribe(TOPIC))
    assert caught.value.error_code == AUTH_ERROR
    assert "token-" not in str(caught.value)


def test_watchdog_reconnects_a_silent_stream(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    server.servicer.keepalive_interval = 30  # the server goes silent
    _publish(emulator, 1)
    subscription = client.subscribe(TOPIC, replay="earliest", watchdog=0.4, backoff=0.01)
    assert _names(_take(subscription, 1)) == ["Acme 0"]
    threading.Timer(1.0, _publish, args=(emulator, 1, 1)).start()
    assert _names(_take(subscription, 1)) == ["Acme 1"]
    subscription.close()
    assert subscription.reconnects >= 1


def test_slow_delivery_still_delivers_in_order(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 6)
    server.add_fault(PubSubFault("slow", delay=0.1, count=2))
    started = time.monotonic()
    with client.subscribe(TOPIC, replay="earliest", batch_size=3) as subscription:
        events = _take(subscription, 6)
    assert _names(events) == [f"Acme {i}" for i in range(6)]
    assert time.monotonic() - started >= 0.2


def test_all_change_events_channel_carries_every_entity(
    emulator: SalesforceEmulator, client: PubSubClient
) -> None:
    _publish(emulator, 2)
    with client.subscribe("/data/ChangeEvents", replay="earliest") as subscription:
        events = _take(subscription, 2)
    assert [e.channel for e in events] == ["/data/ChangeEvents"] * 2
    assert all(isinstance(e, ChangeEvent) and e.header.entity_name == "Account" for e in events)


def test_server_closes_a_stream_owed_nothing_past_the_idle_limit(
    emulator: SalesforceEmulator,
) -> None:
    _publish(emulator, 3)
    with PubSubServer(emulator, keepalive_interval=30, idle_timeout=0.3) as server:
        channel = grpc.insecure_channel(server.target)
        stub = wire.stub_for(channel)
        hold = threading.Event()

        def requests() -> Iterator[wire.FetchRequest]:
            yield wire.FetchRequest(topic_name=TOPIC, replay_preset=wire.EARLIEST, num_requested=1)
            hold.wait(5)

        metadata = TokenBox()(False).metadata
        started = time.monotonic()
        responses = list(stub.subscribe(requests(), metadata=metadata))  # ends by itself
        hold.set()
        channel.close()
    assert [len(r.events) for r in responses] == [1]
    assert time.monotonic() - started >= 0.3
