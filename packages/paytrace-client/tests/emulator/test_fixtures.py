"""Every reference fixture (F1-F13) replayed against the emulator: exact bodies modulo ids."""

from __future__ import annotations

from typing import Any

from paytrace_client.emulator import PayTraceEmulator

ERR = "One or more errors has occurred."
F1_REQUEST: dict[str, Any] = {
    "amount": "1.00",
    "credit_card": {"number": "4012000098765439", "expiration_month": 9, "expiration_year": 2022},
    "billing_address": {
        "name": "Longbob Longsen",
        "street_address": "456 My Street",
        "city": "Ottawa",
        "state": "ON",
        "zip": "K1C2N6",
    },
    "password": "[FILTERED]",
    "username": "[FILTERED]",
}


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def test_f1_keyed_sale_matches_real_transcript(wire: Any) -> None:
    reply = wire.post("/v1/transactions/sale/keyed", F1_REQUEST)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.headers["Cache-Control"] == "max-age=0, private, must-revalidate"
    assert reply.headers["ETag"].startswith('W/"')
    assert len(reply.headers["X-Request-Id"]) == 36
    float(reply.headers["X-Runtime"])
    body = reply.json()
    assert list(body) == [
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
    assert isinstance(body["transaction_id"], int)
    assert _without(body, "transaction_id", "approval_code") == {
        "success": True,
        "response_code": 101,
        "status_message": "Your transaction was successfully approved.",
        "approval_message": "  NO  MATCH - Approved and completed",
        "avs_response": "No Match",
        "csc_response": "",
        "external_transaction_id": "",
        "masked_card_number": "xxxxxxxxxxxx5439",
    }
    assert body["approval_code"].startswith("TAS")


def test_f1b_string_expiry_and_csc_without_address(wire: Any) -> None:
    request = {
        "amount": "1.00",
        "credit_card": {
            "number": "4012000098765439",
            "expiration_year": "2018",
            "expiration_month": "9",
        },
        "csc": "999",
    }
    body = wire.ok("/v1/transactions/sale/keyed", request)
    code = body["approval_code"]
    assert body["approval_message"] == f"APPROVAL {code}  - Approved and completed"
    assert (body["avs_response"], body["csc_response"]) == ("0", "Match")


def test_f2_f3_declines_on_decline_amount(wire: Any) -> None:
    sale = wire.post("/v1/transactions/sale/keyed", {"amount": "0.29", "credit_card": wire.card()})
    assert sale.status_code == 200
    body = sale.json()
    assert _without(body, "transaction_id", "avs_response", "csc_response") == {
        "success": False,
        "response_code": 102,
        "status_message": "Your transaction was not approved.",
        "approval_code": "",
        "approval_message": "    DECLINE      - Do not honor",
        "external_transaction_id": "",
        "masked_card_number": "xxxxxxxxxxxx1111",
    }
    assert "errors" not in body
    auth = wire.post(
        "/v1/transactions/authorization/keyed", {"amount": 0.29, "credit_card": wire.card()}
    ).json()
    assert auth["approval_message"] == "  EXPIRED CARD - Expired card"
    assert auth["response_code"] == 102


def test_f4_capture_ok_and_816(wire: Any) -> None:
    auth = wire.ok(
        "/v1/transactions/authorization/keyed", {"amount": "5.00", "credit_card": wire.card()}
    )
    tid = auth["transaction_id"]
    assert wire.ok("/v1/transactions/authorization/capture", {"transaction_id": tid}) == {
        "success": True,
        "response_code": 112,
        "status_message": "Your transaction was successfully captured.",
        "transaction_id": tid,
        "external_transaction_id": "",
    }
    again = wire.post("/v1/transactions/authorization/capture", {"transaction_id": tid})
    assert again.status_code == 400
    assert again.json() == {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {
            "816": [
                "The Transaction ID that you provided could not be captured. Only uncaptured, "
                "approved authorizations can be captured."
            ]
        },
        "external_transaction_id": "",
    }


def test_f5_refund_ok_and_817(wire: Any) -> None:
    tid = wire.sale("3.00")
    early = wire.post("/v1/transactions/refund/for_transaction", {"transaction_id": tid})
    assert early.json() == {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {
            "817": [
                "The Transaction ID that you provided could not be refunded. Only settled "
                "transactions can be refunded.  Please try to void the transaction instead."
            ]
        },
        "external_transaction_id": "",
    }
    wire.settle()
    body = wire.ok("/v1/transactions/refund/for_transaction", {"transaction_id": tid})
    assert body["transaction_id"] != tid
    assert _without(body, "transaction_id") == {
        "success": True,
        "response_code": 106,
        "status_message": "Your transaction was successfully refunded.",
        "external_transaction_id": "",
        "masked_card_number": "xxxxxxxxxxxx1111",
    }


def test_f6_void_ok_818_and_58(wire: Any) -> None:
    tid = wire.sale()
    assert wire.ok("/v1/transactions/void", {"transaction_id": tid}) == {
        "success": True,
        "response_code": 109,
        "status_message": "Your transaction was successfully voided.",
        "transaction_id": tid,
    }
    assert wire.post("/v1/transactions/void", {"transaction_id": tid}).json() == {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {
            "818": [
                "The Transaction ID that you provided could not be voided. Only transactions "
                "that are pending settlement can be voided."
            ]
        },
    }
    bad = wire.post("/v1/transactions/void", {"transaction_id": "abc"}).json()
    assert bad["errors"] == {"58": ["Please provide a valid Transaction ID."]}


def test_f7_customer_create_and_duplicate(wire: Any) -> None:
    request = {
        "customer_id": "customerTest150",
        "credit_card": wire.card(),
        "billing_address": {"name": "Steve Smith", "zip": "99201"},
    }
    assert wire.ok("/v1/customer/create", request) == {
        "success": True,
        "response_code": 160,
        "status_message": (
            "The customer profile for customerTest150/Steve Smith was successfully created"
        ),
        "customer_id": "customerTest150",
        "masked_card_number": "xxxxxxxxxxxx1111",
    }
    request["credit_card"] = wire.card("4012000098765439")
    duplicate = wire.post("/v1/customer/create", request)
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {"171": ["Please provide a unique customer ID."]},
        "masked_card_number": "xxxxxxxxxxxx5439",
    }


def test_f8_protect_profile(wire: Any) -> None:
    request = {
        "customer_id": "customer789",
        "hpf_token": "e369847e-3027-4174-9161-fa0d4e98d318",
        "enc_key": "lI785yOBMet4Rt9o4NLXEyV84WBU3tdStExcsfoaOoo=",
        "integrator_id": "xxxxxxxxxx",
        "billing_address": {"name": "Pat Protect"},
    }
    body = wire.ok("/v1/customer/pt_protect_create", request)
    assert (body["success"], body["response_code"], body["customer_id"]) == (
        True,
        160,
        "customer789",
    )
    generated = wire.ok("/v1/customer/pt_protect_create", {**request, "customer_id": ""})
    assert len(generated["customer_id"]) == 32


def test_f9_level_three(wire: Any) -> None:
    tid = wire.sale()
    body = wire.ok("/v1/level_three/visa", {"transaction_id": tid, "line_items": [{"amount": 1}]})
    assert body == {
        "success": True,
        "response_code": 170,
        "status_message": (
            f"Visa/MasterCard enhanced data was successfully added to Transaction ID {tid}. "
            "1 line item records were created."
        ),
    }


def test_f10_ach_processed_declined_and_errors(wire: Any) -> None:
    check = {"account_number": "123456", "routing_number": "325070760"}
    ok = wire.ok("/v1/checks/sale/by_account", {"amount": "1.00", "check": check})
    assert list(ok) == ["success", "response_code", "status_message", "check_transaction_id"]
    assert (ok["response_code"], ok["status_message"]) == (
        120,
        "Your check was successfully processed.",
    )
    declined = wire.post("/v1/checks/sale/by_account", {"amount": "0.29", "check": check}).json()
    assert _without(declined, "check_transaction_id") == {
        "success": False,
        "response_code": 125,
        "status_message": "Your check was NOT successfully processed.",
        "ach_code": 0,
        "ach_message": "",
    }
    bad = {"account_number": "12", "routing_number": "123456789"}
    errors = wire.post(
        "/v1/checks/sale/by_account",
        {"amount": "1.00", "customer_id": "customerid123", "check": bad},
    ).json()
    assert errors == {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {
            "30": ["Customer ID, customerid123, was not found or is incomplete."],
            "45": ["Please provide a valid Checking Account Number."],
            "46": ["Please provide a valid Transit Routing Number."],
        },
    }


def test_f11_strict_mode_permissions(make_emulator: Any) -> None:
    emulator: PayTraceEmulator = make_emulator(strict=True)
    session = emulator.session()
    token = emulator.issue_token()
    reply = session.post(
        "https://api.paytrace.com/v1/transactions/sale/keyed",
        json={"amount": "1.00", "credit_card": {"number": "4111111111111111"}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert reply.json() == {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {"981": ["Log in failed for insufficient permissions."]},
        "external_transaction_id": "",
    }


def test_f12_sample_sale_and_vault_sale(wire: Any) -> None:
    sample = {
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
    body = wire.ok("/v1/transactions/sale/keyed", sample)
    assert (body["response_code"], body["csc_response"]) == (101, "Match")
    vault = wire.ok(
        "/v1/transactions/sale/by_customer", {"amount": "5.49", "customer_id": "customerTest123"}
    )
    assert vault["response_code"] == 101
    assert vault["masked_card_number"] == "xxxxxxxxxxxx1111"


def test_f13_not_found_capture_refund_void(wire: Any) -> None:
    expected = {
        "success": False,
        "response_code": 1,
        "status_message": ERR,
        "errors": {"811": ["The Transaction ID that you provided was not found."]},
    }
    for path in (
        "/v1/transactions/authorization/capture",
        "/v1/transactions/refund/for_transaction",
    ):
        reply = wire.post(path, {"transaction_id": 1})
        assert reply.json() == {**expected, "external_transaction_id": ""}
    assert wire.post("/v1/transactions/void", {"transaction_id": 1}).json() == expected


def test_invalid_card_and_month_give_two_errors(wire: Any) -> None:
    body = wire.post(
        "/v1/transactions/sale/keyed",
        {"amount": "1.00", "credit_card": wire.card("54545454545454", 14, 2030)},
    ).json()
    assert body["errors"] == {
        "35": ["Please provide a valid Credit Card Number."],
        "43": ["Please provide a valid Expiration Month."],
    }
