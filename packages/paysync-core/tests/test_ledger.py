"""Ledger behaviour, identical on SQLite and PostgreSQL (the ``store`` fixture runs both)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from paysync_core import (
    AuditTrail,
    DeadLetterStatus,
    FlowRecord,
    FlowState,
    LedgerError,
    LedgerStore,
    MigrationError,
    SqliteLedger,
    StepRecord,
    StepState,
)
from paysync_core._audit_hash import (
    AUDIT_SHARDS,
    GENESIS_HASH,
    anchor_hash,
    audit_shard,
    link_hash,
)
from paysync_core._schema import MIGRATIONS

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
VISA = "4111111111111111"


def make_flow(source_id: str, *, entity: str = "order-1", at: datetime = T0) -> FlowRecord:
    return FlowRecord(
        flow_id=uuid.uuid4().hex,
        flow_key=f"key-{source_id}",
        use_case="payment_to_receipt",
        source_system="paytrace",
        source_id=source_id,
        version="1",
        entity_key=entity,
        input={"amount": "10.00", "customer": "C-1"},
        state=FlowState.PENDING,
        current_step=0,
        created_at=at,
        updated_at=at,
    )


def test_schema_is_migrated(store: LedgerStore) -> None:
    assert store.schema_version() == len(MIGRATIONS)


def test_flow_insert_is_idempotent_by_key(store: LedgerStore) -> None:
    flow = make_flow("T-1")
    with store.transaction() as tx:
        assert tx.insert_flow(flow)
        assert not tx.insert_flow(make_flow("T-1"))
        stored = tx.get_flow_by_key("key-T-1")
    assert stored is not None
    assert stored.flow_id == flow.flow_id
    assert stored.input == {"amount": "10.00", "customer": "C-1"}
    assert stored.created_at == T0
    assert stored.created_at.tzinfo is not None


def test_transaction_rolls_back_on_error(store: LedgerStore) -> None:
    class BoomError(Exception):
        pass

    def fail_midway() -> None:
        with store.transaction() as tx:
            tx.insert_flow(make_flow("T-2"))
            raise BoomError

    with pytest.raises(BoomError):
        fail_midway()
    with store.transaction() as tx:
        assert tx.get_flow_by_key("key-T-2") is None


def test_step_round_trip_with_redaction(store: LedgerStore) -> None:
    flow = make_flow("T-3")
    step = StepRecord(
        flow_id=flow.flow_id,
        index=0,
        name="charge",
        idempotency_key="sk-1",
        state=StepState.REQUESTED,
        attempts=2,
        intended_at=T0,
        request_summary={"amount": "10.00", "card_number": VISA, "memo": f"card {VISA}"},
        requested_at=T0 + timedelta(seconds=1),
        last_error=f"declined {VISA} password=hunter2",
    )
    with store.transaction() as tx:
        tx.insert_flow(flow)
        tx.put_step(step)
        tx.put_step(
            StepRecord(
                flow_id=flow.flow_id,
                index=0,
                name="charge",
                idempotency_key="sk-1",
                state=StepState.SUCCEEDED,
                attempts=2,
                intended_at=T0,
                request_summary=step.request_summary,
                external_ids={"transaction_id": "987"},
                requested_at=step.requested_at,
                finished_at=T0 + timedelta(seconds=2),
                last_error=step.last_error,
            )
        )
        (stored,) = tx.get_steps(flow.flow_id)
        raw = tx.execute("SELECT request_summary_json, last_error FROM steps")
    assert stored.state is StepState.SUCCEEDED
    assert stored.external_ids == {"transaction_id": "987"}
    assert stored.finished_at == T0 + timedelta(seconds=2)
    assert stored.request_summary == {
        "amount": "10.00",
        "card_number": "<redacted>",
        "memo": "card <redacted-pan>",
    }
    assert VISA not in str(raw)
    assert stored.last_error is not None
    assert VISA not in stored.last_error


def test_claim_leases_and_orders_per_entity(store: LedgerStore) -> None:
    first, second, other = make_flow("A"), make_flow("B"), make_flow("C", entity="order-2")
    with store.transaction() as tx:
        for flow in (first, second, other):
            tx.insert_flow(flow)
    until = T0 + timedelta(seconds=30)
    with store.transaction() as tx:
        claimed = tx.claim(owner="w1", now=T0, lease_expires_at=until, limit=10)
    # the second flow of order-1 waits for the first
    assert claimed == [first.flow_id, other.flow_id]
    with store.transaction() as tx:
        assert tx.claim(owner="w2", now=T0, lease_expires_at=until, limit=10) == []
        flow = tx.get_flow(first.flow_id)
    assert flow is not None
    assert flow.state is FlowState.RUNNING
    assert flow.lease_owner == "w1"
    assert flow.lease_expires_at == until
    # expired leases are taken over
    later = until + timedelta(seconds=1)
    with store.transaction() as tx:
        taken = tx.claim(
            owner="w2", now=later, lease_expires_at=later + timedelta(seconds=30), limit=10
        )
    assert taken == [first.flow_id, other.flow_id]
    # finishing the first flow releases the second
    with store.transaction() as tx:
        assert tx.update_flow(first.flow_id, now=later, owner="w2", state=FlowState.SUCCEEDED)
        assert not tx.update_flow(other.flow_id, now=later, owner="w1", current_step=1)
        tx.release(first.flow_id, owner="w2", now=later)
        assert tx.claim(owner="w2", now=later, lease_expires_at=later, limit=10) == [second.flow_id]


def test_release_makes_flow_claimable_again(store: LedgerStore) -> None:
    flow = make_flow("R")
    with store.transaction() as tx:
        tx.insert_flow(flow)
        assert tx.claim(owner="w1", now=T0, lease_expires_at=T0, limit=1, flow_id=flow.flow_id)
        tx.release(flow.flow_id, owner="w1", now=T0)
        again = tx.get_flow(flow.flow_id)
        assert again is not None
        assert again.state is FlowState.PENDING
        assert again.lease_owner is None
        assert tx.claim(owner="w2", now=T0, lease_expires_at=T0, limit=1) == [flow.flow_id]


def test_dead_letters_collapse_by_fingerprint(store: LedgerStore) -> None:
    with store.transaction() as tx:
        first = tx.upsert_dead_letter(
            fingerprint="fp",
            flow_id="f1",
            step_name="charge",
            reason="permanent",
            last_error="HTTP 422",
            evidence=[{"error": f"card {VISA}"}],
            now=T0,
        )
        second = tx.upsert_dead_letter(
            fingerprint="fp",
            flow_id="f1",
            step_name="charge",
            reason="permanent",
            last_error="HTTP 422 again",
            evidence=[],
            now=T0 + timedelta(seconds=5),
        )
        other = tx.upsert_dead_letter(
            fingerprint="fp2",
            flow_id="f2",
            step_name="charge",
            reason="permanent",
            last_error=None,
            evidence=[],
            now=T0,
        )
        assert VISA not in str(first.evidence)
        assert second.entry_id == first.entry_id
        assert second.occurrences == 2
        assert second.last_error == "HTTP 422 again"
        assert [e.entry_id for e in tx.list_dead_letters()] == [first.entry_id, other.entry_id]
        tx.set_dead_letter_status(
            other.entry_id, status=DeadLetterStatus.RESOLVED, note="fixed", now=T0
        )
        assert [e.entry_id for e in tx.list_dead_letters(DeadLetterStatus.OPEN)] == [first.entry_id]


def test_audit_append_builds_a_chain_per_shard(store: LedgerStore) -> None:
    other = next(f"g{i}" for i in range(100) if audit_shard(f"g{i}") != audit_shard("f"))
    with store.transaction() as tx:
        a = tx.append_audit("x", flow_id="f", detail={"password": "p", "n": 1}, now=T0)
        b = tx.append_audit("y", flow_id="f", detail={}, now=T0)
    with store.transaction() as tx:
        c = tx.append_audit("z", flow_id=other, detail={}, now=T0)
        d = tx.append_audit("z", flow_id="f", detail={}, now=T0)
        heads = tx.audit_heads()
    assert (a.seq, b.seq, c.seq, d.seq) == (1, 2, 3, 4)
    assert (a.shard_seq, b.shard_seq, c.shard_seq, d.shard_seq) == (1, 2, 1, 3)
    assert a.prev_hash == GENESIS_HASH
    assert b.prev_hash == a.hash
    assert d.prev_hash == b.hash  # the next transaction continues the flow's shard chain
    assert c.prev_hash == GENESIS_HASH  # another shard starts its own chain
    assert a.detail == {"password": "<redacted>", "n": 1}
    assert len(heads) == AUDIT_SHARDS
    assert heads[audit_shard("f")] == (3, d.hash)
    assert heads[audit_shard(other)] == (1, c.hash)


def test_concurrent_starters_migrate_once(ledger_factory: Callable[[], LedgerStore]) -> None:
    stores: list[LedgerStore] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            opened = ledger_factory()
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)
            return
        with lock:
            stores.append(opened)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(stores) == 6
    with stores[0].transaction() as tx:
        rows = tx.execute("SELECT version FROM paysync_schema_migrations ORDER BY version")
    assert rows == [(m.version,) for m in MIGRATIONS]


def test_newer_schema_is_refused(ledger_factory: Callable[[], LedgerStore]) -> None:
    store = ledger_factory()
    with store.transaction() as tx:
        tx.execute("INSERT INTO paysync_schema_migrations VALUES (?, ?, ?)", (99, "future", "2030"))
    with pytest.raises(MigrationError, match="newer"):
        ledger_factory()


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store = SqliteLedger(tmp_path / "wal.db")
    try:
        with store.transaction() as tx:
            assert tx.execute("PRAGMA journal_mode") == [("wal",)]
    finally:
        store.close()


def test_driver_errors_become_ledger_errors_and_roll_back(store: LedgerStore) -> None:
    def broken() -> None:
        with store.transaction() as tx:
            tx.insert_flow(make_flow("L-1"))
            tx.execute("SELECT * FROM no_such_table")

    with pytest.raises(LedgerError):
        broken()
    with store.transaction() as tx:
        assert tx.get_flow_by_key("key-L-1") is None


def test_running_flow_excludes_an_older_flow_committed_late(store: LedgerStore) -> None:
    """Two submitters race: the flow with the older sequence number commits after the newer
    one was already claimed. It must wait, not run beside it."""
    newer, older = make_flow("N"), make_flow("O")
    until = T0 + timedelta(seconds=30)
    with store.transaction() as tx:
        tx.insert_flow(newer)
        assert tx.claim(owner="w1", now=T0, lease_expires_at=until, limit=5) == [newer.flow_id]
        tx.insert_flow(older)
        tx.execute("UPDATE flows SET seq = -1 WHERE flow_id = ?", (older.flow_id,))
    with store.transaction() as tx:
        assert tx.claim(owner="w2", now=T0, lease_expires_at=until, limit=5) == []
    later = until + timedelta(seconds=1)
    with store.transaction() as tx:  # the running one's lease expired: only it is taken over
        taken = tx.claim(
            owner="w2", now=later, lease_expires_at=later + timedelta(seconds=30), limit=5
        )
        assert taken == [newer.flow_id]
        tx.update_flow(newer.flow_id, now=later, owner="w2", state=FlowState.SUCCEEDED)
        assert tx.claim(owner="w2", now=later, lease_expires_at=later, limit=5) == [older.flow_id]


def test_an_old_ledger_is_upgraded_in_place(
    ledger_factory: Callable[[], LedgerStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    import paysync_core._postgres
    import paysync_core._sqlite

    first = MIGRATIONS[:1]
    monkeypatch.setattr(paysync_core._sqlite, "MIGRATIONS", first)
    monkeypatch.setattr(paysync_core._postgres, "MIGRATIONS", first)
    old = ledger_factory()
    assert old.schema_version() == 1
    flow = make_flow("V1")
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO flows (flow_id, flow_key, use_case, source_system, source_id, version,"
            " entity_key, input_json, state, current_step, created_at, updated_at)"
            " VALUES (?, ?, 'uc', 's', '1', '1', 'e', '{}', 'pending', 0, ?, ?)",
            (
                flow.flow_id,
                flow.flow_key,
                "2026-01-01T00:00:00.000000+00:00",
                "2026-01-01T00:00:00.000000+00:00",
            ),
        )
    monkeypatch.undo()
    new = ledger_factory()
    assert new.schema_version() == len(MIGRATIONS)
    with new.transaction() as tx:
        stored = tx.get_flow(flow.flow_id)
    assert stored is not None
    assert stored.not_before is None


def test_a_legacy_audit_chain_is_kept_and_continued_in_shards(
    ledger_factory: Callable[[], LedgerStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    import paysync_core._postgres
    import paysync_core._sqlite

    before = tuple(m for m in MIGRATIONS if m.version < 7)
    monkeypatch.setattr(paysync_core._sqlite, "MIGRATIONS", before)
    monkeypatch.setattr(paysync_core._postgres, "MIGRATIONS", before)
    old = ledger_factory()
    prev = GENESIS_HASH
    with old.transaction() as tx:  # two records of the ledger-wide chain, as 0.x wrote them
        for seq in (1, 2):
            at = "2026-01-01T00:00:00.000000+00:00"
            digest = link_hash(
                seq=seq, at=at, flow_id="f", kind="k", detail_json="{}", prev_hash=prev
            )
            tx.execute(
                "INSERT INTO audit_log (seq, at, flow_id, kind, detail_json, prev_hash, hash)"
                " VALUES (?, ?, 'f', 'k', '{}', ?, ?)",
                (seq, at, prev, digest),
            )
            prev = digest
    monkeypatch.undo()
    new = ledger_factory()
    assert AuditTrail(new).verify().head == prev  # a head recorded before the upgrade holds
    with new.transaction() as tx:
        record = tx.append_audit("k", flow_id="f", detail={}, now=T0)
    assert (record.seq, record.shard_seq) == (3, 1)
    report = AuditTrail(new).verify()
    assert report.count == 3
    assert report.head == anchor_hash(prev, {audit_shard("f"): record.hash})
