"""The bridge and unmodified simple-salesforce against the emulator (in-process and over TLS)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce.api import Salesforce, SFType

from salesforce_bridge import (
    ClientCredentialsGrant,
    JwtBearerGrant,
    PasswordGrant,
    RefreshTokenGrant,
    SalesforceAuthError,
    SalesforceBridge,
    SalesforceConnectionError,
    SalesforceFieldDriftError,
    SalesforceGrant,
    SalesforceMultipleMatchesError,
    SalesforceNotFoundError,
    SalesforceQuotaError,
    SalesforceRequestLimitError,
    SalesforceServerError,
    SalesforceTimeoutError,
)
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ConnectedApp,
    EmulatorUser,
    Fault,
    SalesforceEmulator,
    emulator_session,
    serve,
)


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


def password_bridge(emulator: SalesforceEmulator, *, quota_floor: int = 0) -> SalesforceBridge:
    grant = PasswordGrant(
        client_id="cid",
        client_secret="cs",
        username="int@acme.com",
        password="pw",
        login_url=DEFAULT_BASE_URL,
    )
    return SalesforceBridge(
        grant=grant,
        session=emulator_session(emulator),
        client_name="paysync",
        quota_floor=quota_floor,
        sleep=lambda _seconds: None,
    )


def test_bridge_operations_in_process(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    created = bridge.upsert(
        "Payment__c",
        "Payment_ID__c",
        "PAY-2001",
        {"Amount__c": 12.5, "Status__c": "Authorized", "Last4Digits__c": "1111"},
    )
    again = bridge.upsert("Payment__c", "Payment_ID__c", "PAY-2001", {"Status__c": "Captured"})
    assert created.created
    assert not again.created
    assert created.id == again.id
    with pytest.raises(SalesforceMultipleMatchesError) as info:
        bridge.upsert("Account", "Legacy_Ref__c", "LEGACY-1", {"Phone": "1"})
    assert len(info.value.matches) == 2
    with pytest.raises(SalesforceNotFoundError):
        bridge.get("Account", "001000000000zzzAAA")

    records = [{"Payment_ID__c": f"BULK-{i}", "Amount__c": i} for i in range(450)]
    records[7] = {"Amount__c": 1, "Payment_ID__c": "PAY-1001"}  # duplicate external id
    results = bridge.create_many("Payment__c", records)
    assert len(results) == 450
    assert [r.success for r in results].count(False) == 1
    assert results[7].errors[0].code == "DUPLICATE_VALUE"
    upserted = bridge.upsert_many(
        "Payment__c",
        "Payment_ID__c",
        [
            {"Payment_ID__c": "BULK-1", "Status__c": "Settled"},
            {"Payment_ID__c": "NEW-1", "Amount__c": 3},
        ],
    )
    assert [r.created for r in upserted] == [False, True]

    rows = list(
        bridge.query(
            "SELECT Id, Payment_ID__c FROM Payment__c "
            "WHERE Payment_ID__c LIKE '{:like}%' ORDER BY Payment_ID__c",
            "BULK-",
            batch_size=200,
        )
    )
    assert len(rows) == 449
    assert rows[0].attributes is not None
    assert rows[0].attributes.type == "Payment__c"
    assert bridge.count("SELECT COUNT() FROM Payment__c WHERE Status__c = {}", "Settled") == 1

    event = bridge.publish_event(
        "Payment_Event__e", {"Payment_ID__c": "PAY-2001", "Status__c": "Captured"}
    )
    assert event.success
    assert event.event_uuid
    many = bridge.publish_events(
        "Payment_Event__e", [{"Payment_ID__c": "A"}, {"Status__c": "no id"}]
    )
    assert [e.success for e in many] == [True, False]
    assert many[0].event_uuid

    bridge.validate_fields(
        "Payment__c",
        {"payment_id": "Payment_ID__c", "last4": "Last4Digits__c", "amount": "Amount__c"},
    )
    with pytest.raises(SalesforceFieldDriftError) as drift:
        bridge.validate_fields("Payment__c", {"name": "Name", "card": "Card_Number__c"})
    assert {(p.field, p.problem) for p in drift.value.problems} == {
        ("Name", "not createable"),
        ("Card_Number__c", "missing"),
    }

    state = emulator.state()
    assert bridge.api_usage is not None
    assert bridge.api_usage.used == state["api_usage"]["used"]


def test_query_include_deleted_reads_the_recycle_bin(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    [kept, gone] = bridge.create_many("Account", [{"Name": "Kept"}, {"Name": "Gone"}])
    # DELETE /sobjects/Account/<id> through simple-salesforce (the bridge itself never deletes)
    bridge.simple_salesforce.restful(f"sobjects/Account/{gone.id}", method="DELETE")
    soql = "SELECT Id, Name, IsDeleted FROM Account WHERE Id IN ({}, {})"
    live = [r.fields["Name"] for r in bridge.query(soql, kept.id, gone.id)]
    assert live == ["Kept"]
    every = {
        r.fields["Name"]: r.fields["IsDeleted"]
        for r in bridge.query(soql, kept.id, gone.id, include_deleted=True)
    }
    assert every == {"Kept": False, "Gone": True}


def test_call_options_header_reaches_the_server(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    bridge.count("SELECT COUNT() FROM Account")
    last = emulator.calls[-1]
    assert (last.method, last.path, last.client) == (
        "GET",
        "/services/data/v62.0/query/",
        "paysync",
    )


def test_token_expiry_mid_run_is_transparent(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    assert bridge.count("SELECT COUNT() FROM Account") == 3
    first = bridge.grant.session().access_token
    emulator.add_fault(Fault(kind="expire_session", path="/query"))
    assert bridge.count("SELECT COUNT() FROM Account") == 3
    assert bridge.grant.session().access_token != first
    # expiry between pages of a query is survived too, with the batch size header kept
    bridge.create_many("Contact", [{"LastName": f"P{i}"} for i in range(300)])
    emulator.add_fault(Fault(kind="expire_session", path="/query/01g"))
    assert len(list(bridge.query("SELECT Id FROM Contact", batch_size=200))) == 302


def test_quota_floor_and_exhausted_limit(emulator: SalesforceEmulator) -> None:
    emulator.set_api_usage(0, 20)
    bridge = password_bridge(emulator, quota_floor=15)
    bridge.count("SELECT COUNT() FROM Account")
    assert bridge.remaining_api_calls == 19
    emulator.set_api_usage(14, 20)
    bridge.count("SELECT COUNT() FROM Account")
    assert bridge.remaining_api_calls == 5
    with pytest.raises(SalesforceQuotaError):
        bridge.count("SELECT COUNT() FROM Account")
    unguarded = password_bridge(emulator)
    emulator.add_fault(Fault(kind="limit_exhausted"))
    with pytest.raises(SalesforceRequestLimitError):
        unguarded.count("SELECT COUNT() FROM Account")


def test_network_faults_map_to_connection_errors(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    bridge.count("SELECT COUNT() FROM Account")
    emulator.add_fault(Fault(kind="timeout_after_commit", method="POST"))
    with pytest.raises(SalesforceTimeoutError):
        bridge.create_many("Payment__c", [{"Payment_ID__c": "PAY-T", "Amount__c": 1}])
    # a create is never retried blindly: the write committed, resolve it by lookup
    assert bridge.count("SELECT COUNT() FROM Payment__c WHERE Payment_ID__c = {}", "PAY-T") == 1
    emulator.add_fault(Fault(kind="reset", method="POST"))
    with pytest.raises(SalesforceConnectionError):
        bridge.publish_event("Payment_Event__e", {"Payment_ID__c": "PAY-T"})


def test_idempotent_calls_are_retried(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    # an upsert by external id is safe to repeat: the retry finds the committed record
    emulator.add_fault(Fault(kind="timeout_after_commit", method="PATCH"))
    result = bridge.upsert("Payment__c", "Payment_ID__c", "PAY-R", {"Amount__c": 2})
    assert result.created is False  # the first (lost) attempt created it
    assert bridge.count("SELECT COUNT() FROM Payment__c WHERE Payment_ID__c = 'PAY-R'") == 1
    emulator.add_fault(Fault(kind="reset", path="/query"))
    emulator.add_fault(Fault(kind="status", status=500, error_code="UNABLE_TO_LOCK_ROW"))
    assert bridge.count("SELECT COUNT() FROM Account") == 3
    emulator.add_fault(Fault(kind="status", status=503, times=3))
    with pytest.raises(SalesforceServerError):
        bridge.count("SELECT COUNT() FROM Account")


def test_simple_salesforce_in_process(emulator: SalesforceEmulator) -> None:
    sf = Salesforce(
        instance_url=DEFAULT_BASE_URL, session_id="any-token", session=emulator_session(emulator)
    )
    created = sf.restful("sobjects/Account/", method="POST", json={"Name": "Via simple-salesforce"})
    assert created is not None
    assert created["success"]
    result = sf.query_all("SELECT Id, Name FROM Account WHERE Name = 'Via simple-salesforce'")
    assert result["totalSize"] == 1
    assert sf.api_usage["api-usage"].total == 15000


@pytest.fixture
def tls_server(emulator: SalesforceEmulator, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    server = serve(emulator, port=0, tls_dir=tmp_path)
    assert server.ca_path is not None
    try:
        yield server.url, server.ca_path
    finally:
        server.stop()


def test_simple_salesforce_over_tls(tls_server: tuple[str, Path]) -> None:
    url, ca = tls_server
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides session.verify
    session.verify = str(ca)
    sf = Salesforce(instance_url=url, session_id="any-token", session=session)
    payment = sf.Payment__c  # simple-salesforce's own dynamic API, on purpose
    assert isinstance(payment, SFType)
    status = payment.upsert("Payment_ID__c/PAY-TLS", {"Amount__c": 9.99})
    assert status == 201
    rows = sf.query("SELECT Id, Amount__c FROM Payment__c WHERE Payment_ID__c = 'PAY-TLS'")
    assert rows["records"][0]["Amount__c"] == 9.99
    assert "Payment_ID__c" in {f["name"] for f in payment.describe()["fields"]}
    session.close()


def test_bridge_over_tls_with_jwt(tls_server: tuple[str, Path], private_pem: bytes) -> None:
    url, ca = tls_server
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides session.verify
    session.verify = str(ca)
    grant = JwtBearerGrant(
        client_id="cid", username="u@acme.com", private_key=private_pem, login_url=url
    )
    bridge = SalesforceBridge(grant=grant, session=session)
    assert bridge.count("SELECT COUNT() FROM Order") == 1
    assert grant.session().org_id.startswith("00D")
    session.close()


def test_strict_mode(certificate_pem: bytes, private_pem: bytes) -> None:
    other_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    emulator = SalesforceEmulator(
        strict=True,
        users=[EmulatorUser("int@acme.com", "right")],
        apps=[ConnectedApp("cid", "secret", certificate=certificate_pem, run_as="int@acme.com")],
        refresh_tokens={"rt-1": "int@acme.com"},
    )
    http = emulator_session(emulator)

    def works(grant: SalesforceGrant) -> bool:
        bridge = SalesforceBridge(grant=grant, session=http)
        try:
            return bridge.count("SELECT COUNT() FROM Account") == 3
        except SalesforceAuthError:
            return False

    base = DEFAULT_BASE_URL
    assert works(
        JwtBearerGrant(
            client_id="cid", username="int@acme.com", private_key=private_pem, login_url=base
        )
    )
    assert not works(
        JwtBearerGrant(
            client_id="cid", username="int@acme.com", private_key=other_pem, login_url=base
        )
    )
    assert not works(
        JwtBearerGrant(
            client_id="cid", username="stranger@x", private_key=private_pem, login_url=base
        )
    )
    assert works(
        PasswordGrant(
            client_id="cid",
            client_secret="secret",
            username="int@acme.com",
            password="right",
            login_url=base,
        )
    )
    assert not works(
        PasswordGrant(
            client_id="cid",
            client_secret="secret",
            username="int@acme.com",
            password="wrong",
            login_url=base,
        )
    )
    assert works(
        ClientCredentialsGrant(client_id="cid", client_secret="secret", my_domain_url=base)
    )
    assert not works(
        ClientCredentialsGrant(client_id="cid", client_secret="nope", my_domain_url=base)
    )
    assert works(RefreshTokenGrant(client_id="cid", refresh_token="rt-1", login_url=base))
    assert not works(RefreshTokenGrant(client_id="cid", refresh_token="rt-2", login_url=base))
    forged = emulator_session(emulator).get(
        f"{base}/services/data/v62.0/limits", headers={"Authorization": "Bearer forged"}, timeout=5
    )
    assert forged.status_code == 401


def test_cli_prints_endpoints_and_serves_tls(tmp_path: Path) -> None:
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "salesforce_bridge.emulator",
            "--port",
            "0",
            "--tls",
            "--tls-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        rest = proc.stdout.readline().split()
        ca = proc.stdout.readline().split()
        assert rest[0] == "rest"
        assert rest[1].startswith("https://127.0.0.1:")
        assert ca == ["ca", str(tmp_path / "ca.pem")]
        answer = requests.get(f"{rest[1]}/services/data/", verify=ca[1], timeout=10)
        assert answer.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_many_threads_share_one_refresh(emulator: SalesforceEmulator) -> None:
    bridge = password_bridge(emulator)
    bridge.count("SELECT COUNT() FROM Account")
    emulator.tokens.expire_all()

    def count(_: int) -> int:
        return bridge.count("SELECT COUNT() FROM Account")

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(count, range(32)))
    assert counts == [3] * 32
    token_calls = [c for c in emulator.calls if c.path == "/services/oauth2/token"]
    assert len(token_calls) == 2  # the first login and one shared refresh


def test_socket_faults_over_tls(emulator: SalesforceEmulator, tls_server: tuple[str, Path]) -> None:
    url, ca = tls_server
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    headers = {"Authorization": "Bearer any"}
    create = f"{url}/services/data/v62.0/sobjects/Account/"
    emulator.add_fault(Fault(kind="reset", method="POST"))
    with pytest.raises(requests.ConnectionError):
        session.post(create, json={"Name": "Dropped"}, headers=headers, timeout=5)
    emulator.add_fault(Fault(kind="timeout_after_commit", method="POST", delay=0.6))
    with pytest.raises(requests.ReadTimeout):
        session.post(create, json={"Name": "Slow"}, headers=headers, timeout=0.2)
    emulator.add_fault(Fault(kind="status", status=429, retry_after=7))
    limited = session.get(f"{url}/services/data/v62.0/limits", headers=headers, timeout=5)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    names = {r["Name"] for r in emulator.state()["records"]["Account"]}
    assert "Slow" in names
    assert "Dropped" not in names
    session.close()
