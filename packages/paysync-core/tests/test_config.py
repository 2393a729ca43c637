"""``paysync.toml`` loading, precise errors, secret providers and ``paysync config check``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from paysync_core import ConfigurationError
from paysync_core.cli import main
from paysync_core.config import (
    ConfigCheckError,
    EnvSecretProvider,
    FileSecretProvider,
    SecretResolver,
    load_config,
    parse_config,
    register_usecase_options,
    resolve_secrets,
)
from paysync_core.config._load import _USECASE_MODELS  # pyright: ignore[reportPrivateUsage]

GOOD = """
[ledger]
url = "postgresql://postgres@127.0.0.1:5432/test"
schema = "billing"

[paytrace]
base_url = "http://127.0.0.1:8765"
username = "env:PT_USER"
password = "file:{secret_file}"

[engine]
workers = 32

[quota.paytrace]
daily = 100000
per_minute = 500

[usecases.order_to_cash]
enabled = true
"""


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "pt-password"
    path.write_text("s3cr3t-value\n")
    path.chmod(0o600)
    return path


def test_a_good_file_loads_with_defaults(tmp_path: Path, secret_file: Path) -> None:
    file = tmp_path / "paysync.toml"
    file.write_text(GOOD.format(secret_file=secret_file))
    config = load_config(file)
    assert config.ledger.db_schema == "billing"
    assert config.paytrace is not None
    assert config.paytrace.base_url == "http://127.0.0.1:8765"
    assert config.paytrace.export_timezone == "America/Los_Angeles"
    assert config.engine.workers == 32
    assert config.engine.max_attempts == 12
    assert config.quota["paytrace"].per_minute == 500
    assert config.usecases["order_to_cash"].enabled


def test_every_problem_names_key_value_and_expectation() -> None:
    with pytest.raises(ConfigCheckError) as caught:
        parse_config(
            {
                "paytrace": {"base_url": "ftp://x", "username": "env:U", "password": "hunter2"},
                "engine": {"workers": 0},
                "polling": {"paytrace_overlap_minutes": "ten"},
                "bogus": 1,
            }
        )
    issues = {issue.key: issue for issue in caught.value.issues}
    assert set(issues) == {
        "paytrace.base_url",
        "paytrace.password",
        "engine.workers",
        "polling.paytrace_overlap_minutes",
        "bogus",
    }
    assert "http(s) URL" in issues["paytrace.base_url"].expected
    assert issues["paytrace.base_url"].value == "'ftp://x'"
    assert "greater than or equal to 1" in issues["engine.workers"].expected
    assert issues["engine.workers"].value == "0"
    # A literal credential is refused and never echoed back.
    assert issues["paytrace.password"].value == "<hidden>"
    assert "hunter2" not in str(caught.value)


def test_missing_required_keys_are_reported() -> None:
    with pytest.raises(ConfigCheckError) as caught:
        parse_config({"paytrace": {}})
    assert {i.key for i in caught.value.issues} == {"paytrace.username", "paytrace.password"}
    assert all(i.value == "<missing>" for i in caught.value.issues)


def test_time_zone_is_validated() -> None:
    with pytest.raises(ConfigCheckError) as caught:
        parse_config(
            {"paytrace": {"username": "env:U", "password": "env:P", "export_timezone": "Mars/X"}}
        )
    (issue,) = caught.value.issues
    assert issue.key == "paytrace.export_timezone"
    assert "IANA" in issue.expected


def test_toml_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text("[ledger\nurl = 1")
    with pytest.raises(ConfigCheckError) as caught:
        load_config(file)
    assert caught.value.issues[0].key == "<file>"


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = "sales"
    retries: int = 3


def test_usecase_options_are_validated_by_their_model() -> None:
    saved = dict(_USECASE_MODELS)
    register_usecase_options("demo_case", _Options)
    try:
        parse_config({"usecases": {"demo_case": {"retries": 2}}})
        with pytest.raises(ConfigCheckError) as caught:
            parse_config({"usecases": {"demo_case": {"retries": "x", "colour": 1}, "nope": {}}})
        keys = {i.key for i in caught.value.issues}
        assert keys == {"usecases.demo_case.retries", "usecases.demo_case.colour", "usecases.nope"}
    finally:
        _USECASE_MODELS.clear()
        _USECASE_MODELS.update(saved)


def test_env_and_file_secret_providers(tmp_path: Path, secret_file: Path) -> None:
    resolver = SecretResolver(
        {"env": EnvSecretProvider({"X": "abc"}), "file": FileSecretProvider()}
    )
    assert resolver.resolve("env:X").get_secret_value() == "abc"
    secret = resolver.resolve(f"file:{secret_file}")
    assert secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t" not in repr(secret)
    with pytest.raises(ConfigurationError, match="not set"):
        resolver.resolve("env:MISSING")
    with pytest.raises(ConfigurationError, match="unknown scheme 'vault'"):
        resolver.resolve("vault:kv/x")
    loose = tmp_path / "loose"
    loose.write_text("x")
    loose.chmod(0o644)
    if os.name == "posix":
        with pytest.raises(ConfigurationError, match="group or others"):
            resolver.resolve(f"file:{loose}")


def test_custom_provider_plugs_in() -> None:
    resolver = SecretResolver({})
    resolver.register("vault", lambda name: f"from-vault:{name}")
    assert resolver.resolve("vault:kv/pt").get_secret_value() == "from-vault:kv/pt"


def test_resolve_secrets_lists_unresolvable_without_values(secret_file: Path) -> None:
    config = parse_config(
        {"paytrace": {"username": "env:PT_USER_UNSET_X", "password": f"file:{secret_file}"}}
    )
    problems = resolve_secrets(
        config, SecretResolver({"env": EnvSecretProvider({}), "file": FileSecretProvider()})
    )
    assert [p.key for p in problems] == ["paytrace.username"]
    assert "s3cr3t" not in str(problems)


def test_config_check_cli(
    tmp_path: Path,
    secret_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file = tmp_path / "paysync.toml"
    file.write_text(
        GOOD.format(secret_file=secret_file).replace(
            "[usecases.order_to_cash]\nenabled = true\n", ""
        )
    )
    monkeypatch.setenv("PT_USER", "api-user")
    assert main(["config", "check", "--config", str(file)]) == 0
    assert "OK" in capsys.readouterr().out
    monkeypatch.delenv("PT_USER")
    assert main(["config", "check", "--config", str(file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["issues"][0]["key"] == "paytrace.username"
    file.write_text('[engine]\nworkers = "many"\n')
    assert main(["config", "check", "--config", str(file)]) == 1
    assert "engine.workers = 'many'" in capsys.readouterr().err


def test_committed_configuration_reference_is_current() -> None:
    # The exact text `paysync config reference` writes: core sections and every use case.
    from paysync_core.cli._config import reference_markdown
    from paysync_core.config._reference import REGENERATE_COMMAND

    committed = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
    assert committed.read_text(encoding="utf-8") == reference_markdown(), (
        f"docs/configuration.md is stale: run `{REGENERATE_COMMAND}`"
    )


def test_keyring_provider_reads_the_os_keyring() -> None:
    import keyring
    from keyring.backend import KeyringBackend

    from paysync_core.config import KeyringSecretProvider

    class MemoryKeyring(KeyringBackend):
        priority = 1  # pyright: ignore[reportAssignmentType]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {("paysync", "paytrace"): "k3y-value"}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        resolver = SecretResolver({"keyring": KeyringSecretProvider()})
        assert resolver.resolve("keyring:paysync/paytrace").get_secret_value() == "k3y-value"
        with pytest.raises(ConfigurationError, match="no password for paysync/fusion"):
            resolver.resolve("keyring:paysync/fusion")
        with pytest.raises(ConfigurationError, match="service/username"):
            resolver.resolve("keyring:no-slash")
    finally:
        keyring.set_keyring(previous)
