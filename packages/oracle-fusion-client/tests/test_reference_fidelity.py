"""The emulator against the verbatim fixtures and stated facts of the reference, driven by
plain ``requests`` as Oracle's curl examples are (no client code between test and wire).

Section numbers are those of ``fixtures/oracle-fusion-api.md`` (the vendored reference).
"""

from __future__ import annotations

import base64
import json
import re
from datetime import date
from pathlib import Path

import jwt
import pytest
import requests

from oracle_fusion_client import BasicAuth, CustomerAccountActivity, FusionClient, Query
from oracle_fusion_client.emulator import (
    AuthPolicy,
    EmulatorConfig,
    FusionEmulator,
    running_emulator,
)

BASE = "https://fusion.emulator"
ROOT = f"{BASE}/fscmRestApi/resources/11.13.18.05"
ITEM = "application/vnd.oracle.adf.resourceitem+json"
TODAY = date(2026, 3, 2)

REFERENCE = (Path(__file__).parent / "fixtures" / "oracle-fusion-api.md").read_text()


def _section(title: str) -> str:
    start = REFERENCE.index(title)
    end = REFERENCE.find("\n### ", start + 1)
    return REFERENCE[start : end if end > 0 else None]


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.S)
    assert match is not None, f"the reference no longer has {pattern!r}"
    return match.group(1)


# §3.1 Create_a_Standard_Receipt.html, the request exactly as the reference quotes it
RECEIPT_REQUEST = _find(
    r"Request verbatim \([^)]*\): `(\{.*?\})`", _section("### 3.1 standardReceipts")
)
# §3.1 the documented response key order, read from the reference line itself
_ORDER_LINE = _find(r"Response key order: `(.*?), links`", _section("### 3.1 standardReceipts"))
RECEIPT_KEY_ORDER = [
    *(part.split(":")[0].strip() for part in _ORDER_LINE.split(", ") if "*" not in part),
    # ``CreditCard*/CardHolder*`` spelt out from the electronic-method example of §3.1
    "CreditCardTokenNumber",
    "CardHolderFirstName",
    "CardHolderLastName",
    "CreditCardExpirationDate",
    "CreditCardIssuerCode",
]
# §3.2 Create_an_Invoice_with_Lines.html, the request block of the reference
INVOICE_REQUEST = _find(r"```json\n(.*?)```", _section("### 3.2 receivablesInvoices"))


@pytest.fixture
def emulator() -> FusionEmulator:
    return FusionEmulator(EmulatorConfig(today=lambda: TODAY))


@pytest.fixture
def http(emulator: FusionEmulator) -> requests.Session:
    """``curl --user <u>:<p>`` as a plain requests session."""
    session = emulator.session(BASE)
    session.auth = ("FIN_USER", "Welcome1")
    return session


def _post_receipt(http: requests.Session, **headers: str) -> requests.Response:
    return http.post(
        f"{ROOT}/standardReceipts",
        data=RECEIPT_REQUEST,
        headers={"Content-Type": ITEM, **headers},
    )


def _post_invoice(http: requests.Session) -> requests.Response:
    return http.post(
        f"{ROOT}/receivablesInvoices", data=INVOICE_REQUEST, headers={"Content-Type": ITEM}
    )


# -- §2 paths and context root ----------------------------------------------------------


def test_context_root_lists_the_version(http: requests.Session) -> None:
    response = http.get(f"{BASE}/fscmRestApi/resources")
    assert response.status_code == 200
    [version] = response.json()["items"]
    assert version["version"] == "11.13.18.05"
    assert version["isLatest"] is True
    extension = version["adf:extension"]
    assert extension["defaultFrameworkVersion"] == "1"
    assert {"1", "2", "3", "4"} <= set(extension["allowedFrameworkVersions"])


def test_latest_alias_serves_the_same_resource(http: requests.Session) -> None:
    created = _post_receipt(http).json()
    latest = http.get(
        f"{BASE}/fscmRestApi/resources/latest/standardReceipts/{created['StandardReceiptId']}"
    )
    assert latest.status_code == 200
    assert latest.json()["ReceiptNumber"] == "SKR_Receipt_1008"
    assert "/resources/latest/standardReceipts/" in latest.json()["links"][0]["href"]


# -- §3.1 standardReceipts --------------------------------------------------------------


def test_receipt_create_answers_the_documented_key_order(http: requests.Session) -> None:
    response = _post_receipt(http)
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith(ITEM)
    body = response.json()
    keys = list(body)
    documented = [k for k in keys if k in RECEIPT_KEY_ORDER]
    assert documented == RECEIPT_KEY_ORDER  # every documented key, in Oracle's order
    assert keys[-1] == "links"
    assert body["ReceiptDate"] == TODAY.isoformat()  # defaults to today
    assert body["Amount"] == 451.23
    assert body["RemittanceBankAllowOverride"] == "N"
    assert body["State"] == "Unapplied"
    assert body["Status"] == "Confirmed"
    assert body["CreditCardTokenNumber"] is None  # unset -> null
    assert body["CustomerName"] is None


def test_receipt_found_with_the_documented_q(http: requests.Session) -> None:
    receipt_id = _post_receipt(http).json()["StandardReceiptId"]
    found = http.get(f"{ROOT}/standardReceipts", params={"q": f"StandardReceiptId={receipt_id}"})
    assert [i["ReceiptNumber"] for i in found.json()["items"]] == ["SKR_Receipt_1008"]


def test_duplicate_receipt_error_in_both_framework_forms(http: requests.Session) -> None:
    assert _post_receipt(http).status_code == 201
    old = _post_receipt(http)
    assert old.status_code == 400
    assert old.headers["Content-Type"].startswith("text/plain")
    assert old.text == (
        "A receipt with this number, date, amount and customer already exists. "
        "Enter a unique receipt number."
    )
    new = _post_receipt(http, **{"REST-Framework-Version": "4"})
    assert new.status_code == 400
    body = new.json()
    # §2 Errors: type, title, status, detail, o:errorCode, o:errorPath, o:errorDetails
    assert list(body)[:7] == [
        "type",
        "title",
        "status",
        "detail",
        "o:errorCode",
        "o:errorPath",
        "o:errorDetails",
    ]
    assert body["title"] == "Bad Request"
    assert body["detail"] == old.text
    assert body["o:errorCode"] == "AR_RCP_DUP_NUM"
    assert body["o:errorDetails"][0]["o:errorCode"] == "AR_RCP_DUP_NUM"


def test_missing_attribute_message_is_oracles(http: requests.Session) -> None:
    payload = json.loads(RECEIPT_REQUEST)
    del payload["ReceiptMethod"]
    response = http.post(
        f"{ROOT}/standardReceipts", json=payload, headers={"REST-Framework-Version": "4"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "You must provide a value for the attribute ReceiptMethod."
    assert response.json()["o:errorCode"] == "FND_CMN_REQ_ATTRIB_API_SERV"


def test_accept_q0_suppresses_the_response_body(http: requests.Session) -> None:
    response = _post_receipt(http, Accept=f"{ITEM};q=0", **{"Accept-Encoding": "identity"})
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers.get("ETag")
    receipts = http.get(f"{ROOT}/standardReceipts").json()["items"]
    assert [r["ReceiptNumber"] for r in receipts] == ["SKR_Receipt_1008"]  # still created


# -- §2 ETag -----------------------------------------------------------------------------


def test_etag_if_none_match_304_and_if_match_412(http: requests.Session) -> None:
    invoice_id = _post_invoice(http).json()["CustomerTransactionId"]
    url = f"{ROOT}/receivablesInvoices/{invoice_id}"
    etag = http.get(url).headers["ETag"]
    not_modified = http.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    patched = http.patch(
        url, json={"PaymentTerms": "30 Net"}, headers={"If-Match": etag, "Content-Type": ITEM}
    )
    assert patched.status_code == 200
    stale = http.patch(url, json={"PaymentTerms": "30 Net"}, headers={"If-Match": etag})
    assert stale.status_code == 412


# -- §2 query parameters -------------------------------------------------------------------


def test_fields_with_a_child_and_fields_wins_over_expand(http: requests.Session) -> None:
    invoice_id = _post_invoice(http).json()["CustomerTransactionId"]
    url = f"{ROOT}/receivablesInvoices/{invoice_id}"
    item = http.get(
        url,
        params={
            "fields": "CustomerTransactionId;receivablesInvoiceLines:Description",
            "onlyData": "true",
        },
    ).json()
    assert item == {
        "CustomerTransactionId": invoice_id,
        "receivablesInvoiceLines": [
            {"Description": "Laptop"},
            {"Description": "Battery"},
            {"Description": "Charger"},
        ],
    }
    fields_only = http.get(
        url,
        params={"fields": "CustomerTransactionId", "expand": "all", "onlyData": "true"},
    ).json()
    assert fields_only == {"CustomerTransactionId": invoice_id}


def test_expanded_children_are_collections_from_framework_3(http: requests.Session) -> None:
    invoice_id = _post_invoice(http).json()["CustomerTransactionId"]
    url = f"{ROOT}/receivablesInvoices/{invoice_id}"
    params = {"expand": "receivablesInvoiceLines", "onlyData": "true"}
    v2 = http.get(url, params=params, headers={"REST-Framework-Version": "2"}).json()
    assert isinstance(v2["receivablesInvoiceLines"], list)
    v3 = http.get(url, params=params, headers={"REST-Framework-Version": "3"}).json()
    lines = v3["receivablesInvoiceLines"]
    assert lines["hasMore"] is False
    assert lines["count"] == 3
    assert [line["Description"] for line in lines["items"]] == ["Laptop", "Battery", "Charger"]


def test_collection_shape_paging_defaults_and_cap(
    http: requests.Session, emulator: FusionEmulator
) -> None:
    for n in range(30):
        payload = {**json.loads(RECEIPT_REQUEST), "ReceiptNumber": f"P-{n:02d}"}
        assert http.post(f"{ROOT}/standardReceipts", json=payload).status_code == 201
    page = http.get(f"{ROOT}/standardReceipts").json()
    assert list(page) == ["items", "count", "hasMore", "limit", "offset", "links"]
    assert (page["count"], page["hasMore"], page["limit"], page["offset"]) == (25, True, 25, 0)
    assert "totalResults" not in page  # only when requested
    assert page["links"] == [
        {
            "rel": "self",
            "href": f"{ROOT}/standardReceipts",
            "name": "standardReceipts",
            "kind": "collection",
        }
    ]
    item_link = page["items"][0]["links"][0]
    assert (item_link["rel"], item_link["kind"]) == ("self", "item")
    capped = http.get(f"{ROOT}/standardReceipts", params={"limit": "1000", "totalResults": "true"})
    assert capped.json()["limit"] == 500
    assert capped.json()["totalResults"] == 30
    last = http.get(
        f"{ROOT}/standardReceipts",
        params={"limit": "10", "offset": "25", "orderBy": "ReceiptNumber:desc", "onlyData": "true"},
    ).json()
    assert (last["count"], last["hasMore"]) == (5, False)
    assert [i["ReceiptNumber"] for i in last["items"]] == [f"P-{n:02d}" for n in range(4, -1, -1)]
    assert "links" not in last
    assert "links" not in last["items"][0]


def test_finder_syntax(http: requests.Session) -> None:
    _post_receipt(http)
    found = http.get(
        f"{ROOT}/standardReceipts",
        params={
            "finder": "ReceiptsFinder;ReceiptNumber=SKR_Receipt_1008,BusinessUnit=Vision Operations"
        },
    )
    assert found.json()["count"] == 1


# -- §2 batch --------------------------------------------------------------------------------


def test_batch_failure_returns_only_the_failing_part(
    http: requests.Session, emulator: FusionEmulator
) -> None:
    good = json.loads(RECEIPT_REQUEST)
    bad = {**good, "ReceiptNumber": "B-2", "BusinessUnit": "Nowhere"}
    response = http.post(
        ROOT,
        json={
            "parts": [
                {
                    "id": "part1",
                    "path": "/standardReceipts",
                    "operation": "create",
                    "payload": good,
                },
                {"id": "part2", "path": "/standardReceipts", "operation": "create", "payload": bad},
            ]
        },
        headers={
            "Content-Type": "application/vnd.oracle.adf.batch+json",
            "REST-Framework-Version": "4",
        },
    )
    assert response.status_code == 400
    [part] = response.json()["parts"]
    assert (part["id"], part["path"], part["operation"]) == ("part2", "/standardReceipts", "create")
    assert part["payload"]["o:errorCode"] == "AR_RAPI_BU_INVALID"
    assert part["payload"]["detail"] == "The business unit is invalid."
    assert emulator.state.records["standardReceipts"] == {}  # nothing processed


# -- §3.4 read-only resource ----------------------------------------------------------------


def test_account_activities_post_not_supported(http: requests.Session) -> None:
    response = http.post(
        f"{ROOT}/receivablesCustomerAccountActivities",
        json={"AccountNumber": "1008"},
        headers={"REST-Framework-Version": "4"},
    )
    assert response.status_code == 405
    assert response.json()["title"] == "Method Not Allowed"
    assert "isn't supported" in response.json()["detail"]


def test_customer_account_activity_model_reads_either_child_form() -> None:
    schedule = {"PaymentScheduleId": 1, "BalanceDue": "10.00"}
    bare = CustomerAccountActivity.model_validate(
        {"AccountId": 1, "transactionPaymentSchedules": [schedule]}
    )
    wrapped = CustomerAccountActivity.model_validate(
        {"AccountId": 1, "transactionPaymentSchedules": {"items": [schedule], "hasMore": False}}
    )
    assert bare.transactionPaymentSchedules == wrapped.transactionPaymentSchedules
    assert wrapped.transactionPaymentSchedules is not None
    assert len(wrapped.transactionPaymentSchedules) == 1


# -- §5.1 erpintegrations ---------------------------------------------------------------------


def test_erpintegrations_import_echoes_and_polls(http: requests.Session) -> None:
    request = {
        "OperationName": "importBulkData",
        "DocumentContent": base64.b64encode(b"not a zip").decode(),
        "ContentType": "zip",
        "FileName": "PozSuppliersInt100009.zip",
        "DocumentAccount": "prc$/supplier$/import$",
        "JobName": "/oracle/apps/ess/prc/poz/supplierImport,ImportSuppliers",
        "ParameterList": "NEW,Y,Batch_1",
        "CallbackURL": "#NULL",
        "NotificationCode": "10",
        "JobOptions": "InterfaceDetails=1,ImportOption=Y,PurgeOption=Y,ExtractFileType=ALL",
    }
    created = http.post(f"{ROOT}/erpintegrations", json=request)
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in request} == request  # the request echoed
    assert isinstance(body["ReqstId"], str)
    statuses = [
        http.get(
            f"{ROOT}/erpintegrations",
            params={"finder": f"ESSJobStatusRF;requestId={body['ReqstId']}"},
        ).json()["items"][0]["RequestStatus"]
        for _ in range(3)
    ]
    assert statuses[:2] == ["WAIT", "RUNNING"]
    assert statuses[2] in {"SUCCEEDED", "ERROR", "WARNING"}
    details = http.get(
        f"{ROOT}/erpintegrations",
        params={"finder": f"ESSJobExecutionDetailsRF;requestId={body['ReqstId']},fileType=ALL"},
    ).json()["items"][0]
    assert base64.b64decode(details["DocumentContent"])[:2] == b"PK"


# -- §1 token relay -------------------------------------------------------------------------


def test_token_relay_answers_oracles_shape_and_the_token_works() -> None:
    strict = EmulatorConfig(auth=AuthPolicy(strict=True, users={"SALES_ADMIN": "pw"}))
    with running_emulator(FusionEmulator(strict)) as (url, _):
        relay = requests.get(
            f"{url}/fscmRestApi/tokenrelay", auth=("SALES_ADMIN", "pw"), timeout=10
        )
        assert relay.status_code == 200
        body = relay.json()
        assert list(body) == ["principal", "expires_in", "token_type", "access_token"]
        assert body["principal"] == "SALES_ADMIN"
        assert body["expires_in"] == 14400000
        assert body["token_type"] == "JWT"
        header = jwt.get_unverified_header(body["access_token"])
        assert (header["alg"], header["typ"], header["kid"]) == ("RS256", "JWT", "trustservice")
        assert len(header["x5t"]) == 27
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["iss"] == "www.oracle.com"
        assert claims["sub"] == claims["prn"] == "SALES_ADMIN"
        assert claims["exp"] - claims["iat"] == 14400
        used = requests.get(
            f"{url}/fscmRestApi/resources/11.13.18.05/standardReceipts",
            headers={"Authorization": f"Bearer {body['access_token']}"},
            timeout=10,
        )
        assert used.status_code == 200
        refused = requests.get(
            f"{url}/fscmRestApi/tokenrelay", auth=("SALES_ADMIN", "no"), timeout=10
        )
        assert refused.status_code == 401
        forged = body["access_token"][:-4] + "AAAA"
        rejected = requests.get(
            f"{url}/fscmRestApi/resources/11.13.18.05/standardReceipts",
            headers={"Authorization": f"Bearer {forged}"},
            timeout=10,
        )
        assert rejected.status_code == 401


def test_framework_6_repeats_the_etag_in_the_body(http: requests.Session) -> None:
    receipt_id = _post_receipt(http).json()["StandardReceiptId"]
    url = f"{ROOT}/standardReceipts/{receipt_id}"
    v4 = http.get(url, headers={"REST-Framework-Version": "4"})
    assert "@context" not in v4.json()
    v6 = http.get(url, headers={"REST-Framework-Version": "6"})
    assert v6.json()["@context"]["headers"]["ETag"] == v6.headers["ETag"]
    assert v6.json()["@context"]["key"] == str(receipt_id)


def test_q_v2_shorthand_of_the_reference_and_v1_query_by_example(
    http: requests.Session,
) -> None:
    for number, amount in (("R0", 5), ("R1", 15), ("R2", 25), ("R3", 35)):
        payload = {**json.loads(RECEIPT_REQUEST), "ReceiptNumber": number, "Amount": amount}
        assert http.post(f"{ROOT}/standardReceipts", json=payload).status_code == 201

    def numbers(q: str, version: str) -> list[str]:
        response = http.get(
            f"{ROOT}/standardReceipts",
            params={"q": q, "fields": "ReceiptNumber", "onlyData": "true"},
            headers={"REST-Framework-Version": version},
        )
        assert response.status_code == 200, response.text
        return [i["ReceiptNumber"] for i in response.json()["items"]]

    # §2: "(Deptno>=10 and <= 30) and (Loc!=NY)", the attribute implied after "and"
    assert numbers("(Amount>=10 and <= 30) and (ReceiptNumber!=R2)", "2") == ["R1"]
    assert numbers("ReceiptNumber IN ('R0', 'R3')", "2") == ["R0", "R3"]
    assert numbers("Amount>=10;Amount<=30", "1") == ["R1", "R2"]
    bad = http.get(f"{ROOT}/standardReceipts", params={"q": "(Amount>=10"})
    assert bad.status_code == 400


def test_remittance_reference_timestamps_take_the_reference_forms(
    http: requests.Session,
) -> None:
    receipt_id = _post_receipt(http).json()["StandardReceiptId"]
    reference = http.post(
        f"{ROOT}/standardReceipts/{receipt_id}/child/remittanceReferences",
        json={
            "ReceiptMatchBy": "Purchase Order",
            "ReferenceNumber": "SK_PO_1012",
            "ReferenceAmount": "8774.45",
        },
    )
    assert reference.status_code == 201
    body = reference.json()
    assert isinstance(body["RemittanceReferenceId"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", body["CreationDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", body["LastUpdateDate"])


def test_child_collection_pages_like_any_collection(http: requests.Session) -> None:
    invoice_id = _post_invoice(http).json()["CustomerTransactionId"]
    url = f"{ROOT}/receivablesInvoices/{invoice_id}/child/receivablesInvoiceLines"
    first = http.get(url, params={"limit": "2"}).json()
    assert (first["count"], first["hasMore"], first["limit"]) == (2, True, 2)
    assert first["links"] == [
        {"rel": "self", "href": url, "name": "receivablesInvoiceLines", "kind": "collection"}
    ]
    rest = http.get(url, params={"offset": "2", "fields": "Description", "onlyData": "true"}).json()
    assert rest["items"] == [{"Description": "Charger"}]
    assert rest["hasMore"] is False
    cheap = http.get(url, params={"q": "UnitSellingPrice<100", "orderBy": "LineNumber:desc"})
    assert [line["Description"] for line in cheap.json()["items"]] == ["Charger"]


def test_unsupported_media_type_is_415(http: requests.Session) -> None:
    response = http.post(
        f"{ROOT}/standardReceipts",
        data=RECEIPT_REQUEST,
        headers={"Content-Type": "text/plain", "REST-Framework-Version": "4"},
    )
    assert response.status_code == 415
    assert response.json()["title"] == "Unsupported Media Type"
    assert http.get(f"{ROOT}/standardReceipts").json()["count"] == 0


def test_legacy_soap_address_serves_the_same_service(http: requests.Session) -> None:
    wsdl = http.get(f"{BASE}/publicFinancialCommonErpIntegration/ErpIntegrationService?wsdl")
    assert wsdl.status_code == 200
    assert f"{BASE}/publicFinancialCommonErpIntegration/ErpIntegrationService" in wsdl.text
    assert "ErpIntegrationServiceSoapHttpPort" in wsdl.text


def test_order_by_a_fractional_amount_is_numeric(http: requests.Session) -> None:
    invoice_id = _post_invoice(http).json()["CustomerTransactionId"]
    url = f"{ROOT}/receivablesInvoices/{invoice_id}/child/receivablesInvoiceLines"
    ordered = http.get(url, params={"orderBy": "UnitSellingPrice:asc"}).json()["items"]
    assert [line["UnitSellingPrice"] for line in ordered] == [65.45, 102.15, 1299.99]


def test_actions_are_not_enabled_for_batch(http: requests.Session) -> None:
    receipt_id = _post_receipt(http).json()["StandardReceiptId"]
    response = http.post(
        ROOT,
        json={
            "parts": [
                {
                    "id": "part1",
                    "path": f"/standardReceipts/{receipt_id}/action/applyReceipt",
                    "operation": "create",
                    "payload": {"amountApplied": 1},
                }
            ]
        },
        headers={"Content-Type": "application/vnd.oracle.adf.batch+json"},
    )
    assert response.status_code == 400
    assert response.text == "The action applyReceipt isn't enabled for batch execution."


def test_date_effective_and_sandbox_headers_are_accepted(http: requests.Session) -> None:
    response = _post_receipt(
        http,
        **{
            "Effective-Of": "RangeMode=UPDATE;RangeStartDate=2026-03-02",
            "Metadata-Context": 'sandbox="PaysyncSandbox"',
            "Upsert-Mode": "false",
        },
    )
    assert response.status_code == 201


def test_client_reads_framework_4_expanded_children(emulator: FusionEmulator) -> None:
    client = FusionClient(
        base_url=BASE, auth=BasicAuth("FIN_USER", "Welcome1"), session=emulator.session(BASE)
    )
    assert client.http.framework_version == "4"
    raw = emulator.session(BASE)
    raw.auth = ("FIN_USER", "Welcome1")
    invoice_id = _post_invoice(raw).json()["CustomerTransactionId"]
    fetched = client.receivables_invoices.get(
        invoice_id, Query(expand=["receivablesInvoiceLines", "receivablesInvoiceInstallments"])
    )
    lines = fetched.model.receivablesInvoiceLines or []
    assert [line.Description for line in lines] == ["Laptop", "Battery", "Charger"]
    installments = fetched.model.receivablesInvoiceInstallments or []
    assert isinstance(installments[0]["InstallmentId"], int)


# -- §3.3 receivablesCreditMemos ------------------------------------------------------------

CREDIT_MEMO = {
    "BusinessUnit": "Vision Operations",
    "TransactionSource": "Manual",
    "TransactionType": "Credit Memo",
    "TransactionDate": "2018-02-20",
    "BillToCustomerName": "Total Internet",
    "BillToCustomerNumber": "1008",
    "ShipToCustomerSite": "1042",
    "CreditMemoComments": "Damaged goods",
    "GenerateBill": "Yes",
    "CreditMemoCurrency": "EUR",
    "ConversionRateType": "User",
    "ConversionRate": "0.8751",
    "CreditReason": "Damaged",
    "receivablesCreditMemoLines": [
        {
            "LineDescription": "Item-01",
            "LineNumber": 1,
            "LineQuantityCredit": 2,
            "UnitSellingPrice": -5243,
            "TaxClassificationCode": "VAT20",
        }
    ],
}


def test_credit_memo_create_get_and_patch_with_etag(http: requests.Session) -> None:
    created = http.post(f"{ROOT}/receivablesCreditMemos", json=CREDIT_MEMO)
    assert created.status_code == 201
    body = created.json()
    assert body["CreditMemoCurrency"] == "EUR"
    assert body["receivablesCreditMemoLines"][0]["UnitSellingPrice"] == -5243
    url = f"{ROOT}/receivablesCreditMemos/{body['CustomerTransactionId']}"
    etag = http.get(url).headers["ETag"]
    patched = http.patch(url, json={"CreditMemoComments": "Returned"}, headers={"If-Match": etag})
    assert patched.status_code == 200
    assert patched.json()["CreditMemoComments"] == "Returned"
    assert (
        http.patch(url, json={"CreditMemoComments": "x"}, headers={"If-Match": etag}).status_code
        == 412
    )
    refused = http.patch(url, json={"CreditMemoCurrency": "USD"})
    assert refused.status_code == 400
    assert refused.text == "The attribute CreditMemoCurrency can't be updated."
    assert http.delete(url).status_code == 405  # no DELETE on credit memos


def test_etag_lists_and_wildcards(http: requests.Session) -> None:
    invoice_id = _post_invoice(http).json()["CustomerTransactionId"]
    url = f"{ROOT}/receivablesInvoices/{invoice_id}"
    etag = http.get(url).headers["ETag"]
    assert http.get(url, headers={"If-None-Match": "*"}).status_code == 304
    assert http.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.patch(url, json={}, headers={"If-Match": '"a", "b"'}).status_code == 412
    assert http.patch(url, json={}, headers={"If-Match": "*"}).status_code == 200
