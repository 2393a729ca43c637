"""``paysync reconcile --config`` and ``paysync anomalies --config``: the loaders read the three
emulators on real ports through clients built from ``paysync.toml``; reports land in the
dashboard's reports folder with the anomaly flags appended."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_fusion_client import NewStandardReceipt
from paysync_core.cli import main
from paysync_core.dashboard._reports import list_reports
from paysync_core.reconcile import read_csv_rows
from paytrace_client import CreditCard

from .conftest import Systems

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


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
