"""``paysync import disputes`` (use case 4) and ``paysync refund`` (use case 3) against the
served demo (the three emulators on real ports, Salesforce over https)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paysync_core.app import DEMO_CREDENTIALS, ServedDemo, serve_demo
from paysync_core.cli import main


@dataclass
class Demo:
    served: ServedDemo
    config: Path


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    with serve_demo(tmp_path / "tls") as served:
        for name, value in DEMO_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.ca_path))
        config = tmp_path / "paysync.toml"
        config.write_text(served.config_toml(tmp_path / "ledger.db"), encoding="utf-8")
        yield Demo(served, config)


def _flows(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    return list(report["flows"])


def _opportunity_payment(demo: Demo, capsys: pytest.CaptureFixture[str]) -> str:
    """Use case 1 charges the seeded deal and invoices it in Fusion: the disputed sale."""
    args = ["run", "-c", str(demo.config), "--once", "--json", "-u", "order_to_cash"]
    assert main(args) == 0
    capsys.readouterr()
    rows = list(
        demo.served.world.bridge.query(
            "SELECT Payment_ID__c FROM Payment__c WHERE Opportunity__c = {}",
            demo.served.seeded["opportunity"],
        )
    )
    return str(rows[0]["Payment_ID__c"])


def test_import_disputes_makes_one_credit_memo_and_case_and_reimport_nothing(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sale = _opportunity_payment(demo, capsys)
    disputes = tmp_path / "disputes.csv"
    disputes.write_text(
        "case_number,transaction_id,amount,reason_code,dispute_date\n"
        f"CB-9001,{sale},49.99,13.1,2026-03-02\n",
        encoding="utf-8",
    )
    args = ["import", "disputes", str(disputes), "-c", str(demo.config), "--json"]
    assert main(args) == 0
    [flow] = _flows(capsys)
    assert (flow["source_id"], flow["state"], flow["new"]) == ("CB-9001", "succeeded", True)
    fusion = demo.served.world.fusion
    memo = fusion.receivables_credit_memos.find_by_number("CB-CB-9001")
    assert memo is not None
    assert memo.EnteredAmount == Decimal("-49.99")
    cases = list(
        demo.served.world.bridge.query(
            "SELECT Id FROM Case WHERE Dispute_Case_Number__c = {}", "CB-9001"
        )
    )
    assert len(cases) == 1

    # the same file again: the existing flow, nothing new anywhere
    assert main(args) == 0
    [again] = _flows(capsys)
    assert (again["flow_id"], again["new"]) == (flow["flow_id"], False)
    assert len(list(demo.served.world.bridge.query("SELECT Id FROM Case"))) == 1


def test_import_disputes_lists_every_bad_row_and_imports_nothing(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    disputes = tmp_path / "bad.csv"
    disputes.write_text(
        "case_number,transaction_id,amount,reason_code,dispute_date\n"
        "CB-1,abc,10.00,13.1,2026-03-02\n"
        "CB-2,123,-5,13.1,2026-13-40\n",
        encoding="utf-8",
    )
    args = ["import", "disputes", str(disputes), "-c", str(demo.config), "--json"]
    assert main(args) == 1
    captured = capsys.readouterr()
    errors = json.loads(captured.out)["errors"]
    assert any("line 2, column transaction_id" in e for e in errors)
    assert any("line 3, column amount" in e for e in errors)
    assert any("line 3, column dispute_date" in e for e in errors)
    assert "dispute file has" in captured.err
    assert main(["--ledger", str(tmp_path / "ledger.db"), "status", "--json"]) == 0
    assert "paytrace_chargebacks" not in capsys.readouterr().out


def test_refund_from_the_cli_refunds_once_and_books_the_credit_memo(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    sale = demo.served.seeded["pos_sale"]  # settled; its Payment__c names the Account
    args = ["refund", "--payment-id", sale, "--amount", "10.00", "-c", str(demo.config), "--json"]
    assert main(args) == 0
    [flow] = _flows(capsys)
    assert (flow["state"], flow["new"]) == ("succeeded", True)
    assert flow["source_id"] == f"cli-{sale}-1000"
    world = demo.served.world
    refund_ids = [
        r.transaction_id
        for r in world.paytrace.exports.transactions(
            *(world.clock().date(), world.clock().date()), transaction_type="REFUND"
        )
        if r.invoice_id == f"RF-{sale}-cli-{sale}-1000"
    ]
    assert len(refund_ids) == 1
    memo = world.fusion.receivables_credit_memos.find_by_number(f"CM-{refund_ids[0]}")
    assert memo is not None
    assert memo.EnteredAmount == Decimal("-10.00")

    # the same command again is the same request: no second refund
    assert main(args) == 0
    [again] = _flows(capsys)
    assert (again["flow_id"], again["new"]) == (flow["flow_id"], False)


def test_refund_names_the_bad_input(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["refund", "-c", str(demo.config), "--payment-id"]
    assert main([*base, demo.served.seeded["pos_sale"], "--amount", "1.005"]) == 1
    assert "--amount '1.005': must be positive with at most two decimals" in capsys.readouterr().err
    assert main([*base, "999999", "--amount", "1.00"]) == 1
    assert "--payment-id 999999: no Payment__c with that Payment_ID__c" in capsys.readouterr().err


def test_refund_asked_on_payment_record_in_salesforce_is_polled_once(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    # opt in: the org has the request fields on Payment__c
    config = demo.config.read_text(encoding="utf-8")
    demo.config.write_text(config + "\n[usecases.refunds.salesforce_requests]\n", encoding="utf-8")
    sale = demo.served.seeded["pos_sale"]
    bridge = demo.served.world.bridge
    [payment] = list(bridge.query("SELECT Id FROM Payment__c WHERE Payment_ID__c = {}", sale))
    bridge.update_many(
        "Payment__c",
        [{"Id": payment["Id"], "Refund_Requested_Amount__c": 15.0, "Refund_Request_ID__c": "RQ1"}],
    )
    args = ["run", "-c", str(demo.config), "--once", "--json", "-u", "refunds"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["polled"]["salesforce-refund-requests"] == 1
    assert report["dead"] == 0
    world = demo.served.world
    today = world.clock().date()
    refunds = [
        r
        for r in world.paytrace.exports.transactions(today, today, transaction_type="REFUND")
        if r.invoice_id == f"RF-{sale}-RQ1"
    ]
    assert [r.amount for r in refunds] == [Decimal("15.00")]
    [row] = list(
        bridge.query("SELECT Refunded_Amount__c FROM Payment__c WHERE Id = {}", payment["Id"])
    )
    assert Decimal(str(row["Refunded_Amount__c"])) == Decimal("35.00")  # the terminal's 20 too

    # polled again (the write-back changed LastModifiedDate): the same request, no new refund
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert again["succeeded"] == 0
    assert (
        len(
            [
                r
                for r in world.paytrace.exports.transactions(
                    today, today, transaction_type="REFUND"
                )
                if r.invoice_id == f"RF-{sale}-RQ1"
            ]
        )
        == 1
    )
