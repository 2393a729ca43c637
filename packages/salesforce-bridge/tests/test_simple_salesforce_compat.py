"""Unmodified simple-salesforce 1.12 against the emulator: every login flow, paging, upsert,
describe and the exception it maps from our error bodies (reference §5)."""

from __future__ import annotations

import csv
import datetime
import io
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
    # Salesforce's text: the query, a caret under the bad token, its position, the message.
    message = (
        "\nSELECT Nope FROM Account\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Nope' on entity 'Account'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference "
        "your WSDL or the describe call for the appropriate names."
    )
    assert raised.value.content == [{"message": message, "errorCode": "INVALID_FIELD"}]


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


# -- Bulk API 2.0 through simple-salesforce's SFBulk2Handler -----------------------------------


def _bulk2(sf: Salesforce, sobject: str) -> Any:
    handler: Any = sf.bulk2
    return getattr(handler, sobject)


def test_bulk2_insert_reports_successes_and_failures(sf: Salesforce) -> None:
    contacts = _bulk2(sf, "Contact")
    [summary] = contacts.insert(
        records=[{"LastName": "Bulk A"}, {"LastName": ""}, {"LastName": "Bulk B"}], wait=0
    )
    assert (summary["numberRecordsProcessed"], summary["numberRecordsFailed"]) == (3, 1)
    records = contacts.get_all_ingest_records(summary["job_id"])
    ok = records["successfulRecords"]
    assert sorted(r["LastName"] for r in ok) == ["Bulk A", "Bulk B"]
    assert all(r["sf__Id"].startswith("003") and r["sf__Created"] == "true" for r in ok)
    [failed] = records["failedRecords"]
    assert failed["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert records["unprocessedRecords"] == []


def test_bulk2_query_pages_by_locator_and_query_all(sf: Salesforce, tmp_path: Any) -> None:
    accounts = _bulk2(sf, "Account")
    pages = list(
        accounts.query("SELECT Id, Name FROM Account ORDER BY Name", max_records=2, wait=0)
    )
    assert len(pages) == 2
    names = [row["Name"] for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert names == ["Acme Corporation", "Globex", "Initech"]
    everything = list(accounts.query_all("SELECT Id FROM Account", max_records=10, wait=0))
    assert len(list(csv.DictReader(io.StringIO(everything[0])))) == 3
    downloaded = accounts.download(
        "SELECT Name FROM Account", path=str(tmp_path), max_records=2, wait=0
    )
    assert [d["number_of_records"] for d in downloaded] == [2, 1]


def test_include_deleted_reads_the_recycle_bin(sf: Salesforce) -> None:
    account = sf.Account
    assert isinstance(account, SFType)
    created = account.create({"Name": "Soon Gone"})
    assert account.delete(created["id"]) == 204
    soql = "SELECT Id, IsDeleted FROM Account WHERE Name = 'Soon Gone'"
    assert sf.query_all(soql)["totalSize"] == 0
    deleted = sf.query_all(soql, include_deleted=True)  # GET .../queryAll/
    assert [(r["Id"], r["IsDeleted"]) for r in deleted["records"]] == [(created["id"], True)]
    [page] = list(_bulk2(sf, "Account").query_all(soql, wait=0))
    assert page.splitlines()[1] == f'"{created["id"]}","true"'


def test_updated_and_deleted_replication_calls(sf: Salesforce) -> None:
    account = sf.Account
    assert isinstance(account, SFType)
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    kept = account.create({"Name": "Replicated"})["id"]
    gone = account.create({"Name": "Replicated Then Gone"})["id"]
    account.delete(gone)
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    updated = account.updated(start, end)
    assert kept in updated["ids"]
    assert gone not in updated["ids"]
    assert updated["latestDateCovered"] == end.strftime("%Y-%m-%dT%H:%M:00.000+0000")
    deleted = account.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    with pytest.raises(SalesforceMalformedRequest):
        account.updated(end, start)
