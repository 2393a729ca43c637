"""Tokens, strict mode, fault injection (in-process), control endpoints and state."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from paytrace_client import emulator as emulator_pkg
from paytrace_client.emulator import EmulatorConfig, FaultRule, PayTraceEmulator

BASE = "https://api.paytrace.com"
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)


def test_public_api_is_pinned() -> None:
    public = sorted(name for name in dir(emulator_pkg) if not name.startswith("_"))
    assert sorted(emulator_pkg.__all__) == public
    assert emulator_pkg.__all__ == sorted(emulator_pkg.__all__, key=lambda n: (not n.isupper(), n))


def test_token_form_and_json_bodies(emulator: PayTraceEmulator) -> None:
    session = emulator.session()
    form = {"grant_type": "password", "username": "anyone", "password": "anything"}
    by_form = session.post(BASE + "/oauth/token", data=form, timeout=5)
    by_json = session.post(BASE + "/oauth/token", json=form, timeout=5)
    for reply in (by_form, by_json):
        assert reply.status_code == 200
        assert reply.headers["Cache-Control"] == "no-store"
        assert reply.headers["Pragma"] == "no-cache"
        body = reply.json()
        assert list(body) == ["access_token", "token_type", "expires_in", "created_at"]
        assert re.fullmatch(r"[0-9a-f]+:[0-9a-f]+:[0-9a-f]+", body["access_token"])
        assert (body["token_type"], body["expires_in"]) == ("bearer", 7200)
        assert body["created_at"] == int(emulator.now().timestamp())


def test_invalid_grant_and_unsupported_grant(emulator: PayTraceEmulator) -> None:
    session = emulator.session()
    bad = session.post(
        BASE + "/oauth/token", data={"grant_type": "password", "username": "x"}, timeout=5
    )
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": INVALID_GRANT}
    wrong = session.post(
        BASE + "/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": "wrong"},
        timeout=5,
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    stranger = session.post(
        BASE + "/oauth/token",
        data={"grant_type": "password", "username": "someone", "password": "anything"},
        timeout=5,
    )
    assert stranger.status_code == 200  # lenient mode: any other login works
    other = session.post(
        BASE + "/oauth/token", data={"grant_type": "client_credentials"}, timeout=5
    )
    assert other.json()["error"] == "unsupported_grant_type"


def test_token_expires_after_7200_seconds(wire: Any, emulator: PayTraceEmulator) -> None:
    emulator.advance_clock(7199)
    assert wire.post("/v1/transactions/settle").status_code == 200
    emulator.advance_clock(1)
    reply = wire.post("/v1/transactions/settle")
    assert reply.status_code == 401
    assert reply.json() == {
        "error": "invalid_token",
        "error_description": "The access token expired",
    }
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


def test_missing_or_unknown_bearer_is_invalid_token(emulator: PayTraceEmulator) -> None:
    session = emulator.session()
    for headers in ({}, {"Authorization": "Bearer nope"}):
        reply = session.post(BASE + "/v1/transactions/settle", json={}, headers=headers, timeout=5)
        assert reply.status_code == 401
        assert reply.json()["error_description"] == "The access token is invalid"


def test_strict_mode_users_and_integrator_ids(make_emulator: Any) -> None:
    emulator: PayTraceEmulator = make_emulator(
        strict=True, users={"api-user": "s3cret"}, integrator_ids=frozenset({"INT1"})
    )
    session = emulator.session()
    wrong = {"grant_type": "password", "username": "demo123", "password": "demo123"}
    assert (
        session.post(BASE + "/oauth/token", data=wrong, timeout=5).json()["error"]
        == "invalid_grant"
    )
    right = {**wrong, "username": "api-user", "password": "s3cret"}
    token = session.post(BASE + "/oauth/token", data=right, timeout=5).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    sale = {
        "amount": "1.00",
        "credit_card": {
            "number": "4111111111111111",
            "expiration_month": 1,
            "expiration_year": 2030,
        },
    }
    denied = session.post(
        BASE + "/v1/transactions/sale/keyed", json=sale, headers=headers, timeout=5
    )
    assert list(denied.json()["errors"]) == ["981"]
    allowed = session.post(
        BASE + "/v1/transactions/sale/keyed",
        json={**sale, "integrator_id": "INT1"},
        headers=headers,
        timeout=5,
    )
    assert allowed.json()["response_code"] == 101


def test_default_mode_accepts_any_credentials_and_integrator(wire: Any) -> None:
    assert wire.sale(integrator_id="whatever") > 0


def test_fault_http_error_and_rate_limit(wire: Any, emulator: PayTraceEmulator) -> None:
    emulator.add_fault(
        FaultRule(kind="http_error", path="/v1/transactions/*", status=502),
        FaultRule(kind="rate_limit", path="/v1/transactions/*", retry_after=7, count=2),
    )
    assert wire.post("/v1/transactions/settle").status_code == 502
    for _ in range(2):
        limited = wire.post("/v1/transactions/settle")
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert wire.post("/v1/transactions/settle").status_code == 200
    assert emulator.state.txns == {}


def test_fault_reset_commits_nothing(wire: Any, emulator: PayTraceEmulator) -> None:
    emulator.add_fault(FaultRule(kind="reset", path="/v1/transactions/sale/*"))
    with pytest.raises(requests.exceptions.ConnectionError):
        wire.sale()
    assert emulator.state.txns == {}
    assert wire.sale() > 0


def test_fault_timeout_after_commit_commits_the_sale(wire: Any, emulator: PayTraceEmulator) -> None:
    emulator.add_fault(FaultRule(kind="timeout_after_commit", path="/v1/transactions/sale/keyed"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        wire.sale("7.77", invoice_id="INV-T")
    [txn] = emulator.state.txns.values()
    assert (txn.amount, txn.invoice_id, txn.approved) == (
        __import__("decimal").Decimal("7.77"),
        "INV-T",
        True,
    )


def test_fault_latency_sleeps_and_beyond_read_timeout_times_out(make_emulator: Any) -> None:
    slept: list[float] = []
    emulator: PayTraceEmulator = make_emulator(sleep=slept.append)
    session = emulator.session()
    headers = {"Authorization": f"Bearer {emulator.issue_token()}"}
    emulator.add_fault(FaultRule(kind="latency", latency_seconds=2.0, count=None))
    ok = session.post(BASE + "/v1/transactions/settle", json={}, headers=headers, timeout=5)
    assert ok.status_code == 200
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(BASE + "/v1/transactions/settle", json={}, headers=headers, timeout=(1, 0.5))
    assert slept == [2.0, 0.5]


def test_fault_expired_token_and_skip(wire: Any, emulator: PayTraceEmulator) -> None:
    emulator.add_fault(FaultRule(kind="expired_token", skip=1))
    assert wire.post("/v1/transactions/settle").status_code == 200
    assert (
        wire.post("/v1/transactions/settle").json()["error_description"]
        == "The access token expired"
    )
    assert wire.post("/v1/transactions/settle").status_code == 401  # the token really expired


def test_fault_rule_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule.from_json({"kind": "explode"})
    with pytest.raises(ValueError, match="count"):
        FaultRule(kind="reset", count=0)


def test_control_endpoints(emulator: PayTraceEmulator, wire: Any) -> None:
    session = emulator.session()
    control = BASE + "/__emulator__/"
    seeded = session.post(
        control + "seed",
        json={
            "customers": [
                {
                    "customer_id": "seeded1",
                    "credit_card": wire.card(),
                    "billing_address": {"name": "S"},
                }
            ]
        },
        timeout=5,
    )
    assert seeded.json() == {"created": ["seeded1"]}
    wire.sale("5.00")
    settled = session.post(control + "settle", timeout=5).json()
    assert settled["transaction_count"] == 1
    faults = session.post(
        control + "faults", json={"rules": [{"kind": "reset", "path": "/v1/*"}]}, timeout=5
    )
    assert faults.json()["rules"][0]["kind"] == "reset"
    assert session.post(control + "faults", json={"kind": "nope"}, timeout=5).status_code == 400
    assert session.delete(control + "faults", timeout=5).json() == {"rules": []}
    before = session.get(control + "clock", timeout=5).json()["now"]
    after = session.post(control + "clock", json={"advance_seconds": 60}, timeout=5).json()["now"]
    assert before < after
    state = session.get(control + "state", timeout=5).json()
    assert {c["customer_id"] for c in state["customers"]} >= {"seeded1", "customerTest123"}
    assert state["batches"][0]["transaction_count"] == 1
    batch_number = state["batches"][0]["number"]
    assert state["transactions"][0]["status_code"] == f"GB{batch_number}"
    token = session.post(
        control + "protect_token", json={"number": "5499740000000057"}, timeout=5
    ).json()
    sale = wire.ok("/v1/transactions/sale/pt_protect", {"amount": "1.00", **token})
    assert sale["masked_card_number"] == "xxxxxxxxxxxx0057"
    assert session.post(control + "reset", timeout=5).json() == {"reset": True}
    assert emulator.state.txns == {}
    assert "seeded1" not in emulator.state.customers
    assert session.get(control + "nothing", timeout=5).status_code == 404


def test_no_full_pan_or_csc_anywhere(wire: Any, emulator: PayTraceEmulator) -> None:
    pan, csc = "4012000098765439", "7319"
    wire.sale(credit_card=wire.card(pan), csc=csc)
    wire.ok("/v1/customer/create", {"customer_id": "p1", "credit_card": wire.card(pan)})
    wire.post("/v1/transactions/sale/keyed", {"amount": "1.00", "credit_card": wire.card(pan, 13)})
    text = emulator.session().get(BASE + "/__emulator__/state", timeout=5).text
    text += repr(emulator.state)
    export = wire.ok(
        "/v1/transactions/export/by_date_range",
        {"start_date": "01/01/2024", "end_date": "12/31/2024", "include_bin": True},
    )
    text += str(export)
    assert pan not in text
    assert csc not in text
    assert "401200xxxxxx5439" in str(export)


def test_unknown_paths_and_methods_are_404(wire: Any, emulator: PayTraceEmulator) -> None:
    assert wire.post("/v1/nope").status_code == 404
    assert emulator.session().get(BASE + "/v1/transactions/settle", timeout=5).status_code == 404


def test_malformed_json_is_an_error_body(wire: Any) -> None:
    reply = wire.session.post(
        BASE + "/v1/transactions/settle",
        data=b"{not json",
        headers={"Authorization": f"Bearer {wire.token}", "Content-Type": "application/json"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert list(reply.json()["errors"]) == ["999"]


def test_form_encoded_v1_body_with_rails_keys(wire: Any) -> None:
    reply = wire.session.post(
        BASE + "/v1/transactions/sale/keyed",
        data={
            "amount": "3.00",
            "credit_card[number]": "4111111111111111",
            "credit_card[expiration_month]": "12",
            "credit_card[expiration_year]": "2030",
        },
        headers={"Authorization": f"Bearer {wire.token}"},
        timeout=5,
    )
    assert reply.json()["response_code"] == 101


def test_error_status_switch(make_emulator: Any) -> None:
    emulator: PayTraceEmulator = make_emulator(error_status=200)
    session = emulator.session()
    headers = {"Authorization": f"Bearer {emulator.issue_token()}"}
    reply = session.post(
        BASE + "/v1/transactions/void", json={"transaction_id": 5}, headers=headers, timeout=5
    )
    assert (reply.status_code, reply.json()["response_code"]) == (200, 1)


def test_config_is_frozen() -> None:
    config = EmulatorConfig()
    with pytest.raises(AttributeError):
        config.strict = True  # type: ignore[misc]
