"""Clients built from ``paysync.toml`` talk to the emulators on real ports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from oracle_fusion_client.emulator import running_emulator
from paysync_core import ConfigurationError
from paysync_core.config import (
    EnvSecretProvider,
    FileSecretProvider,
    SecretResolver,
    build_clients,
    parse_config,
)
from paytrace_client.emulator import EmulatorServer
from salesforce_bridge import JwtBearerGrant, PasswordGrant


def _resolver(**env: str) -> SecretResolver:
    return SecretResolver({"env": EnvSecretProvider(env), "file": FileSecretProvider()})


def test_paytrace_and_fusion_clients_reach_the_emulators() -> None:
    with EmulatorServer() as paytrace_server, running_emulator() as (fusion_url, _fusion):
        config = parse_config(
            {
                "paytrace": {
                    "base_url": paytrace_server.base_url,
                    "username": "env:PT_USER",
                    "password": "env:PT_PASS",
                },
                "fusion": {
                    "base_url": fusion_url,
                    "auth": "basic",
                    "username": "env:FU_USER",
                    "password": "env:FU_PASS",
                },
            }
        )
        clients = build_clients(
            config,
            _resolver(
                PT_USER="api.user", PT_PASS="pw-secret-1", FU_USER="casey.brown", FU_PASS="x"
            ),
        )
        assert clients.paytrace is not None
        assert clients.fusion is not None
        assert clients.salesforce is None
        sales = clients.paytrace.exports.transactions(date(2026, 1, 1), date(2026, 1, 2))
        assert list(sales) == []
        assert clients.fusion.standard_receipts.find_by_number("NO-SUCH-RECEIPT") is None
        assert "pw-secret-1" not in repr(clients.paytrace)


def test_salesforce_grant_follows_the_auth_scheme(tmp_path: Path) -> None:
    key = tmp_path / "sf.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n")
    key.chmod(0o600)
    jwt = parse_config(
        {
            "salesforce": {
                "auth": "jwt",
                "client_id": "env:SF_ID",
                "username": "env:SF_USER",
                "private_key": f"file:{key}",
            }
        }
    )
    bridge = build_clients(jwt, _resolver(SF_ID="3MVG", SF_USER="int@example.com")).salesforce
    assert bridge is not None
    assert isinstance(bridge.grant, JwtBearerGrant)
    password = parse_config(
        {
            "salesforce": {
                "auth": "password",
                "login_url": "https://test.salesforce.com",
                "client_id": "env:SF_ID",
                "client_secret": "env:SF_SECRET",
                "username": "env:SF_USER",
                "password": "env:SF_PASS",
            }
        }
    )
    resolver = _resolver(SF_ID="3MVG", SF_SECRET="shh", SF_USER="u@example.com", SF_PASS="pw+tok")
    bridge = build_clients(password, resolver).salesforce
    assert bridge is not None
    assert isinstance(bridge.grant, PasswordGrant)
    assert "pw+tok" not in repr(bridge.grant)


def test_missing_secret_for_the_scheme_names_the_key() -> None:
    config = parse_config(
        {"fusion": {"base_url": "https://fa.example.com", "auth": "basic", "username": "env:U"}}
    )
    with pytest.raises(ConfigurationError, match=r"fusion\.password is required"):
        build_clients(config, _resolver(U="x"))
    config = parse_config({"paytrace": {"username": "env:PT_U", "password": "env:PT_P"}})
    with pytest.raises(ConfigurationError, match=r"paytrace\.password: environment variable PT_P"):
        build_clients(config, _resolver(PT_U="x"))
