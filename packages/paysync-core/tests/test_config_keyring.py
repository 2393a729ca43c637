"""``keyring:`` secrets on a host without a keyring backend: a configuration error naming the
key and the reference, never a traceback (the real ``keyring`` library, its ``fail`` backend).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from paysync_core import ConfigurationError
from paysync_core.cli import main
from paysync_core.config import (
    EnvSecretProvider,
    KeyringSecretProvider,
    SecretResolutionError,
    SecretResolver,
    build_clients,
    parse_config,
    resolve_secrets,
)

CONFIG = """
[ledger]
url = "{ledger}"

[paytrace]
base_url = "http://127.0.0.1:9"
username = "env:PT_USER_KEYRING_TEST"
password = "keyring:paysync/paytrace-password"

[fusion]
base_url = "http://127.0.0.1:9"
auth = "basic"
username = "env:PT_USER_KEYRING_TEST"
password = "env:PT_USER_KEYRING_TEST"
"""


@pytest.fixture
def no_keyring_backend() -> Iterator[None]:
    """What a server without Secret Service / macOS Keychain gets: every call fails."""
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PT_USER_KEYRING_TEST", "api-user")
    path = tmp_path / "paysync.toml"
    path.write_text(CONFIG.format(ledger=tmp_path / "ledger.db"))
    return path


def test_backend_error_is_a_secret_resolution_error(no_keyring_backend: None) -> None:
    resolver = SecretResolver({"keyring": KeyringSecretProvider()})
    with pytest.raises(SecretResolutionError) as caught:
        resolver.resolve("keyring:paysync/paytrace-password")
    error = caught.value
    assert isinstance(error, ConfigurationError)
    assert error.ref == "keyring:paysync/paytrace-password"
    assert "'keyring:paysync/paytrace-password'" in str(error)
    assert "NoKeyringError" in str(error)


def test_resolve_secrets_names_the_key_and_the_reference(no_keyring_backend: None) -> None:
    config = parse_config(
        {"paytrace": {"username": "env:X", "password": "keyring:paysync/paytrace-password"}}
    )
    resolver = SecretResolver(
        {"env": EnvSecretProvider({"X": "u"}), "keyring": KeyringSecretProvider()}
    )
    problems = resolve_secrets(config, resolver)
    assert [(p.key, p.value) for p in problems] == [
        ("paytrace.password", "keyring:paysync/paytrace-password")
    ]
    assert "NoKeyringError" in problems[0].expected


def test_building_clients_names_the_key(
    no_keyring_backend: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PT_USER_KEYRING_TEST", "api-user")
    config = parse_config(
        {
            "paytrace": {
                "username": "env:PT_USER_KEYRING_TEST",
                "password": "keyring:paysync/paytrace-password",
            }
        }
    )
    with pytest.raises(ConfigurationError, match=r"^paytrace\.password: .*keyring:paysync"):
        build_clients(config)


def test_config_check_reports_it_like_any_unresolvable_secret(
    no_keyring_backend: None, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", "--config", str(config_file)]) == 1
    err = capsys.readouterr().err
    assert "paytrace.password = keyring:paysync/paytrace-password" in err
    assert "Traceback" not in err
    assert main(["config", "check", "--config", str(config_file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [i["key"] for i in report["issues"]] == ["paytrace.password"]


def test_run_ends_with_a_config_error_not_a_traceback(
    no_keyring_backend: None, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--config", str(config_file), "--once", "--use-case", "settlement_gl"])
    assert code == 1
    err = capsys.readouterr().err
    assert "paytrace.password" in err
    assert "keyring:paysync/paytrace-password" in err
    assert "NoKeyringError" in err
