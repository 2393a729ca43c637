"""``paysync run --once`` against the three emulators on real ports (Salesforce over https).

Credentials reach the clients through ``env:`` references only; the ledger is SQLite.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import running_emulator
from paysync_core.app import DEMO_CREDENTIALS, serve_demo
from paysync_core.cli import main
from paysync_core.config import load_config
from paytrace_client import CreditCard, PayTraceClient
from paytrace_client.emulator import EmulatorServer
from salesforce_bridge import SalesforceBridge

if TYPE_CHECKING:
    from .conftest import HttpsSalesforce, RunConfig

CARD = "4012000098765439"  # PayTrace's public sandbox Visa; only ever given to the emulator


@dataclass
class Systems:
    config: Path
    paytrace: PayTraceClient
    fusion: FusionClient
    bridge: SalesforceBridge
    acme: str


@pytest.fixture
def systems(https_salesforce: HttpsSalesforce, run_config: RunConfig) -> Iterator[Systems]:
    with EmulatorServer() as paytrace_server, running_emulator() as (fusion_url, _fusion):
        paytrace = PayTraceClient(
            username="demo123", password="demo123", base_url=paytrace_server.base_url
        )
        fusion = FusionClient(base_url=fusion_url, auth=BasicAuth("casey.brown", "pw"))
        bridge = SalesforceBridge(grant=https_salesforce.grant())
        acme = str(
            next(iter(bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'")))["Id"]
        )
        config = run_config.write(
            fusion_url=fusion_url,
            salesforce_url=https_salesforce.url,
            paytrace_url=paytrace_server.base_url,
            extra=f"""
[engine]
workers = 2

[usecases.order_to_cash.xref]
default_fusion_account = "1008"

[usecases.ecommerce.xref]
default_salesforce_account = "{acme}"
default_fusion_account = "1008"

[usecases.customer_sync]
enabled = false
""",
        )
        yield Systems(config, paytrace, fusion, bridge, acme)


def _passes(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _sales(paytrace: PayTraceClient, invoice_id: str) -> int:
    today = datetime.now(timezone.utc).date()
    records = paytrace.exports.transactions(today - timedelta(days=2), today + timedelta(days=2))
    return sum(1 for r in records if r.invoice_id == invoice_id)


def test_run_once_runs_the_use_cases_over_real_ports(
    systems: Systems, capsys: pytest.CaptureFixture[str]
) -> None:
    # a vault profile for the Account (use case 5 would have made it) and a Closed Won deal
    card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
    systems.paytrace.customers.create(f"sf-{systems.acme}", credit_card=card)
    [opportunity] = systems.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme expansion",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-01",
                "Amount": 149.99,
                "AccountId": systems.acme,
            }
        ],
    )
    # a web-store sale (use case 2 finds it by polling PayTrace's exports)
    systems.paytrace.customers.create("web-1001", credit_card=card)
    systems.paytrace.transactions.sale_by_customer(
        Decimal("89.50"), "web-1001", invoice_id="WEB-1001", description="web store"
    )

    assert main(["run", "--config", str(systems.config), "--once", "--json"]) == 0
    [report] = _passes(capsys.readouterr().out)
    polled = report["polled"]
    assert isinstance(polled, dict)
    assert polled["salesforce-opportunities"] == 1
    assert polled["paytrace-exports"] == 1
    assert report["succeeded"] == 1  # the Opportunity, end to end
    assert report["parked"] == 1  # the web order waits for Fusion to ship it
    assert report["dead"] == 0

    invoice = f"SF-{opportunity.id}"
    assert _sales(systems.paytrace, invoice) == 1
    found = systems.fusion.receivables_invoices.find_by_number(invoice)
    assert found is not None
    assert found.InvoiceBalanceAmount == Decimal("0.00")
    payments = list(
        systems.bridge.query(
            "SELECT Status__c FROM Payment__c WHERE Opportunity__c = {}", opportunity.id
        )
    )
    assert [p["Status__c"] for p in payments] == ["Captured"]

    # a second pass finds the same records and changes nothing
    assert main(["run", "--config", str(systems.config), "--once", "--json"]) == 0
    [again] = _passes(capsys.readouterr().out)
    assert again["succeeded"] == 0
    assert again["dead"] == 0
    assert _sales(systems.paytrace, invoice) == 1


def test_run_refuses_a_use_case_without_its_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text(f'[ledger]\nurl = "{tmp_path / "l.db"}"\n', encoding="utf-8")
    code = main(["run", "--config", str(config), "--once", "--use-case", "refunds"])
    assert code == 1
    assert "needs [fusion], [paytrace], [salesforce]" in capsys.readouterr().err


def test_served_demo_is_processed_by_run_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_demo(tmp_path / "tls") as served:
        for name, value in DEMO_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.ca_path))
        config = tmp_path / "paysync.toml"
        config.write_text(served.config_toml(tmp_path / "ledger.db"), encoding="utf-8")
        assert main(["run", "--config", str(config), "--once", "--json"]) == 0
        [report] = _passes(capsys.readouterr().out)
        assert report["polled"] == {
            "paytrace-exports": 2,  # the web sale (use case 2) and the terminal refund (3)
            "paytrace-voids": 0,  # nothing voided in PayTrace (use case 3)
            "paytrace-declines": 1,
            "paytrace-settlements": 1,
            "salesforce-opportunities": 1,
            "salesforce-subscriptions": 1,
            "fusion-changes": 0,  # no change made by a person in Fusion (use case 8)
        }
        assert report["succeeded"] == 5
        assert report["parked"] == 1  # the web order, until Fusion ships it
        assert report["dead"] == 0
        refund = served.seeded["refund"]
        memo = served.world.fusion.receivables_credit_memos.find_by_number(f"CM-{refund}")
        assert memo is not None
        assert memo.EnteredAmount == Decimal("-20.00")


def test_cli_serve_writes_a_valid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "demo.toml"
    code = main(
        [
            "demo",
            "--serve",
            "--serve-for",
            "0",
            "--json",
            "--config-out",
            str(config),
            "--ledger",
            str(tmp_path / "demo.db"),
        ]
    )
    assert code == 0
    info = json.loads(capsys.readouterr().out)
    loaded = load_config(config)
    assert loaded.paytrace is not None
    assert loaded.paytrace.base_url == info["paytrace"]
    assert loaded.paytrace.password == "env:PAYSYNC_DEMO_PAYTRACE_PASSWORD"
    assert loaded.salesforce is not None
    assert loaded.salesforce.login_url.startswith("https://127.0.0.1:")
    assert info["ship"].endswith(f"PAYTRACE:{info['seeded']['web_sale']}/ship")


def test_each_set_of_use_cases_keeps_its_own_export_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record no handler took under ``--use-case ecommerce`` is still new to ``refunds``."""
    with serve_demo(tmp_path / "tls") as served:
        for name, value in DEMO_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.ca_path))
        config = tmp_path / "paysync.toml"
        config.write_text(served.config_toml(tmp_path / "ledger.db"), encoding="utf-8")
        base = ["run", "--config", str(config), "--once", "--json"]
        assert main([*base, "--use-case", "ecommerce"]) == 0
        assert main([*base, "--use-case", "refunds"]) == 0
        first, second = _passes(capsys.readouterr().out)
        assert first["polled"] == {"paytrace-exports": 1}  # the web sale
        # the terminal refund; no sale voided in PayTrace
        assert second["polled"] == {"paytrace-exports": 1, "paytrace-voids": 0}
        assert second["succeeded"] == 1


def test_run_stops_cleanly_on_sigterm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop finishes its pass and exits 0 on SIGTERM (as under systemd or Kubernetes).

    The signal is sent to this process once the first pass has run its flows, so the CLI's
    handler (installed before the first pass) is in place.
    """
    with serve_demo(tmp_path / "tls") as served:
        for name, value in DEMO_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.ca_path))
        config = tmp_path / "paysync.toml"
        ledger = tmp_path / "ledger.db"
        config.write_text(served.config_toml(ledger), encoding="utf-8")
        done = threading.Event()

        def terminate_after_first_pass() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not done.is_set():
                if ledger.exists() and _succeeded(ledger) >= 5:
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=terminate_after_first_pass, daemon=True)
        watcher.start()
        try:
            assert main(["run", "--config", str(config), "--json"]) == 0
        finally:
            done.set()
            watcher.join(timeout=5)
        assert _succeeded(ledger) == 5
        # the handler was restored: SIGTERM is the default again
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _succeeded(ledger: Path) -> int:
    with closing(sqlite3.connect(ledger)) as db:
        try:
            rows = db.execute("SELECT COUNT(*) FROM flows WHERE state = 'succeeded'").fetchall()
        except sqlite3.OperationalError:  # the ledger's tables are not created yet
            return 0
    return int(rows[0][0])
