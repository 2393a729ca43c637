"""A whole session over a real socket with DEBUG logging on: no secret anywhere.

Covers JWT and refresh-token logins, refreshes after expiry, retries, bulk, typed failures,
connection errors, timeouts and refused logins; checks every log record (message, arguments and
formatted traceback), every exception in every chain, and the reprs of the objects involved.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from salesforce_bridge import (
    JwtBearerGrant,
    RefreshTokenGrant,
    RetryConfig,
    SalesforceBridge,
    SalesforceBridgeError,
)
from salesforce_bridge.emulator import ConnectedApp, EmulatorUser, Fault, SalesforceEmulator, serve

USER = "int@acme.com"
REFRESH = "REFRESH-TOKEN-SECRET-1"


def chain(exc: BaseException | None) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def test_no_secret_in_a_whole_logged_session(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, private_pem: bytes, certificate_pem: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = SalesforceEmulator(
        strict=True,
        users=[EmulatorUser(USER, "pw")],
        apps=[ConnectedApp("cid", "APP-SECRET-1", certificate=certificate_pem, run_as=USER)],
        refresh_tokens={REFRESH: USER},
    )
    server = serve(emulator, port=0, tls_dir=tmp_path)
    http = requests.Session()
    http.trust_env = False
    http.verify = str(server.ca_path)
    failures: list[BaseException] = []

    def fails(call: object) -> None:
        assert callable(call)
        with pytest.raises(SalesforceBridgeError) as info:
            call()
        failures.append(info.value)

    try:
        jwt_grant = JwtBearerGrant(
            client_id="cid", username=USER, private_key=private_pem, login_url=server.url
        )
        refresh_grant = RefreshTokenGrant(
            client_id="cid",
            refresh_token=REFRESH,
            client_secret="APP-SECRET-1",
            login_url=server.url,
        )
        fast = RetryConfig(max_retries=1, backoff_base=0.01, backoff_cap=0.01)
        bridges = [
            SalesforceBridge(grant=grant, session=http, retry=fast, timeout=0.4)
            for grant in (jwt_grant, refresh_grant)
        ]
        for bridge in bridges:
            bridge.upsert("Payment__c", "Payment_ID__c", "PAY-S", {"Amount__c": 1})
            emulator.tokens.expire_all()
            assert bridge.count("SELECT COUNT() FROM Order") == 1
            emulator.add_fault(Fault(kind="status", status=503, path="/query"))
            assert len(list(bridge.query("SELECT Id FROM Order"))) == 1
            bridge.bulk.ingest("Contact", [{"LastName": "S"}, {"Email": "no-last-name"}])
            bridge.simple_salesforce.query_all("SELECT Id FROM Contact")
            fails(lambda b=bridge: b.get("Account", "001000000000zzzAAA"))
            fails(lambda b=bridge: b.count("SELECT Nope FROM Account"))
            fails(lambda b=bridge: b.upsert("Account", "Legacy_Ref__c", "LEGACY-1", {}))
            emulator.add_fault(Fault(kind="reset", method="POST"))
            fails(lambda b=bridge: b.publish_event("Payment_Event__e", {"Payment_ID__c": "X"}))
            emulator.add_fault(Fault(kind="timeout_after_commit", method="POST", delay=0.8))
            fails(lambda b=bridge: b.create_many("Account", [{"Name": "slow"}]))
            emulator.add_fault(Fault(kind="expire_session", path="/query", times=2))
            fails(lambda b=bridge: b.count("SELECT COUNT() FROM Account"))  # 401 after refresh
        bad = JwtBearerGrant(
            client_id="nope", username=USER, private_key=private_pem, login_url=server.url
        )
        fails(
            lambda: SalesforceBridge(grant=bad, session=http).count("SELECT COUNT() FROM Account")
        )
        texts = [repr(o) for o in (*bridges, jwt_grant, refresh_grant, bridges[0].http.auth)]
        texts += [repr(jwt_grant.session()), str(refresh_grant.session())]
    finally:
        http.close()
        server.stop()

    assert len(failures) == 13
    for failure in failures:
        for exc in chain(failure):
            texts += [str(exc), repr(exc), repr(exc.args)]
    formatter = logging.Formatter()
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
    assert any("services/data" in t for t in texts)  # urllib3 did log the calls at DEBUG
    tokens = set(emulator.tokens.issued)
    assert len(tokens) >= 6
    key_lines = private_pem.decode().splitlines()[1:-1]
    secrets = [REFRESH, "APP-SECRET-1", *tokens, *key_lines]
    leaks = [(s[:8], t[:80]) for t in texts for s in secrets if s in t]
    assert leaks == []
