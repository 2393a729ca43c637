"""Use case 1 end to end: Opportunity Closed Won -> PayTrace -> Salesforce -> Fusion.

The three emulators run in-process (mocked only at the wire); the ledger is SQLite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import Engine, FlowState, StepState
from paysync_core.mapping import CustomerXref
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import OrderToCash, OrderToCashConfig
from paytrace_client.emulator import FaultRule
from paytrace_client.models import ExportedTransaction

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


@dataclass
class World:
    env: Emulated
    usecase: OrderToCash
    engine: Engine

    def opportunity(self, name: str, amount: str) -> dict[str, Any]:
        return self.env.closed_won(name, amount, self.env.account_id())

    def sales(self, invoice_id: str) -> list[ExportedTransaction]:
        return [r for r in self.env.exported(invoice_id) if r.invoice_id == invoice_id]

    def payments(self, opportunity_id: str) -> list[dict[str, Any]]:
        return self.env.records(
            "SELECT Id, Payment_ID__c, Status__c, Amount__c, Status_Reason__c, Last4Digits__c, "
            "Card_Type__c FROM Payment__c WHERE Opportunity__c = {}",
            opportunity_id,
        )


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    env = emulated(
        {
            "Payment__c": (
                "Opportunity__c",
                "Card_Type__c",
                "Vault_Customer_ID__c",
                "Status_Reason__c",
            )
        }
    )
    token = env.protect_token()
    usecase = OrderToCash(
        paytrace=PayTracePort(env.paytrace, token_source=lambda _c: token),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008")),
    )
    return World(env, usecase, env.engine([usecase.definition()]))


def test_happy_path_every_record_once(world: World) -> None:
    opp = world.opportunity("Acme expansion", "149.99")
    flow = world.usecase.submit_opportunity(world.engine, opp)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    invoice_id = f"SF-{opp['Id']}"
    sales = world.sales(invoice_id)
    assert len(sales) == 1
    assert sales[0].amount == Decimal("149.99")
    assert opp["Id"] in (sales[0].description or "")
    payments = world.payments(opp["Id"])
    assert len(payments) == 1
    assert payments[0]["Payment_ID__c"] == str(sales[0].transaction_id)
    assert payments[0]["Status__c"] == "Captured"
    assert payments[0]["Last4Digits__c"] == "5439"
    invoice = world.env.fusion.receivables_invoices.find_by_number(invoice_id)
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")
    receipt = world.env.fusion.standard_receipts.find_by_number(f"PT-{sales[0].transaction_id}")
    assert receipt is not None
    assert receipt.Amount == Decimal("149.99")
    assert receipt.UnappliedAmount == Decimal("0.00")
    assert len(list(world.env.fusion.receivables_invoices.list())) == 1 + _seeded_invoices(world)
    # explanations are kept with the outcomes; no card data reaches the ledger
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert (
        "GL 01-000-4100-0000 because channel sales, rule 1"
        in steps["fusion_invoice"].external_ids["mapping"]
    )
    exported = world.env.audit_text()
    assert CARD not in exported
    assert "5439" in exported


def test_decline_recorded_in_salesforce_not_posted_to_fusion(world: World) -> None:
    opp = world.opportunity("Acme declined", "0.29")  # the emulator declines 0.29 with 102
    flow = world.usecase.submit_opportunity(world.engine, opp)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    payments = world.payments(opp["Id"])
    assert len(payments) == 1
    assert payments[0]["Status__c"] == "Failed"
    assert "102" in payments[0]["Status_Reason__c"]
    assert "Do not honor" in payments[0]["Status_Reason__c"]
    assert world.env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    for name in ("fusion_invoice", "fusion_receipt", "fusion_apply"):
        assert "not posted to Fusion" in steps[name].external_ids["skipped"]


def test_timeout_after_commit_on_sale_resolved_by_lookup(world: World) -> None:
    opp = world.opportunity("Acme timeout", "75.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*transactions/sale/by_customer")
    )
    flow = world.usecase.submit_opportunity(world.engine, opp)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    sales = world.sales(f"SF-{opp['Id']}")
    assert len(sales) == 1  # charged exactly once
    charge = next(s for s in world.engine.steps(flow.flow_id) if s.name == "charge")
    assert charge.state is StepState.SUCCEEDED
    assert charge.external_ids["transaction_id"] == str(sales[0].transaction_id)
    charge_events = [
        (r["kind"], r["detail"].get("via"))
        for r in map(json.loads, world.env.audit_text().splitlines())
        if r["detail"].get("step") == "charge"
    ]
    assert ("step.unknown", None) in charge_events  # the answer was lost ...
    assert ("step.succeeded", "lookup") in charge_events  # ... and found in the exports
    assert len(world.payments(opp["Id"])) == 1


def test_rerun_of_same_opportunity_is_a_noop(world: World) -> None:
    opp = world.opportunity("Acme twice", "20.00")
    first = world.usecase.submit_opportunity(world.engine, opp)
    assert first is not None
    world.engine.run_flow(first.flow_id)
    again = world.usecase.submit_opportunity(world.engine, opp)
    assert again is not None
    assert again.flow_id == first.flow_id
    report = world.engine.run_pending(max_workers=1)
    assert report.processed == 0
    assert len(world.sales(f"SF-{opp['Id']}")) == 1
    assert len(world.payments(opp["Id"])) == 1
    assert (
        world.usecase.submit_opportunity(world.engine, {**opp, "StageName": "Prospecting"}) is None
    )


def _seeded_invoices(world: World) -> int:
    fresh = FusionEmulator()
    client = FusionClient(
        base_url=FUSION_URL, auth=BasicAuth("u", "p"), session=fresh.session(FUSION_URL)
    )
    return len(list(client.receivables_invoices.list()))
