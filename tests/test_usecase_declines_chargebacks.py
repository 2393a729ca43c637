"""Use case 4 end to end: PayTrace declines and chargebacks against the three emulators.

The emulators run in-process (mocked only at the wire); the ledger is SQLite. The original
payments of the chargebacks come from use case 1, so the dispute's transaction really points
at a Fusion invoice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from oracle_fusion_client import Query
from oracle_fusion_client.emulator import Fault
from paysync_core import Engine, FlowState, StepState
from paysync_core.chargebacks import DisputeFileError
from paysync_core.mapping import CustomerXref
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import OrderToCash, OrderToCashConfig
from paysync_core.usecases.declines_chargebacks import DeclinesChargebacks
from paysync_core.xref import CustomerXrefTable
from paytrace_client import PayTraceDeclinedError

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

HEADER = "case_number,transaction_id,amount,reason_code,dispute_date,reason\n"


@dataclass
class World:
    env: Emulated
    cash: OrderToCash
    usecase: DeclinesChargebacks
    xref: CustomerXrefTable
    engine: Engine
    acme: str

    def paid_opportunity(self, amount: str) -> tuple[str, str]:
        """Use case 1 for a new Opportunity -> (PayTrace transaction id, Fusion invoice)."""
        opportunity = self.env.closed_won(f"Acme {amount}", amount, self.acme)
        flow = self.cash.submit_opportunity(self.engine, opportunity)
        assert flow is not None
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        charge = next(s for s in self.engine.steps(flow.flow_id) if s.name == "charge")
        return charge.external_ids["transaction_id"], f"SF-{opportunity['Id']}"

    def credit_memos(self) -> list[Any]:
        return list(self.env.fusion.receivables_credit_memos.list(Query(limit=100)))


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    """``Case`` and ``Task`` as an org would have them, with the external ids paysync uses,
    and the optional ``Payment__c`` fields use case 1 writes."""
    env = emulated(
        {
            "Payment__c": (
                "Opportunity__c",
                "Card_Type__c",
                "Vault_Customer_ID__c",
                "Status_Reason__c",
            )
        },
        objects=("Case", "Task"),
    )
    token = env.protect_token()
    pt_port = PayTracePort(env.paytrace, token_source=lambda _c: token)
    xref = CustomerXrefTable(env.ledger)
    acme = env.account_id()
    xref.link(acme, paytrace_customer_id=f"sf-{acme}", fusion_account_number="1008")
    cash = OrderToCash(
        paytrace=pt_port,
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008")),
    )
    usecase = DeclinesChargebacks(
        paytrace=pt_port,
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        xref=xref,
    )
    engine = env.engine([cash.definition(), *usecase.definitions()])
    return World(env, cash, usecase, xref, engine, acme)


def _today_window() -> tuple[date, date]:
    today = datetime.now(timezone.utc).date()
    return today - timedelta(days=1), today + timedelta(days=1)


# -- declines -------------------------------------------------------------------------------


def test_decline_recorded_with_reason_and_task_not_posted_to_fusion(world: World) -> None:
    # a decline from another channel (the virtual terminal, a web form): 0.29 declines
    profile = f"sf-{world.acme}"
    world.paid_opportunity("10.00")  # creates the vault profile through use case 1
    with pytest.raises(PayTraceDeclinedError) as caught:
        world.env.paytrace.transactions.sale_by_customer(
            Decimal("0.29"), profile, invoice_id="WEB-77"
        )
    transaction_id = str(caught.value.transaction_id)

    start, end = _today_window()
    flows = world.usecase.import_declines(world.engine, start, end)
    assert [f.source_id for f in flows] == [transaction_id]
    done = world.engine.run_flow(flows[0].flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    payments = world.env.records(
        "SELECT Id, Status__c, Status_Reason__c, Account__c, Amount__c FROM Payment__c "
        "WHERE Payment_ID__c = {}",
        transaction_id,
    )
    assert len(payments) == 1
    assert payments[0]["Status__c"] == "Failed"
    assert "PayTrace code 102" in payments[0]["Status_Reason__c"]
    assert "Do not honor" in payments[0]["Status_Reason__c"]
    assert "do_not_honor" in payments[0]["Status_Reason__c"]
    assert payments[0]["Account__c"] == world.acme  # via the cross-reference table
    tasks = world.env.records(
        "SELECT Id, Subject, WhatId FROM Task WHERE Paysync_Key__c = {}",
        f"DECLINE-{transaction_id}",
    )
    assert len(tasks) == 1
    assert tasks[0]["WhatId"] == world.acme
    assert "do_not_honor" in tasks[0]["Subject"]
    steps = {s.name: s for s in world.engine.steps(done.flow_id)}
    assert "not posted to Fusion" in steps["salesforce_payment"].external_ids["fusion"]
    assert world.env.fusion.receivables_invoices.find_by_number("WEB-77") is None
    assert world.credit_memos() == []

    # importing the same window again submits nothing new and writes nothing new
    again = world.usecase.import_declines(world.engine, start, end)
    assert [f.flow_id for f in again] == [done.flow_id]
    assert world.engine.run_pending(max_workers=1).processed == 0
    assert len(world.env.records("SELECT Id FROM Task")) == 1


def test_use_case_1_decline_is_enriched_not_duplicated(world: World) -> None:
    world.paid_opportunity("10.00")
    created = world.env.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme declined",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-01",
                "Amount": 0.29,
                "AccountId": world.acme,
            }
        ],
    )
    rows = world.env.bridge.query(
        "SELECT Id, Name, StageName, CloseDate, Amount, AccountId FROM Opportunity WHERE Id = {}",
        created[0].id,
    )
    flow = world.cash.submit_opportunity(world.engine, next(iter(rows)).fields)
    assert flow is not None
    world.engine.run_flow(flow.flow_id)

    start, end = _today_window()
    for imported in world.usecase.import_declines(world.engine, start, end):
        world.engine.run_flow(imported.flow_id)
    payments = world.env.records(
        "SELECT Id, Status__c, Status_Reason__c, Opportunity__c FROM Payment__c "
        "WHERE Opportunity__c = {}",
        created[0].id,
    )
    assert len(payments) == 1  # the same record, keyed by the transaction id
    assert payments[0]["Status__c"] == "Failed"
    assert "do_not_honor" in payments[0]["Status_Reason__c"]
    assert len(world.env.records("SELECT Id FROM Task")) == 1
    assert world.env.fusion.receivables_invoices.find_by_number(f"SF-{created[0].id}") is None


# -- chargebacks ----------------------------------------------------------------------------


def test_chargeback_import_credit_memo_and_case_once(world: World) -> None:
    transaction_id, invoice_number = world.paid_opportunity("149.99")
    text = HEADER + f"CB-2026-0001,{transaction_id},49.99,10.4,2026-03-05,card absent\n"

    flows = world.usecase.import_dispute_file(world.engine, text)
    assert len(flows) == 1
    done = world.engine.run_flow(flows[0].flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    memos = world.credit_memos()
    assert len(memos) == 1
    memo = world.env.fusion.receivables_credit_memos.find_by_number("CB-CB-2026-0001")
    assert memo is not None
    assert memo.EnteredAmount == Decimal("-49.99")
    assert memo.BillToCustomerNumber == "1008"
    assert invoice_number in (memo.model_extra or {}).get("CreditMemoComments", "")
    cases = world.env.records(
        "SELECT Id, Subject, AccountId, Dispute_Amount__c, Transaction_ID__c FROM Case "
        "WHERE Dispute_Case_Number__c = {}",
        "CB-2026-0001",
    )
    assert len(cases) == 1
    assert cases[0]["AccountId"] == world.acme
    assert cases[0]["Transaction_ID__c"] == transaction_id
    assert "fraud" in cases[0]["Subject"]
    steps = {s.name: s for s in world.engine.steps(done.flow_id)}
    assert "reason code 10.4 -> fraud" in steps["fusion_credit_memo"].external_ids["mapping"]

    # re-importing the same file creates nothing new
    again = world.usecase.import_dispute_file(world.engine, text)
    assert [f.flow_id for f in again] == [done.flow_id]
    assert world.engine.run_pending(max_workers=1).processed == 0
    assert len(world.credit_memos()) == 1
    assert len(world.env.records("SELECT Id FROM Case")) == 1


def test_bad_dispute_row_names_line_and_column_and_imports_nothing(world: World) -> None:
    transaction_id, _ = world.paid_opportunity("20.00")
    text = (
        HEADER
        + f"CB-OK-1,{transaction_id},5.00,13.1,2026-03-05,\n"
        + "CB-BAD-2,12x,5.001,13.1,2026-13-45,\n"
    )
    with pytest.raises(DisputeFileError) as caught:
        world.usecase.import_dispute_file(world.engine, text)
    problems = {(e.line, e.column) for e in caught.value.errors}
    assert problems == {(3, "transaction_id"), (3, "amount"), (3, "dispute_date")}
    assert "line 3, column amount" in str(caught.value)
    assert world.engine.run_pending(max_workers=1).processed == 0
    assert world.credit_memos() == []


def test_credit_memo_timeout_after_commit_resolved_by_lookup(world: World) -> None:
    transaction_id, _ = world.paid_opportunity("75.00")
    world.env.fusion_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="receivablesCreditMemos")
    )
    flows = world.usecase.import_dispute_file(
        world.engine, HEADER + f"CB-T-1,{transaction_id},75.00,4853,03/06/2026,\n"
    )
    done = world.engine.run_flow(flows[0].flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    assert len(world.credit_memos()) == 1  # created exactly once
    step = next(s for s in world.engine.steps(done.flow_id) if s.name == "fusion_credit_memo")
    assert step.state is StepState.SUCCEEDED
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in map(json.loads, world.env.audit_text().splitlines())
        if r["detail"].get("step") == "fusion_credit_memo"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    assert len(world.env.records("SELECT Id FROM Case")) == 1


def test_dispute_of_unknown_transaction_needs_a_human(world: World) -> None:
    flows = world.usecase.import_dispute_file(
        world.engine, HEADER + "CB-X-1,987654321,10.00,10.4,2026-03-05,\n"
    )
    done = world.engine.run_flow(flows[0].flow_id)
    assert done.state is FlowState.DEAD
    assert "PayTrace transaction 987654321 not found" in (done.last_error or "")
    assert world.credit_memos() == []
    assert world.env.records("SELECT Id FROM Case") == []
