"""Error mapping for the JSON error schema and for plain-text bodies."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from oracle_fusion_client import (
    ORACLE_MESSAGES,
    FusionAuthError,
    FusionBadRequestError,
    FusionConflictError,
    FusionDuplicateError,
    FusionError,
    FusionNotFoundError,
    FusionPreconditionFailedError,
    FusionRateLimitError,
    FusionServerError,
    FusionStatusError,
)
from oracle_fusion_client._errors import error_from_response, parse_retry_after, status_error_class

JSON = {"Content-Type": "application/vnd.oracle.adf.error+json"}
TEXT = {"Content-Type": "text/plain"}


def _json_body(code: str, detail: str, path: str | None = None) -> str:
    return json.dumps(
        {
            "title": "Bad Request",
            "status": "400",
            "o:errorDetails": [{"detail": detail, "o:errorCode": code, "o:errorPath": path}],
        }
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, FusionBadRequestError),
        (401, FusionAuthError),
        (403, FusionAuthError),
        (404, FusionNotFoundError),
        (409, FusionConflictError),
        (412, FusionPreconditionFailedError),
        (429, FusionRateLimitError),
        (500, FusionServerError),
        (502, FusionServerError),
        (503, FusionServerError),
        (504, FusionServerError),
        (418, FusionStatusError),
    ],
)
def test_status_table(status: int, cls: type[FusionStatusError]) -> None:
    assert status_error_class(status) is cls
    err = error_from_response(status, "", {}, method="GET", url="u")
    assert type(err) is cls
    assert isinstance(err, FusionError)
    assert err.status_code == status


def test_json_error_schema_duplicate_receipt() -> None:
    body = _json_body("AR_RCP_DUP_NUM", ORACLE_MESSAGES["AR_RCP_DUP_NUM"], "/ReceiptNumber")
    err = error_from_response(
        400, body, {**JSON, "X-ORACLE-DMS-ECID": "ecid-1"}, method="POST", url="u"
    )
    assert isinstance(err, FusionDuplicateError)
    assert err.error_code == "AR_RCP_DUP_NUM"
    assert err.title == "Bad Request"
    assert err.detail == ORACLE_MESSAGES["AR_RCP_DUP_NUM"]
    assert err.error_path == "/ReceiptNumber"
    assert err.request_id == "ecid-1"
    assert "ecid-1" in str(err)
    assert "AR_RCP_DUP_NUM" in str(err)


def test_json_error_top_level_code() -> None:
    body = json.dumps(
        {
            "type": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
            "title": "Bad Request",
            "status": "400",
            "detail": "The business unit is invalid.",
            "o:errorCode": "AR_RAPI_BU_INVALID",
            "o:errorPath": "/BusinessUnit",
        }
    )
    err = error_from_response(400, body, JSON, method="POST", url="u")
    assert type(err) is FusionBadRequestError
    assert (err.error_code, err.error_path) == ("AR_RAPI_BU_INVALID", "/BusinessUnit")


@pytest.mark.parametrize("code", sorted(ORACLE_MESSAGES))
def test_plain_text_bodies_recover_the_oracle_code(code: str) -> None:
    message = ORACLE_MESSAGES[code].replace("{ATTRIBUTE_NAME}", "Amount")
    err = error_from_response(400, message, TEXT, method="POST", url="u")
    assert err.error_code == code
    assert err.detail == message
    assert err.title is None


def test_plain_text_with_code_prefix() -> None:
    err = error_from_response(400, "JBO-27024: Failed to validate a row", TEXT, method="P", url="u")
    assert err.error_code is None or err.error_code == "JBO-27024"
    err = error_from_response(400, "AR_SOMETHING_NEW: A new rule.", TEXT, method="P", url="u")
    assert err.error_code == "AR_SOMETHING_NEW"
    assert err.detail == "A new rule."


def test_unknown_plain_text_and_html() -> None:
    err = error_from_response(400, "Something odd happened.", TEXT, method="GET", url="u")
    assert err.error_code is None
    assert err.detail == "Something odd happened."
    err = error_from_response(502, "<html>Bad gateway</html>", {}, method="GET", url="u")
    assert isinstance(err, FusionServerError)
    assert err.detail is None
    assert err.body == "<html>Bad gateway</html>"


def test_rate_limit_retry_after() -> None:
    err = error_from_response(429, "", {"Retry-After": "7"}, method="GET", url="u")
    assert isinstance(err, FusionRateLimitError)
    assert err.retry_after == 7.0
    err = error_from_response(429, "", {"Retry-After": "soon"}, method="GET", url="u")
    assert isinstance(err, FusionRateLimitError)
    assert err.retry_after is None


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 5, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Mon, 05 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 05 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3") is None
    assert parse_retry_after(None) is None
