"""Reconnect backoff (growth, cap, jitter, exhaustion) and a consumer that falls behind."""

from __future__ import annotations

import itertools
import queue
import time
from collections.abc import Iterator

import grpc
import pytest

from salesforce_bridge.emulator import ORG_ID, SalesforceEmulator
from salesforce_bridge.emulator._pubsub import PubSubFault, PubSubServer
from salesforce_bridge.pubsub import PubSubClient, PubSubConnectionError
from salesforce_bridge.pubsub import _wire as wire

from .conftest import cdc_payload

TOPIC = "/data/AccountChangeEvent"


def _publish(emulator: SalesforceEmulator, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        emulator.bus.publish(TOPIC, cdc_payload(f"Acme {i}"))


class Jitter:
    """Records each jitter draw's bounds and answers a scripted factor."""

    def __init__(self, factors: list[float]) -> None:
        self.factors = iter(factors)
        self.bounds: list[tuple[float, float]] = []

    def __call__(self, low: float, high: float) -> float:
        self.bounds.append((low, high))
        return next(self.factors)


def test_backoff_grows_exponentially_is_capped_and_jittered(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 3)
    # Five Subscribe calls in a row fail before any response, then the sixth works.
    server.add_fault(PubSubFault("unavailable", count=5))
    sleeps: list[float] = []
    jitter = Jitter([1.0, 1.0, 0.5, 1.0, 0.75])
    subscription = client.subscribe(
        TOPIC,
        replay="earliest",
        backoff=0.1,
        max_backoff=0.5,
        max_retries=5,
        sleep=sleeps.append,
        jitter=jitter,
    )
    events = list(itertools.islice(subscription, 3))
    subscription.close()
    assert [e.payload["Name"] for e in events] == ["Acme 0", "Acme 1", "Acme 2"]
    # base 0.1 doubling: 0.1, 0.2, 0.4, then capped at 0.5; times the scripted jitter factor.
    assert sleeps == pytest.approx([0.1, 0.2, 0.2, 0.5, 0.375])
    assert jitter.bounds == [(0.5, 1.0)] * 5
    assert subscription.reconnects == 5


def test_default_jitter_stays_within_half_to_full_delay(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 1)
    server.add_fault(PubSubFault("unavailable", count=4))
    sleeps: list[float] = []
    subscription = client.subscribe(
        TOPIC, replay="earliest", backoff=0.2, max_backoff=0.4, sleep=sleeps.append
    )
    next(subscription)
    subscription.close()
    ceilings = [0.2, 0.4, 0.4, 0.4]
    assert len(sleeps) == 4
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert ceiling / 2 <= slept <= ceiling


def test_exhausting_max_retries_raises_the_typed_connection_error(
    server: PubSubServer, client: PubSubClient
) -> None:
    server.add_fault(PubSubFault("unavailable", count=10))
    sleeps: list[float] = []
    subscription = client.subscribe(
        TOPIC, replay="earliest", backoff=0.01, max_retries=3, sleep=sleeps.append
    )
    with pytest.raises(PubSubConnectionError, match=r"failed 4 times in a row") as caught:
        next(subscription)
    assert "service.unavailable" in str(caught.value)
    assert len(sleeps) == 3  # one wait per allowed retry, none after the last failure


def test_a_successful_response_resets_the_retry_count(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    _publish(emulator, 6)
    # Two failures, 2 events delivered, two more failures: never 3 in a row with max_retries=2.
    server.add_fault(PubSubFault("unavailable", count=2))
    sleeps: list[float] = []
    subscription = client.subscribe(
        TOPIC,
        replay="earliest",
        batch_size=2,
        backoff=0.1,
        max_retries=2,
        sleep=sleeps.append,
        jitter=lambda _low, _high: 1.0,
    )
    first = list(itertools.islice(subscription, 2))
    server.add_fault(PubSubFault("drop_stream", after_events=0))
    server.add_fault(PubSubFault("unavailable", count=1))
    rest = list(itertools.islice(subscription, 4))
    subscription.close()
    names = [e.payload["Name"] for e in [*first, *rest]]
    assert names == [f"Acme {i}" for i in range(6)]
    assert sleeps == pytest.approx([0.1, 0.2, 0.1, 0.2])  # the count restarted at 1


# ---- slow consumer -------------------------------------------------------------------------


def _metadata() -> tuple[tuple[str, str], ...]:
    return (
        ("accesstoken", "raw-token"),
        ("instanceurl", "https://x.my.salesforce.com"),
        ("tenantid", ORG_ID),
    )


def test_lagging_consumer_is_sent_only_what_it_asked_for_and_the_rest_waits(
    emulator: SalesforceEmulator, server: PubSubServer
) -> None:
    """A consumer that asks for 3 while 10 are published gets 3; the 7 others wait for it."""
    _publish(emulator, 10)
    channel = grpc.insecure_channel(server.target)
    stub = wire.stub_for(channel)
    asks: queue.Queue[wire.FetchRequest | None] = queue.Queue()
    asks.put(wire.FetchRequest(topic_name=TOPIC, replay_preset=wire.EARLIEST, num_requested=3))

    def requests() -> Iterator[wire.FetchRequest]:
        while (item := asks.get(timeout=5)) is not None:
            yield item

    stream = stub.subscribe(requests(), metadata=_metadata())
    received: list[int] = []
    keepalives = 0
    try:
        for response in stream:
            received.extend(int.from_bytes(e.replay_id, "big") for e in response.events)
            if response.events:
                continue
            # Idle and owed nothing: the server holds the rest instead of pushing it.
            keepalives += 1
            assert response.pending_num_requested == 0
            assert response.latest_replay_id == max(received).to_bytes(8, "big")
            if keepalives == 1:
                assert received == [1, 2, 3]
                _publish(emulator, 2, start=10)  # more arrives while the consumer lags
                time.sleep(0.05)
                asks.put(wire.FetchRequest(num_requested=4))
            else:
                break
    finally:
        asks.put(None)
        stream.cancel()
        channel.close()
    assert received == [1, 2, 3, 4, 5, 6, 7]  # 3 then 4, in order, none skipped
    assert emulator.bus.latest_replay_id(TOPIC) == 12


def test_slow_client_owes_at_most_its_batch_and_receives_everything(
    emulator: SalesforceEmulator, server: PubSubServer, client: PubSubClient
) -> None:
    """The client's own flow control with a consumer slower than the server."""
    _publish(emulator, 12)
    subscription = client.subscribe(TOPIC, replay="earliest", batch_size=3)
    names: list[str] = []
    for event in itertools.islice(subscription, 12):
        time.sleep(0.01)  # handling each event takes a while
        names.append(str(event.payload["Name"]))
    subscription.close()
    assert names == [f"Acme {i}" for i in range(12)]
    assert subscription.max_owed <= 3
    seen = [n for topic, n in server.servicer.requests_seen if topic == TOPIC]
    assert all(0 < n <= 3 for n in seen)
    assert sum(seen) >= 12
