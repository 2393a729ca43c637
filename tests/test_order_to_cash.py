"""Use case 1 end to end: Opportunity Closed Won -> PayTrace -> Salesforce -> Fusion.

The three emulators run in-process (mocked only at the wire); the ledger is SQLite.
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
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import AuditTrail, Engine, FlowState, SqliteLedger, StepState
from paysync_core.mapping import CustomerXref
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import OrderToCash, OrderToCashConfig
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


@dataclass
class World:
    paytrace_emulator: PayTraceEmulator
    fusion_emulator: FusionEmulator
    salesforce_emulator: SalesforceEmulator
    paytrace: PayTraceClient
    fusion: FusionClient
    bridge: SalesforceBridge
    usecase: OrderToCash
    engine: Engine
    ledger: SqliteLedger

    def opportunity(self, name: str, amount: str) -> dict[str, Any]:
        account = next(
            iter(self.bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'"))
        )
        created = self.bridge.create_many(
            "Opportunity",
            [
                {
                    "Name": name,
                    "StageName": "Closed Won",
                    "CloseDate": "2026-03-01",
                    "Amount": float(amount),
                    "AccountId": account["Id"],
                }
            ],
        )
        record_id = created[0].id
        rows = self.bridge.query(
            "SELECT Id, Name, StageName, CloseDate, Amount, AccountId FROM Opportunity "
            "WHERE Id = {}",
            record_id,
        )
        return next(iter(rows)).fields

    def sales(self, invoice_id: str) -> list[ExportedTransaction]:
        today = datetime.now(timezone.utc).date()
        records = self.paytrace.exports.transactions(
            today - timedelta(days=2), today + timedelta(days=2)
        )
        return [r for r in records if r.invoice_id == invoice_id]

    def payments(self, opportunity_id: str) -> list[dict[str, Any]]:
        rows = self.bridge.query(
            "SELECT Id, Payment_ID__c, Status__c, Amount__c, Status_Reason__c, Last4Digits__c, "
            "Card_Type__c FROM Payment__c WHERE Opportunity__c = {}",
            opportunity_id,
        )
        return [r.fields for r in rows]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    pt_emulator = PayTraceEmulator()
    hpf, enc = pt_emulator.register_protect_card(CARD, 12, 2030)
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
        FieldDef("Opportunity__c", "reference", reference_to=("Opportunity",)),
        FieldDef("Card_Type__c", length=40),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Status_Reason__c", length=255),
    )
    sf_emulator = SalesforceEmulator(objects=[payment])
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(sf_emulator))
    usecase = OrderToCash(
        paytrace=PayTracePort(paytrace, token_source=lambda _c: ProtectToken(hpf, enc)),
        fusion=FusionPort(fusion),
        salesforce=SalesforcePort(bridge),
        config=OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008")),
    )
    ledger = SqliteLedger(str(tmp_path / "ledger.db"))
    engine = Engine(
        ledger, [usecase.definition()], classifier=ClientErrorClassifier(), sleep=lambda _: None
    )
    yield World(
        pt_emulator, fu_emulator, sf_emulator, paytrace, fusion, bridge, usecase, engine, ledger
    )
    ledger.close()


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
    invoice = world.fusion.receivables_invoices.find_by_number(invoice_id)
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")
    receipt = world.fusion.standard_receipts.find_by_number(f"PT-{sales[0].transaction_id}")
    assert receipt is not None
    assert receipt.Amount == Decimal("149.99")
    assert receipt.UnappliedAmount == Decimal("0.00")
    assert len(list(world.fusion.receivables_invoices.list())) == 1 + _seeded_invoices(world)
    # explanations are kept with the outcomes; no card data reaches the ledger
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert (
        "GL 01-000-4100-0000 because channel sales, rule 1"
        in steps["fusion_invoice"].external_ids["mapping"]
    )
    exported = _audit_text(world)
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
    assert world.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    for name in ("fusion_invoice", "fusion_receipt", "fusion_apply"):
        assert "not posted to Fusion" in steps[name].external_ids["skipped"]


def test_timeout_after_commit_on_sale_resolved_by_lookup(world: World) -> None:
    opp = world.opportunity("Acme timeout", "75.00")
    world.paytrace_emulator.add_fault(
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
        for r in map(json.loads, _audit_text(world).splitlines())
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


def _audit_text(world: World) -> str:
    buffer = io.StringIO()
    AuditTrail(world.ledger).export_jsonl(buffer)
    return buffer.getvalue()
