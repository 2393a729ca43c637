"""Use case 1 paid by ACH: Opportunity Closed Won -> ``checks/sale/by_customer`` on the vault
profile's bank account -> ``Payment__c`` (method ACH) -> Fusion invoice, ACH receipt, applied.

The three emulators run in-process (mocked only at the wire); the ledger is SQLite. The bank
account is given to the PayTrace emulator only (as the hosted form would): paysync never sees
it, and it reaches neither the ledger nor the audit trail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState, StepState
from paysync_core.usecases import OrderToCash
from paytrace_client.emulator import FaultRule
from paytrace_client.models import ExportedCheckTransaction

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

ACCOUNT_NUMBER = "4099999992"  # a made-up account, only ever given to the emulator
ROUTING = "325070760"  # the public sandbox routing number (reference section 6)


@dataclass
class World:
    env: Emulated
    usecase: OrderToCash
    engine: Engine

    def opportunity(self, name: str, amount: str, **fields: Any) -> dict[str, Any]:
        return {**self.env.closed_won(name, amount, self.env.account_id()), **fields}

    def run(self, record: dict[str, Any]) -> str:
        flow = self.usecase.submit_opportunity(self.engine, record)
        assert flow is not None
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return flow.flow_id

    def checks(self, invoice_id: str) -> list[ExportedCheckTransaction]:
        today = datetime.now(timezone.utc).date()
        records = self.env.paytrace.checks.export(
            today - timedelta(days=2), today + timedelta(days=2)
        )
        return [r for r in records if r.invoice_id == invoice_id]

    def payments(self, opportunity_id: str) -> list[dict[str, Any]]:
        return self.env.records(
            "SELECT Payment_ID__c, Status__c, Amount__c, Status_Reason__c, Last4Digits__c, "
            "Card_Type__c, Payment_Method__c FROM Payment__c WHERE Opportunity__c = {}",
            opportunity_id,
        )


def _world(emulated: EmulatedFactory, **options: Any) -> World:
    env = emulated.for_order_to_cash("Payment_Method__c")
    env.ach_ready(ACCOUNT_NUMBER, ROUTING)
    usecase = env.order_to_cash(payment_method_target="Payment_Method__c", **options)
    return World(env, usecase, env.engine([usecase.definition()]))


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    return _world(emulated, payment_method="ach")


def test_ach_payment_every_record_once(world: World) -> None:
    opp = world.opportunity("Acme ACH", "240.00")
    flow_id = world.run(opp)

    invoice_id = f"SF-{opp['Id']}"
    [check] = world.checks(invoice_id)
    assert (check.transaction_type, check.amount, check.status_message) == (
        "SALE",
        Decimal("240.00"),
        "Processed",
    )
    assert world.env.exported(invoice_id) == []  # no card transaction
    [payment] = world.payments(opp["Id"])
    assert payment["Payment_ID__c"] == f"ACH-{check.check_transaction_id}"
    assert payment["Status__c"] == "Captured"
    assert payment["Card_Type__c"] == "ACH"
    assert payment["Payment_Method__c"] == "ACH"
    assert payment["Last4Digits__c"] == ACCOUNT_NUMBER[-4:]
    assert "120" in payment["Status_Reason__c"]
    invoice = world.env.fusion.receivables_invoices.find_by_number(invoice_id)
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")
    receipt = world.env.fusion.standard_receipts.find_by_number(
        f"PT-ACH-{check.check_transaction_id}"
    )
    assert receipt is not None
    assert receipt.ReceiptMethod == "ACH"
    assert (receipt.Amount, receipt.UnappliedAmount) == (Decimal("240.00"), Decimal("0.00"))
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert steps["capture"].external_ids["skipped"].startswith("sale mode")
    # the bank account never reaches paysync's ledger or audit trail
    audit = world.env.audit_text()
    assert ACCOUNT_NUMBER not in audit
    assert ACCOUNT_NUMBER not in world.env.ledger_path.read_bytes().decode("latin-1")


def test_ach_timeout_after_commit_is_resolved_by_lookup(world: World) -> None:
    opp = world.opportunity("Acme ACH timeout", "75.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*checks/sale/by_customer")
    )
    flow_id = world.run(opp)

    [check] = world.checks(f"SF-{opp['Id']}")  # debited exactly once
    charge = next(s for s in world.engine.steps(flow_id) if s.name == "charge")
    assert charge.state is StepState.SUCCEEDED
    assert charge.external_ids["transaction_id"] == f"ACH-{check.check_transaction_id}"
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in map(json.loads, world.env.audit_text().splitlines())
        if r["detail"].get("step") == "charge"
    ]
    assert ("step.unknown", None) in events  # the answer was lost ...
    assert ("step.succeeded", "lookup") in events  # ... and found in the check export
    assert len(world.payments(opp["Id"])) == 1
    receipt = world.env.fusion.standard_receipts.find_by_number(
        f"PT-ACH-{check.check_transaction_id}"
    )
    assert receipt is not None


def test_ach_decline_is_recorded_and_not_posted_to_fusion(world: World) -> None:
    opp = world.opportunity("Acme ACH declined", "0.29")  # the emulator declines 0.29: 125
    flow_id = world.run(opp)

    [check] = world.checks(f"SF-{opp['Id']}")
    assert check.status_message == "Declined"
    [payment] = world.payments(opp["Id"])
    assert payment["Payment_ID__c"] == f"ACH-{check.check_transaction_id}"
    assert payment["Status__c"] == "Failed"
    assert "125" in payment["Status_Reason__c"]
    assert "ACH declined" in payment["Status_Reason__c"]
    assert world.env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    details = json.loads(steps["charge"].external_ids["paytrace_details"])
    assert details["status_message"] == "Your check was NOT successfully processed."
    assert "ach_code" in details  # the processor's ACH code is kept for the record
    for name in ("fusion_invoice", "fusion_receipt", "fusion_apply"):
        assert "not posted to Fusion" in steps[name].external_ids["skipped"]


def test_method_chosen_per_opportunity(emulated: EmulatedFactory) -> None:
    world = _world(emulated, payment_method_field="Payment_Method__c")
    by_ach = world.opportunity("Acme by bank", "30.00", Payment_Method__c="eCheck")
    # a vault profile holds a card or a bank account: the card payer is another Account
    # (its profile is created from a Protect token on the first charge)
    payer = str(world.env.bridge.create_many("Account", [{"Name": "Card Payer Inc"}])[0].id)
    by_card = {
        **world.env.closed_won("By card", "31.00", payer),
        "Payment_Method__c": "Credit Card",
    }
    default = world.env.closed_won("Default method", "32.00", payer)
    for record in (by_ach, by_card, default):
        world.run(record)

    assert len(world.checks(f"SF-{by_ach['Id']}")) == 1
    assert [p["Payment_Method__c"] for p in world.payments(by_ach["Id"])] == ["ACH"]
    for record in (by_card, default):  # the configured method (card) when the field is empty
        assert world.checks(f"SF-{record['Id']}") == []
        assert len(world.env.exported(f"SF-{record['Id']}")) == 1
        [payment] = world.payments(record["Id"])
        assert (payment["Payment_Method__c"], payment["Last4Digits__c"]) == ("Card", "5439")


def test_ach_without_a_bank_account_in_the_vault_needs_a_person(
    emulated: EmulatedFactory,
) -> None:
    world = _world(emulated, payment_method="ach")
    other = str(world.env.bridge.create_many("Account", [{"Name": "Card Only Inc"}])[0].id)
    world.env.paytrace.customers.create_protect(f"sf-{other}", world.env.protect_token())
    opp = {**world.env.closed_won("Card only", "10.00", other)}
    flow = world.usecase.submit_opportunity(world.engine, opp)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.DEAD
    assert f"vault profile sf-{other} holds no bank account" in (done.last_error or "")
    assert world.checks(f"SF-{opp['Id']}") == []
