"""Dead-letter queue operations, audit chain tamper detection, and no secrets anywhere."""

# ruff: noqa: S608  -- the tamper statements are built from sequence numbers the test read back

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest

from paysync_core import (
    AuditRecord,
    AuditTrail,
    AuditVerificationError,
    DeadLetterQueue,
    DeadLetterStatus,
    Engine,
    FlowDefinition,
    FlowState,
    LedgerError,
    LedgerStore,
    PaysyncError,
    PostgresLedger,
    RetryPolicy,
    Step,
    StepState,
    UnknownFlowError,
    verify_chain,
)
from paysync_core._audit import parse_jsonl
from paysync_core.testing import FakeClock, FakeSystem, Fault, drop_audit_guard

VISA = "4111111111111111"
TTL = timedelta(minutes=5)


def setup(store: LedgerStore) -> tuple[FakeSystem, Engine]:
    system, clock = FakeSystem(), FakeClock()
    definition = FlowDefinition("refund", [system.step("void"), system.step("credit_memo")])
    engine = Engine(
        store,
        [definition],
        policy=RetryPolicy(max_attempts=3, lookup_delays=(1.0,)),
        worker_id="w1",
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.0,
    )
    return system, engine


def run_one(engine: Engine, source_id: str = "R-1", amount: str = "5.00") -> str:
    flow = engine.submit(
        "refund", source_system="pt", source_id=source_id, version=1, input={"amount": amount}
    )
    engine.run_flow(flow.flow_id)
    return flow.flow_id


def test_dlq_list_show_retry_with_edited_input(store: LedgerStore) -> None:
    system, engine = setup(store)
    system.script("credit_memo", Fault.REJECTED)
    flow_id = run_one(engine)
    queue = DeadLetterQueue(store)
    (entry,) = queue.list()
    detail = queue.show(entry.entry_id)
    assert detail.flow.flow_id == flow_id
    assert detail.flow.state is FlowState.DEAD
    assert [s.state for s in detail.steps] == [StepState.SUCCEEDED, StepState.DEAD]
    assert detail.entry.last_error == "HttpStatusError: HTTP 422"
    assert detail.entry.evidence

    queued = queue.retry(entry.entry_id, input={"amount": "4.00"})
    assert queued.state is FlowState.PENDING
    assert queued.input == {"amount": "4.00"}
    assert queue.list() == []
    assert queue.list(DeadLetterStatus.RETRIED)[0].entry_id == entry.entry_id
    report = engine.run_pending()
    assert report.succeeded == [flow_id]
    assert set(system.applied.values()) == {1}
    assert len(system.applied) == 2
    # the retried step was looked up first (it might have happened before it died)
    assert len(system.lookups) == 1
    with pytest.raises(PaysyncError):
        queue.retry(entry.entry_id)


def test_dlq_retry_never_duplicates_an_effect_that_happened(store: LedgerStore) -> None:
    system, engine = setup(store)
    system.script("void", Fault.TIMEOUT_AFTER)
    system.lag("void", 5)  # the lookup cannot confirm in time
    flow_id = run_one(engine)
    queue = DeadLetterQueue(store)
    (entry,) = queue.list()
    assert entry.reason == "unresolved_unknown_outcome"
    system.clear_faults()
    queue.retry(entry.entry_id)
    assert engine.run_pending().succeeded == [flow_id]
    assert set(system.applied.values()) == {1}


def test_duplicate_failures_collapse_and_resolve(store: LedgerStore) -> None:
    system, engine = setup(store)
    system.script("void", Fault.REJECTED, Fault.REJECTED)
    run_one(engine)
    queue = DeadLetterQueue(store)
    (entry,) = queue.list()
    queue.retry(entry.entry_id)
    engine.run_pending()
    (again,) = queue.list(None)
    assert again.entry_id == entry.entry_id
    assert again.occurrences == 2
    assert again.status is DeadLetterStatus.OPEN
    resolved = queue.resolve(entry.entry_id, note=f"refunded by hand, card {VISA}")
    assert resolved.status is DeadLetterStatus.RESOLVED
    assert resolved.note == "refunded by hand, card <redacted-pan>"
    assert queue.list() == []
    with pytest.raises(UnknownFlowError):
        queue.show("missing")


def test_audit_chain_verifies_and_exports(store: LedgerStore) -> None:
    system, engine = setup(store)
    system.script("void", Fault.TIMEOUT_AFTER)
    run_one(engine)
    trail = AuditTrail(store)
    report = trail.verify()
    kinds = [r.kind for r in trail.records()]
    assert kinds[0] == "flow.submitted"
    assert "step.unknown" in kinds
    assert "step.lookup_absent" not in kinds
    assert kinds[-1] == "flow.succeeded"
    assert report.count == len(kinds)
    out = io.StringIO()
    assert trail.export_jsonl(out) == report.count
    exported = list(parse_jsonl(out.getvalue().splitlines()))
    assert verify_chain(exported, expected_head=report.head) == report


def _tamper(store: LedgerStore, *statements: str) -> None:
    with store.transaction() as tx:
        drop_audit_guard(tx)
        for statement in statements:
            tx.execute(statement)


@pytest.mark.parametrize(
    ("statements", "bad_seq"),
    [
        (['UPDATE audit_log SET detail_json = \'{"step":"forged"}\' WHERE seq = 3'], 3),
        (["UPDATE audit_log SET kind = 'x' WHERE seq = 2"], 2),
        (["DELETE FROM audit_log WHERE seq = 2"], 3),
        (
            [
                "UPDATE audit_log SET seq = 1000 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = 1000",
            ],
            2,
        ),
    ],
    ids=["edit-detail", "edit-kind", "delete", "reorder"],
)
def test_audit_tampering_is_detected(
    store: LedgerStore, statements: list[str], bad_seq: int
) -> None:
    _, engine = setup(store)
    run_one(engine)
    _tamper(store, *statements)
    with pytest.raises(AuditVerificationError) as err:
        AuditTrail(store).verify()
    assert err.value.seq == bad_seq


_LAST = "(SELECT MAX(seq) FROM audit_log)"


def test_tail_truncation_needs_the_heads(store: LedgerStore) -> None:
    _, engine = setup(store)
    run_one(engine)
    head = AuditTrail(store).verify().head
    _tamper(store, f"DELETE FROM audit_log WHERE seq = {_LAST}")
    # a shorter chain is still a chain, but not the one audit_heads recorded ...
    with pytest.raises(AuditVerificationError, match="recorded head"):
        AuditTrail(store).verify()
    # ... and an attacker who rewinds audit_heads too is caught by the head kept elsewhere
    with store.transaction() as tx:  # (one flow: the new last record is in the same chain)
        tx.execute(
            "UPDATE audit_heads SET shard_seq = shard_seq - 1, hash = (SELECT hash FROM audit_log"
            f" WHERE seq = {_LAST}) WHERE shard = (SELECT shard FROM audit_log WHERE seq = {_LAST})"
        )
    AuditTrail(store).verify()
    with pytest.raises(AuditVerificationError, match="expected head"):
        AuditTrail(store).verify(expected_head=head)


def _two_shards(store: LedgerStore) -> dict[int, list[AuditRecord]]:
    """Run flows until their records sit in at least two shard chains (flow ids are random)."""
    _, engine = setup(store)
    by_shard: dict[int, list[AuditRecord]] = {}
    for i in range(40):
        run_one(engine, source_id=f"R-{i}")
        by_shard = {}
        for record in AuditTrail(store).records():
            assert record.shard is not None
            assert record.shard_seq is not None
            by_shard.setdefault(record.shard, []).append(record)
        if len(by_shard) >= 2:
            break
    assert len(by_shard) >= 2
    return by_shard


def test_records_spread_over_verifiable_shard_chains(store: LedgerStore) -> None:
    by_shard = _two_shards(store)
    report = AuditTrail(store).verify()
    assert report.shard_heads == {shard: chain[-1].hash for shard, chain in by_shard.items()}
    for chain in by_shard.values():
        assert [r.shard_seq for r in chain] == list(range(1, len(chain) + 1))


def test_deletion_within_one_shard_is_detected(store: LedgerStore) -> None:
    chain = next(iter(_two_shards(store).values()))
    _tamper(store, f"DELETE FROM audit_log WHERE seq = {chain[1].seq}")
    with pytest.raises(AuditVerificationError, match="deleted or reordered") as err:
        AuditTrail(store).verify()
    assert err.value.seq == chain[2].seq


def test_deletion_across_shards_is_detected(store: LedgerStore) -> None:
    first, second = list(_two_shards(store).values())[:2]
    gone = sorted((first[0].seq, second[0].seq))  # the first record of two chains
    _tamper(store, *(f"DELETE FROM audit_log WHERE seq = {seq}" for seq in gone))
    with pytest.raises(AuditVerificationError, match="deleted or reordered") as err:
        AuditTrail(store).verify()
    survivors = sorted(r.seq for r in (*first[1:], *second[1:]))
    assert err.value.seq == survivors[0]


def test_removing_a_whole_shard_needs_the_heads(store: LedgerStore) -> None:
    by_shard = _two_shards(store)
    head = AuditTrail(store).verify().head
    shard = next(iter(by_shard))
    _tamper(
        store,
        f"DELETE FROM audit_log WHERE shard = {shard}",
        f"UPDATE audit_heads SET shard_seq = 0, hash = '{'0' * 64}' WHERE shard = {shard}",
    )
    AuditTrail(store).verify()  # every remaining chain is intact ...
    with pytest.raises(AuditVerificationError, match="expected head"):
        AuditTrail(store).verify(expected_head=head)  # ... but the anchor moved


def test_no_secrets_or_pans_in_any_table(store: LedgerStore) -> None:
    system, clock = FakeSystem(), FakeClock()

    def perform(ctx: object) -> dict[str, str]:
        raise ValueError(f"declined card {VISA} with password=hunter2")

    leaky = Step(
        "charge",
        perform=perform,
        lookup=system.lookup,
        summarize=lambda ctx: {
            "card_number": VISA,
            "csc": "123",
            "password": "hunter2",
            "access_token": "tok-secret-value",
            "memo": f"paid with {VISA}",
            "amount": "9.99",
        },
    )
    engine = Engine(
        store,
        [FlowDefinition("leaky", [leaky])],
        policy=RetryPolicy(max_attempts=2, lookup_delays=()),
        lease_ttl=TTL,
        clock=clock,
        sleep=clock.sleep,
    )
    flow = engine.submit("leaky", source_system="s", source_id="1", version=1, input={})
    assert engine.run_flow(flow.flow_id).state is FlowState.DEAD
    dump: list[str] = []
    with store.transaction() as tx:
        for table in ("flows", "steps", "dead_letters", "audit_log"):
            dump.append(str(tx.execute(f"SELECT * FROM {table}")))
    text = "\n".join(dump)
    for secret in (VISA, "hunter2", "tok-secret-value", "'123'", '"123"'):
        assert secret not in text
    assert "9.99" in text  # ordinary data is kept
    assert "<redacted-pan>" in text


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET kind = 'forged' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "DELETE FROM audit_log",
    ],
    ids=["update", "delete-one", "delete-all"],
)
def test_audit_table_rejects_update_and_delete(store: LedgerStore, statement: str) -> None:
    _, engine = setup(store)
    run_one(engine)
    before = AuditTrail(store).verify()
    with pytest.raises(LedgerError, match="append-only"), store.transaction() as tx:
        tx.execute(statement)
    assert AuditTrail(store).verify() == before  # rolled back, chain intact


def test_audit_table_rejects_truncate_on_postgres(postgres_dsn: str) -> None:
    store = PostgresLedger(postgres_dsn, schema=f"pstest_trunc_{uuid.uuid4().hex[:8]}")
    try:
        _, engine = setup(store)
        run_one(engine)
        with pytest.raises(LedgerError, match="append-only"), store.transaction() as tx:
            tx.execute("TRUNCATE audit_log")
        assert AuditTrail(store).verify().count > 0
    finally:
        store.drop_schema()
        store.close()
