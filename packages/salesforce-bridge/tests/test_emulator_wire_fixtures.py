"""Emulator answers compared with vendor fixture text: REST errors, versions, SOAP login and the
Bulk API 2.0 job lifecycle (key order, states, date format and CSV quoting)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests

from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ORG_ID,
    EmulatorUser,
    SalesforceEmulator,
    emulator_session,
)

V = f"{DEFAULT_BASE_URL}/services/data/v62.0"
BULK_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")

# Key order of the vendor's examples ("Step 6: Query Jobs", "Create a Job", "Get Job Info").
QUERY_CREATED = [
    "id",
    "operation",
    "object",
    "createdById",
    "createdDate",
    "systemModstamp",
    "state",
    "concurrencyMode",
    "contentType",
    "apiVersion",
    "lineEnding",
    "columnDelimiter",
]
QUERY_INFO = [
    *QUERY_CREATED[:10],
    "jobType",
    "lineEnding",
    "columnDelimiter",
    "numberRecordsProcessed",
    "retries",
    "totalProcessingTime",
    "isPkChunkingSupported",
]
INGEST_CREATED = [*QUERY_CREATED[:10], "contentUrl", "lineEnding", "columnDelimiter"]
INGEST_INFO = [
    *QUERY_CREATED[:10],
    "contentUrl",
    "jobType",
    "lineEnding",
    "columnDelimiter",
    "numberRecordsProcessed",
    "numberRecordsFailed",
    "retries",
    "totalProcessingTime",
    "apiActiveProcessingTime",
    "apexProcessingTime",
]


@pytest.fixture
def emulator() -> SalesforceEmulator:
    return SalesforceEmulator()


@pytest.fixture
def http(emulator: SalesforceEmulator) -> requests.Session:
    session = emulator_session(emulator)
    session.headers["Authorization"] = "Bearer any-token"
    return session


def _ordered(answer: requests.Response) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = json.loads(answer.text, object_pairs_hook=list)
    return pairs


# -- REST errors (reference §4) --------------------------------------------------------------


def test_invalid_session_body_is_the_fixture_text(emulator: SalesforceEmulator) -> None:
    answer = emulator_session(emulator).get(f"{V}/limits", timeout=5)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/json;charset=UTF-8"
    fixture = '[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]'
    assert json.dumps(answer.json(), separators=(",", ":")) == fixture


def test_limit_info_header_shape(http: requests.Session) -> None:
    answer = http.get(f"{V}/sobjects", timeout=5)
    assert re.fullmatch(r"api-usage=1/15000", answer.headers["Sforce-Limit-Info"])


def test_versions_list_labels_are_release_names(http: requests.Session) -> None:
    versions = http.get(f"{DEFAULT_BASE_URL}/services/data/", timeout=5).json()
    by_version = {v["version"]: v for v in versions}
    assert by_version["59.0"] == {
        "label": "Winter '24",
        "url": "/services/data/v59.0",
        "version": "59.0",
    }
    assert by_version["62.0"]["label"] == "Winter '25"
    assert by_version["66.0"]["label"] == "Spring '26"
    assert by_version["67.0"]["label"] == "Summer '26"  # the reference's docs version
    assert [list(v) for v in versions] == [["label", "url", "version"]] * len(versions)


def test_upsert_created_body_key_order(http: requests.Session) -> None:
    answer = http.patch(
        f"{V}/sobjects/Payment__c/Payment_ID__c/PAY-FX", json={"Amount__c": 1.5}, timeout=5
    )
    assert answer.status_code == 201
    assert [k for k, _ in _ordered(answer)] == ["id", "success", "errors", "created"]


# -- SOAP login -------------------------------------------------------------------------------


SOAP_BODY = """<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:urn="urn:partner.soap.sforce.com">
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>{user}</n1:username><n1:password>{password}</n1:password>
  </n1:login></env:Body>
</env:Envelope>"""


def test_soap_login_answer_and_fault() -> None:
    emulator = SalesforceEmulator(
        strict=True, users=[EmulatorUser("a&b@acme.com", "pw", security_token="TK")]
    )
    session = emulator_session(emulator)
    url = f"{DEFAULT_BASE_URL}/services/Soap/u/59.0"
    headers = {"content-type": "text/xml", "SOAPAction": "login"}
    good = session.post(
        url, SOAP_BODY.format(user="a&amp;b@acme.com", password="pwTK"), headers=headers, timeout=5
    )
    assert good.status_code == 200
    assert good.headers["Content-Type"] == "text/xml;charset=UTF-8"
    assert f"<serverUrl>{url}/{ORG_ID}</serverUrl>" in good.text
    assert f"<organizationId>{ORG_ID}</organizationId>" in good.text
    assert "<userName>a&amp;b@acme.com</userName>" in good.text
    session_id = re.search(r"<sessionId>([^<]+)</sessionId>", good.text)
    assert session_id is not None
    assert emulator.tokens.accepts(session_id.group(1))
    bad = session.post(
        url, SOAP_BODY.format(user="a&amp;b@acme.com", password="pw"), headers=headers, timeout=5
    )
    assert bad.status_code == 500
    message = "Invalid username, password, security token; or user locked out."
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in bad.text
    assert f"<faultstring>INVALID_LOGIN: {message}</faultstring>" in bad.text
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in bad.text
    assert f"<sf:exceptionMessage>{message}</sf:exceptionMessage>" in bad.text


# -- OAuth token endpoint errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "body"),
    [
        (
            {"grant_type": "authorization_code"},
            {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
        ),
        (
            {"grant_type": "password", "username": "u", "password": "p"},
            {"error": "invalid_client_id", "error_description": "client identifier invalid"},
        ),
        (
            {"grant_type": "refresh_token", "client_id": "c"},
            {"error": "invalid_grant", "error_description": "expired access/refresh token"},
        ),
    ],
)
def test_token_errors_have_the_oauth_shape(
    emulator: SalesforceEmulator, form: dict[str, str], body: dict[str, str]
) -> None:
    answer = emulator_session(emulator).post(
        f"{DEFAULT_BASE_URL}/services/oauth2/token", data=form, timeout=5
    )
    assert answer.status_code == 400
    assert _ordered(answer) == list(body.items())


# -- Bulk API 2.0 -----------------------------------------------------------------------------


def test_bulk_query_job_lifecycle_matches_the_walkthrough(http: requests.Session) -> None:
    spec = {"operation": "query", "query": "SELECT Id, Name FROM Account ORDER BY Name"}
    created = http.post(f"{V}/jobs/query", json=spec, timeout=5)
    assert created.status_code == 200
    body = created.json()
    assert list(body) == QUERY_CREATED
    assert (body["operation"], body["object"], body["state"]) == (
        "query",
        "Account",
        "UploadComplete",
    )
    assert (body["concurrencyMode"], body["contentType"], body["apiVersion"]) == (
        "Parallel",
        "CSV",
        62.0,
    )
    assert BULK_DATE.fullmatch(body["createdDate"])
    assert BULK_DATE.fullmatch(body["systemModstamp"])
    info = http.get(f"{V}/jobs/query/{body['id']}", timeout=5).json()
    assert list(info) == QUERY_INFO
    assert (info["state"], info["jobType"], info["numberRecordsProcessed"]) == (
        "JobComplete",
        "V2Query",
        3,
    )
    page = http.get(f"{V}/jobs/query/{body['id']}/results", params={"maxRecords": 2}, timeout=5)
    assert page.headers["Content-Type"].startswith("text/csv")
    assert page.headers["Sforce-NumberOfRecords"] == "2"
    lines = page.text.splitlines()
    assert lines[0] == '"Id","Name"'
    assert lines[1:] == ['"001000000000001AAA","Acme Corporation"', '"001000000000002AAA","Globex"']
    rest = http.get(
        f"{V}/jobs/query/{body['id']}/results",
        params={"maxRecords": 2, "locator": page.headers["Sforce-Locator"]},
        timeout=5,
    )
    assert rest.headers["Sforce-Locator"] == "null"
    assert len(list(csv.DictReader(io.StringIO(rest.text)))) == 1


def test_bulk_query_rejects_an_ingest_operation(http: requests.Session) -> None:
    answer = http.post(
        f"{V}/jobs/query",
        json={"operation": "insert", "query": "SELECT Id FROM Account"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "INVALIDJOB"


def test_bulk_ingest_job_lifecycle(http: requests.Session) -> None:
    created = http.post(
        f"{V}/jobs/ingest",
        json={"object": "account", "operation": "insert", "lineEnding": "LF"},
        timeout=5,
    )
    assert created.status_code == 200
    body = created.json()
    assert list(body) == INGEST_CREATED
    assert (body["object"], body["state"]) == ("Account", "Open")
    assert body["contentUrl"] == f"services/data/v62.0/jobs/ingest/{body['id']}/batches"
    upload = http.put(
        f"{V}/jobs/ingest/{body['id']}/batches",
        data=b"Name,Phone\nBulk One,555\n,556\n",
        headers={"Content-Type": "text/csv"},
        timeout=5,
    )
    assert (upload.status_code, upload.content) == (201, b"")
    closed = http.patch(
        f"{V}/jobs/ingest/{body['id']}", json={"state": "UploadComplete"}, timeout=5
    )
    assert closed.status_code == 200
    assert closed.json()["state"] == "UploadComplete"
    assert "numberRecordsProcessed" not in closed.json()
    info = http.get(f"{V}/jobs/ingest/{body['id']}", timeout=5).json()
    assert list(info) == INGEST_INFO
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
        "JobComplete",
        2,
        1,
    )
    # Vendor example: "sf__Id","sf__Created",Name,... then every value quoted.
    ok = http.get(f"{V}/jobs/ingest/{body['id']}/successfulResults", timeout=5).text
    [header, row] = ok.splitlines()
    assert header == '"sf__Id","sf__Created",Name,Phone'
    assert re.fullmatch(r'"001\w{15}","true","Bulk One","555"', row)
    failed = http.get(f"{V}/jobs/ingest/{body['id']}/failedResults", timeout=5).text
    assert failed.splitlines() == [
        '"sf__Id","sf__Error",Name,Phone',
        '"","REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --","","556"',
    ]
    unprocessed = http.get(f"{V}/jobs/ingest/{body['id']}/unprocessedrecords", timeout=5)
    assert unprocessed.text == "Name,Phone\n"


def test_bulk_aborted_job_lists_unprocessed_records(http: requests.Session) -> None:
    job = http.post(
        f"{V}/jobs/ingest", json={"object": "Contact", "operation": "insert"}, timeout=5
    ).json()
    http.put(
        f"{V}/jobs/ingest/{job['id']}/batches",
        data=b"LastName\nKept\n",
        headers={"Content-Type": "text/csv"},
        timeout=5,
    )
    aborted = http.patch(f"{V}/jobs/ingest/{job['id']}", json={"state": "Aborted"}, timeout=5)
    assert aborted.json()["state"] == "Aborted"
    rows = http.get(f"{V}/jobs/ingest/{job['id']}/unprocessedrecords", timeout=5).text
    assert rows.splitlines() == ["LastName", '"Kept"']
    again = http.patch(f"{V}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"}, timeout=5)
    assert again.status_code == 400


def test_bulk_ingest_unknown_object_is_invalid_job(http: requests.Session) -> None:
    answer = http.post(
        f"{V}/jobs/ingest", json={"object": "Nope__c", "operation": "insert"}, timeout=5
    )
    assert answer.status_code == 400
    assert answer.json() == [
        {"message": "InvalidJob : Unable to find object: Nope__c", "errorCode": "INVALIDJOB"}
    ]


# -- limits ------------------------------------------------------------------------------------


def test_per_app_usage_in_the_limit_header() -> None:
    emulator = SalesforceEmulator(
        api_limit=5000, per_app_limit=250, app_name="sample-connected-app"
    )
    emulator.set_api_usage(24)
    session = emulator_session(emulator)
    session.headers["Authorization"] = "Bearer t"
    answer = session.get(f"{V}/limits", timeout=5)
    # The reference's fixture: api-usage=25/5000; per-app-api-usage=17/250(appName=...)
    assert answer.headers["Sforce-Limit-Info"] == (
        "api-usage=25/5000; per-app-api-usage=25/250(appName=sample-connected-app)"
    )
    limits = answer.json()
    assert limits["DailyApiRequests"] == {"Max": 5000, "Remaining": 4975}
    assert list(limits) == sorted(limits)
    assert all(set(v) == {"Max", "Remaining"} for v in limits.values())
    assert {"DailyBulkV2QueryJobs", "HourlyPublishedPlatformEvents"} <= set(limits)


# -- sObject resources ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/sobjects/Account/001000000000001AAA", "HEAD,GET,PATCH,DELETE"),
        ("POST", "/sobjects/Account/001000000000001AAA", "HEAD,GET,PATCH,DELETE"),
        ("DELETE", "/sobjects/Account", "HEAD,GET,POST"),
        ("POST", "/sobjects/Account/describe", "HEAD,GET"),
    ],
)
def test_wrong_method_is_405_with_the_allowed_list(
    http: requests.Session, method: str, path: str, allowed: str
) -> None:
    answer = http.request(method, f"{V}{path}", json={}, timeout=5)
    assert answer.status_code == 405
    assert answer.json() == [
        {
            "message": f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
            "errorCode": "METHOD_NOT_ALLOWED",
        }
    ]


def test_external_id_paths_get_delete_and_refuse_other_fields(http: requests.Session) -> None:
    url = f"{V}/sobjects/Payment__c/Payment_ID__c/PAY-DEL"
    assert http.patch(url, json={"Amount__c": 2.5}, timeout=5).status_code == 201
    assert http.get(url, timeout=5).json()["Amount__c"] == 2.5
    not_ext = http.get(f"{V}/sobjects/Account/Name/Globex", timeout=5)
    assert not_ext.status_code == 404
    assert not_ext.json() == [
        {
            "message": "Provided external ID field does not exist or is not accessible: Name",
            "errorCode": "NOT_FOUND",
        }
    ]
    twins = http.get(f"{V}/sobjects/Account/Legacy_Ref__c/LEGACY-1", timeout=5)
    assert twins.status_code == 300
    assert len(twins.json()) == 2
    deleted = http.delete(url, timeout=5)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert http.get(url, timeout=5).status_code == 404


def test_soap_login_elements_are_where_the_official_pubsub_sample_reads_them() -> None:
    """forcedotcom/pub-sub-api ``PubSub.py`` indexes the answer by position, not by name."""
    session = emulator_session(SalesforceEmulator())
    answer = session.post(
        f"{DEFAULT_BASE_URL}/services/Soap/u/57.0/",
        SOAP_BODY.format(user="u@acme.com", password="pwTOKEN"),
        headers={"content-type": "text/xml", "SOAPAction": "login"},
        timeout=5,
    )
    result = ET.fromstring(answer.content.decode("utf-8"))[0][0][0]  # noqa: S314 - our emulator
    assert result[3].text == f"{DEFAULT_BASE_URL}/services/Soap/u/57.0/{ORG_ID}"
    session_id = result[4].text
    assert session_id is not None
    assert session_id.startswith(ORG_ID[:15] + "!")
    assert result[6][8].text == ORG_ID


def test_bulk_query_cells_locator_and_line_ending(http: requests.Session) -> None:
    spec = {
        "operation": "query",
        "query": "SELECT Id, IsDeleted, CreatedDate FROM Account ORDER BY Name",
        "lineEnding": "CRLF",
        "columnDelimiter": "PIPE",
    }
    job = http.post(f"{V}/jobs/query", json=spec, timeout=5).json()
    first = http.get(f"{V}/jobs/query/{job['id']}/results", params={"maxRecords": 2}, timeout=5)
    assert first.headers["Sforce-Locator"] == "Mg"  # base64("2"), cf. the docs' "MTAwMDA"
    header, row, *_ = first.text.split("\r\n")
    assert header == '"Id"|"IsDeleted"|"CreatedDate"'
    cells = row.split("|")
    assert cells[1] == '"false"'
    assert re.fullmatch(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"', cells[2])
    bad = http.get(f"{V}/jobs/query/{job['id']}/results", params={"locator": "!!"}, timeout=5)
    assert bad.status_code == 400


# -- event schemas (reference §4 "Event schema over REST") --------------------------------------


def test_event_schema_over_rest_matches_the_cometd_schema_id(http: requests.Session) -> None:
    by_name = http.get(f"{V}/sobjects/Payment_Event__e/eventSchema", timeout=5)
    assert by_name.status_code == 200
    schema = by_name.json()
    assert list(schema) == ["name", "namespace", "type", "fields", "uuid"]
    assert (schema["name"], schema["namespace"], schema["type"]) == (
        "Payment_Event__e",
        "com.sforce.eventbus",
        "record",
    )
    assert schema["fields"][:2] == [
        {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
        {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"},
    ]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", schema["uuid"])
    by_id = http.get(
        f"{V}/event/eventSchema/{schema['uuid']}", params={"payloadFormat": "COMPACT"}, timeout=5
    )
    assert by_id.json() == schema
    assert http.get(f"{V}/event/eventSchema/nope", timeout=5).status_code == 404
    cdc = http.get(f"{V}/sobjects/AccountChangeEvent/eventSchema", timeout=5).json()
    assert cdc["fields"][0]["name"] == "ChangeEventHeader"

    # A CometD subscriber sees the same id in data.schema.
    http.post(f"{V}/sobjects/Payment_Event__e/", json={"Payment_ID__c": "P-S"}, timeout=5)
    cometd = f"{DEFAULT_BASE_URL}/cometd/62.0"
    shake = http.post(
        cometd,
        json=[
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "supportedConnectionTypes": ["long-polling"],
                "ext": {"replay": True},
            }
        ],
        timeout=5,
    )
    assert "BAYEUX_BROWSER" in http.cookies  # the session jar keeps the cookie, as over TLS
    [reply] = shake.json()
    assert "id" not in reply  # no id sent, none echoed (never "id": null)
    client_id = reply["clientId"]
    channel = "/event/Payment_Event__e"
    http.post(
        cometd,
        json=[
            {
                "channel": "/meta/subscribe",
                "clientId": client_id,
                "subscription": channel,
                "ext": {"replay": {channel: -2}},
            }
        ],
        timeout=5,
    )
    delivered = http.post(
        cometd,
        json=[
            {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
        ],
        timeout=5,
    ).json()
    [event] = [m for m in delivered if m.get("channel") == channel]
    assert event["data"]["schema"] == schema["uuid"]


def test_head_is_answered_like_get(http: requests.Session) -> None:
    answer = http.head(f"{V}/sobjects/Account/describe", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_unknown_sobject_in_a_query_is_located(http: requests.Session) -> None:
    answer = http.get(f"{V}/query", params={"q": "SELECT Id FROM Nope__c"}, timeout=5)
    assert answer.status_code == 400
    [item] = answer.json()
    assert item["errorCode"] == "INVALID_TYPE"
    assert item["message"].startswith(
        "\nSELECT Id FROM Nope__c\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Nope__c' is not supported."
    )


def test_collections_retrieve_keeps_order_and_nulls(http: requests.Session) -> None:
    ids = "001000000000002AAA,001000000000zzzAAA,001000000000001AAA"
    got = http.get(
        f"{V}/composite/sobjects/Account", params={"ids": ids, "fields": "Id,Name"}, timeout=5
    )
    assert got.status_code == 200
    url = "/services/data/v62.0/sobjects/Account/001000000000002AAA"
    assert got.json() == [
        {
            "attributes": {"type": "Account", "url": url},
            "Id": "001000000000002AAA",
            "Name": "Globex",
        },
        None,
        {
            "attributes": {
                "type": "Account",
                "url": "/services/data/v62.0/sobjects/Account/001000000000001AAA",
            },
            "Id": "001000000000001AAA",
            "Name": "Acme Corporation",
        },
    ]
    posted = http.post(
        f"{V}/composite/sobjects/Account",
        json={"ids": ids.split(","), "fields": ["Id", "Name"]},
        timeout=5,
    )
    assert posted.json() == got.json()


def test_identity_service_refuses_a_bad_token_in_plain_text(emulator: SalesforceEmulator) -> None:
    session = emulator_session(emulator)
    session.headers["Authorization"] = "Bearer revoked"
    emulator.tokens.revoke("revoked")
    answer = session.get(f"{DEFAULT_BASE_URL}/services/oauth2/userinfo", timeout=5)
    assert (answer.status_code, answer.text) == (403, "Bad_OAuth_Token")
    assert answer.headers["Content-Type"].startswith("text/plain")
