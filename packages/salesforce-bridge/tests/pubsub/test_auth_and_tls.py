"""Strict-mode auth against the REST emulator's OAuth store, and the servicer over TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesforce_bridge._auth import PasswordGrant
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ORG_ID,
    ConnectedApp,
    EmulatorUser,
    SalesforceEmulator,
    emulator_session,
    generate_tls,
)
from salesforce_bridge.emulator._pubsub import PubSubServer
from salesforce_bridge.pubsub import (
    PubSubAuthError,
    PubSubClient,
    PubSubCredentials,
    credentials_from_grant,
)

TOPIC = "/event/Payment_Event__e"


def _strict() -> SalesforceEmulator:
    return SalesforceEmulator(
        strict=True,
        users=[EmulatorUser("bridge@example.com", "pw")],
        apps=[ConnectedApp("cid", "secret")],
    )


def test_strict_mode_accepts_a_token_issued_by_the_org(tmp_path: Path) -> None:
    emulator = _strict()
    http = emulator_session(emulator)
    grant = PasswordGrant(
        client_id="cid",
        client_secret="secret",
        username="bridge@example.com",
        password="pw",
        login_url=DEFAULT_BASE_URL,
    )
    provider = credentials_from_grant(grant, http)
    assert provider(False).tenant_id == ORG_ID
    with (
        PubSubServer(emulator) as server,
        PubSubClient(server.target, credentials=provider, tls=False) as client,
    ):
        assert client.get_topic(TOPIC).can_publish
        emulator.tokens.expire_all()  # the next call refreshes through the grant, once
        assert client.get_topic(TOPIC).can_publish


def test_strict_mode_refuses_unknown_tokens_and_other_orgs() -> None:
    emulator = _strict()
    with PubSubServer(emulator) as server:
        for credentials in (
            PubSubCredentials("not-issued", "https://x.my.salesforce.com", ORG_ID),
            PubSubCredentials("not-issued", "https://x.my.salesforce.com", "00D000000000002AAA"),
        ):
            with (
                PubSubClient(
                    server.target, credentials=lambda _r, c=credentials: c, tls=False
                ) as c,
                pytest.raises(PubSubAuthError) as caught,
            ):
                c.get_topic(TOPIC)
            assert "not-issued" not in str(caught.value)


def test_credentials_validate_fields_and_hide_the_token() -> None:
    with pytest.raises(ValueError, match="tenant_id"):
        PubSubCredentials("t", "https://x", "nope")
    with pytest.raises(ValueError, match="instance_url"):
        PubSubCredentials("t", "x", ORG_ID)
    assert "secret-token" not in repr(PubSubCredentials("secret-token", "https://x", ORG_ID))


def test_tls_channel_to_a_tls_server(tmp_path: Path) -> None:
    tls = generate_tls(tmp_path)
    emulator = SalesforceEmulator()
    credentials = PubSubCredentials("t", "https://x.my.salesforce.com", ORG_ID)
    with (
        PubSubServer(emulator, tls=tls) as server,
        PubSubClient(
            f"localhost:{server.port}",
            credentials=lambda _r: credentials,
            root_certificates=tls.ca.read_bytes(),
        ) as client,
    ):
        assert client.publish(TOPIC, [{"Payment_ID__c": "TLS-1"}])[0].ok
