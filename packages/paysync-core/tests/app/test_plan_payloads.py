"""``paysync plan`` shows, for use cases 2-7, the payload every write step would send.

Export records come from the PayTrace emulator (a real keyed sale, a decline, a settled
batch); use case 6 reads its batch through ``--config``. No write endpoint is called: the
other systems are unreachable (``*.invalid``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from paysync_core.cli import main
from paytrace_client import CreditCard, PayTraceClient, PayTraceDeclinedError
from paytrace_client.emulator import EmulatorServer

CARD = "4012000098765439"  # PayTrace's public sandbox Visa; only ever given to the emulator
ACME = "001000000000001AAA"
OPTIONS = f"""
[usecases.ecommerce.xref]
default_salesforce_account = "{ACME}"
default_fusion_account = "1008"

[usecases.refunds.accounts]
default_fusion_account = "1008"
"""


@dataclass
class PayTrace:
    sale: dict[str, Any]
    declined: dict[str, Any]
    batch_number: int
    config: Path


@pytest.fixture(scope="module")
def paytrace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayTrace]:
    tmp = tmp_path_factory.mktemp("plan")
    with EmulatorServer() as server:
        client = PayTraceClient(username="demo123", password="demo123", base_url=server.base_url)
        card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
        client.transactions.sale_keyed("89.50", card, invoice_id="WEB-1001")
        with pytest.raises(PayTraceDeclinedError):  # the emulator declines 0.29 (code 102)
            client.transactions.sale_keyed("0.29", card, invoice_id="WEB-1002")
        today = datetime.now(timezone.utc).date()
        span = (today - timedelta(days=2), today + timedelta(days=2))
        records = {r.invoice_id: r for r in client.exports.transactions(*span)}
        settled = requests.post(f"{server.base_url}/__emulator__/settle", json={}, timeout=10)
        config = tmp / "paysync.toml"
        config.write_text(
            f'[paytrace]\nbase_url = "{server.base_url}"\nusername = "env:PLAN_PT_USER"\n'
            f'password = "env:PLAN_PT_PASSWORD"\n{OPTIONS}',
            encoding="utf-8",
        )
        yield PayTrace(
            sale=records["WEB-1001"].model_dump(mode="json", exclude_none=True),
            declined=records["WEB-1002"].model_dump(mode="json", exclude_none=True),
            batch_number=int(settled.json()["batch_number"]),
            config=config,
        )


def _plan(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    use_case: str,
    data: dict[str, Any],
    config: Path | None = None,
) -> dict[str, dict[str, Any]]:
    if config is None:
        config = tmp_path / "options.toml"
        config.write_text(OPTIONS, encoding="utf-8")
    path = tmp_path / "input.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = main(["plan", "-u", use_case, "-i", str(path), "-c", str(config), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    plan = json.loads(out.out)
    assert CARD not in out.out
    writes: dict[str, dict[str, Any]] = {}
    for write in plan["writes"]:
        assert write["payload"], f"{write['step']} shows no payload"
        writes[f"{write['use_case']}.{write['step']}"] = write["payload"]
    return writes


def test_ecommerce_plan_shows_order_hub_salesforce_and_receivables_payloads(
    paytrace: PayTrace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writes = _plan(tmp_path, capsys, "ecommerce", paytrace.sale)
    txn = str(paytrace.sale["transaction_id"])
    order = writes["ecommerce_order_to_cash.fusion_order"]
    assert order["upsert_mode"] is True
    assert order["body"]["SourceTransactionId"] == txn
    assert order["body"]["SourceTransactionNumber"] == "WEB-1001"
    assert order["body"]["BuyingPartyNumber"] == "1008"
    sf_order = writes["ecommerce_order_to_cash.salesforce_order"]
    assert sf_order["upsert_by"] == {"External_Order_ID__c": "WEB-1001"}
    assert sf_order["fields"]["AccountId"] == ACME
    assert sf_order["fields"]["Status"] == "Draft"
    payment = writes["ecommerce_order_to_cash.salesforce_payment"]
    assert payment["upsert_by"] == {"Payment_ID__c": txn}
    assert payment["fields"]["Amount__c"] == "89.50"
    invoice = writes["ecommerce_order_to_cash.fusion_invoice"]["body"]
    assert invoice["TransactionNumber"] == f"WEB-{txn}"
    assert invoice["receivablesInvoiceLines"][0]["UnitSellingPrice"] == "89.50"
    assert invoice["receivablesInvoiceDistributions"][0]["AccountClass"] == "REV"
    receipt = writes["ecommerce_order_to_cash.fusion_receipt"]["body"]
    assert (receipt["ReceiptNumber"], receipt["Amount"]) == (f"PT-{txn}", "89.50")
    apply = writes["ecommerce_order_to_cash.fusion_apply"]
    assert apply["receipt_id"] == "<fusion_receipt.receipt_id>"
    assert writes["ecommerce_order_to_cash.salesforce_status"]["fields"]["Status"] == "Activated"


def test_refund_plan_shows_void_or_refund_credit_memo_and_payment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payment = {"Payment_ID__c": "1234", "Account__c": ACME}
    data = {"payment": payment, "request_id": "R1", "amount": "30.00"}
    writes = _plan(tmp_path, capsys, "refunds", data)
    reverse = writes["refunds_and_voids.paytrace_reverse"]
    assert reverse["void"] == {"endpoint": "transactions/void", "transaction_id": "1234"}
    assert reverse["refund"]["amount"] == "30.00"
    assert reverse["refund"]["invoice_id"] == "RF-1234-R1"
    fusion = writes["refunds_and_voids.fusion_reverse"]
    memo = fusion["credit_memo"]["body"]
    assert memo["BillToCustomerNumber"] == "1008"
    assert memo["receivablesCreditMemoLines"][0]["UnitSellingPrice"] == "-30.00"
    assert fusion["receipt_reversal"]["receipt_number"] == "PT-1234"
    sf = writes["refunds_and_voids.salesforce_payment"]
    assert sf["upsert_by"] == {"Payment_ID__c": "1234"}
    assert {"Status__c", "Refunded_Amount__c"} <= set(sf["fields"])


def test_decline_and_chargeback_plans_show_salesforce_and_credit_memo_payloads(
    paytrace: PayTrace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    txn = str(paytrace.declined["transaction_id"])
    writes = _plan(tmp_path, capsys, "declines_chargebacks", {"declined": paytrace.declined})
    payment = writes["paytrace_declines.salesforce_payment"]
    assert payment["upsert_by"] == {"Payment_ID__c": txn}
    assert payment["fields"]["Status__c"] == "Failed"
    task = writes["paytrace_declines.salesforce_task"]
    assert task["upsert_by"] == {"Paysync_Key__c": f"DECLINE-{txn}"}
    assert "declined" in task["fields"]["Description"]

    csv = (
        "case_number,transaction_id,amount,reason_code,dispute_date\n"
        "CB-1,1234,25.00,13.1,2026-03-02\n"
    )
    writes = _plan(tmp_path, capsys, "declines_chargebacks", {"dispute_file": csv})
    memo = writes["paytrace_chargebacks.fusion_credit_memo"]
    assert memo["number"] == "CB-CB-1"
    assert memo["body"]["TransactionNumber"] == "CB-CB-1"
    assert memo["body"]["CreditReason"] == "Chargeback"
    case = writes["paytrace_chargebacks.salesforce_case"]
    assert case["upsert_by"] == {"Dispute_Case_Number__c": "CB-1"}
    assert "25.00" in json.dumps(case["fields"])


def test_customer_sync_plan_shows_vault_fusion_account_and_write_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = {
        "Id": ACME,
        "Name": "Acme Corporation",
        "BillingStreet": "1 Market Street",
        "BillingCity": "San Francisco",
        "BillingState": "California",
        "BillingPostalCode": "94105",
        "BillingCountry": "USA",
        "LastModifiedDate": "2026-03-01T10:00:00.000+0000",
    }
    data = {"account": account, "contact": {"Email": "AP@Acme.example"}}
    writes = _plan(tmp_path, capsys, "customer_sync", data)
    profile = writes["customer_vault_sync.paytrace_profile"]
    assert profile["create"]["endpoint"] == "customer/pt_protect_create"
    assert profile["create"]["customer_id"] == f"sf-{ACME}"
    assert profile["create"]["email"] == "ap@acme.example"
    assert profile["update"]["billing_address"]["state"] == "CA"
    fusion = writes["customer_vault_sync.fusion_account"]
    assert fusion["find"]["number"] == f"SF-{ACME}"
    assert fusion["create_if_missing"]["account"]["party_name"] == "Acme Corporation"
    back = writes["customer_vault_sync.salesforce_account"]
    assert back["upsert_by"] == {"Id": ACME}
    assert back["fields"]["Vault_Customer_ID__c"] == "<paytrace_profile.customer_id>"


def test_settlement_plan_shows_the_journal_lines(
    paytrace: PayTrace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAN_PT_USER", "demo123")
    monkeypatch.setenv("PLAN_PT_PASSWORD", "demo123")
    data = {"batch_number": paytrace.batch_number}
    writes = _plan(tmp_path, capsys, "settlement_gl", data, paytrace.config)
    journal = writes["paytrace_settlement_to_gl.journal_import"]
    assert journal["batch_name"] == f"PT-BATCH-{paytrace.batch_number}"
    assert journal["debits"] == journal["credits"] == "89.50"
    accounts = {line["account"] for line in journal["journal_lines"]}
    assert len(accounts) >= 2
    assert all(line["reference10"] for line in journal["journal_lines"])


def test_recurring_plan_shows_charge_payment_and_both_subscription_outcomes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscription = {
        "Id": "a0S000000000001AAA",
        "Amount__c": 49.0,
        "Interval__c": "Monthly",
        "Next_Charge_Date__c": "2026-03-01",
        "Vault_Customer_ID__c": "sf-acme",
        "Status__c": "Active",
        "Failed_Attempts__c": 0,
        "Account__c": ACME,
    }
    data = {"subscription": subscription, "today": "2026-03-01"}
    writes = _plan(tmp_path, capsys, "recurring_billing", data)
    charge = writes["salesforce_recurring_billing.charge"]
    assert charge["endpoint"] == "transactions/sale/by_customer"
    assert (charge["amount"], charge["customer_id"]) == ("49.00", "sf-acme")
    assert charge["invoice_id"] == "SUB-a0S000000000001AAA-20260301-1"
    payment = writes["salesforce_recurring_billing.salesforce_payment"]
    assert payment["fields"]["Subscription__c"] == "a0S000000000001AAA"
    sub = writes["salesforce_recurring_billing.salesforce_subscription"]
    assert sub["if_approved"]["Next_Charge_Date__c"] == "2026-04-01"
    assert sub["if_declined"]["Failed_Attempts__c"] == 1


def test_order_to_cash_plan_shows_every_write_after_the_charge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "otc.toml"
    config.write_text(
        '[usecases.order_to_cash.xref]\ndefault_fusion_account = "1008"\n'
        "[usecases.order_to_cash.payment_custom_fields]\n"
        'approval_code = "Approval_Code__c"\n',
        encoding="utf-8",
    )
    opportunity = {
        "Id": "006000000000001AAA",
        "Name": "Acme expansion",
        "StageName": "Closed Won",
        "CloseDate": "2026-03-01",
        "Amount": 149.99,
        "AccountId": ACME,
    }
    writes = _plan(tmp_path, capsys, "order_to_cash", opportunity, config)
    vault = writes["salesforce_order_to_cash.vault_profile"]
    assert vault["find"]["endpoint"] == "customer/export"
    payment = writes["salesforce_order_to_cash.salesforce_payment"]
    assert payment["sobject"] == "Payment__c"
    assert payment["upsert_by"] == {"Payment_ID__c": "<charge.transaction_id>"}
    fields = payment["fields"]
    assert fields["Amount__c"] == "149.99"
    assert fields["Opportunity__c"] == "006000000000001AAA"
    assert fields["Account__c"] == ACME
    assert fields["Status__c"] == "<charge.status>"
    assert fields["Processed_At__c"] == "<charge.processed_at>"
    assert fields["Vault_Customer_ID__c"] == "<vault_profile.customer_id>"
    assert fields["Approval_Code__c"] == "<charge.approval_code>"
    invoice = writes["salesforce_order_to_cash.fusion_invoice"]
    assert invoice["resource"] == "receivablesInvoices"
    body = invoice["body"]
    assert body["TransactionNumber"] == "SF-006000000000001AAA"
    assert body["BillToCustomerNumber"] == "1008"
    assert body["TransactionDate"] == "<ledger date of charge.processed_at>"
    assert body["receivablesInvoiceLines"][0]["UnitSellingPrice"] == "149.99"
    assert body["receivablesInvoiceDistributions"][0]["AccountCombination"] == "01-000-4100-0000"
    receipt = writes["salesforce_order_to_cash.fusion_receipt"]
    assert receipt["resource"] == "standardReceipts"
    assert receipt["body"]["ReceiptNumber"] == "PT-<charge.transaction_id>"
    assert receipt["body"]["Amount"] == "149.99"
    apply = writes["salesforce_order_to_cash.fusion_apply"]
    assert apply["receipt_id"] == "<fusion_receipt.receipt_id>"
    assert apply["invoice_id"] == "<fusion_invoice.invoice_id>"
    assert apply["amount"] == "149.99"


def test_order_to_cash_plan_by_ach_shows_the_check_sale_and_ach_receipt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ach.toml"
    config.write_text(
        "[usecases.order_to_cash]\n"
        'payment_method = "ach"\n'
        'ach_receipt_method = "ACH Receipts"\n'
        "[usecases.order_to_cash.xref]\n"
        'default_fusion_account = "1008"\n'
        "[usecases.order_to_cash.source_fields]\n"
        'transaction_id = "PayTrace_Transaction_ID__c"\n'
        'status = "Payment_Status__c"\n',
        encoding="utf-8",
    )
    opportunity = {
        "Id": "006000000000002AAA",
        "StageName": "Closed Won",
        "CloseDate": "2026-03-01",
        "Amount": 500,
        "AccountId": ACME,
    }
    writes = _plan(tmp_path, capsys, "order_to_cash", opportunity, config)
    vault = writes["salesforce_order_to_cash.vault_profile"]
    assert "create" not in vault  # paysync never creates a bank-account profile
    charge = writes["salesforce_order_to_cash.charge"]
    assert charge["endpoint"] == "checks/sale/by_customer"
    assert charge["invoice_id"] == "SF-006000000000002AAA"
    receipt = writes["salesforce_order_to_cash.fusion_receipt"]["body"]
    assert receipt["ReceiptMethod"] == "ACH Receipts"
    source = writes["salesforce_order_to_cash.salesforce_source"]
    assert (source["sobject"], source["id"]) == ("Opportunity", "006000000000002AAA")
    assert source["fields"] == {
        "PayTrace_Transaction_ID__c": "<charge.transaction_id>",
        "Payment_Status__c": "<salesforce_payment.status>",
    }
