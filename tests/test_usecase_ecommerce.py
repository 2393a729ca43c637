"""Use case 2 end to end: a PayTrace web sale found by polling -> Fusion Order Hub -> shipment
-> invoice, receipt, application in Fusion; the Order mirrored to Salesforce.

The three emulators run in-process (mocked only at the wire); the ledger is SQLite; the engine
and the poller share a test clock so parking can be fast-forwarded without sleeping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from oracle_fusion_client.emulator import Fault
from paysync_core import Engine, FlowState, RetryPolicy, StepRecord
from paysync_core.mapping import VaultXref, web_order_from_paytrace
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import EcommerceConfig, EcommerceOrderToCash, PayTraceActivityPoller
from paytrace_client.models import ExportedTransaction

if TYPE_CHECKING:
    from conftest import Clock, Emulated, EmulatedFactory

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


@dataclass
class World:
    env: Emulated
    usecase: EcommerceOrderToCash
    poller: PayTraceActivityPoller
    engine: Engine
    clock: Clock
    account_id: str

    def sf_order(self, order_number: str) -> list[dict[str, Any]]:
        return self.env.records(
            "SELECT Id, Status, Fulfillment_Status__c, AccountId FROM Order "
            "WHERE External_Order_ID__c = {}",
            order_number,
        )


@pytest.fixture
def world(emulated: EmulatedFactory, clock: Clock) -> World:
    env = emulated(
        {
            "Payment__c": ("Card_Type__c", "Vault_Customer_ID__c", "Status_Reason__c"),
            "Order": ("Fulfillment_Status__c",),
        }
    )
    account = env.account_id()
    usecase = EcommerceOrderToCash(
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=EcommerceConfig(
            xref=VaultXref(default_salesforce_account=account, default_fusion_account="1008")
        ),
    )
    engine = env.engine(
        [usecase.definition()], policy=RetryPolicy(lookup_delays=(60.0, 600.0, 3600.0)), clock=clock
    )
    poller = PayTraceActivityPoller(PayTracePort(env.paytrace), [usecase.submit_sale], clock=clock)
    return World(env, usecase, poller, engine, clock, account)


def test_web_order_waits_for_shipment_then_cash_is_applied(world: World) -> None:
    txn = world.env.web_sale("WEB-1001", "89.50")
    polled = world.poller.poll(world.engine)
    assert len(polled.submitted) == 1

    first = world.engine.run_pending(max_workers=1)
    assert first.parked == polled.submitted  # waiting for the warehouse, not spinning
    order = world.env.fusion.sales_orders.get("PAYTRACE", txn).model
    assert order.SourceTransactionNumber == "WEB-1001"
    assert order.StatusCode == "OPEN"
    booked = world.sf_order("WEB-1001")
    assert len(booked) == 1
    assert booked[0]["Status"] == "Draft"
    assert booked[0]["Fulfillment_Status__c"] == "Booked"
    assert booked[0]["AccountId"] == world.account_id
    assert world.env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}") is None
    shipment_checks = [r for r in world.env.audit() if r["detail"].get("step") == "await_shipment"]
    assert [r["kind"] for r in shipment_checks] == [
        "step.requested",
        "step.unknown",
        "step.lookup_pending",
    ]
    # parked: nothing to do before the re-check time, even if asked
    assert world.engine.run_pending(max_workers=1).processed == 0

    world.env.ship(txn)
    world.clock.advance(61)
    done = world.engine.run_pending(max_workers=1)
    assert done.succeeded == polled.submitted

    invoice = world.env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")
    receipt = world.env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.Amount == Decimal("89.50")
    assert receipt.UnappliedAmount == Decimal("0.00")
    paid = world.sf_order("WEB-1001")
    assert len(paid) == 1
    assert paid[0]["Status"] == "Activated"
    assert paid[0]["Fulfillment_Status__c"] == "Shipped and paid"
    payments = [
        r.fields
        for r in world.env.bridge.query(
            "SELECT Id, Status__c, Amount__c, Order__c FROM Payment__c WHERE Payment_ID__c = {}",
            txn,
        )
    ]
    assert len(payments) == 1
    assert payments[0]["Order__c"] == paid[0]["Id"]
    assert payments[0]["Status__c"] == "Captured"
    steps = {s.name: s for s in world.engine.steps(polled.submitted[0])}
    assert "channel web" in steps["fusion_invoice"].external_ids["mapping"]
    assert steps["await_shipment"].external_ids["order_status"] == "CLOSED"
    assert CARD not in json.dumps(world.env.audit())


def test_order_shipped_before_the_check_does_not_park(world: World, tmp_path: Path) -> None:
    txn = world.env.web_sale("WEB-1002", "10.00")
    flow_id = world.poller.poll(world.engine).submitted[0]

    def ship_when_booked(_tx: object, _flow: object, step: StepRecord) -> None:
        if step.name == "salesforce_payment":  # the warehouse is quick today
            world.env.ship(txn)

    engine = world.env.engine([world.usecase.definition()], on_step_committed=ship_when_booked)
    assert engine.run_flow(flow_id).state is FlowState.SUCCEEDED
    kinds = [r["kind"] for r in world.env.audit() if r["detail"].get("step") == "await_shipment"]
    assert kinds == ["step.requested", "step.succeeded"]


def test_invoice_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    txn = world.env.web_sale("WEB-1003", "42.00")
    flow_id = world.poller.poll(world.engine).submitted[0]
    world.engine.run_pending(max_workers=1)
    world.env.ship(txn)
    world.clock.advance(61)
    world.env.fusion_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="receivablesInvoices")
    )
    assert world.engine.run_pending(max_workers=1).succeeded == [flow_id]

    numbers = [i.TransactionNumber for i in world.env.fusion.receivables_invoices.list()]
    assert numbers.count(f"WEB-{txn}") == 1  # posted exactly once
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "fusion_invoice"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    invoice = world.env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")


def test_order_hub_timeout_after_commit_upserts_the_same_order(world: World) -> None:
    txn = world.env.web_sale("WEB-1004", "33.00")
    flow_id = world.poller.poll(world.engine).submitted[0]
    world.env.fusion_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="salesOrdersForOrderHub")
    )
    world.engine.run_pending(max_workers=1)
    world.env.ship(txn)
    world.clock.advance(61)
    assert world.engine.run_pending(max_workers=1).succeeded == [flow_id]

    orders = [
        o for o in world.env.fusion.sales_orders.list() if o.SourceTransactionNumber == "WEB-1004"
    ]
    # the client re-sends an Upsert-Mode POST itself; it updated the same OrderKey
    assert len(orders) == 1
    assert orders[0].OrderKey == f"PAYTRACE:{txn}"
    assert orders[0].StatusCode == "CLOSED"


def test_web_order_mapping_normalizes_address_and_names_missing_fields() -> None:
    chicago = ZoneInfo("America/Chicago")
    raw: dict[str, Any] = {
        "transaction_id": 77,
        "transaction_type": "SALE",
        "amount": 12.5,
        "status_message": "Pending Settlement",
        "invoice_id": "WEB-77",
        "customer_id": "vault-9",
        "billing_address": {
            "name": "Ada  Lovelace",
            "street_address": "12 main street",
            "city": "SPRINGFIELD",
            "state": "il",
            "zip": "627011234",
        },
        "created": {"at": "3/8/2026 11:30:00 PM"},
    }
    record = ExportedTransaction.model_validate(raw, context={"tz": chicago})
    xref = VaultXref(salesforce={"vault-9": "001A"}, default_fusion_account="1008")
    mapped = web_order_from_paytrace(record, xref)
    order, payment = mapped.value
    assert order.amount == Decimal("12.50")
    assert order.source_id == "WEB-77"
    assert order.customer.salesforce_account_id == "001A"
    address = order.customer.billing_address
    assert address is not None
    assert (address.street, address.region, address.postal_code) == (
        "12 main St.",
        "IL",
        "62701-1234",
    )
    assert "street type STREET -> St." in mapped.reason
    # 11:30 PM in Chicago (CDT since 2 AM that day) is already the next day in UTC
    assert payment.processed_at == datetime(2026, 3, 9, 4, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="invoice_id missing"):
        web_order_from_paytrace(
            ExportedTransaction.model_validate({**raw, "invoice_id": None}), xref
        )
