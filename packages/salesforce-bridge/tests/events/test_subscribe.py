"""``subscribe(...)`` over CometD (in process) and Pub/Sub (a real port) against the emulator:
the same typed events, contiguous checkpoints, echo suppression, redelivery dedup, and the
invalid-replay policies (FAIL raises, EARLIEST replays with dedup, LATEST reports the gap)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ORG_ID,
    SalesforceEmulator,
    emulator_session,
)
from salesforce_bridge.emulator._pubsub import PubSubServer
from salesforce_bridge.events import (
    ChangeEvent,
    CometdSubscriber,
    DedupWindow,
    Delivery,
    EventSubscription,
    InMemoryReplayStore,
    InvalidReplayError,
    InvalidReplayEvent,
    InvalidReplayPolicy,
    PlatformEvent,
    ReplayGap,
    ReplayStore,
    Transport,
    cometd_replay_bytes,
    event_from_cometd,
    event_keys,
    subscribe,
)
from salesforce_bridge.events._dedup import dump_keys, load_keys
from salesforce_bridge.pubsub import PubSubClient, PubSubCredentials

TRANSPORTS: list[Transport] = ["cometd", "pubsub"]
PAYMENTS = "/event/Payment_Event__e"
ACCOUNTS = "/data/AccountChangeEvent"
V = f"{DEFAULT_BASE_URL}/services/data/v66.0"
TOKEN = "00Dtoken"
BOGUS = cometd_replay_bytes(987_654)  # never issued by the bus: refused by both transports


# -- helpers -------------------------------------------------------------------------------------
def rest(emulator: SalesforceEmulator) -> requests.Session:
    session = emulator_session(emulator)
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    return session


def publish(http: requests.Session, payment_id: str) -> None:
    answer = http.post(
        f"{V}/sobjects/Payment_Event__e/", json={"Payment_ID__c": payment_id}, timeout=5
    )
    assert answer.status_code == 201, answer.text


def create_account(http: requests.Session, name: str, client: str | None = None) -> str:
    headers = {"Sforce-Call-Options": f"client={client}"} if client else {}
    answer = http.post(f"{V}/sobjects/Account/", json={"Name": name}, headers=headers, timeout=5)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def fault(http: requests.Session, **spec: Any) -> None:
    answer = http.post(f"{DEFAULT_BASE_URL}/__emulator__/faults", json=spec, timeout=5)
    assert answer.status_code == 200, answer.text


def cometd_subscriber(emulator: SalesforceEmulator) -> CometdSubscriber:
    grant = StaticSessionGrant(SalesforceSession(access_token=TOKEN, instance_url=DEFAULT_BASE_URL))
    return CometdSubscriber(grant=grant, http=emulator_session(emulator), sleep=lambda _s: None)


def pubsub_client(target: str) -> PubSubClient:
    def credentials(_refresh: bool) -> PubSubCredentials:
        return PubSubCredentials(TOKEN, DEFAULT_BASE_URL, ORG_ID)

    return PubSubClient(target, credentials=credentials, tls=False, timeout=5.0)


def payment_ids(deliveries: list[Delivery]) -> list[str]:
    return [str(d.event.payload["Payment_ID__c"]) for d in deliveries]


def take(sub: EventSubscription, count: int, *, within: float = 5.0) -> list[Delivery]:
    """Fetch until ``count`` deliveries arrived (or ``within`` seconds passed)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + within
    while len(got) < count and time.monotonic() < deadline:
        got.extend(sub.fetch(count - len(got), timeout=0.2))
    return got


def settle(sub: EventSubscription, *, quiet: float = 0.3) -> list[Delivery]:
    """Whatever else arrives within ``quiet`` seconds (expected: nothing)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + quiet
    while time.monotonic() < deadline:
        got.extend(sub.fetch(100, timeout=0.1))
    return got


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def http(emulator: SalesforceEmulator) -> requests.Session:
    return rest(emulator)


@pytest.fixture
def pubsub(emulator: SalesforceEmulator) -> Iterator[PubSubClient]:
    with (
        PubSubServer(emulator, keepalive_interval=0.3) as server,
        pubsub_client(server.target) as client,
    ):
        yield client


@pytest.fixture
def open_sub(emulator: SalesforceEmulator, pubsub: PubSubClient) -> Iterator[Any]:
    opened: list[EventSubscription] = []

    def factory(
        transport: Transport, topic: str, store: ReplayStore, **options: Any
    ) -> EventSubscription:
        if transport == "cometd":
            sub = subscribe(
                topic,
                transport="cometd",
                cometd=cometd_subscriber(emulator),
                store=store,
                **options,
            )
        else:
            sub = subscribe(topic, transport="pubsub", pubsub=pubsub, store=store, **options)
        opened.append(sub)
        return sub

    yield factory
    for sub in opened:
        sub.close()


# -- one experience over both transports -------------------------------------------------------
def test_both_transports_yield_the_same_typed_change_events(
    http: requests.Session, open_sub: Any
) -> None:
    record_id = create_account(http, "Umbrella")
    http.patch(f"{V}/sobjects/Account/{record_id}", json={"Phone": "555"}, timeout=5)
    seen: dict[str, list[ChangeEvent]] = {}
    for transport in TRANSPORTS:
        sub = open_sub(transport, ACCOUNTS, InMemoryReplayStore(), replay="earliest")
        events = [d.event for d in take(sub, 2)]
        assert {e.transport for e in events} == {transport}
        seen[transport] = [e for e in events if isinstance(e, ChangeEvent)]
        assert len(seen[transport]) == 2
    cometd, grpc_events = seen["cometd"], seen["pubsub"]
    assert [e.header.change_type for e in cometd] == ["CREATE", "UPDATE"]
    for left, right in zip(cometd, grpc_events, strict=True):
        assert left.replay_id == right.replay_id
        assert left.event_uuid == right.event_uuid
        # Pub/Sub sends bitmaps, CometD names: both come out as names.
        assert left.header.changed_fields == right.header.changed_fields
        assert left.header.record_ids == right.header.record_ids == (record_id,)
    assert cometd[1].header.changed_fields == ("LastModifiedDate", "Phone")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_checkpoint_advances_only_over_contiguous_acks(
    transport: Transport, http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    for n in range(3):
        publish(http, f"P{n}")
    sub = open_sub(transport, PAYMENTS, store, replay="earliest")
    first, second, third = take(sub, 3)
    assert isinstance(first.event, PlatformEvent)
    assert payment_ids([first, second, third]) == ["P0", "P1", "P2"]
    assert third.ack() is None  # the first two are still unfinished
    assert store.load(PAYMENTS) is None
    assert first.ack() == first.event.replay_id
    assert store.load(PAYMENTS) == first.event.replay_id
    assert second.ack() == third.event.replay_id  # the run 2..3 is now contiguous
    assert store.load(PAYMENTS) == third.event.replay_id
    sub.close()
    publish(http, "P3")
    again = open_sub(transport, PAYMENTS, store, replay="earliest")
    assert payment_ids(take(again, 1)) == ["P3"]  # resumes after the checkpoint
    assert settle(again) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unacknowledged_events_are_replayed_after_a_restart(
    transport: Transport, http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    for n in range(3):
        publish(http, f"P{n}")
    sub = open_sub(transport, PAYMENTS, store, replay="earliest")
    first, _second, third = take(sub, 3)
    first.ack()
    third.ack()
    sub.close()  # "crash" with P1 unfinished
    again = open_sub(transport, PAYMENTS, store, replay="earliest")
    assert payment_ids(take(again, 2)) == ["P1", "P2"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_echo_suppression_drops_our_own_changes_and_moves_the_checkpoint(
    transport: Transport, http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    create_account(http, "Theirs", client="someone-else")
    create_account(http, "Ours", client="paysync")
    sub = open_sub(transport, ACCOUNTS, store, replay="earliest", echo_client_id="paysync")
    (delivery,) = take(sub, 1)
    assert delivery.event.payload["Name"] == "Theirs"
    assert settle(sub) == []
    assert sub.echoes_dropped == 1
    delivery.ack()
    echo_replay = sub.checkpoint
    assert echo_replay is not None
    assert echo_replay != delivery.event.replay_id
    assert store.load(ACCOUNTS) == echo_replay  # past the dropped echo too


def test_redelivered_batch_is_dropped_by_the_dedup_window(
    http: requests.Session, open_sub: Any
) -> None:
    sub = open_sub("cometd", PAYMENTS, InMemoryReplayStore(), replay="earliest")
    assert sub.fetch(timeout=0) == []
    publish(http, "A")
    assert payment_ids(take(sub, 1)) == ["A"]
    fault(http, kind="cometd_duplicate", path="/meta/connect")
    publish(http, "B")
    assert payment_ids(take(sub, 1)) == ["B"]  # the server sent A again first
    assert sub.dedup.dropped == 1


def test_dedup_keys_are_the_event_uuid_and_the_transaction_position() -> None:
    def change(uuid: str, tx: str, seq: int, replay: int) -> dict[str, Any]:
        header = {
            "entityName": "Account",
            "changeType": "UPDATE",
            "transactionKey": tx,
            "sequenceNumber": seq,
        }
        return {
            "channel": ACCOUNTS,
            "data": {
                "schema": "s",
                "event": {"replayId": replay, "EventUuid": uuid},
                "payload": {"ChangeEventHeader": header},
            },
        }

    window = DedupWindow(size=2)
    first = event_from_cometd(change("u1", "tx1", 1, 1))
    assert event_keys(first) == [("uuid", "u1"), ("tx", "tx1", "1")]
    assert not window.seen(first)
    assert window.seen(event_from_cometd(change("u1", "other", 9, 2)))  # same uuid
    assert window.seen(event_from_cometd(change("u9", "tx1", 1, 3)))  # same (tx, seq)
    assert not window.seen(event_from_cometd(change("u2", "tx1", 2, 4)))
    assert not window.seen(event_from_cometd(change("u3", "tx3", 1, 5)))
    assert len(window) <= 4  # bounded: two identities per event, two events
    assert not window.seen(first)  # forgotten once out of the window
    with pytest.raises(ValueError, match="dedup_window"):
        DedupWindow(size=-1)


# -- invalid replay ids: never silent -----------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_invalid_replay_fail_policy_raises_a_typed_error(
    transport: Transport, http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    store.save(PAYMENTS, BOGUS)
    reports: list[object] = []
    sub = open_sub(transport, PAYMENTS, store, on_report=reports.append)
    with pytest.raises(InvalidReplayError) as info:
        take(sub, 1)
    report = info.value.report
    assert report.policy is InvalidReplayPolicy.FAIL
    assert report.replay_id == BOGUS
    assert report.transport == transport
    expected = "400::The replayId {987654}" if transport == "cometd" else "replayid.corrupted"
    assert expected in report.error
    assert reports == [report]
    assert store.load(PAYMENTS) == BOGUS  # nothing is overwritten behind the caller's back


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_invalid_replay_earliest_policy_replays_everything_retained(
    transport: Transport, http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    store.save(PAYMENTS, BOGUS)
    for n in range(3):
        publish(http, f"P{n}")
    sub = open_sub(transport, PAYMENTS, store, on_invalid_replay=InvalidReplayPolicy.EARLIEST)
    deliveries = take(sub, 3)
    assert payment_ids(deliveries) == ["P0", "P1", "P2"]
    (report,) = sub.reports
    assert isinstance(report, InvalidReplayEvent)
    assert report.policy is InvalidReplayPolicy.EARLIEST
    for delivery in deliveries:
        delivery.ack()
    assert store.load(PAYMENTS) == deliveries[-1].event.replay_id


def test_earliest_fallback_mid_stream_drops_what_was_already_delivered(
    emulator: SalesforceEmulator, http: requests.Session, open_sub: Any
) -> None:
    sub = open_sub(
        "cometd",
        PAYMENTS,
        InMemoryReplayStore(),
        replay="earliest",
        on_invalid_replay=InvalidReplayPolicy.EARLIEST,
    )
    publish(http, "A")
    publish(http, "B")
    assert payment_ids(take(sub, 2)) == ["A", "B"]
    # The session is lost and the re-handshake's replay id is refused: resubscribe with -2.
    emulator.cometd.expire_clients()
    fault(http, kind="cometd_invalid_replay", path="/meta/subscribe")
    publish(http, "C")
    assert payment_ids(take(sub, 1)) == ["C"]  # A and B come again but are dropped
    assert sub.dedup.dropped == 2
    assert [type(r) for r in sub.reports] == [InvalidReplayEvent]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_invalid_replay_latest_policy_reports_the_gap(
    transport: Transport, http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    store.save(PAYMENTS, BOGUS)
    publish(http, "lost")
    reports: list[object] = []
    sub = open_sub(
        transport,
        PAYMENTS,
        store,
        on_invalid_replay=InvalidReplayPolicy.LATEST,
        on_report=reports.append,
    )
    got: list[Delivery] = []
    for n in range(20):  # publish until the LATEST subscription is in place and sees one
        publish(http, f"new{n}")
        got = sub.fetch(10, timeout=0.3)
        if got:
            break
    assert got
    assert "lost" not in payment_ids(got)
    invalid, gap = reports
    assert isinstance(invalid, InvalidReplayEvent)
    assert invalid.policy is InvalidReplayPolicy.LATEST
    assert isinstance(gap, ReplayGap)
    assert gap.after == BOGUS
    assert gap.before == got[0].event.replay_id
    assert gap.detected_at <= gap.resumed_at


def test_subscribe_validates_its_arguments() -> None:
    store = InMemoryReplayStore()
    with pytest.raises(ValueError, match="pubsub"):
        subscribe(PAYMENTS, store=store)
    with pytest.raises(ValueError, match="cometd"):
        subscribe(PAYMENTS, store=store, transport="cometd")
    with pytest.raises(ValueError, match="transport"):
        subscribe(PAYMENTS, store=store, transport="smoke")  # type: ignore[arg-type]


@pytest.mark.parametrize("persist", [100, 0])
def test_persisted_dedup_window_survives_a_restart_into_an_earliest_fallback(
    http: requests.Session, open_sub: Any, persist: int
) -> None:
    store = InMemoryReplayStore()
    options: dict[str, Any] = {
        "replay": "earliest",
        "persist_dedup": persist,
        "on_invalid_replay": InvalidReplayPolicy.EARLIEST,
    }
    first = open_sub("cometd", PAYMENTS, store, **options)
    publish(http, "A")
    publish(http, "B")
    for delivery in take(first, 2):
        delivery.ack()
    first.close()
    # Restart; meanwhile the stored replay id expired: the fallback replays all retained.
    fault(http, kind="cometd_invalid_replay", path="/meta/subscribe")
    publish(http, "C")
    second = open_sub("cometd", PAYMENTS, store, **options)
    expected = ["C"] if persist else ["A", "B", "C"]
    assert payment_ids(take(second, len(expected))) == expected
    assert settle(second) == []
    assert second.dedup.dropped == (2 if persist else 0)


def test_dedup_keys_serialise_and_tolerate_garbage() -> None:
    keys = [("uuid", "u1"), ("tx", "t", "1")]
    assert load_keys(dump_keys(keys)) == keys
    assert load_keys(None) == []
    assert load_keys(b"not json") == []
    assert load_keys(b'{"a": 1}') == []


def test_rewind_replays_in_flight_events_and_ignores_stale_acks(
    http: requests.Session, open_sub: Any
) -> None:
    store = InMemoryReplayStore()
    sub = open_sub("cometd", PAYMENTS, store, replay="earliest")
    publish(http, "A")
    publish(http, "B")
    first, stale = take(sub, 2)
    first.ack()
    sub.rewind()  # e.g. the transaction that carried B's ack_in rolled back
    assert stale.ack() is None  # issued before the rewind: it cannot move the position
    assert store.load(PAYMENTS) == first.event.replay_id
    (again,) = take(sub, 1)  # not mistaken for a duplicate
    assert payment_ids([again]) == ["B"]
    assert again.ack() == again.event.replay_id
    with pytest.raises(TypeError, match="save_in"):
        again.ack_in(object())  # the in-memory store has no transaction seam


def test_iterating_yields_deliveries_and_stops_once_closed(
    http: requests.Session, open_sub: Any
) -> None:
    publish(http, "A")
    with open_sub("pubsub", PAYMENTS, InMemoryReplayStore(), replay="earliest") as sub:
        delivery = next(iter(sub))
        assert payment_ids([delivery]) == ["A"]
        delivery.ack()
    assert list(sub) == []
    with pytest.raises(ValueError, match="closed"):
        sub.fetch()
