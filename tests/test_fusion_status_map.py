"""The Fusion status map decides what a PayTrace outcome posts to Fusion, end to end: the
default map keeps the flows as they were, a configured one changes the decision, and the
decision's reason is recorded in the step's summary or result. In-process emulators (mocked
only at the wire), SQLite ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import pytest

from paysync_core import FlowState
from paysync_core.mapping import CustomerXref, FusionStatusMap, VaultXref
from paysync_core.usecases import (
    RefundsConfig,
)

if TYPE_CHECKING:
    from conftest import Emulated, WebRefundsFactory
    from conftest import WebRefunds as World


class MakeWorld(Protocol):
    def __call__(
        self, *, web: FusionStatusMap | None = None, refunds: FusionStatusMap | None = None
    ) -> World:
        """Use cases 2 and 3 over ``env`` with the given Fusion status maps (default ones
        where not given)."""
        ...


@pytest.fixture
def env(web_refunds: WebRefundsFactory) -> Emulated:
    return web_refunds.env()


@pytest.fixture
def make_world(web_refunds: WebRefundsFactory, env: Emulated) -> MakeWorld:
    def make(
        *, web: FusionStatusMap | None = None, refunds: FusionStatusMap | None = None
    ) -> World:
        config = RefundsConfig(
            accounts=CustomerXref(default_fusion_account="1008"),
            vaults=VaultXref(default_fusion_account="1008"),
            fusion_status=refunds or FusionStatusMap(),
        )
        return web_refunds(
            env,
            payment_columns="Id, Payment_ID__c, Account__c, Status__c, Amount__c",
            refunds=config,
            web_status=web or FusionStatusMap(),
        )

    return make


def test_default_map_reverses_the_receipt_of_a_void_and_says_why(
    env: Emulated, make_world: MakeWorld
) -> None:
    world = make_world()
    txn = world.paid_web_order("WEB-3001", "25.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("25.00")
    )
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    receipt = env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.State == "Reversed"
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["fusion_reverse"].request_summary["fusion_status"] == {
        "void": "payment voided -> reverse the standard receipt (State Reversed) "
        "(default Fusion status map)"
    }


def test_configured_map_posts_nothing_for_a_void(env: Emulated, make_world: MakeWorld) -> None:
    """A merchant who reverses voided receipts by hand: the void is made in PayTrace and
    mirrored to Salesforce, but Fusion is left alone, and the step says so."""
    world = make_world(refunds=FusionStatusMap.model_validate({"voided": {"action": "none"}}))
    txn = world.paid_web_order("WEB-3002", "40.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("40.00")
    )
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    sale = env.paytrace.exports.transaction(int(txn))
    assert sale is not None
    assert sale.status_message == "Voided"
    receipt = env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.State != "Reversed"
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["fusion_reverse"].external_ids == {
        "skipped": "payment voided -> post nothing to Fusion (configured Fusion status map)"
    }
    assert "receipt_reversal" not in steps["fusion_reverse"].request_summary
    assert world.payment(txn)["Status__c"] == "Voided"


def test_configured_map_reverses_a_void_by_credit_memo(
    env: Emulated, make_world: MakeWorld
) -> None:
    world = make_world(
        refunds=FusionStatusMap.model_validate({"voided": {"action": "credit_memo"}})
    )
    txn = world.paid_web_order("WEB-3003", "15.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("15.00")
    )
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    receipt = env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.State != "Reversed"
    memo = env.fusion.receivables_credit_memos.find_by_number(f"CM-{txn}")
    assert memo is not None
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["fusion_reverse"].external_ids["credit_memo_number"] == f"CM-{txn}"


def test_web_sale_default_map_books_an_open_order_and_records_the_decision(
    env: Emulated, make_world: MakeWorld
) -> None:
    world = make_world()
    txn = env.web_sale("WEB-3004", "12.00")
    [flow_id] = world.poller.poll(world.engine).submitted
    world.engine.run_pending(max_workers=1)
    assert env.fusion.sales_orders.get("PAYTRACE", txn).model.StatusCode == "OPEN"
    recorded = world.engine.flow(flow_id).input["fusion_status"]
    assert recorded == {
        "status": "captured",
        "reason": "PayTrace SALE status 'Pending Settlement', not settled yet: "
        "payment captured -> create the invoice and standard receipt, receipt Status Confirmed "
        "expected (default Fusion status map)",
    }
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert "default Fusion status map" in str(steps["fusion_order"].request_summary)


def test_configured_map_books_web_orders_as_drafts(env: Emulated, make_world: MakeWorld) -> None:
    """Order status mapping for use case 2: approved web sales booked as Order Hub drafts
    (``SubmittedFlag`` false) for review before fulfilment."""
    status_map = FusionStatusMap.model_validate(
        {"captured": {"action": "receipt", "order_status": "DRAFT"}}
    )
    world = make_world(web=status_map)
    txn = env.web_sale("WEB-3005", "12.00")
    [flow_id] = world.poller.poll(world.engine).submitted
    world.engine.run_pending(max_workers=1)
    assert env.fusion.sales_orders.get("PAYTRACE", txn).model.StatusCode == "DRAFT"
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    summary = steps["fusion_order"].request_summary
    assert summary["body"]["SubmittedFlag"] is False  # type: ignore[index]
    assert "Order Hub order DRAFT (configured Fusion status map)" in str(summary["fusion_status"])


def test_configured_map_starts_no_flow_for_approved_web_sales(
    env: Emulated, make_world: MakeWorld
) -> None:
    """``captured -> none``: only settled sales reach Fusion (the poller submits nothing for a
    sale still pending settlement)."""
    world = make_world(web=FusionStatusMap.model_validate({"captured": {"action": "none"}}))
    env.web_sale("WEB-3006", "9.00")
    assert world.poller.poll(world.engine).submitted == []
