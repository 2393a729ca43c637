"""Classification of PayTrace answers, from the verbatim fixtures of the reference (section 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paytrace_client import (
    PayTraceAPIError,
    PayTraceAuthError,
    PayTraceDeclinedError,
    PayTraceDuplicateError,
    PayTraceHTTPError,
    PayTraceNotFoundError,
    PayTraceRateLimitError,
    PayTraceStateError,
    PayTraceValidationError,
)
from paytrace_client._classify import classify, is_invalid_token, parse_retry_after

F1 = '{"success":true,"response_code":101,"status_message":"Your transaction was successfully approved.","transaction_id":395970044,"approval_code":"TAS679","approval_message":"  NO  MATCH - Approved and completed","avs_response":"No Match","csc_response":"","external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F2 = '{"success":false,"response_code":102,"status_message":"Your transaction was not approved.","transaction_id":178803407,"approval_code":"","approval_message":"    DECLINE      - Do not honor","avs_response":"0","csc_response":"Match","discretionary_data":{"BALANCEAMOUNT":"11111.11"},"external_transaction_id":"","masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F4_ERR = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"816":["The Transaction ID that you provided could not be captured. Only uncaptured, approved authorizations can be captured."]},"external_transaction_id":""}'  # noqa: E501
F5_ERR = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"817":["The Transaction ID that you provided could not be refunded. Only settled transactions can be refunded.  Please try to void the transaction instead."]},"external_transaction_id":""}'  # noqa: E501
F7_DUP = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"171":["Please provide a unique customer ID."]},"masked_card_number":"xxxxxxxxxxxx5439"}'  # noqa: E501
F10_DECLINE = '{ "success":false, "response_code":125, "status_message":"Your check was NOT successfully processed.", "check_transaction_id":981610, "ach_code":0, "ach_message":"" }'  # noqa: E501
F10_ERR = '{ "success":false, "response_code":1, "status_message":"One or more errors has occurred.", "errors":{ "30":[ "Customer ID, customerid123, was not found or is incomplete." ], "45":[ "Please provide a valid Checking Account Number." ], "46":[ "Please provide a valid Transit Routing Number." ] } }'  # noqa: E501
F11 = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"981":["Log in failed for insufficient permissions."]},"external_transaction_id":""}'  # noqa: E501
F13 = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"811":["The Transaction ID that you provided was not found."]}}'  # noqa: E501
INVALID_CARD = '{"success":false,"response_code":1,"status_message":"One or more errors has occurred.","errors":{"35":["Please provide a valid Credit Card Number."],"43":["Please provide a valid Expiration Month."]},"masked_card_number":"xxxxxxxxxx5454"}'  # noqa: E501
INVALID_GRANT = '{"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."}'  # noqa: E501


def body(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@pytest.mark.parametrize("status", [200, 400])
def test_approval_is_returned_whatever_the_status(status: int) -> None:
    result = classify(path="transactions/sale/keyed", status=status, body=body(F1), request_id="r1")
    assert result["transaction_id"] == 395970044


@pytest.mark.parametrize("status", [200, 400])
def test_decline_is_distinct_from_validation_and_keeps_processor_text(status: int) -> None:
    with pytest.raises(PayTraceDeclinedError) as info:
        classify(path="transactions/sale/keyed", status=status, body=body(F2), request_id="r2")
    err = info.value
    assert not isinstance(err, PayTraceValidationError)
    assert err.response_code == 102
    assert err.transaction_id == 178803407
    assert err.approval_message == "DECLINE      - Do not honor"
    assert err.status_code == status
    assert err.request_id == "r2"
    assert "r2" in str(err)
    assert not err.auto_voided


def test_auto_void_103_is_a_decline_even_with_success_true() -> None:
    data = body(F1) | {"response_code": 103}
    with pytest.raises(PayTraceDeclinedError) as info:
        classify(path="transactions/sale/keyed", status=200, body=data, request_id=None)
    assert info.value.auto_voided


def test_check_decline_125_carries_the_check_transaction_id() -> None:
    with pytest.raises(PayTraceDeclinedError) as info:
        classify(path="checks/sale/by_account", status=200, body=body(F10_DECLINE), request_id=None)
    assert info.value.transaction_id == 981610


@pytest.mark.parametrize(
    ("fixture", "error_class", "codes"),
    [
        (F4_ERR, PayTraceStateError, ["816"]),
        (F5_ERR, PayTraceStateError, ["817"]),
        (F7_DUP, PayTraceDuplicateError, ["171"]),
        (F10_ERR, PayTraceNotFoundError, ["30", "45", "46"]),
        (F13, PayTraceNotFoundError, ["811"]),
        (INVALID_CARD, PayTraceValidationError, ["35", "43"]),
    ],
)
def test_validation_errors_keep_every_code_and_message(
    fixture: str, error_class: type[PayTraceValidationError], codes: list[str]
) -> None:
    with pytest.raises(error_class) as info:
        classify(path="x", status=400, body=body(fixture), request_id=None)
    err = info.value
    assert type(err) is error_class
    assert err.codes == codes
    assert err.errors == body(fixture)["errors"]
    assert err.response_code == 1
    assert err.code == codes[0]
    for code in codes:
        assert code in str(err)


def test_permission_error_981_is_an_auth_error() -> None:
    with pytest.raises(PayTraceAuthError) as info:
        classify(path="x", status=400, body=body(F11), request_id=None)
    assert info.value.code == "981"


def test_invalid_grant_is_an_auth_error() -> None:
    with pytest.raises(PayTraceAuthError, match="invalid_grant"):
        classify(path="oauth/token", status=400, body=body(INVALID_GRANT), request_id=None)


def test_non_json_5xx_is_an_http_error_and_429_a_rate_limit() -> None:
    with pytest.raises(PayTraceHTTPError) as info:
        classify(path="x", status=502, body=None, request_id=None)
    assert info.value.status_code == 502
    with pytest.raises(PayTraceRateLimitError) as limited:
        classify(path="x", status=429, body=None, request_id=None, retry_after=3.0)
    assert limited.value.retry_after == 3.0


def test_unsuccessful_body_without_errors_is_an_api_error() -> None:
    with pytest.raises(PayTraceAPIError) as info:
        classify(
            path="x",
            status=400,
            body={"success": False, "response_code": 999, "status_message": "odd"},
            request_id=None,
        )
    assert info.value.response_code == 999


def test_envelope_less_success_is_returned() -> None:
    assert classify(
        path="payment_fields/token/create", status=200, body={"clientKey": "abc"}, request_id=None
    ) == {"clientKey": "abc"}


def test_invalid_token_detection() -> None:
    assert is_invalid_token(401, {"error": "invalid_token"})
    assert is_invalid_token(401, None)
    assert not is_invalid_token(400, body(F11))
    assert not is_invalid_token(200, body(F1))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), (" 1.5 ", 1.5), (None, None), ("Wed, 21 Oct 2015", None), ("-4", 0.0)],
)
def test_retry_after_parsing(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
