"""Served systems for the ``paysync run`` tests: the demo Salesforce org over https on a free
port, and the configuration file that names the served systems.

Test modules import the classes for annotations only (``if TYPE_CHECKING``): with pytest's
importlib mode this directory is not on ``sys.path``; the fixtures hand out instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paysync_core.app import demo_salesforce_emulator
from salesforce_bridge import PasswordGrant
from salesforce_bridge.emulator import serve

#: What the configuration's ``env:`` references name (the fixture sets them).
RUN_CREDENTIALS = {
    "PT_USER": "demo123",
    "PT_PASSWORD": "demo123",
    "FU_USER": "casey.brown",
    "FU_PASSWORD": "pw",
    "SF_CLIENT_ID": "cid",
    "SF_CLIENT_SECRET": "cs",
    "SF_USER": "ops@example.com",
    "SF_PASSWORD": "pw",
}


@dataclass(frozen=True)
class HttpsSalesforce:
    """The demo org served over https (its throwaway CA trusted through
    ``REQUESTS_CA_BUNDLE``)."""

    url: str

    def grant(self) -> PasswordGrant:
        """The integration user's grant (the values :data:`RUN_CREDENTIALS` names)."""
        return PasswordGrant(
            client_id="cid",
            client_secret="cs",
            username="ops@example.com",
            password="pw",
            login_url=self.url,
        )


@pytest.fixture
def https_salesforce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpsSalesforce]:
    """Sets :data:`RUN_CREDENTIALS` in the environment and serves the demo org over https."""
    for name, value in RUN_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    salesforce = serve(demo_salesforce_emulator(), port=0, tls_dir=tmp_path / "tls")
    assert salesforce.ca_path is not None
    # simple-salesforce only speaks https: trust the emulator's throwaway CA, as an operator
    # would trust a corporate CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(salesforce.ca_path))
    try:
        yield HttpsSalesforce(salesforce.url)
    finally:
        salesforce.stop()


class RunConfig:
    """Writes ``paysync.toml`` next to a SQLite ledger: the served systems' sections with the
    credentials as ``env:`` references to :data:`RUN_CREDENTIALS`, Salesforce events polled."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "paysync.toml"
        self.ledger = tmp_path / "ledger.db"

    def write(
        self,
        *,
        fusion_url: str,
        salesforce_url: str,
        paytrace_url: str | None = None,
        extra: str = "",
    ) -> Path:
        """``extra``: further TOML (engine, polling, use case sections) after the systems'."""
        sections = [f'[ledger]\nurl = "{self.ledger}"\n']
        if paytrace_url is not None:
            sections.append(
                f'[paytrace]\nbase_url = "{paytrace_url}"\n'
                'username = "env:PT_USER"\npassword = "env:PT_PASSWORD"\n'
            )
        sections.append(
            f'[fusion]\nbase_url = "{fusion_url}"\nauth = "basic"\n'
            'username = "env:FU_USER"\npassword = "env:FU_PASSWORD"\n'
        )
        sections.append(
            f'[salesforce]\nlogin_url = "{salesforce_url}"\nauth = "password"\n'
            'client_id = "env:SF_CLIENT_ID"\nclient_secret = "env:SF_CLIENT_SECRET"\n'
            'username = "env:SF_USER"\npassword = "env:SF_PASSWORD"\n'
        )
        sections.append('[salesforce.events]\ntransport = "poll"\n')
        self.path.write_text("\n".join(sections) + extra, encoding="utf-8")
        return self.path


@pytest.fixture
def run_config(tmp_path: Path) -> RunConfig:
    return RunConfig(tmp_path)
