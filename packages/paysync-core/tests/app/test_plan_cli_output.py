"""``paysync plan`` output: a step that will not write in the configured mode shows as skipped,
and the table is not cut at 80 columns when stdout is not a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paysync_core.cli import main

OPPORTUNITY = {
    "Id": "006000000000001AAA",
    "Name": "Acme expansion",
    "StageName": "Closed Won",
    "CloseDate": "2026-03-01",
    "Amount": 149.99,
    "AccountId": "001000000000001AAA",
}


def _args(tmp_path: Path, mode: str) -> list[str]:
    config = tmp_path / f"{mode}.toml"
    config.write_text(
        f'[usecases.order_to_cash]\npayment_mode = "{mode}"\n'
        '[usecases.order_to_cash.xref]\ndefault_fusion_account = "1008"\n',
        encoding="utf-8",
    )
    data = tmp_path / "opportunity.json"
    data.write_text(json.dumps(OPPORTUNITY), encoding="utf-8")
    return ["plan", "-u", "order_to_cash", "-i", str(data), "-c", str(config)]


def test_sale_mode_plan_shows_the_capture_as_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_args(tmp_path, "sale"), "--json"]) == 0
    writes = {w["step"]: w for w in json.loads(capsys.readouterr().out)["writes"]}
    assert writes["capture"]["skipped"] == "sale mode: the sale captured the payment"
    assert "transaction_id" not in writes["capture"]["payload"]
    assert writes["charge"]["skipped"] is None

    assert main(_args(tmp_path, "sale")) == 0
    [capture] = [line for line in capsys.readouterr().out.splitlines() if " capture " in line]
    assert "skipped: sale mode" in capture
    assert "transaction_id" not in capture


def test_authorize_capture_plan_shows_the_capture_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_args(tmp_path, "authorize_capture"), "--json"]) == 0
    writes = {w["step"]: w for w in json.loads(capsys.readouterr().out)["writes"]}
    assert writes["capture"]["skipped"] is None
    assert writes["capture"]["payload"] == {"transaction_id": "<charge.transaction_id>"}


def test_table_is_not_cut_when_stdout_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, "sale")) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    # the whole invoice payload is on the table's line, e.g. its distribution account
    [invoice] = [line for line in out.splitlines() if " fusion_invoice " in line]
    assert "01-000-4100-0000" in invoice
    assert '"TransactionNumber": "SF-006000000000001AAA"' in invoice
    assert max(len(line) for line in out.splitlines()) > 80
