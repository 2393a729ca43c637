"""Describe a use case's steps without any system: the registry builds it on offline ports.

The clients behind these ports point at ``.invalid`` hosts and are never called while
building; ``paysync plan`` without ``--config`` and the dashboard's per-use-case page use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracle_fusion_client import BasicAuth, FusionClient
from paysync_core import LedgerStore, SqliteLedger
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paytrace_client import PayTraceClient
from salesforce_bridge import PasswordGrant, SalesforceBridge

from ._registry import Ports, UseCase

__all__ = ["StepDescription", "describe_steps", "offline_ports"]

_OFFLINE = "offline"  # not a credential: these clients can reach no host


def offline_ports(store: LedgerStore | None = None) -> Ports:
    """Ports whose clients cannot reach anything (``*.invalid``): for describing and planning."""
    return Ports(
        store=store or SqliteLedger(":memory:"),
        paytrace=PayTracePort(
            PayTraceClient(
                username=_OFFLINE, password=_OFFLINE, base_url="https://paytrace.invalid"
            )
        ),
        fusion=FusionPort(
            FusionClient(base_url="https://fusion.invalid", auth=BasicAuth(_OFFLINE, _OFFLINE))
        ),
        salesforce=SalesforcePort(
            SalesforceBridge(
                grant=PasswordGrant(
                    client_id=_OFFLINE,
                    client_secret=_OFFLINE,
                    username=_OFFLINE,
                    password=_OFFLINE,
                    login_url="https://salesforce.invalid",
                )
            )
        ),
    )


@dataclass(frozen=True)
class StepDescription:
    flow: str
    index: int
    step: str
    system: str
    safe_to_retry: bool


def describe_steps(entry: UseCase) -> list[StepDescription]:
    """Every flow of ``entry`` with its steps and the system each one writes to."""
    ports = offline_ports()
    try:
        build = entry.build(ports)
        return [
            StepDescription(d.use_case, i, s.name, s.system, s.safe_to_retry)
            for d in build.definitions
            for i, s in enumerate(d.steps)
        ]
    finally:
        ports.store.close()
