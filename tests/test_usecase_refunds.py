"""Use case 3 end to end: refunds and voids -> Fusion credit memo / receipt reversal ->
Salesforce ``Payment__c``, against the three in-process emulators (SQLite ledger).

The sales come from use case 2 (a polled web order, shipped, invoiced and paid in Fusion), so
every refund points at a real receipt and ``Payment__c``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from oracle_fusion_client.emulator import Fault
from paysync_core import FlowState, PermanentError
from paysync_core.canonical import RefundKind
from paysync_core.mapping import refund_status
from paytrace_client.emulator import FaultRule

if TYPE_CHECKING:
    from conftest import WebRefunds as World
    from conftest import WebRefundsFactory


@pytest.fixture
def world(web_refunds: WebRefundsFactory) -> World:
    return web_refunds(
        payment_columns="Id, Payment_ID__c, Transaction_ID__c, Account__c, Status__c, "
        "Amount__c, Refunded_Amount__c, Status_Reason__c"
    )


def test_partial_refunds_after_settlement_are_netted(world: World) -> None:
    txn = world.paid_web_order("WEB-2001", "89.50")
    world.env.paytrace_emulator.settle()

    first = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("30.00")
    )
    world.run(first.flow_id)
    after_first = world.payment(txn)
    assert after_first["Status__c"] == "Settled"
    assert Decimal(str(after_first["Refunded_Amount__c"])) == Decimal("30.00")
    assert "partially refunded: 30.00 of 89.50" in after_first["Status_Reason__c"]

    second = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ2", amount=Decimal("59.50")
    )
    world.run(second.flow_id)
    final = world.payment(txn)
    assert final["Status__c"] == "Refunded"
    assert Decimal(str(final["Refunded_Amount__c"])) == Decimal("89.50")

    refunds = world.refunds_of(txn)
    assert sorted(r.amount for r in refunds if r.amount is not None) == [
        Decimal("30.00"),
        Decimal("59.50"),
    ]
    for refund in refunds:
        memo = world.env.fusion.receivables_credit_memos.find_by_number(
            f"CM-{refund.transaction_id}"
        )
        assert memo is not None
        assert memo.EnteredAmount == -(refund.amount or Decimal(0))
        assert memo.BillToCustomerNumber == "1008"
    # the same request submitted again is the same flow and changes nothing
    again = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ2", amount=Decimal("59.50")
    )
    assert again.flow_id == second.flow_id
    assert world.engine.run_pending(max_workers=1).processed == 0
    assert len(world.refunds_of(txn)) == 2


def test_void_before_settlement_reverses_the_receipt(world: World) -> None:
    txn = world.paid_web_order("WEB-2002", "25.00")
    paid = world.env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert paid is not None
    assert paid.InvoiceBalanceAmount == Decimal("0.00")

    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ3", amount=Decimal("25.00")
    )
    world.run(flow.flow_id)

    sale = world.env.paytrace.exports.transaction(int(txn))
    assert sale is not None
    assert sale.status_message == "Voided"
    assert world.refunds_of(txn) == []  # a void, not a refund
    receipt = world.env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.State == "Reversed"
    reopened = world.env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert reopened is not None
    assert reopened.InvoiceBalanceAmount == Decimal("25.00")
    payment = world.payment(txn)
    assert payment["Status__c"] == "Voided"
    assert Decimal(str(payment["Refunded_Amount__c"])) == Decimal("0.00")
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["paytrace_reverse"].external_ids["kind"] == "void"


def test_refund_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    txn = world.paid_web_order("WEB-2003", "60.00")
    world.env.paytrace_emulator.settle()
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*transactions/refund/for_transaction")
    )
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ4", amount=Decimal("15.00")
    )
    world.run(flow.flow_id)

    refunds = world.refunds_of(txn)
    assert len(refunds) == 1  # refunded exactly once
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "paytrace_reverse"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    memo = world.env.fusion.receivables_credit_memos.find_by_number(
        f"CM-{refunds[0].transaction_id}"
    )
    assert memo is not None
    assert Decimal(str(world.payment(txn)["Refunded_Amount__c"])) == Decimal("15.00")


def test_refund_made_in_paytrace_is_found_by_polling(world: World) -> None:
    txn = world.paid_web_order("WEB-2004", "40.00")
    world.env.paytrace_emulator.settle()
    # a refund keyed in PayTrace's virtual terminal: it inherits the sale's invoice_id
    refund = world.env.paytrace.transactions.refund_transaction(int(txn), Decimal("12.50"))

    polled = world.poller.poll(world.engine)
    assert len(polled.submitted) == 1
    world.run(polled.submitted[0])
    memo = world.env.fusion.receivables_credit_memos.find_by_number(f"CM-{refund.transaction_id}")
    assert memo is not None
    assert memo.EnteredAmount == Decimal("-12.50")
    payment = world.payment(txn)
    assert payment["Status__c"] == "Settled"
    assert Decimal(str(payment["Refunded_Amount__c"])) == Decimal("12.50")
    # polling again finds nothing new; paysync's own refunds are never taken for new activity
    assert world.poller.poll(world.engine).submitted == []


def test_bad_refund_request_names_the_field(world: World) -> None:
    txn = world.paid_web_order("WEB-2005", "20.00")
    world.env.paytrace_emulator.settle()
    with pytest.raises(ValueError, match="amount"):
        world.refunds.submit_request(
            world.engine, world.payment(txn), request_id="RQ5", amount=Decimal("-1.00")
        )
    with pytest.raises(ValueError, match="Account__c is missing"):
        world.refunds.submit_request(
            world.engine,
            {**world.payment(txn), "Account__c": None},
            request_id="RQ5",
            amount=Decimal("1.00"),
        )
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ6", amount=Decimal("20.01")
    )
    dead = world.engine.run_flow(flow.flow_id)
    assert dead.state is FlowState.DEAD
    assert "exceeds the sale's 20.00" in (dead.last_error or "")
    assert world.refunds_of(txn) == []
    assert PermanentError.__name__ in (dead.last_error or "")


def test_partial_refund_before_settlement_waits_and_voids_nothing(world: World) -> None:
    txn = world.paid_web_order("WEB-2006", "50.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ7", amount=Decimal("10.00")
    )
    dead = world.engine.run_flow(flow.flow_id)  # retries exhausted: settlement never came
    assert dead.state is FlowState.DEAD
    assert "waits for its settlement" in (dead.last_error or "")
    sale = world.env.paytrace.exports.transaction(int(txn))
    assert sale is not None
    assert sale.status_message == "Pending Settlement"  # a void cannot be partial
    assert world.refunds_of(txn) == []
    assert world.payment(txn)["Status__c"] == "Captured"


def test_credit_memo_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    txn = world.paid_web_order("WEB-2007", "30.00")
    world.env.paytrace_emulator.settle()
    world.env.fusion_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="receivablesCreditMemos")
    )
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ8", amount=Decimal("30.00")
    )
    world.run(flow.flow_id)
    refund = world.refunds_of(txn)[0]
    memos = [
        m
        for m in world.env.fusion.receivables_credit_memos.list()
        if m.TransactionNumber == f"CM-{refund.transaction_id}"
    ]
    assert len(memos) == 1  # posted exactly once
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "fusion_reverse"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    assert world.payment(txn)["Status__c"] == "Refunded"


def test_void_before_shipment_has_no_receipt_to_reverse(world: World) -> None:
    world.env.paytrace.customers.create_protect("web-early", world.env.protect_token())
    sale = world.env.paytrace.transactions.sale_by_customer(
        Decimal("18.00"), "web-early", invoice_id="WEB-2008"
    )
    txn = str(sale.transaction_id)
    world.poller.poll(world.engine)
    world.engine.run_pending(max_workers=1)  # booked, parked until shipment
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ9", amount=Decimal("18.00")
    )
    world.run(flow.flow_id)
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert "nothing to reverse" in steps["fusion_reverse"].external_ids["skipped"]
    assert world.payment(txn)["Status__c"] == "Voided"
    assert world.env.fusion.standard_receipts.find_by_number(f"PT-{txn}") is None


def test_refund_status_rule_nets_partial_refunds() -> None:
    sale = Decimal("100.00")
    void = refund_status(RefundKind.VOID, sale_amount=sale, refunded_total=Decimal(0))
    assert void.value == "Voided"
    partial = refund_status(RefundKind.REFUND, sale_amount=sale, refunded_total=Decimal("40.00"))
    assert partial.value == "Settled"
    assert partial.reason == "partially refunded: 40.00 of 100.00 (net 60.00)"
    full = refund_status(RefundKind.REFUND, sale_amount=sale, refunded_total=sale)
    assert full.value == "Refunded"
