"""The three emulators in-process (mocked only at the wire) and clients over their sessions,
for the reconciliation loaders' end-to-end tests.

Test modules import :class:`Emulators` for annotations only (``if TYPE_CHECKING``): with
pytest's importlib mode this directory is not on ``sys.path``; the fixture hands it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paytrace_client import PayTraceClient
from paytrace_client.emulator import PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session

FUSION_URL = "https://fusion.emulator"


@dataclass(frozen=True)
class Emulators:
    """PayTrace, Fusion and the seeded Salesforce org, each with a client that never sleeps."""

    paytrace_emulator: PayTraceEmulator
    paytrace: PayTraceClient
    fusion: FusionClient
    bridge: SalesforceBridge


def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def emulators() -> Emulators:
    pt_emulator = PayTraceEmulator()
    login = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    return Emulators(
        paytrace_emulator=pt_emulator,
        paytrace=PayTraceClient(
            username="demo123", password="demo123", session=pt_emulator.session(), sleep=_no_sleep
        ),
        fusion=FusionClient(
            base_url=FUSION_URL,
            auth=BasicAuth("casey.brown", "pw"),
            session=FusionEmulator().session(FUSION_URL),
            sleep=_no_sleep,
        ),
        bridge=SalesforceBridge(grant=login, session=emulator_session(SalesforceEmulator())),
    )
