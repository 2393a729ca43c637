"""Salesforce event streams for ``paysync run`` (``[salesforce.events]``).

With ``transport = "pubsub"`` (default) or ``"cometd"``, use cases 1 and 5 read their
Change Data Capture topic through :func:`salesforce_bridge.events.subscribe` instead of
polling SOQL; the replay checkpoint is a :class:`~paysync_core.sources.LedgerReplayStore` on
the ledger, committed with the flow it submitted. ``transport = "poll"`` keeps SOQL polling.

A use case streams only when its topic is listed in ``channels``; otherwise it polls.
Pub/Sub authenticates with the bridge's OAuth grant (org id from the token's identity URL)
and trusts the CA bundle the REST calls trust (``REQUESTS_CA_BUNDLE``), else the system roots;
CometD runs over a ``requests`` session with the same grant.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from paysync_core import LedgerStore
from paysync_core._errors import ConfigurationError
from paysync_core.config import PaysyncConfig
from paysync_core.sources import EventHandler, LedgerReplayStore, SalesforceEventSource
from salesforce_bridge import SalesforceBridge
from salesforce_bridge.events import (
    CometdSubscriber,
    EventSubscription,
    InvalidReplayPolicy,
    subscribe,
)
from salesforce_bridge.pubsub import PubSubClient, credentials_from_grant

__all__ = ["EventStreams", "event_streams_from_config"]

Opener = Callable[[str, LedgerReplayStore], EventSubscription]


@dataclass
class EventStreams:
    """Opens a subscription per topic; :meth:`close` releases the shared Pub/Sub channel."""

    transport: str
    channels: tuple[str, ...]
    open: Opener
    closers: list[Callable[[], None]] = field(default_factory=list[Callable[[], None]])

    def source(
        self, topic: str, handler: EventHandler, store: LedgerStore
    ) -> SalesforceEventSource | None:
        """The event source of ``topic``, or ``None`` when it is not a configured channel."""
        if topic not in self.channels:
            return None
        subscription = self.open(topic, LedgerReplayStore(store))
        self.closers.append(subscription.close)
        return SalesforceEventSource(subscription, [handler], name=f"salesforce-events:{topic}")

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


def _root_certificates() -> bytes | None:
    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    if not bundle:
        return None
    try:
        return Path(bundle).read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"REQUESTS_CA_BUNDLE: cannot read {bundle}: {exc.strerror}"
        ) from None


def event_streams_from_config(
    config: PaysyncConfig, bridge: SalesforceBridge | None
) -> EventStreams | None:
    """The streams of ``[salesforce.events]``; ``None`` for ``transport = "poll"`` or no
    ``[salesforce]`` section."""
    section = config.salesforce
    if section is None or bridge is None or section.events.transport == "poll":
        return None
    events = section.events
    policy = InvalidReplayPolicy(events.on_invalid_replay)
    closers: list[Callable[[], None]] = []
    if events.transport == "pubsub":
        client = PubSubClient(
            events.pubsub_endpoint,
            credentials=credentials_from_grant(bridge.grant, requests.Session()),
            root_certificates=_root_certificates(),
        )
        closers.append(client.close)

        def opener(topic: str, store: LedgerReplayStore) -> EventSubscription:
            return subscribe(
                topic,
                store=store,
                pubsub=client,
                replay=events.initial_replay,
                on_invalid_replay=policy,
            )

    else:

        def opener(topic: str, store: LedgerReplayStore) -> EventSubscription:
            cometd = CometdSubscriber(
                grant=bridge.grant, api_version=section.api_version, http=requests.Session()
            )
            return subscribe(
                topic,
                store=store,
                transport="cometd",
                cometd=cometd,
                replay=events.initial_replay,
                on_invalid_replay=policy,
            )

    return EventStreams(events.transport, tuple(events.channels), opener, closers)
