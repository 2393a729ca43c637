"""CometD subscriber against the emulator's mounted ``/cometd/<version>`` endpoint, in process."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from salesforce_bridge import SalesforceAuthError
from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import DEFAULT_BASE_URL, EmulatorAdapter, SalesforceEmulator
from salesforce_bridge.emulator._bus import EventBus
from salesforce_bridge.events import (
    ChangeEvent,
    CometdError,
    CometdInvalidReplayError,
    CometdSubscriber,
    PlatformEvent,
    cometd_replay_int,
)

CHANNEL = "/event/Payment_Event__e"
TOKEN = "00Dtoken!secret"
V = f"{DEFAULT_BASE_URL}/services/data/v66.0"


class RecordingAdapter(EmulatorAdapter):
    """The emulator's in-process adapter, remembering what was sent."""

    def __init__(self, emulator: SalesforceEmulator) -> None:
        super().__init__(emulator)
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(request)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def adapter(emulator: SalesforceEmulator) -> RecordingAdapter:
    return RecordingAdapter(emulator)


def make_subscriber(adapter: EmulatorAdapter, token: str = TOKEN) -> CometdSubscriber:
    http = requests.Session()
    http.mount(DEFAULT_BASE_URL, adapter)
    grant = StaticSessionGrant(SalesforceSession(access_token=token, instance_url=DEFAULT_BASE_URL))
    return CometdSubscriber(grant=grant, http=http, sleep=lambda _s: None)


def rest(adapter: EmulatorAdapter) -> requests.Session:
    http = requests.Session()
    http.mount(DEFAULT_BASE_URL, adapter)
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    return http


def publish(adapter: EmulatorAdapter, payment_id: str) -> dict[str, Any]:
    answer = rest(adapter).post(
        f"{V}/sobjects/Payment_Event__e/", json={"Payment_ID__c": payment_id}, timeout=5
    )
    assert answer.status_code == 201
    return answer.json()


def test_handshake_subscribe_and_receive_typed_events(
    emulator: SalesforceEmulator, adapter: RecordingAdapter
) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    assert sub.poll() == []
    published = publish(adapter, "PAY-1")
    events = sub.poll()
    assert [type(e) for e in events] == [PlatformEvent]
    (event,) = events
    assert event.channel == CHANNEL
    assert event.event_uuid == published["errors"][0]["message"]
    assert cometd_replay_int(event.replay_id) == int(emulator.state()["events"][-1]["ReplayId"])
    assert event.payload["Payment_ID__c"] == "PAY-1"
    assert event.created_date is not None
    sent = adapter.sent[-1]
    assert sent.url == f"{DEFAULT_BASE_URL}/cometd/66.0"
    assert sent.headers["Authorization"] == "Bearer 00Dtoken!secret"
    assert "BAYEUX_BROWSER=" in str(sent.headers["Cookie"])
    assert "secret" not in repr(sub)
    assert emulator.api_used == 1  # only the REST publish counts against the API limit


def test_replay_from_id_and_all_retained(adapter: RecordingAdapter) -> None:
    answers = [publish(adapter, f"P{i}") for i in range(3)]
    assert all(a["id"].startswith("e00") for a in answers)
    first = make_subscriber(adapter)
    first.subscribe(CHANNEL, -2)
    everything = first.poll()
    assert [e.payload["Payment_ID__c"] for e in everything] == ["P0", "P1", "P2"]
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL, cometd_replay_int(everything[0].replay_id))
    assert [e.payload["Payment_ID__c"] for e in sub.poll()] == ["P1", "P2"]


def test_change_events_on_the_entity_and_the_all_channel(adapter: RecordingAdapter) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe("/data/AccountChangeEvent")
    sub.subscribe("/data/ChangeEvents")
    sub.poll()
    rest(adapter).post(f"{V}/sobjects/Account/", json={"Name": "Umbrella"}, timeout=5)
    events = sub.poll()
    assert sorted(e.channel for e in events) == ["/data/AccountChangeEvent", "/data/ChangeEvents"]
    assert all(isinstance(e, ChangeEvent) for e in events)
    assert events[0].replay_id == events[1].replay_id
    assert events[0].event_uuid == events[1].event_uuid


def test_unknown_client_rehandshakes_and_resubscribes(
    emulator: SalesforceEmulator, adapter: RecordingAdapter
) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    sub.poll()
    publish(adapter, "n1")
    assert len(sub.poll()) == 1
    emulator.cometd.expire_clients()
    publish(adapter, "n2")  # published while the session was lost
    assert sub.poll() == []  # 403::Unknown client -> handshake on the next poll
    assert sub.client_id is None
    events = sub.poll()  # re-handshake resubscribes from the last delivered replay id
    assert [e.payload["Payment_ID__c"] for e in events] == ["n2"]
    assert sub.handshakes == 2


def test_invalid_replay_id_raises_a_typed_error(adapter: RecordingAdapter) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL, 82)
    with pytest.raises(CometdInvalidReplayError) as info:
        sub.poll()
    assert info.value.code == 400
    assert info.value.replay_id == 82
    assert info.value.subscription == CHANNEL
    assert info.value.error == (
        "400::The replayId {82} you provided was invalid. Please provide a valid ID, -2 to "
        "replay all events, or -1 to replay only new events."
    )


def test_retention_expires_replay_ids() -> None:
    now = [1_000_000.0]
    emulator = SalesforceEmulator(bus=EventBus(clock=lambda: now[0], retention_seconds=3600))
    adapter = EmulatorAdapter(emulator)
    publish(adapter, "old")
    old = emulator.bus.latest_replay_id(CHANNEL)
    assert old is not None
    keeper = make_subscriber(adapter)
    keeper.subscribe(CHANNEL, old)
    assert keeper.poll() == []  # still retained: accepted
    now[0] += 3601
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL, old)
    with pytest.raises(CometdInvalidReplayError, match=rf"The replayId \{{{old}\}}"):
        sub.poll()
    everything = make_subscriber(adapter)
    everything.subscribe(CHANNEL, -2)
    assert everything.poll() == []  # -2 replays only what is still retained


def test_handshake_without_token_is_denied(adapter: RecordingAdapter) -> None:
    sub = make_subscriber(adapter, token=" ")
    with pytest.raises(CometdError, match="403::Handshake denied"):
        sub.poll()


def test_handshake_with_a_dead_session_is_denied_with_the_reason(
    emulator: SalesforceEmulator, adapter: RecordingAdapter
) -> None:
    emulator.tokens.expire_all()
    emulator.tokens.accepts(TOKEN)
    emulator.tokens.expire_all()
    http = rest(adapter)
    handshake = [{"channel": "/meta/handshake", "version": "1.0", "id": "1"}]
    (reply,) = http.post(f"{DEFAULT_BASE_URL}/cometd/66.0", json=handshake, timeout=5).json()
    assert reply["error"] == "403::Handshake denied"
    assert reply["ext"]["sfdc"]["failureReason"] == "401::Authentication invalid"
    assert reply["advice"] == {"reconnect": "none"}


def test_expired_session_on_connect_answers_401_with_reconnect_none(
    emulator: SalesforceEmulator, adapter: RecordingAdapter
) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    sub.poll()
    emulator.tokens.expire_all()
    connect = [{"channel": "/meta/connect", "clientId": sub.client_id, "id": "9"}]
    answer = sub.http.post(
        f"{DEFAULT_BASE_URL}/cometd/66.0",
        json=connect,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    (reply,) = answer.json()
    assert reply["error"] == "401::Authentication invalid"
    assert reply["clientId"] == sub.client_id
    assert reply["advice"] == {"reconnect": "none", "interval": 0}
    with pytest.raises(SalesforceAuthError, match="refresh_unsupported"):
        sub.poll()  # reconnect "none": the subscriber must refresh; a static grant cannot


def test_missing_cookie_is_rejected(
    emulator: SalesforceEmulator, adapter: RecordingAdapter
) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    sub.poll()
    sub.http.cookies.clear()
    with pytest.raises(CometdError, match="no BAYEUX_BROWSER"):
        sub.unsubscribe(CHANNEL)
    assert emulator.cometd.handshakes == 1


def test_unknown_channel_and_relative_channel_are_rejected(adapter: RecordingAdapter) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe("/event/Nope__e")
    with pytest.raises(CometdError, match="doesn't exist /event/Nope__e"):
        sub.poll()
    relative = make_subscriber(adapter)
    relative.subscribe("data/AccountChangeEvent")
    with pytest.raises(CometdError, match="must start with a leading '/'"):
        relative.poll()
