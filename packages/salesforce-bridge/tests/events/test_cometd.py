"""CometD subscriber against the emulator's CometD WSGI app, in process (no sockets)."""

from __future__ import annotations

import io
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator._cometd import CometdEmulator
from salesforce_bridge.events import (
    ChangeEvent,
    CometdError,
    CometdInvalidReplayError,
    CometdSubscriber,
    PlatformEvent,
    cometd_replay_int,
)

BASE = "https://cometd.emulator"
CHANNEL = "/event/Low_Ink__e"
TOKEN = "00Dtoken!secret"


class WsgiAdapter(BaseAdapter):
    """Serve requests from a CometdEmulator in process, recording what was sent."""

    def __init__(self, app: CometdEmulator) -> None:
        super().__init__()
        self.app = app
        self.sent: list[requests.PreparedRequest] = []

    def send(  # noqa: PLR0917 - requests' adapter signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        self.sent.append(request)
        url = urlsplit(request.url or "")
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        builder = EnvironBuilder(
            method=request.method or "GET",
            path=url.path,
            base_url=f"{url.scheme}://{url.netloc}",
            headers=[(k, str(v)) for k, v in request.headers.items()],
            data=body,
        )
        answer = self.app.respond(Request(builder.get_environ()))
        builder.close()
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(dict(answer.headers.items()))
        response.raw = io.BytesIO(answer.get_data())
        response.request = request
        jar = RequestsCookieJar()
        for header in answer.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                jar.set(name, morsel.value)
        response.cookies = jar
        return response

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def emulator() -> CometdEmulator:
    return CometdEmulator()


@pytest.fixture
def adapter(emulator: CometdEmulator) -> WsgiAdapter:
    return WsgiAdapter(emulator)


def make_subscriber(adapter: WsgiAdapter, token: str = TOKEN) -> CometdSubscriber:
    http = requests.Session()
    http.mount(BASE, adapter)
    grant = StaticSessionGrant(SalesforceSession(access_token=token, instance_url=BASE))
    return CometdSubscriber(grant=grant, http=http, sleep=lambda _s: None)


def test_handshake_subscribe_and_receive_typed_events(
    emulator: CometdEmulator, adapter: WsgiAdapter
) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    assert sub.poll() == []
    first = emulator.publish(CHANNEL, {"Printer_Model__c": "XZO-5"})
    emulator.publish("/data/AccountChangeEvent", {"ChangeEventHeader": {"entityName": "A"}})
    events = sub.poll()
    assert [type(e) for e in events] == [PlatformEvent]
    assert cometd_replay_int(events[0].replay_id) == first
    assert events[0].payload == {"Printer_Model__c": "XZO-5"}
    sent = adapter.sent[-1]
    assert sent.headers["Authorization"] == "Bearer 00Dtoken!secret"
    assert "BAYEUX_BROWSER=" in str(sent.headers["Cookie"])
    assert "secret" not in repr(sub)


def test_replay_from_id_and_all_retained(emulator: CometdEmulator, adapter: WsgiAdapter) -> None:
    ids = [emulator.publish(CHANNEL, {"n": i}) for i in range(3)]
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL, ids[0])
    assert [e.payload["n"] for e in sub.poll()] == [1, 2]
    everything = make_subscriber(adapter)
    everything.subscribe(CHANNEL, -2)
    everything.subscribe("/data/ChangeEvents", -2)
    assert [e.payload["n"] for e in everything.poll()] == [0, 1, 2]
    emulator.publish(
        "/data/ChangeEvents",
        {"ChangeEventHeader": {"entityName": "Account", "changeType": "CREATE"}},
    )
    (change,) = everything.poll()
    assert isinstance(change, ChangeEvent)
    assert change.header.entity_name == "Account"


def test_unknown_client_rehandshakes_and_resubscribes(
    emulator: CometdEmulator, adapter: WsgiAdapter
) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    sub.poll()
    emulator.publish(CHANNEL, {"n": 1})
    assert len(sub.poll()) == 1
    emulator.expire_clients()
    emulator.publish(CHANNEL, {"n": 2})  # published while the session was lost
    assert sub.poll() == []  # 403::Unknown client -> handshake on the next poll
    assert sub.client_id is None
    events = sub.poll()  # re-handshake resubscribes from the last delivered replay id
    assert [e.payload["n"] for e in events] == [2]
    assert sub.handshakes == 2


def test_invalid_replay_id_raises_a_typed_error(adapter: WsgiAdapter) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL, 82)
    with pytest.raises(CometdInvalidReplayError) as info:
        sub.poll()
    assert info.value.code == 400
    assert info.value.replay_id == 82
    assert info.value.subscription == CHANNEL
    assert "The replayId {82} you provided was invalid" in str(info.value)


def test_retention_expires_replay_ids(adapter: WsgiAdapter) -> None:
    now = [1_000_000.0]
    emulator = CometdEmulator(clock=lambda: now[0], retention_seconds=3600)
    old = emulator.publish(CHANNEL, {"n": 1})
    now[0] += 3601
    sub = make_subscriber(WsgiAdapter(emulator))
    sub.subscribe(CHANNEL, old)
    with pytest.raises(CometdInvalidReplayError):
        sub.poll()
    assert adapter.sent == []


def test_handshake_without_token_is_denied(adapter: WsgiAdapter) -> None:
    sub = make_subscriber(adapter, token=" ")
    with pytest.raises(CometdError, match="403::Handshake denied"):
        sub.poll()


def test_missing_cookie_is_rejected(emulator: CometdEmulator, adapter: WsgiAdapter) -> None:
    sub = make_subscriber(adapter)
    sub.subscribe(CHANNEL)
    sub.poll()
    sub.http.cookies.clear()
    with pytest.raises(CometdError, match="no BAYEUX_BROWSER"):
        sub.unsubscribe(CHANNEL)
    assert emulator.handshakes == 1
