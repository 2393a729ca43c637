"""``flows_for_entity``: the flows of one use case on one business entity, oldest first, on
SQLite and PostgreSQL alike (the ``store`` fixture runs both)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    FlowState,
    LedgerStore,
    LookupResult,
    Step,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _flow(use_case: str, source_id: str, entity: str, at: datetime) -> FlowRecord:
    return FlowRecord(
        flow_id=uuid.uuid4().hex,
        flow_key=f"{use_case}:{source_id}",
        use_case=use_case,
        source_system="salesforce",
        source_id=source_id,
        version="1",
        entity_key=entity,
        input={"request": {"amount": source_id}},
        state=FlowState.PENDING,
        current_step=0,
        created_at=at,
        updated_at=at,
    )


def test_flows_of_one_entity_and_use_case_in_submission_order(store: LedgerStore) -> None:
    flows = [
        _flow("refunds", "RQ2", "refund:7", T0 + timedelta(seconds=5)),
        _flow("refunds", "RQ1", "refund:7", T0),  # inserted later, created earlier
        _flow("refunds", "RQ3", "refund:8", T0),  # another sale
        _flow("other", "RQ4", "refund:7", T0),  # another use case on the same key
    ]
    with store.transaction() as tx:
        for flow in flows:
            assert tx.insert_flow(flow)
    with store.transaction() as tx:
        found = tx.flows_for_entity("refunds", "refund:7")
        assert tx.flows_for_entity("refunds", "refund:9") == []
    # submission (insertion) order, not creation time: the order the entity serialises in
    assert [f.source_id for f in found] == ["RQ2", "RQ1"]
    assert found[0].input == {"request": {"amount": "RQ2"}}
    assert found[0].entity_key == "refund:7"


def test_engine_reads_the_flows_of_an_entity(store: LedgerStore) -> None:
    definition = FlowDefinition(
        "refunds", [Step("noop", lambda _ctx: {}, lambda _ctx: LookupResult.absent())]
    )
    engine = Engine(store, [definition])
    first = engine.submit(
        "refunds",
        source_system="salesforce",
        source_id="A",
        version=1,
        input={},
        entity_key="refund:1",
    )
    engine.submit(
        "refunds",
        source_system="salesforce",
        source_id="B",
        version=1,
        input={},
        entity_key="refund:2",
    )
    again = engine.submit(
        "refunds",
        source_system="salesforce",
        source_id="C",
        version=1,
        input={},
        entity_key="refund:1",
    )
    assert [f.flow_id for f in engine.flows_for_entity("refunds", "refund:1")] == [
        first.flow_id,
        again.flow_id,
    ]
    assert engine.flows_for_entity("other", "refund:1") == []
