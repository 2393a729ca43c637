"""Use case 1 in ``authorize_capture`` mode, end to end against the emulators.

The charge step authorizes on the vault profile (``invoice_id`` = correlation) and the
capture step takes the authorization; a lost answer of either is resolved through the
PayTrace exports (PayTrace emulator fault injection), never by a second write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState, StepState
from paysync_core.mapping import CustomerXref
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import OrderToCash, OrderToCashConfig
from paytrace_client.emulator import FaultRule
from paytrace_client.models import ExportedTransaction

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory


@dataclass
class World:
    env: Emulated
    usecase: OrderToCash
    engine: Engine

    def opportunity(self, name: str, amount: str) -> dict[str, Any]:
        return self.env.closed_won(name, amount, self.env.account_id())

    def transactions(self, invoice_id: str) -> list[ExportedTransaction]:
        return [r for r in self.env.exported(invoice_id) if r.invoice_id == invoice_id]

    def payments(self, opportunity_id: str) -> list[dict[str, Any]]:
        return self.env.records(
            "SELECT Id, Payment_ID__c, Status__c, Amount__c FROM Payment__c "
            "WHERE Opportunity__c = {}",
            opportunity_id,
        )

    def run(self, opp: dict[str, Any]) -> str:
        flow = self.usecase.submit_opportunity(self.engine, opp)
        assert flow is not None
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return flow.flow_id

    def step_events(self, step: str) -> list[tuple[str, object]]:
        return [
            (r["kind"], r["detail"].get("via"))
            for r in map(json.loads, self.env.audit_text().splitlines())
            if r["detail"].get("step") == step
        ]


def _world(emulated: EmulatedFactory, mode: str) -> World:
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
    config = OrderToCashConfig.model_validate(
        {"xref": CustomerXref(default_fusion_account="1008"), "payment_mode": mode}
    )
    usecase = OrderToCash(
        paytrace=PayTracePort(env.paytrace, token_source=lambda _c: token),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=config,
    )
    return World(env, usecase, env.engine([usecase.definition()]))


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    return _world(emulated, "authorize_capture")


def test_authorization_is_captured_and_cash_applied(world: World) -> None:
    opp = world.opportunity("Acme authorize", "180.00")
    flow_id = world.run(opp)

    invoice_id = f"SF-{opp['Id']}"
    (auth,) = world.transactions(invoice_id)  # one transaction: no sale beside it
    assert auth.transaction_type == "AUTHORIZATION"
    assert auth.amount == Decimal("180.00")
    assert auth.status_message == "Pending Settlement"  # captured: settles tonight
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert steps["charge"].external_ids["mode"] == "authorization"
    assert steps["capture"].external_ids["captured"] == "true"
    (payment,) = world.payments(opp["Id"])
    assert payment["Status__c"] == "Captured"
    assert payment["Payment_ID__c"] == str(auth.transaction_id)
    invoice = world.env.fusion.receivables_invoices.find_by_number(invoice_id)
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")


def test_timeout_after_commit_on_capture_resolved_by_lookup(world: World) -> None:
    opp = world.opportunity("Acme capture lost", "64.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*transactions/authorization/capture")
    )
    flow_id = world.run(opp)

    (auth,) = world.transactions(f"SF-{opp['Id']}")
    assert auth.status_message == "Pending Settlement"
    capture = next(s for s in world.engine.steps(flow_id) if s.name == "capture")
    assert capture.state is StepState.SUCCEEDED
    events = world.step_events("capture")
    assert ("step.unknown", None) in events  # the answer was lost ...
    assert ("step.succeeded", "lookup") in events  # ... and the exports show it captured
    assert len(world.payments(opp["Id"])) == 1


def test_timeout_after_commit_on_authorization_resolved_by_lookup(world: World) -> None:
    opp = world.opportunity("Acme auth lost", "33.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*transactions/authorization/by_customer")
    )
    world.run(opp)

    (auth,) = world.transactions(f"SF-{opp['Id']}")  # authorized exactly once
    assert auth.transaction_type == "AUTHORIZATION"
    assert auth.status_message == "Pending Settlement"
    assert ("step.succeeded", "lookup") in world.step_events("charge")


def test_declined_authorization_is_neither_captured_nor_posted(world: World) -> None:
    opp = world.opportunity("Acme auth declined", "0.29")  # the emulator declines 0.29
    flow_id = world.run(opp)

    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert "not posted to Fusion" in steps["capture"].external_ids["skipped"]
    (payment,) = world.payments(opp["Id"])
    assert payment["Status__c"] == "Failed"
    assert world.env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None


def test_sale_mode_skips_the_capture_step(emulated: EmulatedFactory) -> None:
    world = _world(emulated, "sale")
    opp = world.opportunity("Acme sale", "12.00")
    flow_id = world.run(opp)

    (sale,) = world.transactions(f"SF-{opp['Id']}")
    assert sale.transaction_type == "SALE"
    capture = next(s for s in world.engine.steps(flow_id) if s.name == "capture")
    assert "sale mode" in capture.external_ids["skipped"]


def test_unknown_payment_mode_names_the_field() -> None:
    with pytest.raises(ValueError, match="payment_mode"):
        OrderToCashConfig.model_validate({"payment_mode": "capture_later"})
