"""Use case 3 for ACH payments: a refund requested on an ``ACH-<check id>`` ``Payment__c``
voids the check (whole amount, while PayTrace allows it) or refunds it
(``checks/refund/by_transaction``), reverses the receipt ``PT-ACH-<id>`` or posts the credit
memo ``CM-ACH-<refund id>``, and updates ``Payment__c``; an unknown outcome is resolved from the
check export, never by refunding again.

The ACH payments come from use case 1 (Opportunity -> ``checks/sale/by_customer`` -> Fusion
invoice, ACH receipt applied). The three emulators run in-process (mocked only at the wire);
the ledger is SQLite, as the other use case 3 tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState, PlannedWrite, RetryPolicy
from paysync_core.mapping import CustomerXref
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import OrderToCash, OrderToCashConfig, Refunds, RefundsConfig
from paysync_core.usecases.refunds import REFUNDS_USE_CASE
from paytrace_client.emulator import FaultRule
from paytrace_client.models import ExportedCheckTransaction

if TYPE_CHECKING:
    from conftest import Clock, Emulated, EmulatedFactory

ACCOUNT_NUMBER = "4099999992"  # a made-up account, only ever given to the emulator
ROUTING = "325070760"  # the public sandbox routing number (reference section 6)
#: PayTrace refusing a void (the emulator formats a fault body, hence the doubled braces)
NOT_VOIDABLE = (
    json.dumps(
        {
            "success": False,
            "response_code": 1,
            "status_message": "One or more errors has occurred.",
            "errors": {
                "821": ["The Check ID that you provided could not be managed in its current state."]
            },
        }
    )
    .replace("{", "{{")
    .replace("}", "}}")
)


@dataclass
class World:
    env: Emulated
    refunds: Refunds
    engine: Engine
    order_to_cash: OrderToCash

    def ach_payment(self, name: str, amount: str) -> str:
        """An ACH payment taken through use case 1 -> its ``Payment_ID__c`` (``ACH-<id>``)."""
        opp = self.env.closed_won(name, amount, self.env.account_id())
        flow = self.order_to_cash.submit_opportunity(self.engine, opp)
        assert flow is not None
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        payment_id = self.engine.steps(flow.flow_id)[1].external_ids["transaction_id"]
        assert payment_id.startswith("ACH-")
        return payment_id

    def payment(self, payment_id: str) -> dict[str, Any]:
        [found] = self.env.records(
            "SELECT Id, Payment_ID__c, Account__c, Status__c, Amount__c, Refunded_Amount__c, "
            "Status_Reason__c FROM Payment__c WHERE Payment_ID__c = {}",
            payment_id,
        )
        return found

    def refund(self, payment_id: str, request_id: str, amount: str) -> str:
        flow = self.refunds.submit_request(
            self.engine, self.payment(payment_id), request_id=request_id, amount=Decimal(amount)
        )
        return flow.flow_id

    def run(self, flow_id: str) -> dict[str, dict[str, str]]:
        done = self.engine.run_flow(flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return {s.name: dict(s.external_ids) for s in self.engine.steps(flow_id)}

    def checks(self) -> list[ExportedCheckTransaction]:
        today = datetime.now(timezone.utc).date()
        return self.env.paytrace.checks.export(today - timedelta(days=2), today + timedelta(days=2))

    def check(self, payment_id: str) -> ExportedCheckTransaction:
        [found] = [c for c in self.checks() if f"ACH-{c.check_transaction_id}" == payment_id]
        return found

    def check_refunds(self) -> list[ExportedCheckTransaction]:
        return [c for c in self.checks() if c.transaction_type == "REFUND"]


@pytest.fixture
def world(emulated: EmulatedFactory, clock: Clock) -> World:
    env = emulated.for_order_to_cash("Refunded_Amount__c")
    env.ach_ready(ACCOUNT_NUMBER, ROUTING)
    order_to_cash = OrderToCash(
        paytrace=PayTracePort(env.paytrace),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=OrderToCashConfig(
            xref=CustomerXref(default_fusion_account="1008"), payment_method="ach"
        ),
    )
    refunds = Refunds(
        paytrace=PayTracePort(env.paytrace),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=RefundsConfig(accounts=CustomerXref(default_fusion_account="1008")),
        clock=clock,
    )
    engine = env.engine(
        [order_to_cash.definition(), refunds.definition()],
        policy=RetryPolicy(lookup_delays=(60.0, 600.0)),
        clock=clock,
    )
    return World(env, refunds, engine, order_to_cash)


def test_full_refund_of_an_unprocessed_ach_payment_voids_it(world: World) -> None:
    payment_id = world.ach_payment("Acme ACH void", "240.00")
    steps = world.run(world.refund(payment_id, "RQ1", "240.00"))

    assert world.check(payment_id).status_message == "Voided"
    assert world.check_refunds() == []  # a void, not a refund
    assert steps["paytrace_reverse"]["kind"] == "void"
    assert steps["paytrace_reverse"]["transaction_id"] == payment_id
    receipt = world.env.fusion.standard_receipts.find_by_number(f"PT-{payment_id}")
    assert receipt is not None
    assert receipt.State == "Reversed"
    assert steps["fusion_reverse"]["reversed_receipt"] == f"PT-{payment_id}"
    payment = world.payment(payment_id)
    assert payment["Status__c"] == "Voided"
    assert Decimal(str(payment["Refunded_Amount__c"])) == Decimal("0.00")


def test_partial_ach_refunds_post_credit_memos_and_are_netted(world: World) -> None:
    payment_id = world.ach_payment("Acme ACH partial", "100.00")
    first = world.run(world.refund(payment_id, "RQ1", "30.00"))
    [refund] = world.check_refunds()
    assert (refund.amount, refund.customer_id) == (
        Decimal("30.00"),
        world.check(payment_id).customer_id,
    )
    refund_id = f"ACH-{refund.check_transaction_id}"
    assert first["paytrace_reverse"] == {
        **first["paytrace_reverse"],
        "kind": "refund",
        "transaction_id": refund_id,
        "method": "ach",
    }
    memo = world.env.fusion.receivables_credit_memos.find_by_number(f"CM-{refund_id}")
    assert memo is not None
    assert memo.EnteredAmount == Decimal("-30.00")
    assert f"of payment {payment_id} (receipt PT-{payment_id})" in str(memo.model_dump())
    after_first = world.payment(payment_id)
    assert after_first["Status__c"] == "Settled"
    assert Decimal(str(after_first["Refunded_Amount__c"])) == Decimal("30.00")
    # the receipt stays: a refund is credited on account, not reversed
    receipt = world.env.fusion.standard_receipts.find_by_number(f"PT-{payment_id}")
    assert receipt is not None
    assert receipt.State != "Reversed"

    world.run(world.refund(payment_id, "RQ2", "70.00"))
    assert sorted(r.amount for r in world.check_refunds() if r.amount) == [
        Decimal("30.00"),
        Decimal("70.00"),
    ]
    final = world.payment(payment_id)
    assert final["Status__c"] == "Refunded"
    assert Decimal(str(final["Refunded_Amount__c"])) == Decimal("100.00")


def test_full_refund_after_processing_refunds_when_the_void_is_refused(world: World) -> None:
    """PayTrace refuses the void of a processed check (821, nothing done): it is refunded."""
    payment_id = world.ach_payment("Acme ACH processed", "80.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("http_error", path="*checks/manage/void", status=400, body=NOT_VOIDABLE)
    )
    steps = world.run(world.refund(payment_id, "RQ1", "80.00"))
    [refund] = world.check_refunds()
    assert refund.amount == Decimal("80.00")
    assert steps["paytrace_reverse"]["kind"] == "refund"
    assert world.check(payment_id).status_message == "Refunded"
    memo_number = f"CM-ACH-{refund.check_transaction_id}"
    assert world.env.fusion.receivables_credit_memos.find_by_number(memo_number) is not None
    assert world.payment(payment_id)["Status__c"] == "Refunded"


def test_unknown_refund_outcome_is_found_in_the_check_export_not_refunded_twice(
    world: World,
) -> None:
    payment_id = world.ach_payment("Acme ACH timeout", "60.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*checks/refund/by_transaction")
    )
    steps = world.run(world.refund(payment_id, "RQ1", "25.00"))
    [refund] = world.check_refunds()  # exactly one refund: the lookup found it
    assert steps["paytrace_reverse"]["transaction_id"] == f"ACH-{refund.check_transaction_id}"
    memo = f"CM-ACH-{refund.check_transaction_id}"
    assert world.env.fusion.receivables_credit_memos.find_by_number(memo) is not None
    assert Decimal(str(world.payment(payment_id)["Refunded_Amount__c"])) == Decimal("25.00")


def test_unknown_void_outcome_is_found_voided(world: World) -> None:
    payment_id = world.ach_payment("Acme ACH void timeout", "45.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*checks/manage/void")
    )
    steps = world.run(world.refund(payment_id, "RQ1", "45.00"))
    assert steps["paytrace_reverse"]["kind"] == "void"
    assert world.check_refunds() == []
    assert world.payment(payment_id)["Status__c"] == "Voided"


def test_refund_above_the_ach_payment_is_refused_with_the_amounts(world: World) -> None:
    payment_id = world.ach_payment("Acme ACH too much", "20.00")
    flow_id = world.refund(payment_id, "RQ1", "25.00")
    done = world.engine.run_flow(flow_id)
    assert done.state is FlowState.DEAD
    assert (
        f"amount 25.00 exceeds the ACH payment's 20.00 (original_transaction_id {payment_id})"
        in (done.last_error or "")
    )
    assert world.check_refunds() == []
    assert world.check(payment_id).status_message == "Processed"


def test_plan_of_an_ach_refund_names_the_check_endpoints(world: World) -> None:
    payment_id = world.ach_payment("Acme ACH plan", "10.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(payment_id), request_id="RQ9", amount=Decimal("10.00")
    )
    writes: dict[str, PlannedWrite] = {
        w.step: w
        for w in world.engine.plan(
            REFUNDS_USE_CASE,
            source_system="salesforce",
            source_id="RQ9",
            version=1,
            input=flow.input,
        )
    }
    check_id = int(payment_id.removeprefix("ACH-"))
    summary = writes["paytrace_reverse"].payload
    assert summary["void"] == {"endpoint": "checks/manage/void", "check_transaction_id": check_id}
    assert summary["refund"] == {
        "endpoint": "checks/refund/by_transaction",
        "check_transaction_id": check_id,
        "amount": "10.00",
    }
    reversal = writes["fusion_reverse"].payload["receipt_reversal"]
    assert reversal["receipt_number"] == f"PT-{payment_id}"  # type: ignore[index]


def test_malformed_ach_payment_id_is_refused_naming_the_record(world: World) -> None:
    payment_id = world.ach_payment("Acme ACH bad id", "10.00")
    record = {**world.payment(payment_id), "Payment_ID__c": "ACH-12x"}
    with pytest.raises(ValueError, match=r"Payment__c record: 'ACH-12x' is not ACH-<check id>"):
        world.refunds.submit_request(
            world.engine, record, request_id="RQ1", amount=Decimal("10.00")
        )
    assert world.engine.flows_for_entity(REFUNDS_USE_CASE, "refund:ACH-12x") == []
