"""CometD (Streaming API) long-polling subscriber with the replay extension.

Handshake (``ext.replay``), cookies, ``Authorization: Bearer``, ``/meta/connect`` long polls that
honour ``advice`` (timeout, interval, reconnect). After **every** handshake all channels are
resubscribed from the last delivered replay id. ``403::Unknown client`` or
``advice.reconnect == "handshake"`` re-handshakes; ``reconnect == "none"`` / 401 refreshes the
token first. An invalid replay id raises :class:`CometdInvalidReplayError` (never silent). The
HTTP read timeout is the watchdog: a connect silent longer than ``advice.timeout`` plus
``watchdog_slack`` seconds is abandoned and the client re-handshakes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import requests

from salesforce_bridge._auth import SalesforceGrant
from salesforce_bridge._errors import SalesforceBridgeError

from ._models import SalesforceEvent, event_from_cometd

__all__ = ["CometdError", "CometdInvalidReplayError", "CometdSubscriber"]

_log = logging.getLogger(__name__)
Message = dict[str, Any]


class CometdError(SalesforceBridgeError):
    """A Bayeux reply was unsuccessful (``error`` is Salesforce's ``<code>::<message>``)."""

    def __init__(self, channel: str, error: str) -> None:
        super().__init__(f"{channel}: {error}")
        self.channel = channel
        self.error = error
        head = error.split(":", 1)[0]
        self.code = int(head) if head.isdigit() else None


class CometdInvalidReplayError(CometdError):
    """A subscription's replay id was rejected (unknown or past retention)."""

    def __init__(self, channel: str, error: str, *, subscription: str, replay_id: int) -> None:
        super().__init__(channel, error)
        self.subscription = subscription
        self.replay_id = replay_id


class CometdSubscriber:
    """Subscribe to ``/event/...`` and ``/data/...`` channels over CometD long polling."""

    def __init__(
        self,
        *,
        grant: SalesforceGrant,
        api_version: str = "66.0",
        http: requests.Session | None = None,
        watchdog_slack: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.grant = grant
        self.api_version = api_version
        self.http = http or requests.Session()
        self.watchdog_slack = watchdog_slack
        self.sleep = sleep
        self.replay: dict[str, int] = {}
        self.client_id: str | None = None
        self.handshakes = 0
        self._timeout_ms = 110000
        self._interval_ms = 0
        self._next_id = 0

    def subscribe(self, channel: str, replay_id: int = -1) -> None:
        """Add ``channel``, starting after ``replay_id`` (-1 new only, -2 all retained)."""
        self.replay[channel] = replay_id
        if self.client_id is not None:
            self._subscribe(channel)

    def unsubscribe(self, channel: str) -> None:
        """Stop receiving ``channel``."""
        self.replay.pop(channel, None)
        if self.client_id is not None:
            self._expect(self._send({"channel": "/meta/unsubscribe", "subscription": channel}))

    # ---- wire --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        instance = self.grant.session(self.http).instance_url.rstrip("/")
        return f"{instance}/cometd/{self.api_version}"

    def _send(self, message: Message, *, read_timeout: float = 30.0) -> list[Message]:
        self._next_id += 1
        message = {**message, "id": str(self._next_id)}
        if self.client_id is not None and message["channel"] != "/meta/handshake":
            message["clientId"] = self.client_id
        token = self.grant.session(self.http).access_token
        response = self.http.post(
            self.url,
            json=[message],
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=(10.0, read_timeout),
        )
        self.http.cookies.update(response.cookies)
        if response.status_code == 401:
            self.grant.refresh(self.http, stale_token=token)
            return [{"channel": message["channel"], "successful": False, "error": "401::"}]
        if response.status_code != 200:
            raise CometdError(message["channel"], f"{response.status_code}::HTTP error")
        return cast("list[Message]", response.json())

    @staticmethod
    def _reply(replies: list[Message], channel: str) -> Message:
        for reply in replies:
            if reply.get("channel") == channel:
                return reply
        raise CometdError(channel, "no reply")

    def _expect(self, replies: list[Message]) -> Message:
        reply = replies[-1]
        if not reply.get("successful"):
            raise CometdError(str(reply.get("channel")), str(reply.get("error", "")))
        return reply

    def handshake(self) -> None:
        """Start a new Bayeux session and (re)subscribe every channel."""
        self.client_id = None
        handshake = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "ext": {"replay": True},
        }
        reply = self._reply(self._send(handshake), "/meta/handshake")
        if not reply.get("successful") and self.grant.can_refresh:
            self.grant.refresh(self.http)
            reply = self._reply(self._send(handshake), "/meta/handshake")
        if not reply.get("successful"):
            raise CometdError("/meta/handshake", str(reply.get("error", "")))
        self.client_id = str(reply["clientId"])
        self.handshakes += 1
        for channel in list(self.replay):
            self._subscribe(channel)

    def _subscribe(self, channel: str) -> None:
        replay_id = self.replay[channel]
        message = {
            "channel": "/meta/subscribe",
            "subscription": channel,
            "ext": {"replay": {channel: replay_id}},
        }
        reply = self._reply(self._send(message), "/meta/subscribe")
        if not reply.get("successful"):
            error = str(reply.get("error", ""))
            if "replayId" in error and error.startswith("400"):
                raise CometdInvalidReplayError(
                    "/meta/subscribe", error, subscription=channel, replay_id=replay_id
                )
            raise CometdError("/meta/subscribe", error)

    def poll(self) -> list[SalesforceEvent]:
        """One ``/meta/connect`` long poll (handshaking first if needed); the events it brought."""
        if self.client_id is None:
            self.handshake()
        message = {"channel": "/meta/connect", "connectionType": "long-polling"}
        read_timeout = self.read_timeout
        try:
            replies = self._send(message, read_timeout=read_timeout)
        except requests.Timeout:
            _log.warning("CometD connect silent for %.0f s; re-handshaking", read_timeout)
            self.client_id = None
            return []
        events: list[SalesforceEvent] = []
        for reply in replies:
            channel = str(reply.get("channel", ""))
            if not channel.startswith("/meta/"):
                event = event_from_cometd(reply)
                self.replay[channel] = int(reply["data"]["event"]["replayId"])
                events.append(event)
            elif channel == "/meta/connect":
                self._apply(reply)
        return events

    @property
    def read_timeout(self) -> float:
        """The next connect's HTTP read timeout: the server's hold time plus the slack."""
        return self._timeout_ms / 1000 + self.watchdog_slack

    def _pause(self) -> None:
        if self._interval_ms > 0:
            self.sleep(self._interval_ms / 1000)

    def _apply(self, reply: Message) -> None:
        """Follow a connect reply's ``advice`` (sticky: a reply without a field keeps the last).

        ``retry``: connect again after ``interval``; ``handshake``: a new session (then every
        channel is resubscribed); ``none`` or a 401: the session is dead, refresh the token
        before handshaking again.
        """
        advice = cast("dict[str, Any]", reply.get("advice") or {})
        self._timeout_ms = int(advice.get("timeout", self._timeout_ms))
        self._interval_ms = int(advice.get("interval", self._interval_ms))
        if reply.get("successful"):
            self._pause()
            return
        error = str(reply.get("error", ""))
        reconnect = advice.get("reconnect", "handshake")
        if reconnect == "none" or error.startswith("401"):
            self.grant.refresh(self.http)
        elif reconnect == "retry" and "Unknown client" not in error:
            self._pause()
            return
        _log.info("CometD re-handshake after %s", error or reconnect)
        self.client_id = None

    def events(self) -> Iterator[SalesforceEvent]:
        """Poll forever, yielding events in delivery order."""
        while True:
            yield from self.poll()

    def disconnect(self) -> None:
        """End the Bayeux session (subscriptions are kept for the next handshake)."""
        if self.client_id is not None:
            self._send({"channel": "/meta/disconnect"})
            self.client_id = None

    def __repr__(self) -> str:
        return f"CometdSubscriber(channels={sorted(self.replay)!r}, handshakes={self.handshakes})"
