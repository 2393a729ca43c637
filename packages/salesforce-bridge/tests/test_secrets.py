"""No password, client secret, token or private key in logs, exceptions or reprs."""

from __future__ import annotations

import logging

import pytest

from salesforce_bridge import (
    JwtBearerGrant,
    PasswordGrant,
    SalesforceBridge,
    SalesforceBridgeError,
)
from salesforce_bridge.emulator import DEFAULT_BASE_URL, Fault, SalesforceEmulator, emulator_session


def test_secrets_stay_out_of_logs_errors_and_reprs(
    caplog: pytest.LogCaptureFixture, private_pem: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = SalesforceEmulator()
    http = emulator_session(emulator)
    grant = PasswordGrant(
        client_id="cid",
        client_secret="CLIENT-SECRET-1",
        username="u@acme.com",
        password="PASSWORD-1",
        login_url=DEFAULT_BASE_URL,
    )
    bridge = SalesforceBridge(grant=grant, session=http)
    bridge.count("SELECT COUNT() FROM Account")
    first_token = grant.session().access_token
    emulator.add_fault(Fault(kind="expire_session"))
    bridge.count("SELECT COUNT() FROM Account")  # refreshed transparently
    tokens = [first_token, grant.session().access_token]

    texts: list[str] = [repr(bridge), str(bridge), repr(grant), repr(grant.session())]
    failures: list[BaseException] = []
    for call in (
        lambda: bridge.get("Account", "001000000000zzzAAA"),
        lambda: bridge.count("SELECT Nope FROM Account"),
        lambda: bridge.upsert("Account", "Legacy_Ref__c", "LEGACY-1", {}),
    ):
        with pytest.raises(SalesforceBridgeError) as info:
            call()
        failures.append(info.value)
    emulator.tokens.strict = True
    bad = PasswordGrant(
        client_id="nope",
        client_secret="CLIENT-SECRET-1",
        username="u",
        password="PASSWORD-1",
        login_url=DEFAULT_BASE_URL,
    )
    jwt_grant = JwtBearerGrant(
        client_id="nope", username="u", private_key=private_pem, login_url=DEFAULT_BASE_URL
    )
    for grant_under_test in (bad, jwt_grant):
        with pytest.raises(SalesforceBridgeError) as info:
            SalesforceBridge(grant=grant_under_test, session=http).count(
                "SELECT COUNT() FROM Account"
            )
        failures.append(info.value)
    for failure in failures:
        texts += [str(failure), repr(failure), repr(failure.args)]
    texts += [record.getMessage() for record in caplog.records]
    key_line = private_pem.decode().splitlines()[1]
    for text in texts:
        for secret in ["CLIENT-SECRET-1", "PASSWORD-1", key_line, *tokens]:
            assert secret not in text
