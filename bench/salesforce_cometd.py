"""CometD subscribe throughput against the emulator: decoded and checkpointed events per second.

N change events are put on the emulator's bus, then read back over CometD long polling
(HTTP/1.1 on a real port, 100 events per ``/meta/connect``) by:

- ``raw requests``: a minimal loop (handshake, subscribe ``-2``, connect, connect, ...) that
  only counts data messages: the transport's ceiling, measured in the same run;
- ``subscribe + memory``: ``salesforce_bridge.events.subscribe(transport="cometd")`` yielding
  typed ``ChangeEvent`` deliveries (dedup window, ack tracking), each acknowledged, with an
  ``InMemoryReplayStore`` checkpoint saved on every advance;
- ``subscribe + sqlite``: the same with a ``SqliteReplayStore``, saves coalesced to one per
  second (``checkpoint_interval=1``; a durable commit costs milliseconds).

"ratio" is each rate over the raw loop's. Run: ``python bench/salesforce_cometd.py --events 5000``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from _shared import account_change_event
from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import SalesforceEmulator
from salesforce_bridge.emulator._server import serve
from salesforce_bridge.events import (
    InMemoryReplayStore,
    ReplayStore,
    SqliteReplayStore,
    subscribe,
)

TOPIC = "/data/AccountChangeEvent"
TOKEN = "00Dbench!token"  # noqa: S105 - the emulator accepts any token


def raw_loop(url: str, count: int) -> float:
    """Events/s of a bare requests long-poll loop that only counts data messages."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    endpoint = f"{url}/cometd/66.0"

    def send(message: dict[str, Any]) -> list[dict[str, Any]]:
        answer = http.post(endpoint, json=[message], timeout=30)
        answer.raise_for_status()
        replies: list[dict[str, Any]] = answer.json()
        return replies

    started = time.perf_counter()
    (hello,) = send(
        {
            "channel": "/meta/handshake",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "ext": {"replay": True},
        }
    )
    client = hello["clientId"]
    send(
        {
            "channel": "/meta/subscribe",
            "clientId": client,
            "subscription": TOPIC,
            "ext": {"replay": {TOPIC: -2}},
        }
    )
    seen = 0
    while seen < count:
        replies = send(
            {"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling"}
        )
        seen += sum(1 for reply in replies if reply.get("channel") == TOPIC)
    elapsed = time.perf_counter() - started
    http.close()
    return seen / elapsed


def subscribed(url: str, count: int, store: ReplayStore, checkpoint_interval: float) -> float:
    """Events/s through ``subscribe(transport="cometd")``: typed, acknowledged, checkpointed."""
    grant = StaticSessionGrant(SalesforceSession(access_token=TOKEN, instance_url=url))
    started = time.perf_counter()
    seen = 0
    with subscribe(
        TOPIC,
        transport="cometd",
        grant=grant,
        store=store,
        replay="earliest",
        checkpoint_interval=checkpoint_interval,
    ) as subscription:
        while seen < count:
            for delivery in subscription.fetch(100, timeout=1.0):
                assert delivery.event.kind == "change"
                delivery.ack()
                seen += 1
    elapsed = time.perf_counter() - started
    assert store.load(TOPIC) is not None
    return seen / elapsed


def _run(label: str, measure: Callable[[], float], raw: float | None) -> float:
    rate = measure()
    ratio = f"{rate / raw:6.2f}" if raw else "  1.00"
    print(f"{label:<22} {rate:>10,.0f} events/s   ratio {ratio}", flush=True)
    return rate


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="CometD subscribe throughput (emulator)")
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args(argv)
    count: int = args.events
    emulator = SalesforceEmulator(seed=False)
    for i in range(count):
        emulator.bus.publish(TOPIC, account_change_event(i))
    with serve(emulator) as server, tempfile.TemporaryDirectory() as tmp:
        raw_loop(server.url, min(count, 500))  # warm-up
        print(f"{count} change events over CometD long polling (127.0.0.1), same run:")
        raw = _run("raw requests (count)", lambda: raw_loop(server.url, count), None)
        _run(
            "subscribe + memory",
            lambda: subscribed(server.url, count, InMemoryReplayStore(), 0.0),
            raw,
        )
        sqlite_store = SqliteReplayStore(Path(tmp) / "replay.db")
        try:
            _run(
                "subscribe + sqlite",
                lambda: subscribed(server.url, count, sqlite_store, 1.0),
                raw,
            )
        finally:
            sqlite_store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
