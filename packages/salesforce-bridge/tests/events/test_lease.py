"""Consumer leases: one holder at a time, released by death, lost with the holder's session."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

import pytest

from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session
from salesforce_bridge.events import (
    CometdSubscriber,
    EventSubscription,
    FileLease,
    InMemoryReplayStore,
    LeaseLostError,
    PostgresAdvisoryLease,
    lease_id,
    subscribe,
)


def _hold_forever(path: str, ready: ProcessEvent) -> None:
    lease = FileLease(path)
    assert lease.acquire()
    ready.set()
    time.sleep(60)


def kill_lease_session(dsn: str, lock_id: int) -> None:
    """Terminate the backend holding advisory lock ``lock_id`` (a cut connection, a restart)."""
    import psycopg

    unsigned = lock_id & 0xFFFFFFFFFFFFFFFF
    with psycopg.connect(dsn, autocommit=True) as admin:
        found = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        ).fetchall()
    assert found == [(True,)]


def wait_lost(lease: PostgresAdvisoryLease) -> None:
    deadline = time.monotonic() + 5
    while lease.held and time.monotonic() < deadline:
        time.sleep(0.02)


def test_file_lease_is_exclusive_and_freed_when_its_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "channel.lock"
    first, second = FileLease(path), FileLease(path)
    assert first.acquire()
    assert first.acquire()  # idempotent for the holder
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_forever, args=(str(path), ready), daemon=True)
    holder.start()
    assert ready.wait(10)
    standby = FileLease(path)
    assert not standby.acquire()
    holder.kill()
    holder.join(10)
    assert standby.acquire()  # the kernel dropped the dead holder's lock
    standby.release()


def test_lease_ids_are_stable_signed_64_bit() -> None:
    assert lease_id("00D:/event/X__e") == lease_id("00D:/event/X__e")
    assert lease_id("00D:/event/X__e") != lease_id("00D:/event/Y__e")
    assert -(2**63) <= lease_id("anything") < 2**63


@pytest.mark.postgres
def test_advisory_lease_is_exclusive_and_lost_with_its_session(
    pg_schema: tuple[str, str],
) -> None:
    dsn, schema = pg_schema
    key = f"{schema}:/event/Payment_Event__e"
    first = PostgresAdvisoryLease(dsn, key, heartbeat=0.05)
    second = PostgresAdvisoryLease(dsn, key, heartbeat=0.05)
    try:
        assert first.acquire()
        assert not second.acquire()
        first.release()
        assert not first.held
        assert second.acquire()
        # The holder's database session is killed (e.g. the server restarted, a network cut).
        kill_lease_session(dsn, second.lock_id)
        wait_lost(second)
        assert not second.held  # the heartbeat noticed: it must stop consuming
        assert first.acquire()  # and a standby can take over
    finally:
        first.release()
        second.release()


@pytest.mark.postgres
def test_subscription_stops_when_its_lease_is_lost(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    emulator = SalesforceEmulator()
    grant = StaticSessionGrant(
        SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)
    )

    def open_one(lease: PostgresAdvisoryLease) -> EventSubscription:
        cometd = CometdSubscriber(grant=grant, http=emulator_session(emulator))
        return subscribe(
            "/event/Payment_Event__e",
            transport="cometd",
            cometd=cometd,
            store=InMemoryReplayStore(),
            lease=lease,
        )

    key = f"{schema}:payments"
    holder = PostgresAdvisoryLease(dsn, key, heartbeat=0.05)
    standby_lease = PostgresAdvisoryLease(dsn, key, heartbeat=0.05)
    active = open_one(holder)
    standby = open_one(standby_lease)
    try:
        assert active.fetch(timeout=0) == []
        assert active.active
        assert standby.fetch(timeout=0) == []
        assert not standby.active
        kill_lease_session(dsn, holder.lock_id)
        wait_lost(holder)
        with pytest.raises(LeaseLostError):
            active.fetch(timeout=0)
        standby.fetch(timeout=0)
        assert standby.active
    finally:
        active.close()
        standby.close()
