"""CometdSubscriber end to end against the mounted endpoint, with scripted CometD faults."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session
from salesforce_bridge.events import (
    ChangeEvent,
    CometdInvalidReplayError,
    CometdSubscriber,
    cometd_replay_int,
    is_echo,
)

V = f"{DEFAULT_BASE_URL}/services/data/v66.0"
CHANNEL = "/data/AccountChangeEvent"


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def http(emulator: SalesforceEmulator) -> requests.Session:
    session = emulator_session(emulator)
    session.headers["Authorization"] = "Bearer 00Dtoken"
    return session


@pytest.fixture
def sub(emulator: SalesforceEmulator) -> CometdSubscriber:
    grant = StaticSessionGrant(
        SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)
    )
    subscriber = CometdSubscriber(
        grant=grant, http=emulator_session(emulator), sleep=lambda _: None
    )
    subscriber.subscribe(CHANNEL)
    assert subscriber.poll() == []
    return subscriber


def fault(http: requests.Session, **spec: Any) -> None:
    answer = http.post(f"{DEFAULT_BASE_URL}/__emulator__/faults", json=spec, timeout=5)
    assert answer.status_code == 200, answer.text


def create(http: requests.Session, name: str) -> str:
    headers = {"Sforce-Call-Options": "client=paysync"}
    answer = http.post(f"{V}/sobjects/Account/", json={"Name": name}, headers=headers, timeout=5)
    return str(answer.json()["id"])


def channels_since(emulator: SalesforceEmulator, start: int) -> list[str]:
    return [m["channel"] for m in list(emulator.cometd.received)[start:]]


def test_rest_writes_arrive_as_typed_change_events(
    http: requests.Session, sub: CometdSubscriber
) -> None:
    record_id = create(http, "Umbrella")
    http.patch(f"{V}/sobjects/Account/{record_id}", json={"Phone": "555"}, timeout=5)
    created, updated = sub.poll()
    assert isinstance(created, ChangeEvent)
    assert isinstance(updated, ChangeEvent)
    assert created.header.change_type == "CREATE"
    assert created.header.record_ids == (record_id,)
    assert is_echo(created.header, "paysync")
    assert not is_echo(updated.header, "paysync")
    assert updated.header.changed_fields == ("LastModifiedDate", "Phone")
    assert updated.payload == {
        "Phone": "555",
        "LastModifiedDate": updated.payload["LastModifiedDate"],
    }
    assert updated.header.nulled_fields == ()  # CometD does not carry nulledFields
    assert cometd_replay_int(updated.replay_id) > cometd_replay_int(created.replay_id)


def test_unknown_client_fault_always_rehandshakes_then_resubscribes(
    emulator: SalesforceEmulator, http: requests.Session, sub: CometdSubscriber
) -> None:
    sub.subscribe("/data/ChangeEvents")
    create(http, "warm-up")  # with -1 and nothing delivered yet, a resubscribe cannot resume
    assert len(sub.poll()) == 2
    for round_number in range(2):
        fault(http, kind="cometd_unknown_client", path="/meta/connect")
        create(http, f"lost-{round_number}")
        start = len(emulator.cometd.received)
        assert sub.poll() == []  # 403::Unknown client
        events = sub.poll()
        assert channels_since(emulator, start) == [
            "/meta/connect",
            "/meta/handshake",
            "/meta/subscribe",
            "/meta/subscribe",
            "/meta/connect",
        ]
        assert sorted(e.channel for e in events) == [CHANNEL, "/data/ChangeEvents"]
        assert all(e.payload["Name"] == f"lost-{round_number}" for e in events)
    assert sub.handshakes == 3


def test_duplicate_delivery_fault_is_visible(http: requests.Session, sub: CometdSubscriber) -> None:
    create(http, "once")
    (first,) = sub.poll()
    fault(http, kind="cometd_duplicate", path="/meta/connect")
    create(http, "twice")
    again, second = sub.poll()
    assert (again.replay_id, again.event_uuid) == (first.replay_id, first.event_uuid)
    assert second.payload["Name"] == "twice"


def test_invalid_replay_fault_raises_a_typed_error(
    http: requests.Session, sub: CometdSubscriber
) -> None:
    fault(http, kind="cometd_invalid_replay", path="/meta/subscribe")
    with pytest.raises(CometdInvalidReplayError, match=r"The replayId \{-1\} you provided"):
        sub.subscribe("/data/ContactChangeEvent")


def test_hold_fault_stalls_one_connect_then_delivers(
    http: requests.Session, sub: CometdSubscriber
) -> None:
    fault(http, kind="cometd_hold", path="/meta/connect", delay=0.2)
    create(http, "late")
    started = time.monotonic()
    assert sub.poll() == []  # held, nothing delivered
    assert time.monotonic() - started >= 0.2
    assert [e.payload["Name"] for e in sub.poll()] == ["late"]


def test_dropped_connection_loses_nothing(http: requests.Session, sub: CometdSubscriber) -> None:
    fault(http, kind="reset", path="^/cometd/")
    create(http, "after-drop")
    with pytest.raises(requests.ConnectionError):
        sub.poll()
    assert [e.payload["Name"] for e in sub.poll()] == ["after-drop"]
