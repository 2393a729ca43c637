"""The emulator driven the way PayTrace's public sample code drives PayTrace, over a real port.

No ``paytrace_client`` client code is used: plain module-level ``requests.post`` calls, an
OAuth password grant sent as a form body to ``/oauth/token``, then ``Authorization: Bearer``
JSON POSTs to ``/v1/...`` (reference 1, S1 ``Utilities.php`` / ``OAuthTokenGenerator.cs``).
Each response is read the way the samples read it: the HTTP status first, then ``success``,
``response_code`` and the ``errors`` object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from paytrace_client.emulator import EmulatorServer, PayTraceEmulator

from .conftest import START

ERR = "One or more errors has occurred."
TODAY = f"{START.month:02d}/{START.day:02d}/{START.year}"
SAMPLE_SALE: dict[str, Any] = {  # F12, as the PHP sample json_encode()s it
    "amount": "2.50",
    "credit_card": {
        "number": "4111111111111111",
        "expiration_month": "12",
        "expiration_year": "2020",
    },
    "csc": "999",
    "billing_address": {
        "name": "Mark Smith",
        "street_address": "8320 E. West St.",
        "city": "Spokane",
        "state": "WA",
        "zip": "85284",
    },
}


@pytest.fixture
def base_url(make_emulator: Any) -> Iterator[str]:
    emulator: PayTraceEmulator = make_emulator()
    with EmulatorServer(emulator) as server:
        yield server.base_url


class Sample:
    """PayTrace's sample flow: get a token, then POST JSON with the bearer header."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        reply = requests.post(
            base_url + "/oauth/token",
            data="grant_type=password&username=demo123&password=demo123",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        self.token: str = reply.json()["access_token"]

    def post(self, path: str, payload: dict[str, Any]) -> requests.Response:
        # PHP: curl with 'Content-type: application/json' and 'Authorization:Bearer <token>'.
        return requests.post(
            self.base_url + "/v1/" + path,
            data=json.dumps(payload),
            headers={"Content-type": "application/json", "Authorization": f"Bearer {self.token}"},
            timeout=10,
        )

    def ok(self, path: str, payload: dict[str, Any], code: int) -> dict[str, Any]:
        reply = self.post(path, payload)
        assert reply.status_code == 200, reply.text
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        body: dict[str, Any] = reply.json()
        assert (body["success"], body["response_code"]) == (True, code), body
        return body

    def error(self, path: str, payload: dict[str, Any], status: int = 400) -> dict[str, Any]:
        reply = self.post(path, payload)
        assert reply.status_code == status, reply.text
        body: dict[str, Any] = reply.json()
        assert (body["success"], body["response_code"]) == (False, 1)
        assert body["status_message"] == ERR
        return dict(body["errors"])


def test_token_response_and_headers(base_url: str) -> None:
    reply = requests.post(
        base_url + "/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": "demo123"},
        timeout=10,
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert (reply.headers["Cache-Control"], reply.headers["Pragma"]) == ("no-store", "no-cache")
    body = reply.json()
    assert list(body) == ["access_token", "token_type", "expires_in", "created_at"]
    assert (body["token_type"], body["expires_in"]) == ("bearer", 7200)
    assert body["created_at"] == int(START.timestamp())
    parts = body["access_token"].split(":")
    assert len(parts) == 3
    assert all(int(part, 16) >= 0 for part in parts)


def test_token_errors_as_the_samples_read_them(base_url: str) -> None:
    bad = requests.post(
        base_url + "/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": ""},
        timeout=10,
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "invalid_grant",
        "error_description": (
            "The provided authorization grant is invalid, expired, revoked, does not match the "
            "redirection URI used in the authorization request, or was issued to another client."
        ),
    }
    unauthorized = requests.post(
        base_url + "/v1/transactions/sale/keyed",
        json=SAMPLE_SALE,
        headers={"Authorization": "Bearer 0:0:0"},
        timeout=10,
    )
    assert unauthorized.status_code == 401
    assert unauthorized.json()["error"] == "invalid_token"
    assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer ")


def test_keyed_sale_and_sale_by_customer(base_url: str) -> None:
    api = Sample(base_url)
    sale = api.ok("transactions/sale/keyed", SAMPLE_SALE, 101)
    assert list(sale) == [
        "success",
        "response_code",
        "status_message",
        "transaction_id",
        "approval_code",
        "approval_message",
        "avs_response",
        "csc_response",
        "external_transaction_id",
        "masked_card_number",
    ]
    assert sale["status_message"] == "Your transaction was successfully approved."
    assert (sale["csc_response"], sale["masked_card_number"]) == ("Match", "xxxxxxxxxxxx1111")
    vault = api.ok(
        "transactions/sale/by_customer", {"amount": "5.49", "customer_id": "customerTest123"}, 101
    )
    assert vault["transaction_id"] == sale["transaction_id"] + 1
    # The C# samples serialize amount as a double and omit nothing: nulls must be tolerated.
    csharp = {**SAMPLE_SALE, "amount": 2.5, "csc": None, "billing_address": None}
    assert api.ok("transactions/sale/keyed", csharp, 101)["avs_response"] == "0"
    # The Guzzle sample: a numeric amount and a two-digit year.
    guzzle = {
        "amount": 19.99,
        "credit_card": {
            "number": "4111111111111111",
            "expiration_month": 12,
            "expiration_year": 20,
        },
    }
    api.ok("transactions/sale/keyed", guzzle, 101)


def test_authorization_capture_void_and_refund(base_url: str) -> None:
    api = Sample(base_url)
    auth = api.ok("transactions/authorization/keyed", {**SAMPLE_SALE, "amount": "10.00"}, 101)
    tid = auth["transaction_id"]
    captured = api.ok(
        "transactions/authorization/capture", {"transaction_id": tid, "amount": "8.00"}, 112
    )
    assert captured == {
        "success": True,
        "response_code": 112,
        "status_message": "Your transaction was successfully captured.",
        "transaction_id": tid,
        "external_transaction_id": "",
    }
    assert list(api.error("transactions/authorization/capture", {"transaction_id": tid})) == ["816"]
    to_void = api.ok("transactions/sale/keyed", {**SAMPLE_SALE, "amount": "3.00"}, 101)
    voided = api.ok("transactions/void", {"transaction_id": to_void["transaction_id"]}, 109)
    assert list(voided) == ["success", "response_code", "status_message", "transaction_id"]
    assert list(api.error("transactions/void", {"transaction_id": to_void["transaction_id"]})) == [
        "818"
    ]
    assert list(api.error("transactions/refund/for_transaction", {"transaction_id": tid})) == [
        "817"
    ]
    api.ok("transactions/settle", {}, 175)
    refund = api.ok("transactions/refund/for_transaction", {"transaction_id": tid}, 106)
    assert refund["status_message"] == "Your transaction was successfully refunded."
    assert refund["masked_card_number"] == "xxxxxxxxxxxx1111"
    assert list(api.error("transactions/void", {"transaction_id": tid})) == ["818"]
    keyed_refund = api.ok("transactions/refund/keyed", {**SAMPLE_SALE, "amount": "1.00"}, 106)
    assert keyed_refund["transaction_id"] > refund["transaction_id"]


def test_vault_create_update_delete(base_url: str) -> None:
    api = Sample(base_url)
    create = {  # CreateCustomerJson sample shape
        "customer_id": "customerTest122-Demo",
        "credit_card": {
            "number": "5454545454545454",
            "expiration_month": "12",
            "expiration_year": "2030",
        },
        "billing_address": SAMPLE_SALE["billing_address"],
    }
    assert api.ok("customer/create", create, 160) == {
        "success": True,
        "response_code": 160,
        "status_message": (
            "The customer profile for customerTest122-Demo/Mark Smith was successfully created"
        ),
        "customer_id": "customerTest122-Demo",
        "masked_card_number": "xxxxxxxxxxxx5454",
    }
    assert list(api.error("customer/create", create)) == ["171"]
    updated = api.ok(
        "customer/update",
        {"customer_id": "customerTest122-Demo", "email": "mark@example.com"},
        161,
    )
    assert updated["customer_id"] == "customerTest122-Demo"
    api.ok(
        "transactions/sale/by_customer",
        {"amount": "7.00", "customer_id": create["customer_id"]},
        101,
    )
    api.ok("customer/delete", {"customer_id": "customerTest122-Demo"}, 162)
    assert api.error(
        "transactions/sale/by_customer", {"amount": "7.00", "customer_id": "customerTest122-Demo"}
    ) == {"30": ["Customer ID, customerTest122-Demo, was not found or is incomplete."]}


def test_exports_by_id_date_range_and_batches(base_url: str) -> None:
    api = Sample(base_url)
    tid = api.ok("transactions/sale/keyed", {**SAMPLE_SALE, "invoice_id": "INV-77"}, 101)[
        "transaction_id"
    ]
    [record] = api.post("transactions/export/by_id", {"transaction_id": tid}).json()["transactions"]
    assert (record["transaction_id"], record["status_code"]) == (tid, "Y")
    assert record["status_message"] == "Pending Settlement"
    assert record["approval_code"].startswith("TAS")
    assert record["settled"] == ""
    with_bin = api.post("transactions/export/by_id", {"transaction_id": tid, "include_bin": True})
    assert with_bin.json()["transactions"][0]["credit_card"]["masked_number"] == (
        "411111xxxxxx1111"
    )
    ranged = api.post(
        "transactions/export/by_date_range", {"start_date": TODAY, "end_date": TODAY}
    ).json()
    assert ranged["success"] is True
    assert [t["transaction_id"] for t in ranged["transactions"]] == [tid]
    batch = api.ok("transactions/settle", {}, 175)["batch_number"]
    settled = api.post("transactions/export/by_id", {"transaction_id": tid}).json()
    record = settled["transactions"][0]
    # "GB or Settled ... and the batch number will be appended to the status" (S4).
    assert record["status_code"] == f"GB{batch}"
    assert str(batch) in record["status_message"]
    assert record["settled"]
    one = api.post("batches/export_one", {}).json()
    assert (one["success"], one["batch"]["number"]) == (True, batch)
    listing = api.post("batches/transaction_list", {"batch_number": batch}).json()
    assert [t["transaction_id"] for t in listing["transactions"]] == [tid]
    assert api.error("transactions/export/by_date_range", {"start_date": "2024-03-07"}) == {
        "49": ["Please provide a valid Start Date."],
        "50": ["Please provide a valid End Date."],
    }


def test_ach_check_sale(base_url: str) -> None:
    api = Sample(base_url)
    check = {"account_number": "123456", "routing_number": "325070760"}
    sale = api.ok("checks/sale/by_account", {"amount": "1.00", "check": check}, 120)
    assert sale == {
        "success": True,
        "response_code": 120,
        "status_message": "Your check was successfully processed.",
        "check_transaction_id": sale["check_transaction_id"],
    }
    api.ok("checks/sale/by_customer", {"amount": "2.00", "customer_id": "customerTest124-ach"}, 120)
    assert api.error(
        "checks/sale/by_account",
        {"amount": "1.00", "check": {"account_number": "1", "routing_number": "1"}},
    ) == {
        "45": ["Please provide a valid Checking Account Number."],
        "46": ["Please provide a valid Transit Routing Number."],
    }


def test_error_responses(base_url: str) -> None:
    api = Sample(base_url)
    bad_card = {
        **SAMPLE_SALE,
        "credit_card": {
            "number": "54545454545454",
            "expiration_month": "14",
            "expiration_year": "2030",
        },
    }
    reply = api.post("transactions/sale/keyed", bad_card)
    assert reply.status_code == 400
    assert reply.json()["errors"] == {
        "35": ["Please provide a valid Credit Card Number."],
        "43": ["Please provide a valid Expiration Month."],
    }
    declined = api.post("transactions/sale/keyed", {**SAMPLE_SALE, "amount": "0.29"})
    body = declined.json()
    assert (body["success"], body["response_code"]) == (False, 102)
    assert body["status_message"] == "Your transaction was not approved."
    assert body["approval_code"] == ""
    assert "errors" not in body
    assert api.error("transactions/void", {"transaction_id": 1}) == {
        "811": ["The Transaction ID that you provided was not found."]
    }
    assert api.error("transactions/void", {"transaction_id": "abc"}) == {
        "58": ["Please provide a valid Transaction ID."]
    }


def test_curl_style_bodies_and_paths(base_url: str) -> None:
    """What sloppy-but-working integrations send: PHP curl labels a JSON string as a form
    when the header is forgotten; Doorkeeper also reads token params from the query string;
    Rails ignores a trailing slash."""
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    in_query = requests.post(
        base_url + "/oauth/token?grant_type=password&username=demo123&password=demo123",
        timeout=10,
    )
    assert in_query.status_code == 200
    mislabeled = requests.post(
        base_url + "/oauth/token",
        data=json.dumps({"grant_type": "password", "username": "u1", "password": "p1"}),
        headers=form_type,
        timeout=10,
    )
    assert mislabeled.json()["token_type"] == "bearer"
    form_as_json = requests.post(
        base_url + "/oauth/token",
        data="grant_type=password&username=u1&password=p1",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert form_as_json.status_code == 200
    token = in_query.json()["access_token"]
    sale = requests.post(
        base_url + "/v1/transactions/sale/keyed/",
        data=json.dumps(SAMPLE_SALE),
        headers={**form_type, "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert sale.status_code == 200
    assert sale.json()["response_code"] == 101


def test_missing_customer_id_names_the_field(base_url: str) -> None:
    api = Sample(base_url)
    expected = {"38": ["Please provide a valid Customer ID."]}
    assert api.error("transactions/sale/by_customer", {"amount": "1.00"}) == expected
    assert api.error("customer/update", {"email": "a@example.com"}) == expected
    assert api.error("customer/delete", {}) == expected


def test_third_party_header_and_body_habits(base_url: str) -> None:
    """moqui sends ``Authorization: bearer <token>`` (lower case); ActiveMerchant puts
    username, password and integrator_id into every JSON body (reference 3.1)."""
    token = Sample(base_url).token
    body = {
        "amount": "1.00",
        "credit_card": {
            "number": "4012000098765439",
            "expiration_month": 9,
            "expiration_year": 2030,
        },
        "csc": "123",
        "password": "[FILTERED]",
        "username": "[FILTERED]",
        "integrator_id": "9575315uXt4u",
    }
    sale = requests.post(
        base_url + "/v1/transactions/sale/keyed",
        json=body,
        headers={"Authorization": f"bearer {token}", "Accept": "*/*"},
        timeout=10,
    )
    assert sale.status_code == 200
    tid = sale.json()["transaction_id"]
    export = requests.post(
        base_url + "/v1/transactions/export/by_id",
        data=json.dumps({"transaction_id": str(tid)}),
        headers={"Authorization": f"bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )
    [record] = export.json()["transactions"]
    assert (record["transaction_id"], record["status_code"]) == (tid, "Y")
