"""The CometD (Bayeux, long-polling only) endpoint over the emulator's shared event bus.

Serves ``POST /cometd/<version>`` with ``/meta/handshake``, ``/meta/connect``,
``/meta/subscribe``, ``/meta/unsubscribe`` and ``/meta/disconnect``. Events come from the
:class:`EventBus` (REST writes, REST and Pub/Sub publishes), so replay ids, retention and
``EventUuid`` are the ones every transport sees. Salesforce's error strings are used for unknown
clients, invalid replay ids, authentication and cookies. The main emulator mounts it at
``/cometd/<version>`` with its own session check; standalone it accepts any bearer token.

Scripted faults (``COMETD_FAULT_KINDS``, ``path`` matched against the Bayeux channel):
``cometd_unknown_client`` forgets the client and answers ``403::Unknown client``;
``cometd_invalid_replay`` rejects a subscribe's replay id; ``cometd_duplicate`` delivers the
previous batch again; ``cometd_hold`` holds a connect ``delay`` seconds and delivers nothing
(a slow consumer's stalled stream). A dropped connection is the emulator's request-level
``reset`` fault with ``path`` ``/cometd/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from werkzeug.wrappers import Request, Response

from ._bus import BusEvent, EventBus
from ._faults import Fault, FaultBook

__all__ = ["CometdEmulator", "Message"]

_COOKIE = "BAYEUX_BROWSER"
_ADVICE: dict[str, Any] = {"interval": 0, "timeout": 110000, "reconnect": "retry"}
_MAX_BODY = 32768
_BATCH = 100
Message = dict[str, Any]
Authenticate = Callable[[str | None], bool]
ChannelCheck = Callable[[str], bool]
_CONNECT_FAULTS = ("cometd_unknown_client", "cometd_duplicate", "cometd_hold")
_SUBSCRIBE_FAULTS = ("cometd_unknown_client", "cometd_invalid_replay")
_OTHER_FAULTS = ("cometd_unknown_client",)


def _invalid_replay(replay_id: object) -> str:
    return (
        f"400::The replayId {{{replay_id}}} you provided was invalid. Please provide "
        "a valid ID, -2 to replay all events, or -1 to replay only new events."
    )


def _schema_id(name: str) -> str:
    """A stable 22-character id per event type, shaped like Salesforce's schema ids."""
    digest = hashlib.md5(name.encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cometd_message(event: BusEvent, schema_id: str | None = None) -> Message:
    """A bus event as a CometD data message.

    Change events lose ``nulledFields``/``diffFields`` (Pub/Sub and Apex only) and their null
    body fields (CometD leaves them out); field lists stay names.
    """
    payload = dict(event.payload)
    raw_header = payload.get("ChangeEventHeader")
    if isinstance(raw_header, Mapping):
        header = {
            k: v
            for k, v in cast("Mapping[str, Any]", raw_header).items()
            if k not in {"nulledFields", "diffFields"}
        }
        body = {k: v for k, v in payload.items() if k != "ChangeEventHeader" and v is not None}
        payload = {"ChangeEventHeader": header, **body}
        schema = schema_id or _schema_id(f"{header.get('entityName', '')}ChangeEvent")
    else:
        schema = schema_id or _schema_id(event.topic)
    data = {
        "schema": schema,
        "payload": payload,
        "event": {"EventUuid": event.event_uuid, "replayId": event.replay_id},
    }
    return {"data": data, "channel": event.topic}


@dataclass
class _Client:
    browser: str
    cursors: dict[str, int] = field(default_factory=dict[str, int])
    last_batch: list[Message] = field(default_factory=list[Message])


class CometdEmulator:
    """CometD over an :class:`EventBus`; a WSGI callable.

    ``authenticate(token)`` decides whether a bearer token is a live session; ``channel_exists``
    whether a subscription names a known channel. ``hold_seconds`` is how long an idle
    ``/meta/connect`` is held (0 answers at once: right for in-process tests).
    """

    def __init__(
        self,
        bus: EventBus | None = None,
        *,
        authenticate: Authenticate | None = None,
        channel_exists: ChannelCheck | None = None,
        faults: FaultBook | None = None,
        hold_seconds: float = 0.0,
        schema_of: Callable[[BusEvent], str | None] | None = None,
    ) -> None:
        self.bus = bus if bus is not None else EventBus()
        # The event's Avro schema id, so ``data.schema`` is the id Pub/Sub and
        # ``/event/eventSchema/<id>`` know (a name hash when not given).
        self.schema_of = schema_of
        self.authenticate: Authenticate = authenticate or bool
        self.channel_exists: ChannelCheck = channel_exists or (lambda _channel: True)
        self.faults = faults if faults is not None else FaultBook()
        self.hold_seconds = hold_seconds
        self.advice: dict[str, Any] = dict(_ADVICE)
        """The ``advice`` of every successful connect reply (tests change timeout/interval)."""
        self.handshakes = 0
        self.received: deque[Message] = deque(maxlen=1000)
        """The Bayeux messages received (channel, subscription, clientId), for tests."""
        self._lock = threading.Condition()
        self._clients: dict[str, _Client] = {}
        self.bus.add_listener(self._on_publish)

    def _on_publish(self, _event: BusEvent) -> None:
        with self._lock:
            self._lock.notify_all()

    # ---- Python API -------------------------------------------------------------------------
    def publish(self, channel: str, payload: Mapping[str, Any]) -> int:
        """Put an event on the bus; return its replay id."""
        return self.bus.publish(channel, payload).replay_id

    def expire_clients(self) -> None:
        """Forget every client, as a Salesforce session timeout does (next call: Unknown client)."""
        with self._lock:
            self._clients.clear()
            self._lock.notify_all()

    # ---- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        """Answer one Bayeux POST (a JSON array of messages)."""
        if request.method != "POST" or not request.path.startswith("/cometd/"):
            return Response("Not Found", status=404)
        if (request.content_length or 0) > _MAX_BODY:
            return Response("Maximum Request Size Exceeded", status=413)
        raw = request.get_data()
        if len(raw) > _MAX_BODY:
            return Response("Maximum Request Size Exceeded", status=413)
        try:
            body: object = json.loads(raw or b"[]")
        except ValueError:
            return Response("Invalid JSON", status=400)
        messages = cast("list[Message]", body if isinstance(body, list) else [body])
        token = self._bearer(request.headers.get("Authorization", ""))
        replies: list[Message] = []
        cookie: str | None = None
        for message in messages:
            reply, new_cookie = self._handle(message, token, request.cookies.get(_COOKIE))
            replies.extend(reply)
            cookie = new_cookie or cookie
        response = Response(json.dumps(replies), content_type="application/json;charset=UTF-8")
        if cookie:
            response.set_cookie(_COOKIE, cookie, httponly=True)
        return response

    @staticmethod
    def _bearer(header: str) -> str | None:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() in {"bearer", "oauth"} and token.strip() else None

    def _fault(self, channel: str, kinds: tuple[str, ...]) -> Fault | None:
        return self.faults.take("POST", channel, kinds=kinds)

    def _handle(
        self, msg: Message, token: str | None, browser: str | None
    ) -> tuple[list[Message], str]:
        channel = str(msg.get("channel", ""))
        client_id = str(msg.get("clientId", ""))
        self.received.append(
            {"channel": channel, "subscription": msg.get("subscription"), "clientId": client_id}
        )
        base: Message = {"channel": channel}
        if "id" in msg:  # echoed when sent; never a null id
            base["id"] = msg["id"]
        if channel == "/meta/handshake":
            return self._handshake(base, token)
        with self._lock:
            client = self._clients.get(client_id)
        kinds = {"/meta/connect": _CONNECT_FAULTS, "/meta/subscribe": _SUBSCRIBE_FAULTS}
        fault = self._fault(channel, kinds.get(channel, _OTHER_FAULTS))
        if fault is not None and fault.kind == "cometd_unknown_client":
            with self._lock:
                self._clients.pop(client_id, None)
            client = None
        if client is None:
            advice = {"interval": 0, "reconnect": "handshake"}
            error = {"error": "403::Unknown client", "successful": False, "advice": advice}
            return [{**base, **error}], ""
        base["clientId"] = client_id
        if browser != client.browser:
            text = f"400::Client {client_id} has established a session, but no {_COOKIE} present"
            return [{**base, "error": text, "successful": False}], ""
        if not self.authenticate(token):
            advice = {"reconnect": "none", "interval": 0}
            error = {"error": "401::Authentication invalid", "successful": False}
            return [{**base, "advice": advice, **error}], ""
        if channel == "/meta/connect":
            return self._connect(base, msg, client, fault), ""
        if channel in ("/meta/subscribe", "/meta/unsubscribe"):
            return [self._subscription(base, msg, client, fault)], ""
        if channel == "/meta/disconnect":
            with self._lock:
                self._clients.pop(client_id, None)
                self._lock.notify_all()  # ends the client's held connect
            return [{**base, "successful": True}], ""
        return [{**base, "error": "400::Unknown channel", "successful": False}], ""

    def _handshake(self, base: Message, token: str | None) -> tuple[list[Message], str]:
        if not token or not self.authenticate(token):
            reason = (
                "401::Authentication invalid" if token else "401::Request requires authentication"
            )
            denied = {"ext": {"sfdc": {"failureReason": reason}}, "advice": {"reconnect": "none"}}
            return [{**base, **denied, "error": "403::Handshake denied", "successful": False}], ""
        client_id = secrets.token_hex(12)
        browser = secrets.token_hex(8)
        with self._lock:
            self._clients[client_id] = _Client(browser)
            self.handshakes += 1
        reply = {
            **base,
            "clientId": client_id,
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "ext": {"replay": True, "payload.format": True},
            "successful": True,
        }
        return [reply], browser

    def _start(self, subscription: str, requested: object) -> int | None:
        """The cursor for a replay option (-1 new, -2 all retained, id), ``None`` if invalid."""
        if isinstance(requested, bool) or not isinstance(requested, int):
            return None
        if requested == -1:
            return self.bus.latest_replay_id(subscription) or 0
        if requested == -2:
            return 0
        return requested if self.bus.is_retained(subscription, requested) else None

    def _subscription(
        self, base: Message, msg: Message, client: _Client, fault: Fault | None
    ) -> Message:
        subscription = str(msg.get("subscription", ""))
        reply = {**base, "subscription": subscription}
        if not subscription.startswith("/"):
            text = "400::Channel subscriptions must start with a leading '/'"
            return {**reply, "error": text, "successful": False}
        if base["channel"] == "/meta/unsubscribe":
            with self._lock:
                client.cursors.pop(subscription, None)
            return {**reply, "successful": True}
        if not self.channel_exists(subscription):
            text = f"400::The channel you requested to subscribe to doesn't exist {subscription}"
            return {**reply, "error": text, "successful": False}
        ext = cast("Mapping[str, Any]", msg.get("ext") or {})
        replay_map = ext.get("replay")
        requested: object = -1
        if isinstance(replay_map, Mapping):
            requested = cast("Mapping[str, object]", replay_map).get(subscription, -1)
        cursor = self._start(subscription, requested)
        if cursor is None or (fault is not None and fault.kind == "cometd_invalid_replay"):
            return {**reply, "error": _invalid_replay(requested), "successful": False}
        with self._lock:
            client.cursors[subscription] = cursor
        return {**reply, "successful": True}

    def _collect(self, client: _Client) -> list[Message]:
        events: list[Message] = []
        for channel, cursor in list(client.cursors.items()):
            fresh = self.bus.read(channel, after=cursor, limit=_BATCH)
            if fresh:
                client.cursors[channel] = fresh[-1].replay_id
                events.extend(
                    cometd_message(e, self.schema_of(e) if self.schema_of else None) for e in fresh
                )
        return events

    def _connect(
        self, base: Message, msg: Message, client: _Client, fault: Fault | None
    ) -> list[Message]:
        if msg.get("connectionType", "long-polling") != "long-polling":
            return [{**base, "error": "400::Invalid connection type", "successful": False}]
        if fault is not None and fault.kind == "cometd_hold":
            time.sleep(fault.delay)
            return [{**base, "successful": True, "advice": dict(self.advice)}]
        deadline = time.monotonic() + min(self.hold_seconds, self.advice["timeout"] / 1000)
        with self._lock:
            while True:
                events = self._collect(client)
                remaining = deadline - time.monotonic()
                gone = client not in self._clients.values()
                if events or remaining <= 0 or gone:
                    break
                self._lock.wait(remaining)
            delivered = events
            if fault is not None and fault.kind == "cometd_duplicate":
                # The previous batch again, same replay ids and EventUuids, before the new ones.
                delivered = [*client.last_batch, *events]
            if events:
                client.last_batch = events
        return [*delivered, {**base, "successful": True, "advice": dict(self.advice)}]

    def __repr__(self) -> str:
        return f"CometdEmulator(clients={len(self._clients)}, hold_seconds={self.hold_seconds})"
