from __future__ import annotations

from decimal import Decimal

import pytest

from paysync_core import SensitiveDataError, idempotency_key, redact, step_key
from paysync_core._redact import ensure_no_sensitive_data, luhn_valid, redact_text

VISA = "4111111111111111"
AMEX = "378282246310005"


def test_luhn() -> None:
    assert luhn_valid(VISA)
    assert luhn_valid(AMEX)
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    "text",
    [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", f"card {AMEX} declined", f"x{VISA}y"],
)
def test_pan_like_text_is_redacted(text: str) -> None:
    out = str(redact({"note": text}))
    assert "<redacted-pan>" in out
    assert "1111" not in out
    assert "0005" not in out


def test_non_luhn_numbers_and_masked_cards_are_kept() -> None:
    value = {"invoice": "4111111111111112", "masked": "xxxxxxxxxxxx1111", "amount": "12.50"}
    assert redact(value) == value


def test_integer_pan_is_redacted() -> None:
    assert redact({"n": int(VISA)}) == {"n": "<redacted-pan>"}
    assert redact({"n": 42}) == {"n": 42}


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "client_secret",
        "access_token",
        "refresh-token",
        "api_key",
        "Authorization",
        "csc",
        "CVV",
        "card_number",
        "credit_card",
        "pan",
        "private_key",
    ],
)
def test_sensitive_keys_are_redacted(key: str) -> None:
    assert redact({key: "abc", "nested": [{key: "x"}]}) == {
        key: "<redacted>",
        "nested": [{key: "<redacted>"}],
    }


def test_other_values_become_json_safe() -> None:
    assert redact({"amount": Decimal("10.00"), "ok": True, "none": None, "t": (1, 2)}) == {
        "amount": "10.00",
        "ok": True,
        "none": None,
        "t": [1, 2],
    }


def test_ensure_no_sensitive_data_refuses_without_echoing() -> None:
    ensure_no_sensitive_data({"customer": "C-1", "amount": "10.00"}, what="input")
    with pytest.raises(SensitiveDataError) as err:
        ensure_no_sensitive_data({"cc": VISA}, what="input")
    assert VISA not in str(err.value)
    with pytest.raises(SensitiveDataError):
        ensure_no_sensitive_data({"note": f"pay with {VISA}"}, what="input")


def test_idempotency_key_is_deterministic_and_unambiguous() -> None:
    key = idempotency_key("payment_to_receipt", "paytrace", "T-1", 1)
    assert key == idempotency_key("payment_to_receipt", "paytrace", "T-1", "1")
    assert len(key) == 32
    assert key != idempotency_key("payment_to_receipt", "paytrace", "T-1", 2)
    assert idempotency_key("a:b", "c", "d", 1) != idempotency_key("a", "b:c", "d", 1)
    assert step_key(key, "create_receipt") != step_key(key, "apply_receipt")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login failed password=hunter2 for bob", "hunter2"),
        ('body {"client_secret": "s3cr3t", "a": 1}', "s3cr3t"),
        ("api-key: abcdef123", "abcdef123"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload", "eyJhbGciOiJIUzI1NiJ9"),
        ("csc=123&amount=1", "123"),
    ],
)
def test_secrets_in_free_text_are_redacted(text: str, secret: str) -> None:
    out = redact({"error": text})
    assert secret not in str(out)
    assert "<redacted>" in str(out)


def test_free_text_without_secrets_is_unchanged() -> None:
    text = "HTTP 422: amount must be positive (invoice INV-1, token count 3)"
    assert redact(text) == text


def test_fast_paths_keep_every_rule() -> None:
    # the scheme word in a non-ASCII spelling IGNORECASE accepts (U+017F is a long s)
    long_s = "Ba\u017fic"
    assert redact_text(f"auth {long_s} dXNlcjpwYXNzd29yZA==") == f"auth {long_s} <redacted>"
    assert redact_text("a" * 64 + " password=x") == "a" * 64 + " password=<redacted>"
    assert redact_text("x" * 64) == "x" * 64
    assert redact_text("4111111111111111") == "<redacted-pan>"
