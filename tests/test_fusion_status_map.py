"""The Fusion status map decides what a PayTrace outcome posts to Fusion, end to end: the
default map keeps the flows as they were, a configured one changes the decision, and the
decision's reason is recorded in the step's summary or result. In-process emulators (mocked
only at the wire), SQLite ledger."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState, RetryPolicy
from paysync_core.mapping import CustomerXref, FusionStatusMap, VaultXref
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import (
    EcommerceConfig,
    EcommerceOrderToCash,
    PayTraceActivityPoller,
    Refunds,
    RefundsConfig,
)

if TYPE_CHECKING:
    from conftest import Clock, Emulated, EmulatedFactory


@dataclass
class World:
    env: Emulated
    ecommerce: EcommerceOrderToCash
    refunds: Refunds
    poller: PayTraceActivityPoller
    engine: Engine
    clock: Clock

    def paid_web_order(self, order_number: str, amount: str) -> str:
        txn = self.env.web_sale(order_number, amount)
        assert len(self.poller.poll(self.engine).submitted) == 1
        self.engine.run_pending(max_workers=1)
        self.env.ship(txn)
        self.clock.advance(61)
        assert len(self.engine.run_pending(max_workers=1).succeeded) == 1
        return txn

    def payment(self, txn: str) -> dict[str, Any]:
        [found] = self.env.records(
            "SELECT Id, Payment_ID__c, Account__c, Status__c, Amount__c FROM Payment__c "
            "WHERE Payment_ID__c = {}",
            txn,
        )
        return found


def _world(
    env: Emulated,
    clock: Clock,
    *,
    web: FusionStatusMap | None = None,
    refunds: FusionStatusMap | None = None,
) -> World:
    ecommerce = EcommerceOrderToCash(
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=EcommerceConfig(
            xref=VaultXref(
                default_salesforce_account=env.account_id(), default_fusion_account="1008"
            ),
            fusion_status=web or FusionStatusMap(),
        ),
    )
    reverse = Refunds(
        paytrace=PayTracePort(env.paytrace),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=RefundsConfig(
            accounts=CustomerXref(default_fusion_account="1008"),
            vaults=VaultXref(default_fusion_account="1008"),
            fusion_status=refunds or FusionStatusMap(),
        ),
        clock=clock,
    )
    engine = env.engine(
        [ecommerce.definition(), reverse.definition()],
        policy=RetryPolicy(lookup_delays=(60.0, 600.0)),
        clock=clock,
    )
    poller = PayTraceActivityPoller(
        PayTracePort(env.paytrace), [ecommerce.submit_sale, reverse.submit_observed], clock=clock
    )
    return World(env, ecommerce, reverse, poller, engine, clock)


@pytest.fixture
def env(emulated: EmulatedFactory) -> Emulated:
    return emulated(
        {
            "Payment__c": (
                "Card_Type__c",
                "Vault_Customer_ID__c",
                "Status_Reason__c",
                "Refunded_Amount__c",
            ),
            "Order": ("Fulfillment_Status__c",),
        }
    )


def test_default_map_reverses_the_receipt_of_a_void_and_says_why(
    env: Emulated, clock: Clock
) -> None:
    world = _world(env, clock)
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


def test_configured_map_posts_nothing_for_a_void(env: Emulated, clock: Clock) -> None:
    """A merchant who reverses voided receipts by hand: the void is made in PayTrace and
    mirrored to Salesforce, but Fusion is left alone, and the step says so."""
    world = _world(
        env, clock, refunds=FusionStatusMap.model_validate({"voided": {"action": "none"}})
    )
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


def test_configured_map_reverses_a_void_by_credit_memo(env: Emulated, clock: Clock) -> None:
    world = _world(
        env, clock, refunds=FusionStatusMap.model_validate({"voided": {"action": "credit_memo"}})
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
    env: Emulated, clock: Clock
) -> None:
    world = _world(env, clock)
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


def test_configured_map_books_web_orders_as_drafts(env: Emulated, clock: Clock) -> None:
    """Order status mapping for use case 2: approved web sales booked as Order Hub drafts
    (``SubmittedFlag`` false) for review before fulfilment."""
    status_map = FusionStatusMap.model_validate(
        {"captured": {"action": "receipt", "order_status": "DRAFT"}}
    )
    world = _world(env, clock, web=status_map)
    txn = env.web_sale("WEB-3005", "12.00")
    [flow_id] = world.poller.poll(world.engine).submitted
    world.engine.run_pending(max_workers=1)
    assert env.fusion.sales_orders.get("PAYTRACE", txn).model.StatusCode == "DRAFT"
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    summary = steps["fusion_order"].request_summary
    assert summary["body"]["SubmittedFlag"] is False  # type: ignore[index]
    assert "Order Hub order DRAFT (configured Fusion status map)" in str(summary["fusion_status"])


def test_configured_map_starts_no_flow_for_approved_web_sales(env: Emulated, clock: Clock) -> None:
    """``captured -> none``: only settled sales reach Fusion (the poller submits nothing for a
    sale still pending settlement)."""
    world = _world(env, clock, web=FusionStatusMap.model_validate({"captured": {"action": "none"}}))
    env.web_sale("WEB-3006", "9.00")
    assert world.poller.poll(world.engine).submitted == []
