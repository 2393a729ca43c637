"""Unmodified simple-salesforce 1.12 against the emulator: every login flow, paging, upsert,
describe and the exception it maps from our error bodies (reference §5)."""

from __future__ import annotations

from typing import Any, cast

import pytest
import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.login import SalesforceLogin

from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ConnectedApp,
    EmulatorAdapter,
    EmulatorUser,
    SalesforceEmulator,
    emulator_session,
)

LOGIN = "https://login.salesforce.com"
MY_DOMAIN = "https://acme.my.salesforce.com"


def _session(emulator: SalesforceEmulator, *bases: str) -> requests.Session:
    """simple-salesforce builds ``https://{domain}.salesforce.com`` itself: serve those hosts."""
    session = requests.Session()
    for base in bases:
        session.mount(base, EmulatorAdapter(emulator))
    return session


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def sf(emulator: SalesforceEmulator) -> Salesforce:
    return Salesforce(
        instance_url=DEFAULT_BASE_URL, session_id="any-token", session=emulator_session(emulator)
    )


# -- login -----------------------------------------------------------------------------------


def test_soap_login_with_security_token(emulator: SalesforceEmulator) -> None:
    """simple-salesforce's default flow: SOAP ``login`` with password + security token."""
    session = _session(emulator, LOGIN)
    sf = Salesforce(username="int@acme.com", password="pw", security_token="TOK", session=session)
    assert sf.sf_instance == "login.salesforce.com"  # serverUrl's host, as it parses it
    assert sf.session_id in emulator.tokens.issued
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 3


def test_soap_login_in_strict_mode_checks_password_and_token() -> None:
    emulator = SalesforceEmulator(
        strict=True, users=[EmulatorUser("int@acme.com", "pw", security_token="TOK")]
    )
    session = _session(emulator, LOGIN)
    session_id, instance = SalesforceLogin(
        username="int@acme.com", password="pw", security_token="TOK", session=session
    )
    assert (session_id in emulator.tokens.issued, instance) == (True, "login.salesforce.com")
    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        SalesforceLogin(
            username="int@acme.com", password="pw", security_token="WRONG", session=session
        )
    assert failed.value.code == "INVALID_LOGIN"
    assert failed.value.auth_message == (
        "Invalid username, password, security token; or user locked out."
    )
    assert "WRONG" not in str(failed.value)


def test_oauth_password_grant_via_consumer_key(emulator: SalesforceEmulator) -> None:
    session = _session(emulator, LOGIN)
    sf = Salesforce(
        username="int@acme.com",
        password="pw",
        consumer_key="cid",
        consumer_secret="cs",
        session=session,
    )
    assert sf.sf_instance == "login.salesforce.com"
    account = sf.Account
    assert isinstance(account, SFType)
    assert account.describe()["name"] == "Account"


def test_client_credentials_on_my_domain() -> None:
    emulator = SalesforceEmulator(
        strict=True, apps=[ConnectedApp("cid", client_secret="cs", run_as="int@acme.com")]
    )
    session = _session(emulator, MY_DOMAIN)
    sf = Salesforce(consumer_key="cid", consumer_secret="cs", domain="acme.my", session=session)
    assert sf.sf_instance == "acme.my.salesforce.com"
    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        Salesforce(consumer_key="cid", consumer_secret="bad", domain="acme.my", session=session)
    assert (failed.value.code, failed.value.auth_message) == (
        "invalid_client",
        "invalid client credentials",
    )


def test_jwt_bearer_with_private_key(certificate_pem: bytes, private_pem: bytes) -> None:
    emulator = SalesforceEmulator(
        strict=True,
        users=[EmulatorUser("int@acme.com", "pw")],
        apps=[ConnectedApp("cid", certificate=certificate_pem)],
    )
    session = _session(emulator, LOGIN)
    sf = Salesforce(
        username="int@acme.com",
        consumer_key="cid",
        privatekey=private_pem.decode(),
        session=session,
    )
    assert sf.session_id in emulator.tokens.issued
    with (
        pytest.raises(SalesforceAuthenticationFailed) as failed,
        pytest.warns(UserWarning, match="self-authorize"),
    ):
        Salesforce(
            username="stranger@acme.com",
            consumer_key="cid",
            privatekey=private_pem.decode(),
            session=session,
        )
    assert failed.value.auth_message == "user hasn't approved this consumer"


# -- data ------------------------------------------------------------------------------------


def test_query_all_follows_next_records_url(emulator: SalesforceEmulator, sf: Salesforce) -> None:
    rows = [{"LastName": f"P{i:03d}"} for i in range(450)]
    seeded = sf.session.post(
        f"{DEFAULT_BASE_URL}/__emulator__/seed", json={"records": {"Contact": rows}}, timeout=5
    )
    assert seeded.status_code == 200
    emulator.calls.clear()
    query = "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'P%' ORDER BY LastName"
    result = sf.query_all(query, headers={"Sforce-Query-Options": "batchSize=200"})
    assert (result["totalSize"], result["done"]) == (450, True)
    assert [r["LastName"] for r in result["records"]] == [f"P{i:03d}" for i in range(450)]
    paths = [c.path for c in emulator.calls]
    assert len(paths) == 3
    assert paths[0] == "/services/data/v59.0/query/"
    assert all(p.startswith("/services/data/v59.0/query/01g") for p in paths[1:])


def test_upsert_by_external_id_status_per_version(emulator: SalesforceEmulator) -> None:
    session = emulator_session(emulator)
    payment = Salesforce(instance_url=DEFAULT_BASE_URL, session_id="t", session=session).Payment__c
    assert isinstance(payment, SFType)
    assert payment.upsert("Payment_ID__c/PAY-SS", {"Amount__c": 5.0}) == 201
    assert payment.upsert("Payment_ID__c/PAY-SS", {"Amount__c": 6.0}) == 200  # API >= 46
    raw: Any = payment.upsert("Payment_ID__c/PAY-SS", {"Amount__c": 7.0}, raw_response=True)
    assert raw.json() == {"id": raw.json()["id"], "success": True, "errors": [], "created": False}
    old = Salesforce(
        instance_url=DEFAULT_BASE_URL, session_id="t", session=session, version="45.0"
    ).Payment__c
    assert isinstance(old, SFType)
    assert old.upsert("Payment_ID__c/PAY-SS", {"Amount__c": 8.0}) == 204  # API <= 45: no body
    record = payment.get_by_custom_id("Payment_ID__c", "PAY-SS")
    assert record["Amount__c"] == 8.0


def test_describe_and_global_describe(sf: Salesforce) -> None:
    everything = sf.describe()
    assert everything is not None
    names = {o["name"] for o in everything["sobjects"]}
    assert {"Account", "Contact", "Payment__c"} <= names
    account = sf.Account
    assert isinstance(account, SFType)
    described = account.describe()
    assert described["keyPrefix"] == "001"
    assert account.metadata()["objectDescribe"]["name"] == "Account"


def test_limits_and_api_usage(sf: Salesforce) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used >= 2


# -- error mapping (util.exception_handler) --------------------------------------------------


def test_bad_soql_is_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Nope FROM Account")
    assert raised.value.status == 400
    assert raised.value.content == [
        {"message": "No such column 'Nope' on entity 'Account'.", "errorCode": "INVALID_FIELD"}
    ]


def test_unknown_record_is_resource_not_found(sf: Salesforce) -> None:
    account = sf.Account
    assert isinstance(account, SFType)
    with pytest.raises(SalesforceResourceNotFound) as raised:
        account.get("001000000000zzzAAA")
    assert raised.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_expired_session_in_direct_mode(emulator: SalesforceEmulator, sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Account")  # the emulator has now seen the direct-mode token
    emulator.tokens.expire_all()
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_exhausted_limit_is_refused_request(emulator: SalesforceEmulator, sf: Salesforce) -> None:
    emulator.set_api_usage(15000)
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.status == 403
    assert raised.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_ambiguous_external_id_is_more_than_one_record(sf: Salesforce) -> None:
    account = sf.Account  # the seed has two accounts with Legacy_Ref__c = LEGACY-1
    assert isinstance(account, SFType)
    with pytest.raises(SalesforceMoreThanOneRecord) as raised:
        account.upsert("Legacy_Ref__c/LEGACY-1", {"Phone": "1"})
    assert raised.value.status == 300
    urls: list[str] = [str(u) for u in cast("list[Any]", raised.value.content)]
    assert len(urls) == 2
    assert all(u.startswith("/services/data/v59.0/sobjects/Account/001") for u in urls)


def test_per_app_usage_is_parsed_by_simple_salesforce() -> None:
    emulator = SalesforceEmulator(per_app_limit=250, app_name="paysync-app")
    sf = Salesforce(
        instance_url=DEFAULT_BASE_URL, session_id="t", session=emulator_session(emulator)
    )
    sf.query("SELECT Id FROM Account")
    per_app: Any = sf.api_usage["per-app-api-usage"]
    assert (per_app.used, per_app.total, per_app.name) == (1, 250, "paysync-app")
