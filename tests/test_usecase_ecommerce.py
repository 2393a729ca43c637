"""Use case 2 end to end: a PayTrace web sale found by polling -> Fusion Order Hub -> shipment
-> invoice, receipt, application in Fusion; the Order mirrored to Salesforce.

The three emulators run in-process (mocked only at the wire); the ledger is SQLite; the engine
and the poller share a test clock so parking can be fast-forwarded without sleeping.
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
from zoneinfo import ZoneInfo

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import Fault, FusionEmulator
from paysync_core import AuditTrail, Engine, FlowState, RetryPolicy, SqliteLedger, StepRecord
from paysync_core.mapping import VaultXref, web_order_from_paytrace
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import EcommerceConfig, EcommerceOrderToCash, PayTraceActivityPoller
from paytrace_client import PayTraceClient, ProtectToken
from paytrace_client.emulator import PayTraceEmulator
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
    usecase: EcommerceOrderToCash
    poller: PayTraceActivityPoller
    engine: Engine
    ledger: SqliteLedger
    clock: Clock
    account_id: str

    def web_sale(self, order_number: str, amount: str) -> str:
        hpf, enc = self.pt_emulator.register_protect_card(CARD, 12, 2030)
        customer = f"web-{order_number.lower()}"
        self.paytrace.customers.create_protect(customer, ProtectToken(hpf, enc))
        sale = self.paytrace.transactions.sale_by_customer(
            Decimal(amount), customer, invoice_id=order_number, description="web store"
        )
        return str(sale.transaction_id)

    def ship(self, transaction_id: str) -> None:
        session = self.fu_emulator.session(FUSION_URL)
        answer = session.post(f"{FUSION_URL}/__emulator__/orders/PAYTRACE:{transaction_id}/ship")
        assert answer.status_code == 200, answer.text

    def sf_order(self, order_number: str) -> list[dict[str, Any]]:
        rows = self.bridge.query(
            "SELECT Id, Status, Fulfillment_Status__c, AccountId FROM Order "
            "WHERE External_Order_ID__c = {}",
            order_number,
        )
        return [r.fields for r in rows]

    def audit(self) -> list[dict[str, Any]]:
        buffer = io.StringIO()
        AuditTrail(self.ledger).export_jsonl(buffer)
        return [json.loads(line) for line in buffer.getvalue().splitlines()]


def salesforce_emulator() -> SalesforceEmulator:
    base = SalesforceEmulator(seed=False)
    payment = base.org.obj("Payment__c").with_fields(
        FieldDef("Card_Type__c", length=40),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Status_Reason__c", length=255),
    )
    order = base.org.obj("Order").with_fields(FieldDef("Fulfillment_Status__c", length=40))
    return SalesforceEmulator(objects=[payment, order])


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
    sf_emulator = salesforce_emulator()
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(sf_emulator))
    account = next(iter(bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'")))
    usecase = EcommerceOrderToCash(
        fusion=FusionPort(fusion),
        salesforce=SalesforcePort(bridge),
        config=EcommerceConfig(
            xref=VaultXref(
                default_salesforce_account=str(account["Id"]), default_fusion_account="1008"
            )
        ),
    )
    clock = Clock()
    ledger = SqliteLedger(str(tmp_path / "ledger.db"))
    engine = Engine(
        ledger,
        [usecase.definition()],
        classifier=ClientErrorClassifier(),
        policy=RetryPolicy(lookup_delays=(60.0, 600.0, 3600.0)),
        clock=clock,
        sleep=lambda _: None,
    )
    poller = PayTraceActivityPoller(PayTracePort(paytrace), [usecase.submit_sale], clock=clock)
    yield World(
        pt_emulator,
        fu_emulator,
        paytrace,
        fusion,
        bridge,
        usecase,
        poller,
        engine,
        ledger,
        clock,
        str(account["Id"]),
    )
    ledger.close()


def test_web_order_waits_for_shipment_then_cash_is_applied(world: World) -> None:
    txn = world.web_sale("WEB-1001", "89.50")
    polled = world.poller.poll(world.engine)
    assert len(polled.submitted) == 1

    first = world.engine.run_pending(max_workers=1)
    assert first.parked == polled.submitted  # waiting for the warehouse, not spinning
    order = world.fusion.sales_orders.get("PAYTRACE", txn).model
    assert order.SourceTransactionNumber == "WEB-1001"
    assert order.StatusCode == "OPEN"
    booked = world.sf_order("WEB-1001")
    assert len(booked) == 1
    assert booked[0]["Status"] == "Draft"
    assert booked[0]["Fulfillment_Status__c"] == "Booked"
    assert booked[0]["AccountId"] == world.account_id
    assert world.fusion.receivables_invoices.find_by_number(f"WEB-{txn}") is None
    shipment_checks = [r for r in world.audit() if r["detail"].get("step") == "await_shipment"]
    assert [r["kind"] for r in shipment_checks] == [
        "step.requested",
        "step.unknown",
        "step.lookup_pending",
    ]
    # parked: nothing to do before the re-check time, even if asked
    assert world.engine.run_pending(max_workers=1).processed == 0

    world.ship(txn)
    world.clock.advance(61)
    done = world.engine.run_pending(max_workers=1)
    assert done.succeeded == polled.submitted

    invoice = world.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")
    receipt = world.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.Amount == Decimal("89.50")
    assert receipt.UnappliedAmount == Decimal("0.00")
    paid = world.sf_order("WEB-1001")
    assert len(paid) == 1
    assert paid[0]["Status"] == "Activated"
    assert paid[0]["Fulfillment_Status__c"] == "Shipped and paid"
    payments = [
        r.fields
        for r in world.bridge.query(
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
    assert CARD not in json.dumps(world.audit())


def test_order_shipped_before_the_check_does_not_park(world: World, tmp_path: Path) -> None:
    txn = world.web_sale("WEB-1002", "10.00")
    flow_id = world.poller.poll(world.engine).submitted[0]

    def ship_when_booked(_tx: object, _flow: object, step: StepRecord) -> None:
        if step.name == "salesforce_payment":  # the warehouse is quick today
            world.ship(txn)

    engine = Engine(
        world.ledger,
        [world.usecase.definition()],
        classifier=ClientErrorClassifier(),
        on_step_committed=ship_when_booked,
        sleep=lambda _: None,
    )
    assert engine.run_flow(flow_id).state is FlowState.SUCCEEDED
    kinds = [r["kind"] for r in world.audit() if r["detail"].get("step") == "await_shipment"]
    assert kinds == ["step.requested", "step.succeeded"]


def test_invoice_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    txn = world.web_sale("WEB-1003", "42.00")
    flow_id = world.poller.poll(world.engine).submitted[0]
    world.engine.run_pending(max_workers=1)
    world.ship(txn)
    world.clock.advance(61)
    world.fu_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="receivablesInvoices")
    )
    assert world.engine.run_pending(max_workers=1).succeeded == [flow_id]

    numbers = [i.TransactionNumber for i in world.fusion.receivables_invoices.list()]
    assert numbers.count(f"WEB-{txn}") == 1  # posted exactly once
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.audit()
        if r["detail"].get("step") == "fusion_invoice"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    invoice = world.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")


def test_order_hub_timeout_after_commit_upserts_the_same_order(world: World) -> None:
    txn = world.web_sale("WEB-1004", "33.00")
    flow_id = world.poller.poll(world.engine).submitted[0]
    world.fu_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="salesOrdersForOrderHub")
    )
    world.engine.run_pending(max_workers=1)
    world.ship(txn)
    world.clock.advance(61)
    assert world.engine.run_pending(max_workers=1).succeeded == [flow_id]

    orders = [
        o for o in world.fusion.sales_orders.list() if o.SourceTransactionNumber == "WEB-1004"
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
