"""Raw response text against the reference fixtures (section 8), byte for byte.

Each fixture below is copied verbatim from ``paytrace-api.md``. Only values PayTrace
assigns per call (transaction ids, approval codes, tokens, timestamps) are replaced by the
emulator's; the result is re-serialised compactly *in the fixture's key order* and compared
with the emulator's response text, so key order, JSON types, spacing inside messages and
absent/extra keys all count.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from paytrace_client.emulator import PayTraceEmulator

from .conftest import BASE, Wire

F1 = '{"success":true,"response_code":101,"status_message":"Your transaction was successfully approved.","transaction_id":395970044,"approval_code":"TAS679","approval_message":"  NO  MATCH - Approved and completed","avs_response":"No Match","csc_response":"","external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F1B = '{"success":true,"response_code":101,"status_message":"Your transaction was successfully approved.","transaction_id":178349480,"approval_code":"TAS867","approval_message":"APPROVAL TAS867  - Approved and completed","avs_response":"0","csc_response":"Match","external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F2 = '{"success":false,"response_code":102,"status_message":"Your transaction was not approved.","transaction_id":178803407,"approval_code":"","approval_message":"    DECLINE      - Do not honor","avs_response":"0","csc_response":"Match","discretionary_data":{"BALANCEAMOUNT":"11111.11"},"external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F3 = '{"success":false,"response_code":102,"status_message":"Your transaction was not approved.","transaction_id":395971008,"approval_code":"","approval_message":"  EXPIRED CARD - Expired card","avs_response":"No Match","csc_response":"","external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F4_OK = '{"success":true,"response_code":112,"status_message":"Your transaction was successfully captured.","transaction_id":392442990,"external_transaction_id":""}'  # noqa: E501
F4_ERR = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"816":["The Transaction ID that you provided could not be captured. Only uncaptured, approved authorizations can be captured."]},"external_transaction_id":""}'  # noqa: E501
F5_OK = '{"success":true,"response_code":106,"status_message":"Your transaction was successfully refunded.","transaction_id":179066852,"external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F5_ERR = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"817":["The Transaction ID that you provided could not be refunded. Only settled transactions can be refunded.  Please try to void the transaction instead."]},"external_transaction_id":""}'  # noqa: E501
F6_OK = '{"success":true,"response_code":109,"status_message":"Your transaction was successfully voided.","transaction_id":395971574}'  # noqa: E501
F6_ERR = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"818":["The Transaction ID that you provided could not be voided. Only transactions that are pending settlement can be voided."]}}'  # noqa: E501
F6_58 = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"58":["Please provide a valid Transaction ID."]}}'  # noqa: E501
F7_OK = '{"success":true,"response_code":160,"status_message":"The customer profile for customerTest150/Steve Smith was successfully created","customer_id":"customerTest150","masked_card_number":"xxxxxxxxxxxx1111"}'  # noqa: E501
F7_ERR = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"171":["Please provide a unique customer ID."]},"masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F9 = '{"success":true,"response_code":170,"status_message":"Visa/MasterCard enhanced data was successfully added to Transaction ID 392483066. 1 line item records were created."}'  # noqa: E501
F10_OK = '{ "success":true, "response_code":120, "status_message":"Your check was successfully processed.", "check_transaction_id":981619 }'  # noqa: E501
F10_DECLINE = '{ "success":false, "response_code":125, "status_message":"Your check was NOT successfully processed.", "check_transaction_id":981610, "ach_code":0, "ach_message":"" }'  # noqa: E501
F10_ERR = '{ "success":false, "response_code":1, "status_message":"One or more errors has occurred.", "errors":{ "30":[ "Customer ID, customerid123, was not found or is incomplete." ], "45":[ "Please provide a valid Checking Account Number." ], "46":[ "Please provide a valid Transit Routing Number." ] } }'  # noqa: E501
F11 = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"981":["Log in failed for insufficient permissions."]},"external_transaction_id":""}'  # noqa: E501
F13_EXT = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"811":["The Transaction ID that you provided was not found."]},"external_transaction_id":""}'  # noqa: E501
F13_VOID = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"811":["The Transaction ID that you provided was not found."]}}'  # noqa: E501
TOKEN = '{"access_token":"143647966756d45627368616e647:143647966756d45627368616e647132333:e1d68ca375e89dea80f7f3009ba3c52d965d1126c85ebc90edd9e6c751c4bf05","token_type":"bearer","expires_in":7200,"created_at":1507667632}'  # noqa: E501
INVALID_GRANT = '{"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."}'  # noqa: E501

CARD_5439 = {"number": "4012000098765439", "expiration_month": 9, "expiration_year": 2030}
CARD_1111 = {"number": "4111111111111111", "expiration_month": "12", "expiration_year": "2030"}
OTTAWA = {
    "name": "Longbob Longsen",
    "street_address": "456 My Street",
    "city": "Ottawa",
    "state": "ON",
    "zip": "K1C2N6",
}


def expect(reply: requests.Response, fixture: str, status: int, **assigned: Any) -> None:
    """``reply`` is ``fixture`` with ``assigned`` per-call values, byte for byte."""
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    expected: dict[str, Any] = json.loads(fixture)
    for key, value in assigned.items():
        assert key in expected, key
        expected[key] = value
    assert reply.text == json.dumps(expected, separators=(",", ":"))


def test_f1_keyed_sale_approved_no_match(wire: Wire) -> None:
    reply = wire.post(
        "/v1/transactions/sale/keyed",
        {"amount": "1.00", "credit_card": CARD_5439, "billing_address": OTTAWA},
    )
    body = reply.json()
    expect(
        reply, F1, 200, transaction_id=body["transaction_id"], approval_code=body["approval_code"]
    )


def test_f1b_keyed_sale_approved_with_csc(wire: Wire) -> None:
    request = {
        "amount": "1.00",
        "credit_card": {
            "number": "4012000098765439",
            "expiration_year": "2030",
            "expiration_month": "9",
        },
        "csc": "999",
    }
    reply = wire.post("/v1/transactions/sale/keyed", request)
    body = reply.json()
    code = body["approval_code"]
    expect(
        reply,
        F1B,
        200,
        transaction_id=body["transaction_id"],
        approval_code=code,
        approval_message=f"APPROVAL {code}  - Approved and completed",
    )


def test_f2_sale_declined_with_discretionary_data(make_emulator: Any) -> None:
    emulator: PayTraceEmulator = make_emulator(
        decline_discretionary_data={"BALANCEAMOUNT": "11111.11"}
    )
    wire = Wire(emulator)
    request = {"amount": "0.29", "credit_card": CARD_5439, "csc": "999"}
    reply = wire.post("/v1/transactions/sale/keyed", request)
    expect(reply, F2, 200, transaction_id=reply.json()["transaction_id"])
    # Approvals never carry it (F1, F1b from the same accounts).
    approved = wire.ok("/v1/transactions/sale/keyed", {**request, "amount": "1.00"})
    assert "discretionary_data" not in approved


def test_f3_authorization_declined(wire: Wire) -> None:
    reply = wire.post(
        "/v1/transactions/authorization/keyed",
        {"amount": "0.29", "credit_card": CARD_5439, "billing_address": OTTAWA},
    )
    expect(reply, F3, 200, transaction_id=reply.json()["transaction_id"])


def test_f4_capture_and_816(wire: Wire) -> None:
    auth = wire.ok(
        "/v1/transactions/authorization/keyed", {"amount": "4.00", "credit_card": CARD_5439}
    )
    tid = auth["transaction_id"]
    path = "/v1/transactions/authorization/capture"
    expect(wire.post(path, {"transaction_id": tid}), F4_OK, 200, transaction_id=tid)
    expect(wire.post(path, {"transaction_id": tid}), F4_ERR, 400)


def test_f5_refund_817_then_106(wire: Wire) -> None:
    tid = wire.ok("/v1/transactions/sale/keyed", {"amount": "4.00", "credit_card": CARD_5439})[
        "transaction_id"
    ]
    path = "/v1/transactions/refund/for_transaction"
    expect(wire.post(path, {"transaction_id": tid}), F5_ERR, 400)
    wire.settle()
    reply = wire.post(path, {"transaction_id": tid})
    expect(reply, F5_OK, 200, transaction_id=reply.json()["transaction_id"])


def test_f6_void_818_and_58(wire: Wire) -> None:
    tid = wire.sale()
    expect(
        wire.post("/v1/transactions/void", {"transaction_id": tid}), F6_OK, 200, transaction_id=tid
    )
    expect(wire.post("/v1/transactions/void", {"transaction_id": tid}), F6_ERR, 400)
    expect(wire.post("/v1/transactions/void", {"transaction_id": "x"}), F6_58, 400)
    expect(wire.post("/v1/transactions/void", {}), F6_58, 400)


def test_f7_customer_created_and_duplicate(wire: Wire) -> None:
    request: dict[str, Any] = {
        "customer_id": "customerTest150",
        "credit_card": CARD_1111,
        "billing_address": {"name": "Steve Smith"},
    }
    expect(wire.post("/v1/customer/create", request), F7_OK, 200)
    request["credit_card"] = CARD_5439
    expect(wire.post("/v1/customer/create", request), F7_ERR, 400)


def test_f9_level_three(wire: Wire) -> None:
    tid = wire.ok("/v1/transactions/sale/keyed", {"amount": "9.00", "credit_card": CARD_5439})[
        "transaction_id"
    ]
    line = {"description": "Widget", "quantity": 1, "unit_cost": "9.00", "amount": "9.00"}
    reply = wire.post("/v1/level_three/visa", {"transaction_id": tid, "line_items": [line]})
    message = (
        f"Visa/MasterCard enhanced data was successfully added to Transaction ID {tid}. "
        "1 line item records were created."
    )
    expect(reply, F9, 200, status_message=message)


def test_f10_ach(wire: Wire) -> None:
    check = {"account_number": "123456", "routing_number": "325070760"}
    ok = wire.post("/v1/checks/sale/by_account", {"amount": "1.00", "check": check})
    expect(ok, F10_OK, 200, check_transaction_id=ok.json()["check_transaction_id"])
    declined = wire.post("/v1/checks/sale/by_account", {"amount": "0.29", "check": check})
    expect(
        declined,
        F10_DECLINE,
        200,
        check_transaction_id=declined.json()["check_transaction_id"],
    )
    bad = {"account_number": "12", "routing_number": "123456789"}
    reply = wire.post(
        "/v1/checks/sale/by_account",
        {"amount": "1.00", "customer_id": "customerid123", "check": bad},
    )
    expect(reply, F10_ERR, 400)


def test_f11_insufficient_permissions(make_emulator: Any) -> None:
    emulator: PayTraceEmulator = make_emulator(strict=True)
    reply = emulator.session().post(
        BASE + "/v1/transactions/sale/keyed",
        json={"amount": "1.00", "credit_card": CARD_5439, "integrator_id": "not-ours"},
        headers={"Authorization": f"Bearer {emulator.issue_token()}"},
        timeout=5,
    )
    expect(reply, F11, 400)


@pytest.mark.parametrize(
    ("path", "fixture"),
    [
        ("/v1/transactions/authorization/capture", F13_EXT),
        ("/v1/transactions/refund/for_transaction", F13_EXT),
        ("/v1/transactions/void", F13_VOID),
    ],
)
def test_f13_transaction_not_found(wire: Wire, path: str, fixture: str) -> None:
    expect(wire.post(path, {"transaction_id": 123}), fixture, 400)


def test_token_response_and_invalid_grant(make_emulator: Any) -> None:
    # Strict mode: only configured users get tokens (the default accepts any credentials).
    emulator: PayTraceEmulator = make_emulator(strict=True)
    session = emulator.session()
    form = {"grant_type": "password", "username": "demo123", "password": "demo123"}
    reply = session.post(BASE + "/oauth/token", data=form, timeout=5)
    assert reply.headers["Cache-Control"] == "no-store"
    expect(
        reply,
        TOKEN,
        200,
        access_token=reply.json()["access_token"],
        created_at=int(emulator.now().timestamp()),
    )
    wrong = session.post(BASE + "/oauth/token", data={**form, "password": "wrong"}, timeout=5)
    expect(wrong, INVALID_GRANT, 400)


def test_rails_like_headers_on_success_and_error(wire: Wire) -> None:
    """Transcript headers (reference 8); Rack::ETag tags only 200s, errors get no-cache."""
    ok = wire.post("/v1/transactions/sale/keyed", {"amount": "1.00", "credit_card": CARD_5439})
    assert ok.headers["Cache-Control"] == "max-age=0, private, must-revalidate"
    assert ok.headers["ETag"].startswith('W/"')
    assert ok.headers["Strict-Transport-Security"] == "max-age=300"
    error = wire.post("/v1/transactions/void", {"transaction_id": 5})
    assert error.status_code == 400
    assert (error.headers["Cache-Control"], "ETag" in error.headers) == ("no-cache", False)
    assert error.headers["Content-Type"] == "application/json; charset=utf-8"
    assert len(error.headers["X-Request-Id"]) == 36


def test_f8_protect_profile_as_recorded_by_invoice_ninja(wire: Wire) -> None:
    """S5 creates Protect profiles with its own random 32-character customer_id and logged
    the answer: four keys, a final period, no masked_card_number (unlike customer/create)."""
    recorded = (
        '{"success":true,"response_code":160,"status_message":"The customer profile for '
        'PLS5U60OoLUfQXzcmtJYNefPA0gTthzT/11 was successfully created.",'
        '"customer_id":"PLS5U60OoLUfQXzcmtJYNefPA0gTthzT"}'
    )
    request = {
        "customer_id": "PLS5U60OoLUfQXzcmtJYNefPA0gTthzT",
        "hpf_token": "e369847e-3027-4174-9161-fa0d4e98d318",
        "enc_key": "lI785yOBMet4Rt9o4NLXEyV84WBU3tdStExcsfoaOoo=",
        "integrator_id": "959195xd1CuC",
        "billing_address": {"name": "11", "zip": "85284"},
    }
    expect(wire.post("/v1/customer/pt_protect_create", request), recorded, 200)
    # The profile then exports with its card, as S5 reads it right after.
    [profile] = wire.ok("/v1/customer/export", {"customer_id": request["customer_id"]})["customers"]
    assert profile["credit_card"]["masked_number"].startswith("xxxxxxxxxxxx")


def test_check_id_not_found_on_refund(wire: Wire) -> None:
    """S2's ``failed_ach_refund_response`` (code 80)."""
    recorded = (
        '{ "success":false, "response_code":1, "status_message":"One or more errors has '
        'occurred.", "errors":{ "80":[ "The Check ID that you provided was not found in the '
        'PayTrace record." ] } }'
    )
    reply = wire.post(
        "/v1/checks/refund/by_transaction", {"check_transaction_id": 1, "amount": "1.00"}
    )
    expect(reply, recorded, 400)
