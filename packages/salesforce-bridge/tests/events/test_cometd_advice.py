"""CometdSubscriber honouring ``advice``, its watchdog, token refresh and a late poller."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import requests

from salesforce_bridge._auth import RefreshTokenGrant, SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    EmulatorAdapter,
    EmulatorServer,
    SalesforceEmulator,
    serve,
)
from salesforce_bridge.events import CometdSubscriber, SalesforceEvent, cometd_replay_int

CHANNEL = "/data/AccountChangeEvent"
TOKEN = "00Dtoken!advice"
Message = dict[str, Any]


class WireLog(EmulatorAdapter):
    """The in-process emulator, logging each Bayeux channel sent with its ``timeout``.

    ``rewrite`` (consumed once) replaces the next ``/meta/connect`` reply as it comes off the
    wire, to script an ``advice`` the emulator never sends on its own.
    """

    def __init__(self, emulator: SalesforceEmulator, log: list[tuple[str, Any]]) -> None:
        super().__init__(emulator)
        self.log = log
        self.rewrite: Callable[[Message], Message] | None = None

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        channel = ""
        if "/cometd/" in (request.url or ""):
            body = request.body
            text = body.decode() if isinstance(body, bytes) else str(body)
            channel = str(cast("list[Message]", json.loads(text))[0]["channel"])
            self.log.append((channel, kwargs.get("timeout")))
        response: requests.Response = super().send(request, *args, **kwargs)
        if channel == "/meta/connect" and self.rewrite is not None:
            rewrite, self.rewrite = self.rewrite, None
            replies = cast("list[Message]", json.loads(response.content))
            replies = [rewrite(r) if r["channel"] == "/meta/connect" else r for r in replies]
            response = _with_body(response, replies)
        return response


def _with_body(response: requests.Response, replies: list[Message]) -> requests.Response:
    fresh = requests.Response()
    fresh.status_code = response.status_code
    fresh.headers = response.headers
    fresh.encoding = response.encoding
    fresh.url = response.url
    fresh.request = response.request
    fresh.cookies = response.cookies
    fresh.raw = io.BytesIO(json.dumps(replies).encode())
    return fresh


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def log() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def wire(emulator: SalesforceEmulator, log: list[tuple[str, Any]]) -> WireLog:
    return WireLog(emulator, log)


def _session(adapter: EmulatorAdapter) -> requests.Session:
    http = requests.Session()
    http.mount(DEFAULT_BASE_URL, adapter)
    return http


def _subscriber(
    wire: WireLog, log: list[tuple[str, Any]], *, slack: float = 30.0
) -> CometdSubscriber:
    grant = StaticSessionGrant(SalesforceSession(access_token=TOKEN, instance_url=DEFAULT_BASE_URL))
    return CometdSubscriber(
        grant=grant,
        http=_session(wire),
        watchdog_slack=slack,
        sleep=lambda seconds: log.append(("sleep", seconds)),
    )


def _create(base_url: str, http: requests.Session, name: str) -> None:
    answer = http.post(
        f"{base_url}/services/data/v66.0/sobjects/Account/",
        json={"Name": name},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text


def _names(events: list[SalesforceEvent]) -> list[str]:
    return [str(e.payload["Name"]) for e in events]


def _connect_timeouts(log: list[tuple[str, Any]]) -> list[Any]:
    return [timeout for channel, timeout in log if channel == "/meta/connect"]


# ---- advice.timeout and advice.interval -----------------------------------------------------


def test_connect_read_timeout_is_advice_timeout_plus_slack(
    emulator: SalesforceEmulator, wire: WireLog, log: list[tuple[str, Any]]
) -> None:
    emulator.cometd.advice["timeout"] = 2500
    sub = _subscriber(wire, log, slack=1.5)
    sub.subscribe(CHANNEL)
    sub.poll()  # before any advice: Salesforce's documented 110 s hold
    sub.poll()
    emulator.cometd.advice["timeout"] = 500
    sub.poll()  # advice from the previous reply applies to the next connect
    sub.poll()
    assert _connect_timeouts(log) == [(10.0, 111.5), (10.0, 4.0), (10.0, 4.0), (10.0, 2.0)]
    assert sub.read_timeout == pytest.approx(2.0)
    # Handshake and subscribe are not long polls: their read timeout stays short.
    others = {
        timeout for channel, timeout in log if channel in {"/meta/handshake", "/meta/subscribe"}
    }
    assert others == {(10.0, 30.0)}


def test_advice_interval_is_waited_between_connects(
    emulator: SalesforceEmulator, wire: WireLog, log: list[tuple[str, Any]]
) -> None:
    emulator.cometd.advice["interval"] = 250
    sub = _subscriber(wire, log)
    sub.subscribe(CHANNEL)
    sub.poll()
    sub.poll()
    emulator.cometd.advice["interval"] = 0
    sub.poll()
    sub.poll()
    trace = [entry for entry in log if entry[0] in {"/meta/connect", "sleep"}]
    assert [(c, t if c == "sleep" else None) for c, t in trace] == [
        ("/meta/connect", None),
        ("sleep", 0.25),
        ("/meta/connect", None),
        ("sleep", 0.25),
        ("/meta/connect", None),  # interval 0: connect again at once
        ("/meta/connect", None),
    ]


def test_reconnect_retry_connects_again_after_the_interval_in_the_same_session(
    emulator: SalesforceEmulator, wire: WireLog, log: list[tuple[str, Any]]
) -> None:
    sub = _subscriber(wire, log)
    sub.subscribe(CHANNEL)
    sub.poll()
    client_id = sub.client_id
    wire.rewrite = lambda reply: {
        **reply,
        "successful": False,
        "error": "500::Server busy",
        "advice": {"reconnect": "retry", "interval": 700, "timeout": 110000},
    }
    assert sub.poll() == []
    assert log[-1] == ("sleep", 0.7)
    _create(DEFAULT_BASE_URL, _session(wire), "after-retry")
    assert _names(sub.poll()) == ["after-retry"]
    assert sub.client_id == client_id
    assert sub.handshakes == 1


def test_reconnect_handshake_starts_a_new_session_and_resubscribes(
    emulator: SalesforceEmulator, wire: WireLog, log: list[tuple[str, Any]]
) -> None:
    sub = _subscriber(wire, log)
    sub.subscribe(CHANNEL)
    sub.poll()
    # A delivered event gives the client a replay id to resume from (with only -1, "new
    # events" would restart at the new session's start: see EVENTS.md).
    _create(DEFAULT_BASE_URL, _session(wire), "before")
    assert _names(sub.poll()) == ["before"]
    wire.rewrite = lambda reply: {
        **reply,
        "successful": False,
        "error": "402::Unknown client",
        "advice": {"reconnect": "handshake", "interval": 0},
    }
    sub.poll()
    assert sub.client_id is None
    _create(DEFAULT_BASE_URL, _session(wire), "after-handshake")
    assert _names(sub.poll()) == ["after-handshake"]
    assert sub.handshakes == 2
    channels = [channel for channel, _ in log if channel.startswith("/meta/")]
    assert channels[-3:] == ["/meta/handshake", "/meta/subscribe", "/meta/connect"]


# ---- reconnect "none": token refresh mid-stream ----------------------------------------------


def test_session_expiry_mid_stream_refreshes_rehandshakes_and_loses_nothing(
    emulator: SalesforceEmulator, log: list[tuple[str, Any]]
) -> None:
    wire = WireLog(emulator, log)
    http = _session(wire)
    grant = RefreshTokenGrant(client_id="cid", refresh_token="rt-1", login_url=DEFAULT_BASE_URL)
    sub = CometdSubscriber(grant=grant, http=http, sleep=lambda _s: None)
    sub.subscribe(CHANNEL, replay_id=-2)
    first_token = grant.session(http).access_token
    received: list[SalesforceEvent] = []
    received += sub.poll()
    for name in ("a", "b"):
        _create(DEFAULT_BASE_URL, _session(wire), name)
    received += sub.poll()
    assert emulator.tokens.expire_all() >= 1  # the session dies between two connects
    for name in ("c", "d"):
        emulator.bus.publish(CHANNEL, _change(name))
    received += sub.poll()  # 401::Authentication invalid, reconnect none: refresh
    assert sub.client_id is None
    assert grant.session(http).access_token != first_token
    received += sub.poll()  # new handshake with the new token, resubscribed after "b"
    received += sub.poll()
    assert _names(received) == ["a", "b", "c", "d"]
    replay_ids = [cometd_replay_int(e.replay_id) for e in received]
    assert replay_ids == sorted(set(replay_ids))  # no duplicate
    assert sub.handshakes == 2
    assert len(emulator.tokens.issued) == 2  # the refresh really got a new token from the org


def _change(name: str) -> dict[str, Any]:
    return {
        "ChangeEventHeader": {
            "entityName": "Account",
            "recordIds": ["001000000000001AAA"],
            "changeType": "UPDATE",
            "changeOrigin": "",
            "transactionKey": f"tx-{name}",
            "sequenceNumber": 1,
            "commitTimestamp": 1712693965000,
            "commitNumber": 1,
            "commitUser": "005000000000001AAA",
            "changedFields": ["Name"],
        },
        "Name": name,
    }


# ---- watchdog: a connect the server never answers --------------------------------------------


@pytest.fixture
def running(emulator: SalesforceEmulator) -> Iterator[EmulatorServer]:
    with serve(emulator) as server:
        yield server


def test_watchdog_abandons_a_silent_connect_rehandshakes_and_resumes(
    emulator: SalesforceEmulator, running: EmulatorServer
) -> None:
    emulator.cometd.advice["timeout"] = 200  # the server promises to answer within 0.2 s
    http = requests.Session()
    grant = StaticSessionGrant(SalesforceSession(access_token=TOKEN, instance_url=running.url))
    sub = CometdSubscriber(grant=grant, http=http, watchdog_slack=0.3, sleep=lambda _s: None)
    sub.subscribe(CHANNEL)
    assert sub.poll() == []
    _create(running.url, http, "before")
    assert _names(sub.poll()) == ["before"]
    # The next connect is held 2 s: far past the 0.2 + 0.3 s the client waits.
    answer = http.post(
        f"{running.url}/__emulator__/faults",
        json={"kind": "cometd_hold", "path": "/meta/connect", "delay": 2.0},
        timeout=5,
    )
    assert answer.status_code == 200
    for name in ("during-1", "during-2"):
        _create(running.url, http, name)
    started = time.monotonic()
    assert sub.poll() == []
    assert 0.4 <= time.monotonic() - started < 1.8
    assert sub.client_id is None  # the silent session was abandoned
    assert _names(sub.poll()) == ["during-1", "during-2"]  # resumed after "before"
    assert sub.handshakes == 2


# ---- a consumer that polls late ---------------------------------------------------------------


def test_late_poller_gets_everything_queued_on_its_next_connect(
    emulator: SalesforceEmulator, wire: WireLog, log: list[tuple[str, Any]]
) -> None:
    sub = _subscriber(wire, log)
    sub.subscribe(CHANNEL)
    sub.poll()
    http = _session(wire)
    for i in range(30):  # the consumer is busy elsewhere while these commit
        _create(DEFAULT_BASE_URL, http, f"late-{i}")
    events = sub.poll()
    assert _names(events) == [f"late-{i}" for i in range(30)]
    assert sub.handshakes == 1


def test_very_late_poller_drains_a_backlog_larger_than_one_batch_in_order(
    emulator: SalesforceEmulator, wire: WireLog, log: list[tuple[str, Any]]
) -> None:
    sub = _subscriber(wire, log)
    sub.subscribe(CHANNEL)
    sub.poll()
    for i in range(250):
        emulator.bus.publish(CHANNEL, _change(f"n{i}"))
    batches = [sub.poll() for _ in range(4)]
    assert [len(b) for b in batches] == [100, 100, 50, 0]  # the server's per-connect batch
    names = [name for batch in batches for name in _names(batch)]
    assert names == [f"n{i}" for i in range(250)]
