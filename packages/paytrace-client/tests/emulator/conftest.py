"""Shared fixtures: an emulator with a controllable clock and a wire-level session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from paytrace_client.emulator import EmulatorConfig, PayTraceEmulator

BASE = "https://api.paytrace.com"
START = datetime(2024, 3, 7, 18, 30, 0, tzinfo=timezone.utc)


class Wire:
    """A raw PayTrace API user: a plain requests.Session plus a bearer token."""

    def __init__(self, emulator: PayTraceEmulator) -> None:
        self.emulator = emulator
        self.session = emulator.session()
        reply = self.session.post(
            BASE + "/oauth/token",
            data={"grant_type": "password", "username": "demo123", "password": "demo123"},
            timeout=5,
        )
        self.token = reply.json()["access_token"]

    def post(self, path: str, body: dict[str, Any] | None = None, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.session.post(BASE + path, json=body or {}, headers=headers, timeout=5, **kw)

    def ok(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.post(path, body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def sale(self, amount: str = "10.00", **extra: Any) -> int:
        body = {"amount": amount, "credit_card": self.card(), **extra}
        return int(self.ok("/v1/transactions/sale/keyed", body)["transaction_id"])

    def settle(self) -> None:
        self.ok("/v1/transactions/settle")

    @staticmethod
    def card(
        number: str = "4111111111111111", month: object = 12, year: object = 2030
    ) -> dict[str, Any]:
        return {"number": number, "expiration_month": month, "expiration_year": year}


@pytest.fixture
def make_emulator() -> Callable[..., PayTraceEmulator]:
    def build(**config: Any) -> PayTraceEmulator:
        return PayTraceEmulator(EmulatorConfig(clock=lambda: START, **config))

    return build


@pytest.fixture
def emulator(make_emulator: Callable[..., PayTraceEmulator]) -> PayTraceEmulator:
    return make_emulator()


@pytest.fixture
def wire(emulator: PayTraceEmulator) -> Wire:
    return Wire(emulator)
