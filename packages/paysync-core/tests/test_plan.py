"""Dry run: the plan lists every write with its payload and calls nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from paysync_core import (
    Engine,
    FlowDefinition,
    LookupResult,
    SqliteLedger,
    Step,
    StepContext,
    plan_flow,
)


def _never(ctx: StepContext) -> Mapping[str, str]:
    raise AssertionError("a dry run must not call a port")


def _never_lookup(ctx: StepContext) -> LookupResult:
    raise AssertionError("a dry run must not call a port")


DEFINITION = FlowDefinition(
    "payment_to_receipt",
    [
        Step(
            "charge",
            perform=_never,
            lookup=_never_lookup,
            system="paytrace",
            summarize=lambda ctx: {
                "amount": ctx.input["amount"],
                "invoice_id": ctx.idempotency_key[:20],
                "customer_password": "nope",
            },
        ),
        Step(
            "create_receipt",
            perform=_never,
            lookup=_never_lookup,
            system="fusion",
            summarize=lambda ctx: {
                "ReceiptNumber": ctx.idempotency_key[:30],
                "Comments": f"PayTrace {ctx.results['charge']['transaction_id']}",
            },
        ),
    ],
)


def test_plan_lists_every_write_without_calling_ports() -> None:
    plan = plan_flow(
        DEFINITION, source_system="paytrace", source_id="T-1", version=1, input={"amount": "9.00"}
    )
    assert [(w.step, w.system) for w in plan] == [
        ("charge", "paytrace"),
        ("create_receipt", "fusion"),
    ]
    assert plan[0].payload["amount"] == "9.00"
    assert plan[0].payload["customer_password"] == "<redacted>"
    assert plan[0].payload["invoice_id"] == plan[0].idempotency_key[:20]
    assert plan[1].payload["Comments"] == "PayTrace <charge.transaction_id>"


def test_engine_plan_stores_nothing(tmp_path: Path) -> None:
    store = SqliteLedger(tmp_path / "plan.db")
    try:
        engine = Engine(store, [DEFINITION], lease_ttl=timedelta(minutes=5))
        plan = engine.plan(
            "payment_to_receipt",
            source_system="paytrace",
            source_id="T-1",
            version=1,
            input={"amount": "1.00"},
        )
        assert len(plan) == 2
        with store.transaction() as tx:
            assert tx.list_flows() == []
            assert tx.audit_records() == []
    finally:
        store.close()
