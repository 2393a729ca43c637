"""``paysync demo``: every use case end to end; the summary must match what the emulators hold.

The checks read the emulators back over the wire (clients), independently of how the demo
counted, and the ledger file the CLI was given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_fusion_client import Query
from paysync_core import FlowState, SqliteLedger
from paysync_core.app import DemoResult, demo_salesforce_emulator, run_demo
from paysync_core.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    result = run_demo(tmp_path_factory.mktemp("demo") / "ledger.db")
    yield result
    result.close()


def _seeded(sobject: str) -> int:
    return len(demo_salesforce_emulator().org.snapshot().get(sobject, {}))


def test_every_flow_succeeds_quickly(demo: DemoResult) -> None:
    summary = demo.summary
    assert summary.all_succeeded
    # 9 started by the use cases' inputs, 1 by a person's reversal in Fusion, 2 by a customer
    # moved in Fusion and edited in PayTrace (paysync's own writes start none)
    assert sum(sum(states.values()) for states in summary.flows.values()) == 12
    assert set(summary.flows) == {
        "customer_vault_sync",
        "customer_vault_sync_fusion",
        "customer_vault_sync_paytrace",
        "ecommerce_order_to_cash",
        "fusion_payment_status",
        "paytrace_chargebacks",
        "paytrace_declines",
        "paytrace_settlement_to_gl",
        "refunds_and_voids",
        "salesforce_order_to_cash",
        "salesforce_recurring_billing",
    }
    assert summary.elapsed_seconds < 60


def test_customer_moved_in_fusion_and_edited_in_paytrace_reaches_salesforce(
    demo: DemoResult,
) -> None:
    [account] = [
        r.fields
        for r in demo.world.bridge.query(
            "SELECT BillingStreet, BillingCity FROM Account WHERE Id = {}",
            demo.references["northwind"],
        )
    ]
    assert (account["BillingStreet"], account["BillingCity"]) == ("1 Harbor Way", "Tacoma")
    emails = {
        r.fields["Email"]
        for r in demo.world.bridge.query(
            "SELECT Email FROM Contact WHERE AccountId = {}", demo.references["northwind"]
        )
    }
    assert emails == {"ap@northwind.example"}


def test_receipt_reversed_in_fusion_shows_on_the_payment(demo: DemoResult) -> None:
    [payment] = [
        r.fields
        for r in demo.world.bridge.query(
            "SELECT Fusion_Status__c, Fusion_Status_Detail__c FROM Payment__c "
            "WHERE Payment_ID__c = {}",
            demo.references["charge"],
        )
    ]
    assert payment["Fusion_Status__c"] == "Reversed"
    assert "NSF" in payment["Fusion_Status_Detail__c"]


def test_paytrace_numbers_match_the_exports(demo: DemoResult) -> None:
    client = demo.world.paytrace
    today = demo.world.clock().astimezone(client.export_timezone).date()
    window = (today - timedelta(days=1), today + timedelta(days=1))
    sales = list(client.exports.transactions(*window, transaction_type="SALE"))
    declined = list(client.exports.transactions(*window, transaction_type="DECLINED"))
    refunds = list(client.exports.transactions(*window, transaction_type="REFUND"))
    batches = client.batches.export(*window)
    numbers = demo.summary.paytrace
    approved = [s for s in sales if "declined" not in (s.status_message or "").lower()]
    assert numbers["sales approved"] == len(approved) == 3  # won deal, web order, subscription
    assert numbers["sales declined"] == len(declined) == 1
    assert numbers["refunds"] == len(refunds) == 1
    assert refunds[0].amount == Decimal("30.00")
    assert numbers["settlement batches"] == len(batches) == 1
    # the lost answer did not cause a second charge
    won = [s for s in sales if s.invoice_id == f"SF-{demo.references['won']}"]
    assert len(won) == 1


def test_salesforce_numbers_match_the_org(demo: DemoResult) -> None:
    bridge = demo.world.bridge
    numbers = demo.summary.salesforce
    for sobject in ("Payment__c", "Order", "Task", "Case"):
        rows = list(bridge.query(f"SELECT Id FROM {sobject}"))  # noqa: S608 - constant names
        assert numbers[sobject] == len(rows) - _seeded(sobject), sobject
    declined = list(
        bridge.query(
            "SELECT Status__c, Status_Reason__c FROM Payment__c WHERE Opportunity__c = {}",
            demo.references["declined"],
        )
    )
    assert [r["Status__c"] for r in declined] == ["Failed"]
    assert "102" in str(declined[0]["Status_Reason__c"])
    [account] = bridge.query(
        "SELECT Vault_Customer_ID__c FROM Account WHERE Id = {}", demo.references["northwind"]
    )
    assert account["Vault_Customer_ID__c"]
    [subscription] = bridge.query(
        "SELECT Next_Charge_Date__c FROM Subscription__c WHERE Id = {}",
        demo.references["subscription"],
    )
    assert str(subscription["Next_Charge_Date__c"]) > demo.world.clock().date().isoformat()


def test_fusion_numbers_match_the_ledger_of_receivables(demo: DemoResult) -> None:
    fusion = demo.world.fusion
    numbers = demo.summary.fusion
    won = fusion.receivables_invoices.find_by_number(f"SF-{demo.references['won']}")
    assert won is not None
    web = fusion.receivables_invoices.find_by_number(f"WEB-{demo.references['web_sale']}")
    assert web is not None
    assert fusion.receivables_invoices.find_by_number(f"SF-{demo.references['declined']}") is None
    assert numbers["invoices"] == 2
    receipt = fusion.standard_receipts.find_by_number(f"PT-{demo.references['charge']}")
    assert receipt is not None  # created once despite the 429
    assert numbers["receipts"] == 2
    memos = list(fusion.receivables_credit_memos.list(Query(limit=100)))
    assert numbers["credit memos"] == len(memos) == 2  # the refund and the chargeback
    assert numbers["sales orders"] == 1
    assert numbers["journal batches"] == 1
    outcomes = {f["fault"]: f["outcome"] for f in demo.summary.faults}
    assert outcomes["timeout_after_commit on transactions/sale/by_customer"].startswith(
        "resolved by lookup"
    )
    assert outcomes["429 on POST standardReceipts"].startswith("retried")


def test_cli_demo_json_writes_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "demo.db"
    assert main(["demo", "--json", "--ledger", str(ledger)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ledger"] == str(ledger)
    assert summary["fusion"]["invoices"] == 2
    store = SqliteLedger(str(ledger))
    try:
        with store.transaction() as tx:
            flows = tx.list_flows()
    finally:
        store.close()
    assert len(flows) == 12
    assert {f.state for f in flows} == {FlowState.SUCCEEDED}
    by_use_case: dict[str, int] = {}
    for flow in flows:
        by_use_case[flow.use_case] = by_use_case.get(flow.use_case, 0) + 1
    assert by_use_case == {uc: states["succeeded"] for uc, states in summary["flows"].items()}
    # `paysync status` reads the same ledger, including the PayTrace export cursor
    assert main(["--ledger", str(ledger), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["open_dead_letters"] == 0
    [cursor] = [s for s in status["streams"] if s["kind"] == "paytrace-polling"]
    assert cursor["name"] == "paytrace:ecommerce+refunds"


def test_cli_demo_prints_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for title in ("PayTrace: new records", "Salesforce: new records", "Oracle Fusion"):
        assert title in out
    assert "resolved by lookup" in out
