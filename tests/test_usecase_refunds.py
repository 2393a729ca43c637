"""Use case 3 end to end: refunds and voids -> Fusion credit memo / receipt reversal ->
Salesforce ``Payment__c``, against the three in-process emulators (SQLite ledger).

The sales come from use case 2 (a polled web order, shipped, invoiced and paid in Fusion), so
every refund points at a real receipt and ``Payment__c``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import Fault, FusionEmulator
from paysync_core import AuditTrail, Engine, FlowState, PermanentError, RetryPolicy, SqliteLedger
from paysync_core.canonical import RefundKind
from paysync_core.mapping import CustomerXref, VaultXref, refund_status
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import (
    EcommerceConfig,
    EcommerceOrderToCash,
    PayTraceActivityPoller,
    Refunds,
    RefundsConfig,
)
from paytrace_client import PayTraceClient, ProtectToken
from paytrace_client.emulator import FaultRule, PayTraceEmulator
from paytrace_client.models import ExportedTransaction
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    pt_emulator: PayTraceEmulator
    fu_emulator: FusionEmulator
    paytrace: PayTraceClient
    fusion: FusionClient
    bridge: SalesforceBridge
    refunds: Refunds
    poller: PayTraceActivityPoller
    engine: Engine
    ledger: SqliteLedger
    clock: Clock

    def paid_web_order(self, order_number: str, amount: str) -> str:
        """A web sale taken through use case 2 to the end (shipped, invoiced, cash applied)."""
        hpf, enc = self.pt_emulator.register_protect_card(CARD, 12, 2030)
        customer = f"web-{order_number.lower()}"
        self.paytrace.customers.create_protect(customer, ProtectToken(hpf, enc))
        sale = self.paytrace.transactions.sale_by_customer(
            Decimal(amount), customer, invoice_id=order_number, description="web store"
        )
        txn = str(sale.transaction_id)
        assert len(self.poller.poll(self.engine).submitted) == 1
        self.engine.run_pending(max_workers=1)
        session = self.fu_emulator.session(FUSION_URL)
        session.post(f"{FUSION_URL}/__emulator__/orders/PAYTRACE:{txn}/ship")
        self.clock.advance(61)
        assert len(self.engine.run_pending(max_workers=1).succeeded) == 1
        return txn

    def payment(self, txn: str) -> dict[str, Any]:
        rows = self.bridge.query(
            "SELECT Id, Payment_ID__c, Transaction_ID__c, Account__c, Status__c, Amount__c, "
            "Refunded_Amount__c, Status_Reason__c FROM Payment__c WHERE Payment_ID__c = {}",
            txn,
        )
        found = [r.fields for r in rows]
        assert len(found) == 1
        return found[0]

    def refunds_of(self, txn: str) -> list[ExportedTransaction]:
        today = datetime.now(timezone.utc).date()
        records = self.paytrace.exports.transactions(
            today - timedelta(days=2), today + timedelta(days=2), transaction_type="REFUND"
        )
        return [r for r in records if (r.invoice_id or "").startswith(f"RF-{txn}-")]

    def run(self, flow_id: str) -> None:
        done = self.engine.run_flow(flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error

    def audit(self) -> list[dict[str, Any]]:
        buffer = io.StringIO()
        AuditTrail(self.ledger).export_jsonl(buffer)
        return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    pt_emulator = PayTraceEmulator()
    paytrace = PayTraceClient(
        username="demo123", password="demo123", session=pt_emulator.session(), sleep=lambda _: None
    )
    fu_emulator = FusionEmulator()
    fusion = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("casey.brown", "pw"),
        session=fu_emulator.session(FUSION_URL),
        sleep=lambda _: None,
    )
    base = SalesforceEmulator(seed=False)
    payment = base.org.obj("Payment__c").with_fields(
        FieldDef("Card_Type__c", length=40),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Status_Reason__c", length=255),
        FieldDef("Refunded_Amount__c", "currency"),
    )
    order = base.org.obj("Order").with_fields(FieldDef("Fulfillment_Status__c", length=40))
    sf_emulator = SalesforceEmulator(objects=[payment, order])
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(sf_emulator))
    account = str(
        next(iter(bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'")))["Id"]
    )
    clock = Clock()
    pt_port = PayTracePort(paytrace)
    ecommerce = EcommerceOrderToCash(
        fusion=FusionPort(fusion),
        salesforce=SalesforcePort(bridge),
        config=EcommerceConfig(
            xref=VaultXref(default_salesforce_account=account, default_fusion_account="1008")
        ),
    )
    refunds = Refunds(
        paytrace=pt_port,
        fusion=FusionPort(fusion),
        salesforce=SalesforcePort(bridge),
        config=RefundsConfig(
            accounts=CustomerXref(default_fusion_account="1008"),
            vaults=VaultXref(default_fusion_account="1008"),
        ),
        clock=clock,
    )
    ledger = SqliteLedger(str(tmp_path / "ledger.db"))
    engine = Engine(
        ledger,
        [ecommerce.definition(), refunds.definition()],
        classifier=ClientErrorClassifier(),
        policy=RetryPolicy(lookup_delays=(60.0, 600.0)),
        clock=clock,
        sleep=lambda _: None,
    )
    poller = PayTraceActivityPoller(
        pt_port, [ecommerce.submit_sale, refunds.submit_observed], clock=clock
    )
    yield World(
        pt_emulator, fu_emulator, paytrace, fusion, bridge, refunds, poller, engine, ledger, clock
    )
    ledger.close()


def test_partial_refunds_after_settlement_are_netted(world: World) -> None:
    txn = world.paid_web_order("WEB-2001", "89.50")
    world.pt_emulator.settle()

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
        memo = world.fusion.receivables_credit_memos.find_by_number(f"CM-{refund.transaction_id}")
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
    paid = world.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert paid is not None
    assert paid.InvoiceBalanceAmount == Decimal("0.00")

    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ3", amount=Decimal("25.00")
    )
    world.run(flow.flow_id)

    sale = world.paytrace.exports.transaction(int(txn))
    assert sale is not None
    assert sale.status_message == "Voided"
    assert world.refunds_of(txn) == []  # a void, not a refund
    receipt = world.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.State == "Reversed"
    reopened = world.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert reopened is not None
    assert reopened.InvoiceBalanceAmount == Decimal("25.00")
    payment = world.payment(txn)
    assert payment["Status__c"] == "Voided"
    assert Decimal(str(payment["Refunded_Amount__c"])) == Decimal("0.00")
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["paytrace_reverse"].external_ids["kind"] == "void"


def test_refund_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    txn = world.paid_web_order("WEB-2003", "60.00")
    world.pt_emulator.settle()
    world.pt_emulator.add_fault(
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
        for r in world.audit()
        if r["detail"].get("step") == "paytrace_reverse"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    memo = world.fusion.receivables_credit_memos.find_by_number(f"CM-{refunds[0].transaction_id}")
    assert memo is not None
    assert Decimal(str(world.payment(txn)["Refunded_Amount__c"])) == Decimal("15.00")


def test_refund_made_in_paytrace_is_found_by_polling(world: World) -> None:
    txn = world.paid_web_order("WEB-2004", "40.00")
    world.pt_emulator.settle()
    # a refund keyed in PayTrace's virtual terminal: it inherits the sale's invoice_id
    refund = world.paytrace.transactions.refund_transaction(int(txn), Decimal("12.50"))

    polled = world.poller.poll(world.engine)
    assert len(polled.submitted) == 1
    world.run(polled.submitted[0])
    memo = world.fusion.receivables_credit_memos.find_by_number(f"CM-{refund.transaction_id}")
    assert memo is not None
    assert memo.EnteredAmount == Decimal("-12.50")
    payment = world.payment(txn)
    assert payment["Status__c"] == "Settled"
    assert Decimal(str(payment["Refunded_Amount__c"])) == Decimal("12.50")
    # polling again finds nothing new; paysync's own refunds are never taken for new activity
    assert world.poller.poll(world.engine).submitted == []


def test_bad_refund_request_names_the_field(world: World) -> None:
    txn = world.paid_web_order("WEB-2005", "20.00")
    world.pt_emulator.settle()
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
    sale = world.paytrace.exports.transaction(int(txn))
    assert sale is not None
    assert sale.status_message == "Pending Settlement"  # a void cannot be partial
    assert world.refunds_of(txn) == []
    assert world.payment(txn)["Status__c"] == "Captured"


def test_credit_memo_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    txn = world.paid_web_order("WEB-2007", "30.00")
    world.pt_emulator.settle()
    world.fu_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="receivablesCreditMemos")
    )
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ8", amount=Decimal("30.00")
    )
    world.run(flow.flow_id)
    refund = world.refunds_of(txn)[0]
    memos = [
        m
        for m in world.fusion.receivables_credit_memos.list()
        if m.TransactionNumber == f"CM-{refund.transaction_id}"
    ]
    assert len(memos) == 1  # posted exactly once
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.audit()
        if r["detail"].get("step") == "fusion_reverse"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    assert world.payment(txn)["Status__c"] == "Refunded"


def test_void_before_shipment_has_no_receipt_to_reverse(world: World) -> None:
    hpf, enc = world.pt_emulator.register_protect_card(CARD, 12, 2030)
    world.paytrace.customers.create_protect("web-early", ProtectToken(hpf, enc))
    sale = world.paytrace.transactions.sale_by_customer(
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
    assert world.fusion.standard_receipts.find_by_number(f"PT-{txn}") is None


def test_refund_status_rule_nets_partial_refunds() -> None:
    sale = Decimal("100.00")
    void = refund_status(RefundKind.VOID, sale_amount=sale, refunded_total=Decimal(0))
    assert void.value == "Voided"
    partial = refund_status(RefundKind.REFUND, sale_amount=sale, refunded_total=Decimal("40.00"))
    assert partial.value == "Settled"
    assert partial.reason == "partially refunded: 40.00 of 100.00 (net 60.00)"
    full = refund_status(RefundKind.REFUND, sale_amount=sale, refunded_total=sale)
    assert full.value == "Refunded"
