"""Pub/Sub subscribe throughput against the emulator: decoded and checkpointed events per second.

N change events are put on the emulator's bus, then read back over gRPC on a real port by:

- ``raw grpc``: a minimal loop on the generated stub that keeps 100 events requested and only
  counts events (the transport's ceiling, measured in the same run);
- ``subscriber + memory``: ``PubSubClient.subscribe`` yielding typed ``ChangeEvent``s (fastavro
  decoding, bitmap decoding, pydantic models) with an ``InMemoryReplayStore`` checkpoint;
- ``subscriber + sqlite``: the same with a ``SqliteReplayStore`` (one commit per batch).
- ``subscribe()+ack sqlite 1s``: the application path paysync-core uses,
  ``salesforce_bridge.events.subscribe(transport="pubsub")`` with ``delivery.ack()`` on every
  event (dedup window, ack tracker), checkpoint saves to SQLite coalesced to one per second;
- ``subscribe()+ack sqlite 0``: the same saving on every ack (one SQLite commit per event,
  paysync-core's default ``checkpoint_interval``), over at most 300 events.

"ratio" is each rate over the raw loop's. Goal (issue 6): >= 5,000 events/s decoded and
checkpointed on a 2-core machine.

Run: ``python bench/salesforce_pubsub.py --events 20000``.
"""

from __future__ import annotations

import argparse
import itertools
import queue
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc

from _shared import account_change_event
from salesforce_bridge.emulator import ORG_ID, SalesforceEmulator
from salesforce_bridge.emulator._pubsub import PubSubServer
from salesforce_bridge.events import (
    InMemoryReplayStore,
    ReplayStore,
    SqliteReplayStore,
    subscribe,
)
from salesforce_bridge.pubsub import PubSubClient, PubSubCredentials
from salesforce_bridge.pubsub import _wire as wire

TOPIC = "/data/AccountChangeEvent"
GOAL = 5000.0
CREDENTIALS = PubSubCredentials("bench-token", "https://bench.my.salesforce.com", ORG_ID)


def raw_loop(target: str, count: int) -> float:
    """Events/s of a bare generated-stub loop that only counts events."""
    channel = grpc.insecure_channel(target)
    stub = wire.stub_for(channel)
    more: queue.Queue[int | None] = queue.Queue()

    def requests() -> Iterator[wire.FetchRequest]:
        yield wire.FetchRequest(topic_name=TOPIC, replay_preset=wire.EARLIEST, num_requested=100)
        while (amount := more.get()) is not None:
            yield wire.FetchRequest(num_requested=amount)

    started = time.perf_counter()
    stream = stub.subscribe(requests(), metadata=CREDENTIALS.metadata)
    seen = 0
    for response in stream:
        seen += len(response.events)
        if seen >= count:
            break
        if response.pending_num_requested <= 50:
            more.put(100 - response.pending_num_requested)
    elapsed = time.perf_counter() - started
    more.put(None)
    stream.cancel()
    channel.close()
    return seen / elapsed


def subscriber(target: str, count: int, store: ReplayStore) -> float:
    """Events/s through PubSubClient.subscribe: decoded, typed and checkpointed."""
    with PubSubClient(target, credentials=lambda _refresh: CREDENTIALS, tls=False) as client:
        started = time.perf_counter()
        subscription = client.subscribe(TOPIC, replay="earliest", store=store, batch_size=100)
        seen = 0
        for event in itertools.islice(subscription, count):
            seen += 1
            assert event.replay_id
        subscription.close()
        elapsed = time.perf_counter() - started
    assert store.load(TOPIC) is not None
    return seen / elapsed


def acked(target: str, count: int, store: ReplayStore, checkpoint_interval: float) -> float:
    """Events/s through ``events.subscribe(transport="pubsub")``, acknowledging every event.

    The application path (paysync-core's): dedup window, ``AckTracker`` and a checkpoint
    saved on ack (``checkpoint_interval`` 0: one store commit per advance).
    """
    with PubSubClient(target, credentials=lambda _refresh: CREDENTIALS, tls=False) as client:
        started = time.perf_counter()
        key = f"acked-{uuid.uuid4().hex}"
        subscription = subscribe(
            TOPIC,
            store=store,
            pubsub=client,
            store_key=key,
            replay="earliest",
            checkpoint_interval=checkpoint_interval,
        )
        seen = 0
        for delivery in itertools.islice(subscription, count):
            delivery.ack()
            seen += 1
        subscription.close()
        elapsed = time.perf_counter() - started
    assert store.load(key) is not None
    return seen / elapsed


def _run(label: str, measure: Callable[[], float], raw: float | None) -> float:
    rate = measure()
    ratio = f"{rate / raw:6.2f}" if raw else "  1.00"
    print(f"{label:<22} {rate:>10,.0f} events/s   ratio {ratio}")
    return rate


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Pub/Sub subscribe throughput (emulator)")
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args(argv)
    count: int = args.events
    emulator = SalesforceEmulator(seed=False)
    for i in range(count):
        emulator.bus.publish(TOPIC, account_change_event(i))
    with PubSubServer(emulator, max_workers=8) as server, tempfile.TemporaryDirectory() as tmp:
        raw_loop(server.target, count)  # warm-up: the servicer encodes each event once
        print(f"{count} change events over Pub/Sub gRPC (127.0.0.1), same run:")
        raw = _run("raw grpc (count only)", lambda: raw_loop(server.target, count), None)
        memory = _run(
            "subscriber + memory",
            lambda: subscriber(server.target, count, InMemoryReplayStore()),
            raw,
        )
        sqlite_store = SqliteReplayStore(Path(tmp) / "replay.db")
        try:
            sqlite = _run(
                "subscriber + sqlite", lambda: subscriber(server.target, count, sqlite_store), raw
            )
            acked_1s = _run(
                "subscribe()+ack sqlite 1s",
                lambda: acked(server.target, count, sqlite_store, 1.0),
                raw,
            )
            acked_each = _run(
                "subscribe()+ack sqlite 0",
                lambda: acked(server.target, min(count, 300), sqlite_store, 0.0),
                raw,
            )
        finally:
            sqlite_store.close()
    worst = min(memory, sqlite, acked_1s)
    verdict = "meets" if worst >= GOAL else "misses"
    print(f"goal >= {GOAL:,.0f} events/s decoded+checkpointed: {verdict} ({worst:,.0f})")
    print(f"(subscribe()+ack with a commit per ack: {acked_each:,.0f} events/s)")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main(sys.argv[1:]))
