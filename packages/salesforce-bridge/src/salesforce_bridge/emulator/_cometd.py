"""A CometD (Bayeux, long-polling only) endpoint for Platform Events and CDC, as a WSGI app.

Serves ``POST /cometd/<version>`` with ``/meta/handshake``, ``/meta/connect``,
``/meta/subscribe``, ``/meta/unsubscribe`` and ``/meta/disconnect``. Events are published with
:meth:`CometdEmulator.publish`; each channel keeps its events (with replay ids) for the retention
window of an injectable clock. Salesforce's error strings are used for unknown clients, invalid
replay ids and missing authentication. Mount it wherever the main emulator wants it.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from werkzeug.wrappers import Request, Response

__all__ = ["CometdEmulator"]

_COOKIE = "BAYEUX_BROWSER"
_ADVICE = {"interval": 0, "timeout": 110000, "reconnect": "retry"}
Message = dict[str, Any]


@dataclass
class _Client:
    browser: str
    cursors: dict[str, int] = field(default_factory=dict[str, int])


@dataclass(frozen=True)
class _Stored:
    replay_id: int
    published_at: float
    message: Message


class CometdEmulator:
    """In-memory CometD server; a WSGI callable. ``clock`` returns epoch seconds."""

    def __init__(
        self,
        *,
        retention_seconds: float = 72 * 3600,
        clock: Callable[[], float] = time.time,
        hold_seconds: float = 0.0,
    ) -> None:
        self.retention_seconds = retention_seconds
        self.clock = clock
        self.hold_seconds = hold_seconds
        self._lock = threading.Condition()
        self._replay = itertools.count(1)
        self._channels: dict[str, list[_Stored]] = {}
        self._clients: dict[str, _Client] = {}
        self.handshakes = 0

    # ---- Python API -------------------------------------------------------------------------
    def publish(self, channel: str, payload: Mapping[str, Any], *, schema: str = "emulated") -> int:
        """Append an event to ``channel``; return its replay id."""
        with self._lock:
            replay_id = next(self._replay)
            data = {
                "schema": schema,
                "payload": dict(payload),
                "event": {"EventUuid": str(uuid.uuid4()), "replayId": replay_id},
            }
            stored = _Stored(replay_id, self.clock(), {"data": data, "channel": channel})
            self._channels.setdefault(channel, []).append(stored)
            self._lock.notify_all()
            return replay_id

    def expire_clients(self) -> None:
        """Forget every client, as a Salesforce session timeout does (next call: Unknown client)."""
        with self._lock:
            self._clients.clear()

    def _retained(self, channel: str) -> list[_Stored]:
        horizon = self.clock() - self.retention_seconds
        kept = [s for s in self._channels.get(channel, []) if s.published_at >= horizon]
        self._channels[channel] = kept
        return kept

    # ---- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        """Answer one Bayeux POST (a JSON array of messages)."""
        if request.method != "POST" or not request.path.startswith("/cometd/"):
            return Response("Not Found", status=404)
        auth = request.headers.get("Authorization", "")
        try:
            body: object = json.loads(request.get_data() or b"[]")
        except ValueError:
            return Response("Invalid JSON", status=400)
        messages = cast("list[Message]", body if isinstance(body, list) else [body])
        replies: list[Message] = []
        cookie: str | None = None
        for message in messages:
            reply, new_cookie = self._handle(message, auth, request.cookies.get(_COOKIE))
            replies.extend(reply)
            cookie = new_cookie or cookie
        response = Response(json.dumps(replies), content_type="application/json")
        if cookie:
            response.set_cookie(_COOKIE, cookie, httponly=True)
        return response

    def _handle(self, msg: Message, auth: str, browser: str | None) -> tuple[list[Message], str]:
        channel = str(msg.get("channel", ""))
        base: Message = {"channel": channel, "id": msg.get("id")}
        if channel == "/meta/handshake":
            return self._handshake(base, auth)
        client_id = str(msg.get("clientId", ""))
        with self._lock:
            client = self._clients.get(client_id)
        if client is None:
            advice = {"interval": 0, "reconnect": "handshake"}
            error = {"error": "403::Unknown client", "successful": False, "advice": advice}
            return [{**base, **error}], ""
        if browser != client.browser:
            text = f"400::Client {client_id} has established a session, but no {_COOKIE} present"
            return [{**base, "clientId": client_id, "error": text, "successful": False}], ""
        base["clientId"] = client_id
        if channel == "/meta/connect":
            return self._connect(base, client), ""
        if channel in ("/meta/subscribe", "/meta/unsubscribe"):
            return [self._subscription(base, msg, client)], ""
        if channel == "/meta/disconnect":
            with self._lock:
                self._clients.pop(client_id, None)
            return [{**base, "successful": True}], ""
        return [{**base, "error": "400::Unknown channel", "successful": False}], ""

    def _handshake(self, base: Message, auth: str) -> tuple[list[Message], str]:
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            ext = {"sfdc": {"failureReason": "401::Request requires authentication"}}
            denied = {"ext": ext, "advice": {"reconnect": "none"}, "successful": False}
            return [{**base, **denied, "error": "403::Handshake denied"}], ""
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

    def _subscription(self, base: Message, msg: Message, client: _Client) -> Message:
        subscription = str(msg.get("subscription", ""))
        reply = {**base, "subscription": subscription}
        if not subscription.startswith("/"):
            text = "400::Channel subscriptions must start with a leading '/'"
            return {**reply, "error": text, "successful": False}
        with self._lock:
            if base["channel"] == "/meta/unsubscribe":
                client.cursors.pop(subscription, None)
                return {**reply, "successful": True}
            ext = cast("Mapping[str, Any]", msg.get("ext") or {})
            replay_map = cast("Mapping[str, Any]", ext.get("replay") or {})
            requested = int(replay_map.get(subscription, -1))
            retained = self._retained(subscription)
            if requested == -1:
                cursor = retained[-1].replay_id if retained else 0
            elif requested == -2:
                cursor = 0
            elif any(s.replay_id == requested for s in retained):
                cursor = requested
            else:
                text = (
                    f"400::The replayId {{{requested}}} you provided was invalid. Please provide "
                    "a valid ID, -2 to replay all events, or -1 to replay only new events."
                )
                return {**reply, "error": text, "successful": False}
            client.cursors[subscription] = cursor
        return {**reply, "successful": True}

    def _connect(self, base: Message, client: _Client) -> list[Message]:
        deadline = time.monotonic() + self.hold_seconds
        with self._lock:
            while True:
                events: list[Message] = []
                for channel, cursor in client.cursors.items():
                    fresh = [s for s in self._retained(channel) if s.replay_id > cursor]
                    if fresh:
                        client.cursors[channel] = fresh[-1].replay_id
                    events.extend(s.message for s in fresh)
                remaining = deadline - time.monotonic()
                if events or remaining <= 0:
                    break
                self._lock.wait(remaining)
        return [*events, {**base, "successful": True, "advice": dict(_ADVICE)}]

    def __repr__(self) -> str:
        return f"CometdEmulator(channels={len(self._channels)}, clients={len(self._clients)})"
