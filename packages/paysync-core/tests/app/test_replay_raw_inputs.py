"""``paysync replay`` for use cases 4, 5 and 7: their flows keep the raw inputs the mapping
read (decline text, the Account fields and cross-reference, the ``Subscription__c`` row), so
the decisions are re-derived offline with today's rules and options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paysync_core import SqliteLedger
from paysync_core.app import run_demo
from paysync_core.cli import main

CARD = "4012000098765439"


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay_raw") / "ledger.db"
    run_demo(path).close()
    return path


def _replay(
    ledger: Path, use_case: str, capsys: pytest.CaptureFixture[str], config: Path | None = None
) -> tuple[int, dict[str, Any]]:
    args = ["--ledger", str(ledger), "replay", "-u", use_case, "--json"]
    code = main([*args, "-c", str(config)] if config else args)
    return code, json.loads(capsys.readouterr().out)


def _inputs(ledger: Path, use_case: str) -> list[dict[str, Any]]:
    store = SqliteLedger(str(ledger))
    try:
        with store.transaction() as tx:
            return [dict(f.input) for f in tx.list_flows() if f.use_case == use_case]
    finally:
        store.close()


def test_flows_keep_raw_inputs_without_card_data(demo_ledger: Path) -> None:
    [decline] = _inputs(demo_ledger, "paytrace_declines")
    assert decline["raw"]["response_code"] == 102
    assert decline["raw"]["message"]
    [customer] = _inputs(demo_ledger, "customer_vault_sync")
    assert customer["raw"]["account"]["BillingStreet"]
    assert set(customer["raw"]["xref"]) == {"vault", "fusion"}
    [subscription] = _inputs(demo_ledger, "salesforce_recurring_billing")
    assert subscription["raw"]["row"]["Interval__c"] == "Monthly"
    assert subscription["raw"]["today"]
    assert CARD not in demo_ledger.read_bytes().decode("latin-1")


def test_replay_with_the_recorded_rules_changes_nothing(
    demo_ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the demo ran use cases 4, 5 and 7 with their default options
    expected = {"declines_chargebacks": 2, "customer_sync": 2, "recurring_billing": 3}
    for use_case, decisions in expected.items():
        code, report = _replay(demo_ledger, use_case, capsys)
        assert code == 0, report
        assert report["decisions"] == decisions, (use_case, report)
        assert report["changed"] == []


def test_replay_shows_what_new_options_would_change(
    demo_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text(
        '[usecases.customer_sync]\npaytrace_prefix = "pt-"\n'
        '[usecases.declines_chargebacks.chargebacks]\nnumber_prefix = "DSP-"\n',
        encoding="utf-8",
    )
    code, report = _replay(demo_ledger, "customer_sync", capsys, config)
    assert code == 1
    changed = {c["key"]: c for c in report["changed"]}
    assert '"paytrace_customer_id": "sf-' in changed["customer"]["recorded"]
    assert '"paytrace_customer_id": "pt-' in changed["customer"]["replayed"]
    assert "vault id derived: pt-" in changed["mapping"]["replayed"]

    code, report = _replay(demo_ledger, "declines_chargebacks", capsys, config)
    assert code == 1
    [memo] = report["changed"]
    assert memo["step"] == "fusion_credit_memo"
    assert "credit memo CB-" in memo["recorded"]
    assert "credit memo DSP-" in memo["replayed"]


def test_replay_reports_a_row_todays_field_map_cannot_read(
    demo_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text(
        '[usecases.recurring_billing.fields]\namount = "Price__c"\n', encoding="utf-8"
    )
    code, report = _replay(demo_ledger, "recurring_billing", capsys, config)
    assert code == 1
    [refused] = report["changed"]
    assert refused["replayed"].startswith("refused: ")
    assert "Price__c" in refused["replayed"]
