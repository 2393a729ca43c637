"""``paysync mapping check|suggest`` against the Salesforce emulator's describe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paysync_core.cli import main
from paysync_core.mapping._check import check_sobject_mapping, payment_field_kinds
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)


@pytest.fixture
def describe() -> dict[str, Any]:
    """The emulator's Payment__c with the fields use case 1 writes."""
    base = SalesforceEmulator(seed=False)
    payment = base.org.obj("Payment__c").with_fields(
        FieldDef("Opportunity__c", "reference", reference_to=("Opportunity",)),
        FieldDef("Card_Type__c", length=40),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Status_Reason__c", length=255),
    )
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(
        grant=grant, session=emulator_session(SalesforceEmulator(objects=[payment]))
    )
    return bridge.describe("Payment__c").model_dump(by_alias=True)


def _write(tmp_path: Path, describe: dict[str, Any]) -> Path:
    path = tmp_path / "payment.describe.json"
    path.write_text(json.dumps(describe))
    return path


def test_default_mapping_matches_the_emulator_org(
    describe: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["mapping", "check", "--describe-file", str(_write(tmp_path, describe))])
    assert code == 0, capsys.readouterr().err
    assert "mapping matches" in capsys.readouterr().out


def test_drift_is_listed_with_the_slot_it_breaks(
    describe: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fields: list[dict[str, Any]] = describe["fields"]
    describe["fields"] = [f for f in fields if f["name"] != "Last4Digits__c"]
    for field in describe["fields"]:
        if field["name"] == "Payment_ID__c":
            field["externalId"] = False
        if field["name"] == "Amount__c":
            field["type"] = "string"
    describe["fields"].append(
        {"name": "Region__c", "type": "picklist", "createable": True, "nillable": False}
    )
    code = main(["mapping", "check", "--describe-file", str(_write(tmp_path, describe)), "--json"])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    problems = {(d["field"], d["problem"], d["mapped_from"]) for d in report["drift"]}
    assert problems == {
        ("Last4Digits__c", "field does not exist", "last4"),
        ("Payment_ID__c", "not marked as an External ID", "external_id"),
        ("Amount__c", "type string cannot hold a decimal value", "amount"),
        ("Region__c", "required field is not mapped", None),
    }


def test_config_mapping_is_what_gets_checked(
    describe: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text('[usecases.order_to_cash.payment_fields]\nstatus = "Payment_Status__c"\n')
    code = main(
        [
            "mapping",
            "check",
            "--config",
            str(config),
            "--describe-file",
            str(_write(tmp_path, describe)),
        ]
    )
    assert code == 1
    assert "Payment_Status__c (mapped from status): field does not exist" in capsys.readouterr().err


def test_suggest_prints_a_snippet_from_a_describe(
    describe: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "mapping",
            "suggest",
            "--object",
            "Payment__c",
            "--describe-file",
            str(_write(tmp_path, describe)),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "[usecases.order_to_cash.payment_fields]" in out
    assert 'amount = "Amount__c"' in out
    assert 'last4 = "Last4Digits__c"' in out


def test_check_function_ignores_unmapped_optional_slots(describe: dict[str, Any]) -> None:
    from salesforce_bridge import SObjectDescribe

    parsed = SObjectDescribe.model_validate(describe)
    assert (
        check_sobject_mapping(
            parsed,
            {"external_id": "Payment_ID__c", "amount": "Amount__c", "currency": None},
            kinds=payment_field_kinds(),
        )
        == []
    )


def _sobject(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    base = {"type": "string", "createable": True, "updateable": True, "nillable": True}
    return {"name": name, "fields": [{**base, **f} for f in fields]}


def test_every_configured_salesforce_map_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Task, Case, Subscription__c and Order maps of the configured use cases."""
    task = _sobject(
        "Task",
        {"name": "Paysync_Key__c", "externalId": True},
        {"name": "Subject"},
        {"name": "Description", "type": "textarea"},
        {
            "name": "Status",
            "type": "picklist",
            "restrictedPicklist": True,
            "picklistValues": [{"value": "Open", "active": True}],
        },
        {"name": "Priority", "type": "picklist", "picklistValues": [{"value": "High"}]},
        {"name": "WhatId", "type": "reference", "createable": False, "updateable": False},
    )
    subscription = _sobject(
        "Subscription__c",
        {"name": "Amount__c", "type": "currency"},
        {"name": "Interval__c", "type": "picklist"},
        {"name": "Next_Charge_Date__c", "type": "date"},
        {"name": "Vault_Customer_ID__c"},
        {"name": "Status__c", "type": "picklist"},
        {"name": "Account__c", "type": "reference"},
    )
    config = tmp_path / "paysync.toml"
    config.write_text("[usecases.declines_chargebacks]\n[usecases.recurring_billing]\n")
    paths: list[str] = []
    for name, describe in (("task", task), ("subscription", subscription)):
        (tmp_path / name).mkdir()
        paths += ["--salesforce-describe", str(_write(tmp_path / name, describe))]
    code = main(["mapping", "check", "--config", str(config), "--json", *paths])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {(d["object"], d["field"], d["problem"], d["severity"]) for d in report["drift"]}
    assert found == {
        ("Task", "Status", "picklist value 'Not Started' is not offered", "error"),
        ("Task", "Priority", "picklist value 'Normal' is not offered", "warning"),
        ("Task", "WhatId", "field is read-only", "error"),
        ("Subscription__c", "Failed_Attempts__c", "field does not exist", "error"),
    }
    skipped = set(report["systems"]["salesforce"]["skipped"])
    assert {"Payment__c", "Case"} <= skipped


def test_nothing_to_check_against_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text("[usecases.settlement_gl]\n")
    assert main(["mapping", "check", "--config", str(config)]) == 2
    assert "nothing to check against" in capsys.readouterr().err


def test_use_cases_running_by_default_are_checked_without_their_own_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`paysync run` runs every use case not disabled; check must look at the same maps."""
    task = _sobject("Task", {"name": "Subject"})
    subscription = _sobject("Subscription__c", {"name": "Amount__c", "type": "currency"})
    case = _sobject("Case", {"name": "Subject"})
    paths: list[str] = []
    for name, describe in (("task", task), ("subscription", subscription), ("case", case)):
        (tmp_path / name).mkdir()
        paths += ["--salesforce-describe", str(_write(tmp_path / name, describe))]
    config = tmp_path / "paysync.toml"
    config.write_text("[engine]\nworkers = 2\n")  # no [usecases.*] table at all
    code = main(["mapping", "check", "--config", str(config), "--json", *paths])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    drifted = {d["object"] for d in report["drift"] if d["severity"] == "error"}
    assert {"Task", "Subscription__c", "Case"} <= drifted
    assert {"Task", "Subscription__c", "Case"} <= set(report["systems"]["salesforce"]["checked"])

    # `enabled = false` takes a use case out of both run and check
    config.write_text("[usecases.recurring_billing]\nenabled = false\n")
    main(["mapping", "check", "--config", str(config), "--json", *paths])
    report = json.loads(capsys.readouterr().out)
    assert "Subscription__c" not in {d["object"] for d in report["drift"]}
    assert "Subscription__c" not in report["systems"]["salesforce"]["checked"]


def test_check_and_run_share_one_enabled_use_case_selection() -> None:
    from paysync_core.app import enabled_usecases, registered, select_usecases
    from paysync_core.config import parse_config

    config = parse_config({"usecases": {"refunds": {"enabled": False}}})
    enabled = [e.name for e in enabled_usecases(config)]
    assert enabled == [e.name for e in registered() if e.name != "refunds"]
    selection = select_usecases(config)
    assert selection.skipped["refunds"] == "disabled in the configuration"
