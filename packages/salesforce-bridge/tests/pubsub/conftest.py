"""Fixtures: the REST emulator's bus served by the Pub/Sub servicer on a real port."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from salesforce_bridge.emulator import ORG_ID, SalesforceEmulator
from salesforce_bridge.emulator._pubsub import PubSubServer
from salesforce_bridge.pubsub import PubSubClient, PubSubCredentials

INSTANCE = "https://emulator.my.salesforce.com"


class TokenBox:
    """Credentials provider whose refresh hands out the next token."""

    def __init__(self) -> None:
        self.tokens = ["token-1"]
        self.refreshes = 0

    def __call__(self, refresh: bool) -> PubSubCredentials:
        if refresh:
            self.refreshes += 1
            self.tokens.append(f"token-{len(self.tokens) + 1}")
        return PubSubCredentials(self.tokens[-1], INSTANCE, ORG_ID)


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def server(emulator: SalesforceEmulator) -> Iterator[PubSubServer]:
    with PubSubServer(emulator, keepalive_interval=0.3, idle_timeout=5.0) as running:
        yield running


@pytest.fixture
def tokens() -> TokenBox:
    return TokenBox()


@pytest.fixture
def client(server: PubSubServer, tokens: TokenBox) -> Iterator[PubSubClient]:
    with PubSubClient(server.target, credentials=tokens, tls=False, timeout=5.0) as pubsub:
        yield pubsub


def cdc_payload(
    name: str, *, change_type: str = "UPDATE", changed: tuple[str, ...] = ("Name",)
) -> dict[str, Any]:
    """An Account change event as the REST emulator puts it on the bus (field names)."""
    return {
        "ChangeEventHeader": {
            "entityName": "Account",
            "recordIds": ["001000000000001AAA"],
            "changeType": change_type,
            "changeOrigin": "com/salesforce/api/rest/66.0;client=paysync",
            "transactionKey": str(uuid.uuid4()),
            "sequenceNumber": 1,
            "commitTimestamp": 1712693965000,
            "commitNumber": 1082985383811,
            "commitUser": "005000000000001AAA",
            "nulledFields": ["Phone"],
            "diffFields": [],
            "changedFields": list(changed),
        },
        "Name": name,
        "LastModifiedDate": "2024-04-09T20:19:25.000Z",
    }
