"""The emulator's shared event bus: replay ids, retention, mirroring and waiting."""

from __future__ import annotations

import threading

from salesforce_bridge.emulator import EventBus

CHANGE = "/data/AccountChangeEvent"


def test_change_events_are_mirrored_with_the_same_id_and_uuid() -> None:
    bus = EventBus()
    first = bus.publish(CHANGE, {"n": 1})
    platform = bus.publish("/event/Order_Event__e", {"n": 2})
    mirrored = bus.read("/data/ChangeEvents", after=None, limit=10)
    assert [(e.replay_id, e.event_uuid) for e in mirrored] == [(first.replay_id, first.event_uuid)]
    assert platform.replay_id > first.replay_id
    assert bus.publish("/event/Order_Event__e", {}, event_uuid="mine").event_uuid == "mine"


def test_read_after_and_limit() -> None:
    bus = EventBus()
    ids = [bus.publish(CHANGE, {"n": i}).replay_id for i in range(5)]
    assert [e.replay_id for e in bus.read(CHANGE, after=ids[1], limit=2)] == ids[2:4]
    assert bus.read(CHANGE, after=ids[-1], limit=10) == []
    assert (bus.earliest_replay_id(CHANGE), bus.latest_replay_id(CHANGE)) == (ids[0], ids[-1])


def test_retention_expires_events_and_their_ids() -> None:
    now = [0.0]
    bus = EventBus(retention_seconds=10, clock=lambda: now[0])
    old = bus.publish(CHANGE, {})
    now[0] = 20.0
    new = bus.publish(CHANGE, {})
    assert not bus.is_retained(CHANGE, old.replay_id)
    assert bus.is_retained(CHANGE, new.replay_id)
    assert not bus.is_retained(CHANGE, 999)  # never issued
    assert not bus.is_retained("/event/Order_Event__e", new.replay_id)  # other topic
    assert [e.replay_id for e in bus.read(CHANGE, after=None, limit=5)] == [new.replay_id]


def test_wait_wakes_on_publish() -> None:
    bus = EventBus()
    assert not bus.wait(CHANGE, None, 0.01)
    threading.Timer(0.05, bus.publish, args=(CHANGE, {})).start()
    assert bus.wait(CHANGE, None, 2.0)
    seen: list[int] = []
    bus.add_listener(lambda event: seen.append(event.replay_id))
    published = bus.publish(CHANGE, {})
    assert seen == [published.replay_id]
