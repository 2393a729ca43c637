"""``paysync mapping suggest|check`` live: an unknown object or an unreachable endpoint is a
one-line error naming it, with a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from paysync_core.cli import main

SALESFORCE = (
    '[salesforce]\nlogin_url = "{url}"\nauth = "password"\n'
    'client_id = "env:SF_ID"\nclient_secret = "env:SF_SECRET"\n'
    'username = "env:SF_USER"\npassword = "env:SF_PASSWORD"\n'
)


@pytest.fixture
def sf_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SF_ID": "cid",
        "SF_SECRET": "cs",
        "SF_USER": "ops@example.com",
        "SF_PASSWORD": "pw",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def org_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sf_env: None) -> Iterator[str]:
    """The demo org served over TLS, as `paysync run` reaches a real org."""
    from paysync_core.app import demo_salesforce_emulator
    from salesforce_bridge.emulator import serve

    server = serve(demo_salesforce_emulator(), port=0, tls_dir=tmp_path / "tls")
    assert server.ca_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
    try:
        yield server.url
    finally:
        server.stop()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_suggest_for_an_unknown_object_is_one_line_naming_it(
    org_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text(SALESFORCE.format(url=org_url))
    code = main(["mapping", "suggest", "--config", str(config), "--object", "Nonexistent__c"])
    assert code == 1
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("paysync: describe Nonexistent__c: no such object in this org")


def test_live_check_against_an_unreachable_org_is_one_line(
    sf_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text(SALESFORCE.format(url=_closed_port_url()))
    assert main(["mapping", "check", "--config", str(config)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("paysync: describe ")


def test_live_check_of_a_renamed_object_names_it(
    org_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A map pointing at an sObject the org lacks (`[usecases.*.fields] sobject = ...`)."""
    config = tmp_path / "paysync.toml"
    config.write_text(
        SALESFORCE.format(url=org_url)
        + '[usecases.recurring_billing.fields]\nsobject = "Nonexistent__c"\n'
    )
    assert main(["mapping", "check", "--config", str(config)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert "describe Nonexistent__c: no such object in this org" in line


def test_suggest_for_an_unreachable_fusion_pod_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FU_USER", "u")
    monkeypatch.setenv("FU_PASS", "p")
    config = tmp_path / "paysync.toml"
    config.write_text(
        f'[fusion]\nbase_url = "{_closed_port_url()}"\nauth = "basic"\n'
        'username = "env:FU_USER"\npassword = "env:FU_PASS"\n'
    )
    code = main(
        ["mapping", "suggest", "--config", str(config), "--fusion-resource", "standardReceipts"]
    )
    assert code == 1
    assert _error_line(capsys.readouterr().err).startswith("paysync: describe standardReceipts:")


def test_missing_credentials_name_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SF_ID", raising=False)
    config = tmp_path / "paysync.toml"
    config.write_text(SALESFORCE.format(url=_closed_port_url()))
    assert main(["mapping", "suggest", "--config", str(config), "--object", "Account"]) == 1
    assert "salesforce.client_id" in _error_line(capsys.readouterr().err)
