"""``paysync plan`` (dry run, no system reachable) and ``paysync replay`` (decisions re-derived
from a real demo ledger, with the recorded and a changed configuration)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paysync_core.app import run_demo
from paysync_core.cli import main

OPPORTUNITY = {
    "Id": "006000000000001AAA",
    "Name": "Acme expansion",
    "StageName": "Closed Won",
    "CloseDate": "2026-03-01",
    "Amount": 149.99,
    "AccountId": "001000000000001AAA",
}


@pytest.fixture
def opportunity(tmp_path: Path) -> Path:
    path = tmp_path / "opportunity.json"
    path.write_text(json.dumps(OPPORTUNITY), encoding="utf-8")
    return path


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paysync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_plan_lists_every_write_without_reaching_any_system(
    tmp_path: Path, opportunity: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # no [paytrace]/[fusion]/[salesforce]: the clients point at *.invalid hosts, so any call
    # would fail; the plan succeeding proves none is made
    config = _config(tmp_path, '[usecases.order_to_cash.xref]\ndefault_fusion_account = "1008"\n')
    args = ["plan", "--use-case", "order_to_cash", "--input", str(opportunity)]
    assert main([*args, "--config", str(config), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    steps = [(w["step"], w["system"]) for w in plan["writes"]]
    expected = [
        ("vault_profile", "paytrace"),
        ("charge", "paytrace"),
        ("salesforce_payment", "salesforce"),
        ("fusion_invoice", "fusion"),
        ("fusion_receipt", "fusion"),
        ("fusion_apply", "fusion"),
    ]
    # in this order (a payment mode may add a step between, e.g. the capture of an auth)
    assert [s for s in steps if s in expected] == expected
    charge = plan["writes"][1]["payload"]
    assert charge == {"amount": "149.99", "invoice_id": "SF-006000000000001AAA"}
    [flow] = plan["flows"]
    assert flow["input"]["order"]["customer"]["fusion_customer_account"] == "1008"
    assert "default 1008" in flow["input"]["mapping"]
    assert "PayTrace processes USD only" in flow["input"]["mapping"]


def test_plan_names_the_problem_with_the_input(
    opportunity: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # without a Fusion account for the Account, the mapping refuses (defaults have none)
    code = main(["plan", "--use-case", "order_to_cash", "--input", str(opportunity)])
    assert code == 1
    err = capsys.readouterr().err
    assert "has no Fusion customer account mapped" in err
    assert "expected an Opportunity record" in err


def test_plan_of_a_stage_that_triggers_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "open.json"
    path.write_text(json.dumps({**OPPORTUNITY, "StageName": "Prospecting"}), encoding="utf-8")
    assert main(["plan", "-u", "order_to_cash", "-i", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["writes"] == []


def test_plan_refuses_unknown_use_case_and_bad_json(
    tmp_path: Path, opportunity: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "-u", "nope", "-i", str(opportunity)]) == 1
    assert "unknown use case 'nope'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert main(["plan", "-u", "refunds", "-i", str(bad)]) == 1
    assert "must be a JSON object" in capsys.readouterr().err


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "ledger.db"
    run_demo(path).close()
    return path


def test_replay_with_the_recorded_configuration_changes_nothing(
    demo_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path,
        '[usecases.order_to_cash.xref]\ndefault_fusion_account = "1008"\n'
        '[usecases.ecommerce.xref]\ndefault_fusion_account = "1008"\n',
    )
    for use_case in ("order_to_cash", "ecommerce", "refunds", "settlement_gl"):
        code = main(
            ["--ledger", str(demo_ledger), "replay", "-u", use_case, "-c", str(config), "--json"]
        )
        report = json.loads(capsys.readouterr().out)
        assert code == 0, report
        assert report["flows"] >= 1
        assert report["decisions"] >= 1
        assert report["changed"] == []


def test_replay_shows_decisions_a_new_gl_rule_would_change(
    demo_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path,
        "[usecases.order_to_cash.gl]\n"
        'default = "01-000-4999-0000"\n'
        'rules = [{ account = "01-000-4200-0000", channel = "sales" }]\n',
    )
    code = main(
        ["--ledger", str(demo_ledger), "replay", "-u", "order_to_cash", "-c", str(config), "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    # the won deal was invoiced (the declined one made no GL decision)
    [changed] = report["changed"]
    assert changed["step"] == "fusion_invoice"
    assert "GL 01-000-4100-0000" in changed["recorded"]
    assert "GL 01-000-4200-0000" in changed["replayed"]

    # the same, as a table, by flow id
    assert (
        main(
            [
                "--ledger",
                str(demo_ledger),
                "replay",
                "--flow",
                changed["flow_id"],
                "-c",
                str(config),
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "1 would change" in out


def test_replay_since_filters_by_creation_time(
    demo_ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--ledger", str(demo_ledger), "replay", "-u", "order_to_cash", "--json"]
    assert main([*args, "--since", "2999-01-01"]) == 0
    assert json.loads(capsys.readouterr().out)["flows"] == 0
    assert main([*args, "--since", "2000-01-01"]) == 0  # default options = the recorded ones
    assert json.loads(capsys.readouterr().out)["flows"] == 2
    assert main([*args, "--since", "yesterday"]) == 1
    assert "expected an ISO date" in capsys.readouterr().err


def test_replay_needs_a_selection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay"]) == 2
    assert "give --flow ID or --use-case NAME" in capsys.readouterr().err
