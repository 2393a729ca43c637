"""The three emulators on real ports (Salesforce over https) and a ``paysync.toml`` naming
them, for the ``--config`` paths of ``paysync reconcile`` and ``paysync anomalies``.

Credentials reach the clients through ``env:`` references only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import running_emulator
from paytrace_client import PayTraceClient
from paytrace_client.emulator import EmulatorServer, PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import SalesforceEmulator, serve

CREDENTIALS = {
    "RC_PT_USER": "demo123",
    "RC_PT_PASSWORD": "demo123",
    "RC_FU_USER": "casey.brown",
    "RC_FU_PASSWORD": "pw",
    "RC_SF_CLIENT_ID": "cid",
    "RC_SF_CLIENT_SECRET": "cs",
    "RC_SF_USER": "ops@example.com",
    "RC_SF_PASSWORD": "pw",
}


@dataclass
class Systems:
    config: Path
    paytrace: PayTraceClient
    paytrace_emulator: PayTraceEmulator
    fusion: FusionClient
    bridge: SalesforceBridge


def config_text(ledger: Path, paytrace_url: str, fusion_url: str, salesforce_url: str) -> str:
    return f"""
[ledger]
url = "{ledger}"

[paytrace]
base_url = "{paytrace_url}"
username = "env:RC_PT_USER"
password = "env:RC_PT_PASSWORD"

[fusion]
base_url = "{fusion_url}"
auth = "basic"
username = "env:RC_FU_USER"
password = "env:RC_FU_PASSWORD"

[salesforce]
login_url = "{salesforce_url}"
auth = "password"
client_id = "env:RC_SF_CLIENT_ID"
client_secret = "env:RC_SF_CLIENT_SECRET"
username = "env:RC_SF_USER"
password = "env:RC_SF_PASSWORD"
"""


@pytest.fixture
def systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Systems]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    salesforce = serve(SalesforceEmulator(), port=0, tls_dir=tmp_path / "tls")
    assert salesforce.ca_path is not None
    # simple-salesforce only speaks https: trust the emulator's throwaway CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(salesforce.ca_path))
    try:
        with EmulatorServer() as pt_server, running_emulator() as (fusion_url, _):
            paytrace = PayTraceClient(
                username="demo123", password="demo123", base_url=pt_server.base_url
            )
            fusion = FusionClient(base_url=fusion_url, auth=BasicAuth("casey.brown", "pw"))
            grant = PasswordGrant(
                client_id="cid",
                client_secret="cs",
                username="ops@example.com",
                password="pw",
                login_url=salesforce.url,
            )
            config = tmp_path / "paysync.toml"
            config.write_text(
                config_text(tmp_path / "ledger.db", pt_server.base_url, fusion_url, salesforce.url),
                encoding="utf-8",
            )
            yield Systems(
                config, paytrace, pt_server.emulator, fusion, SalesforceBridge(grant=grant)
            )
    finally:
        salesforce.stop()
