"""The real client against the real emulator, in-process (no sockets) and on a local port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from paytrace_client import PayTraceClient, RetryConfig, Timeouts
from paytrace_client.emulator import (
    IN_PROCESS_BASE_URL,
    EmulatorConfig,
    EmulatorServer,
    PayTraceEmulator,
)


@dataclass
class Harness:
    emulator: PayTraceEmulator
    client: PayTraceClient
    base_url: str
    http: requests.Session

    def state(self) -> dict[str, Any]:
        """The emulator's state through its control endpoint, as any test tool would read it."""
        response = self.http.get(f"{self.base_url}/__emulator__/state", timeout=5)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def make_client(base_url: str, session: requests.Session, **kwargs: Any) -> PayTraceClient:
    return PayTraceClient(
        username="demo123",
        password="demo123",
        integrator_id="TESTINTEGRATOR",
        base_url=base_url,
        session=session,
        timeouts=Timeouts(connect=2, read=2),
        retry=RetryConfig(max_retries=2, backoff_base=0.01, backoff_max=0.05),
        **kwargs,
    )


@pytest.fixture(params=["in_process", "port"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    emulator = PayTraceEmulator(EmulatorConfig())
    if request.param == "in_process":
        session = emulator.session()
        yield Harness(
            emulator, make_client(IN_PROCESS_BASE_URL, session), IN_PROCESS_BASE_URL, session
        )
        return
    with EmulatorServer(emulator) as server, requests.Session() as session:
        yield Harness(emulator, make_client(server.base_url, session), server.base_url, session)


@pytest.fixture
def in_process() -> Harness:
    emulator = PayTraceEmulator(EmulatorConfig())
    session = emulator.session()
    return Harness(
        emulator, make_client(IN_PROCESS_BASE_URL, session), IN_PROCESS_BASE_URL, session
    )
