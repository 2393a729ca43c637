"""``paysync reconcile --config``, ``paysync anomalies --config`` and ``--fix --apply``: the
loaders read the three emulators on real ports (Salesforce over https) through clients built
from ``paysync.toml`` (credentials through ``env:`` references only); reports land in the
dashboard's reports folder with the anomaly flags appended; a payment missing in Salesforce is
replayed through the engine once and the next reconciliation is clean for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oracle_fusion_client import BasicAuth, FusionClient, NewStandardReceipt
from oracle_fusion_client.emulator import running_emulator
from paysync_core import FlowState, open_ledger
from paysync_core.app import demo_salesforce_emulator
from paysync_core.cli import main
from paysync_core.dashboard._reports import list_reports
from paysync_core.reconcile import (
    INVOICE_COLUMNS,
    REPLAY_USE_CASE,
    export_fusion_invoices,
    read_csv_rows,
)
from paytrace_client import CreditCard, PayTraceClient
from paytrace_client.emulator import EmulatorServer, PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import serve

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator

CREDENTIALS = {
    "RC_PT_USER": "demo123",
    "RC_PT_PASSWORD": "demo123",
    "RC_FU_USER": "casey.brown",
    "RC_FU_PASSWORD": "pw",
    "RC_SF_CLIENT_ID": "cid",
    "RC_SF_CLIENT_SECRET": "cs",
    "RC_SF_USER": "ops@example.com",
    "RC_SF_PASSWORD": "pw",
}


@dataclass
class Systems:
    config: Path
    paytrace: PayTraceClient
    paytrace_emulator: PayTraceEmulator
    fusion: FusionClient
    bridge: SalesforceBridge
    ledger: Path


def config_text(ledger: Path, paytrace_url: str, fusion_url: str, salesforce_url: str) -> str:
    return f"""
[ledger]
url = "{ledger}"

[paytrace]
base_url = "{paytrace_url}"
username = "env:RC_PT_USER"
password = "env:RC_PT_PASSWORD"

[fusion]
base_url = "{fusion_url}"
auth = "basic"
username = "env:RC_FU_USER"
password = "env:RC_FU_PASSWORD"

[salesforce]
login_url = "{salesforce_url}"
auth = "password"
client_id = "env:RC_SF_CLIENT_ID"
client_secret = "env:RC_SF_CLIENT_SECRET"
username = "env:RC_SF_USER"
password = "env:RC_SF_PASSWORD"

# The flows are started by polling Opportunities (use case 1), not by a Pub/Sub stream.
[salesforce.events]
transport = "poll"

[engine]
workers = 2

[usecases.order_to_cash.xref]
default_fusion_account = "1008"
"""


@pytest.fixture
def systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Systems]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    salesforce = serve(demo_salesforce_emulator(), port=0, tls_dir=tmp_path / "tls")
    assert salesforce.ca_path is not None
    # simple-salesforce only speaks https: trust the emulator's throwaway CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(salesforce.ca_path))
    try:
        with EmulatorServer() as pt_server, running_emulator() as (fusion_url, _):
            paytrace = PayTraceClient(
                username="demo123", password="demo123", base_url=pt_server.base_url
            )
            fusion = FusionClient(base_url=fusion_url, auth=BasicAuth("casey.brown", "pw"))
            grant = PasswordGrant(
                client_id="cid",
                client_secret="cs",
                username="ops@example.com",
                password="pw",
                login_url=salesforce.url,
            )
            config = tmp_path / "paysync.toml"
            config.write_text(
                config_text(tmp_path / "ledger.db", pt_server.base_url, fusion_url, salesforce.url),
                encoding="utf-8",
            )
            yield Systems(
                config,
                paytrace,
                pt_server.emulator,
                fusion,
                SalesforceBridge(grant=grant),
                tmp_path / "ledger.db",
            )
    finally:
        salesforce.stop()


def _seed(systems: Systems) -> dict[str, str]:
    """Three 49.99 charges on one card (a duplicate-looking cluster) and one of 20.00; Fusion
    misses the 20.00 receipt, Salesforce misses the third 49.99 payment."""
    card = CreditCard(CARD, 12, 2030)
    ids = {
        name: str(
            systems.paytrace.transactions.sale_keyed(
                Decimal(amount), card, invoice_id=f"INV-{name}"
            ).transaction_id
        )
        for name, amount in (("1", "49.99"), ("2", "49.99"), ("3", "49.99"), ("4", "20.00"))
    }
    assert systems.paytrace_emulator.settle() is not None
    today = systems.paytrace_emulator.now().date()
    for name in ("1", "2", "3"):
        systems.fusion.standard_receipts.create(
            NewStandardReceipt(
                ReceiptNumber=f"PT-{ids[name]}",
                ReceiptMethod="Manual",
                BusinessUnit="Vision Operations",
                Amount=Decimal("49.99"),
                Currency="USD",
                ReceiptDate=today,
                RemittanceBankAccountNumber="10271-17621-619",
                CustomerAccountNumber="1008",
            )
        )
    systems.bridge.create_many(
        "Payment__c",
        [
            {
                "Payment_ID__c": ids[name],
                "Amount__c": amount,
                "Status__c": "Captured",
                "Processed_At__c": f"{today.isoformat()}T12:00:00.000+0000",
            }
            for name, amount in (("1", 49.99), ("2", 49.99), ("4", 20.0))
        ],
    )
    return ids


def _window(systems: Systems) -> tuple[str, str]:
    today = systems.paytrace_emulator.now().date()
    return (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()


def test_reconcile_from_config_writes_dashboard_reports_with_anomalies(
    systems: Systems, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(systems)
    start, end = _window(systems)
    workdir, reports = tmp_path / "work", tmp_path / "reports"
    code = main(
        [
            "reconcile",
            "--config",
            str(systems.config),
            "--from",
            start,
            "--to",
            end,
            "--workdir",
            str(workdir),
            "--format",
            "json",
            "--reports-dir",
            str(reports),
            "--anomalies",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1, captured.err
    body = json.loads(captured.out)
    found = {(d["class"], d["key"]) for d in body["discrepancies"]}
    assert found == {("missing_in_fusion", ids["4"]), ("missing_in_salesforce", ids["3"])}
    assert body["counts"]["matched"] == 2

    # the record files stay in the work directory, with the anomaly columns and no card number
    rows = list(read_csv_rows(workdir / "paytrace.csv", ("at", "card_token", "last4")))
    assert len(rows) == 4
    assert {r["last4"] for r in rows} == {"5439"}
    for name in ("paytrace.csv", "fusion.csv", "salesforce.csv", "batches.csv"):
        assert CARD not in (workdir / name).read_text(encoding="utf-8")

    # the dashboard lists both reports under the run day
    today = datetime.now(timezone.utc).date().isoformat()
    listed = list_reports(reports)
    assert sorted(r.path for r in listed[today]) == [
        f"{today}/reconcile-{start}-{end}.html",
        f"{today}/reconcile-{start}-{end}.json",
    ]
    page = (reports / today / f"reconcile-{start}-{end}.html").read_text(encoding="utf-8")
    assert '<section id="anomalies">' in page
    assert "duplicate_charge" in page
    assert page.index("<h2>Discrepancies</h2>") < page.index('<section id="anomalies">')
    assert "http://" not in page
    assert "https://" not in page
    report = json.loads((reports / today / f"reconcile-{start}-{end}.json").read_text("utf-8"))
    assert [f["kind"] for f in report["anomalies"]] == ["duplicate_charge"]
    assert sorted(report["anomalies"][0]["records"]) == sorted([ids["1"], ids["2"], ids["3"]])
    assert len(report["discrepancies"]) == 2


def test_anomalies_from_config(systems: Systems, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed(systems)
    start, end = _window(systems)
    args = ["anomalies", "--config", str(systems.config), "--from", start, "--to", end]
    code = main([*args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    flags = [json.loads(line) for line in captured.out.splitlines()]
    assert [f["kind"] for f in flags] == ["duplicate_charge"]
    assert sorted(flags[0]["records"]) == sorted([ids["1"], ids["2"], ids["3"]])
    assert CARD not in captured.out


def test_config_errors_name_the_option(
    systems: Systems, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start, end = _window(systems)
    # no --from / --to: the loaders need a window
    assert main(["reconcile", "--config", str(systems.config)]) == 2
    assert "--from: --config needs --from and --to" in capsys.readouterr().err
    # neither files nor a configuration
    assert main(["reconcile", "--format", "json"]) == 2
    assert "--paytrace: is required without --config" in capsys.readouterr().err
    # a configuration without [salesforce]
    partial = tmp_path / "partial.toml"
    text = systems.config.read_text(encoding="utf-8")
    partial.write_text(text[: text.index("[salesforce]")], encoding="utf-8")
    assert main(["reconcile", "--config", str(partial), "--from", start, "--to", end]) == 2
    assert "--config: needs [salesforce] sections" in capsys.readouterr().err
    # a secret reference that resolves to nothing: named, never a value
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("env:RC_PT_PASSWORD", "env:RC_NOT_SET"), encoding="utf-8")
    assert main(["reconcile", "--config", str(broken), "--from", start, "--to", end]) == 2
    err = capsys.readouterr().err
    assert "--config: paytrace.password" in err
    assert "demo123" not in err


def _reconcile(systems: Systems, *extra: str) -> int:
    today = systems.paytrace_emulator.now().date()
    return main(
        [
            "--ledger",
            str(systems.ledger),
            "reconcile",
            "--config",
            str(systems.config),
            "--from",
            (today - timedelta(days=1)).isoformat(),
            "--to",
            (today + timedelta(days=1)).isoformat(),
            "--format",
            "json",
            *extra,
        ]
    )


def _json_blocks(out: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    blocks: list[dict[str, Any]] = []
    text = out.strip()
    while text:
        block, end = decoder.raw_decode(text)
        blocks.append(block)
        text = text[end:].strip()
    return blocks


def test_apply_replays_a_payment_missing_in_salesforce_once(
    systems: Systems, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = str(
        next(iter(systems.bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'")))[
            "Id"
        ]
    )
    card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
    systems.paytrace.customers.create(f"sf-{acme}", credit_card=card)
    systems.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme expansion",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-01",
                "Amount": 149.99,
                "AccountId": acme,
            }
        ],
    )
    run = ["--ledger", str(systems.ledger), "run", "--config", str(systems.config)]
    assert main([*run, "--once", "--use-case", "order_to_cash", "--json"]) == 0
    capsys.readouterr()

    # the payment record is lost in Salesforce after the flow wrote it
    [payment] = list(
        systems.bridge.query(
            "SELECT Id, Payment_ID__c FROM Payment__c WHERE Processed_At__c != null"
        )
    )
    key = str(payment["Payment_ID__c"])
    systems.bridge.simple_salesforce.restful(
        f"sobjects/Payment__c/{payment['Id']}", method="DELETE"
    )

    code = _reconcile(systems)
    [report] = _json_blocks(capsys.readouterr().out)
    assert code == 1
    assert [(d["class"], d["key"]) for d in report["discrepancies"]] == [
        ("missing_in_salesforce", key)
    ]

    code = _reconcile(systems, "--fix", "--apply")
    report, plan = _json_blocks(capsys.readouterr().out)
    assert code == 1  # the report is of the state before the fix
    assert plan["dry_run"] is False
    assert plan["submitted"] == 1
    [applied] = plan["applied"]
    assert (applied["key"], applied["step"], applied["state"]) == (
        key,
        "salesforce_payment",
        "succeeded",
    )

    # the engine ran the replay: the next reconciliation is clean, and applying again (the
    # same plan) submits nothing new
    code = _reconcile(systems, "--fix", "--apply")
    report, plan = _json_blocks(capsys.readouterr().out)
    assert code == 0
    assert report["discrepancies"] == []
    assert plan["submitted"] == 0
    store = open_ledger(str(systems.ledger))
    try:
        with store.transaction() as tx:
            replays = [f for f in tx.list_flows() if f.use_case == REPLAY_USE_CASE]
    finally:
        store.close()
    assert [f.state for f in replays] == [FlowState.SUCCEEDED]
    payments = list(
        systems.bridge.query("SELECT Amount__c FROM Payment__c WHERE Payment_ID__c = {}", key)
    )
    assert [Decimal(str(p["Amount__c"])) for p in payments] == [Decimal("149.99")]


def test_invoices_loader_reads_what_the_flow_billed(
    systems: Systems, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = str(
        next(iter(systems.bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'")))[
            "Id"
        ]
    )
    card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
    systems.paytrace.customers.create(f"sf-{acme}", credit_card=card)
    [opportunity] = systems.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme renewal",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-01",
                "Amount": 75.0,
                "AccountId": acme,
            }
        ],
    )
    run = ["--ledger", str(systems.ledger), "run", "--config", str(systems.config), "--once"]
    assert main([*run, "--use-case", "order_to_cash", "--json"]) == 0
    capsys.readouterr()
    invoices = tmp_path / "invoices.csv"
    assert export_fusion_invoices(systems.fusion, invoices) >= 1
    rows = {r["invoice"]: r for r in read_csv_rows(invoices, INVOICE_COLUMNS)}
    billed = rows[f"SF-{opportunity.id}"]
    assert (billed["amount_cents"], billed["balance_cents"], billed["customer"]) == (
        "7500",
        "0",
        "1008",
    )


def test_apply_requires_fix_and_config(
    systems: Systems, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reconcile", "--config", str(systems.config), "--apply"]) == 2
    assert "--apply: needs --fix and --config" in capsys.readouterr().err


def test_apply_lists_what_no_recorded_flow_can_replay(
    systems: Systems, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(systems)  # charged outside paysync: the ledger holds no flow for them
    assert _reconcile(systems, "--fix", "--apply") == 1
    _, plan = _json_blocks(capsys.readouterr().out)
    assert plan["submitted"] == 0
    assert plan["applied"] == []
    assert sorted((m["class"], m["key"]) for m in plan["manual"]) == sorted(
        [("missing_in_fusion", ids["4"]), ("missing_in_salesforce", ids["3"])]
    )
    assert all("no order_to_cash flow in the ledger" in m["why"] for m in plan["manual"])
