"""``paysync run --once --json``: its pass report on success, the JSON error object when the
configuration cannot be used (see ``tests/test_cli_json_errors.py`` for the other verbs)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from oracle_fusion_client.emulator import running_emulator
from paysync_core.cli import main
from paytrace_client.emulator import EmulatorServer

if TYPE_CHECKING:
    from .conftest import HttpsSalesforce, RunConfig


def test_run_once_json_success_is_the_pass_report(
    https_salesforce: HttpsSalesforce, run_config: RunConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    with EmulatorServer() as paytrace, running_emulator() as (fusion_url, _fusion):
        config = run_config.write(
            fusion_url=fusion_url,
            salesforce_url=https_salesforce.url,
            paytrace_url=paytrace.base_url,
            extra='\n[usecases.order_to_cash.xref]\ndefault_fusion_account = "1008"\n',
        )
        code = main(["run", "-c", str(config), "--once", "--json", "-u", "order_to_cash"])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads(out)
    assert "ok" not in report
    assert "polled" in report


def test_run_once_json_with_an_unset_credential_is_a_secret_error(
    https_salesforce: HttpsSalesforce,
    run_config: RunConfig,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SF_PASSWORD")
    with running_emulator() as (fusion_url, _fusion):
        config = run_config.write(fusion_url=fusion_url, salesforce_url=https_salesforce.url)
        assert main(["run", "-c", str(config), "--once", "--json"]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert (error["kind"], error["key"]) == ("secret", "salesforce.password")
    assert "env:SF_PASSWORD" in error["message"]
    assert "env:SF_PASSWORD" in captured.err
