"""Business rules: capture, void, refund, Level 3, vault, ACH, duplicates, AVS/CSC auto-void."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paytrace_client.emulator import PayTraceEmulator


def test_partial_capture_then_settle_then_partial_refunds(wire: Any) -> None:
    auth = wire.ok(
        "/v1/transactions/authorization/keyed", {"amount": "10.00", "credit_card": wire.card()}
    )
    tid = auth["transaction_id"]
    refund = wire.post("/v1/transactions/refund/for_transaction", {"transaction_id": tid})
    assert "817" in refund.json()["errors"]  # an uncaptured auth is not refundable
    wire.ok("/v1/transactions/authorization/capture", {"transaction_id": tid, "amount": "7.50"})
    wire.settle()
    wire.ok("/v1/transactions/refund/for_transaction", {"transaction_id": tid, "amount": "5.00"})
    too_much = wire.post(
        "/v1/transactions/refund/for_transaction", {"transaction_id": tid, "amount": "2.51"}
    )
    assert "819" in too_much.json()["errors"]
    wire.ok("/v1/transactions/refund/for_transaction", {"transaction_id": tid, "amount": 2.5})
    empty = wire.post("/v1/transactions/refund/for_transaction", {"transaction_id": tid})
    assert "819" in empty.json()["errors"]


def test_capture_more_than_authorized_is_816(wire: Any) -> None:
    tid = wire.ok(
        "/v1/transactions/authorization/keyed", {"amount": "5.00", "credit_card": wire.card()}
    )["transaction_id"]
    over = wire.post(
        "/v1/transactions/authorization/capture", {"transaction_id": tid, "amount": "5.01"}
    )
    assert "816" in over.json()["errors"]
    sale = wire.sale()
    assert (
        "816"
        in wire.post("/v1/transactions/authorization/capture", {"transaction_id": sale}).json()[
            "errors"
        ]
    )


def test_void_after_settlement_is_818_and_void_of_refund_restores_amount(wire: Any) -> None:
    tid = wire.sale("4.00")
    wire.settle()
    assert "818" in wire.post("/v1/transactions/void", {"transaction_id": tid}).json()["errors"]
    refund_id = wire.ok("/v1/transactions/refund/for_transaction", {"transaction_id": tid})[
        "transaction_id"
    ]
    wire.ok("/v1/transactions/void", {"transaction_id": refund_id})
    again = wire.ok(
        "/v1/transactions/refund/for_transaction", {"transaction_id": tid, "amount": "4.00"}
    )
    assert again["response_code"] == 106


def test_level_three_rules(wire: Any) -> None:
    visa = wire.sale()
    wrong_brand = wire.post(
        "/v1/level_three/mastercard", {"transaction_id": visa, "line_items": []}
    )
    assert "820" in wrong_brand.json()["errors"]
    mc = wire.sale(credit_card=wire.card("5499740000000057"))
    body = wire.ok("/v1/level_three/mastercard", {"transaction_id": mc, "line_items": [{}, {}]})
    assert body["status_message"].endswith("2 line item records were created.")
    wire.settle()
    settled = wire.post("/v1/level_three/visa", {"transaction_id": visa, "line_items": []})
    assert "820" in settled.json()["errors"]


def test_amount_validation(wire: Any) -> None:
    for bad in ("abc", "0", "-1.00", "1.001", True, None, "1e3x"):
        reply = wire.post(
            "/v1/transactions/sale/keyed", {"amount": bad, "credit_card": wire.card()}
        )
        assert reply.status_code == 400
        assert "39" in reply.json()["errors"], bad
    assert wire.sale("12") > 0
    assert wire.ok("/v1/transactions/sale/keyed", {"amount": 12.34, "credit_card": wire.card()})[
        "success"
    ]


def test_expired_cards_rejected_only_when_configured(
    make_emulator: Any, request: pytest.FixtureRequest
) -> None:
    wire = request.getfixturevalue("wire")
    assert wire.sale(credit_card=wire.card(year=2020)) > 0  # fixtures F1/F12 replay
    bad_year = wire.post(
        "/v1/transactions/sale/keyed", {"amount": "1.00", "credit_card": wire.card(year="abc")}
    )
    assert list(bad_year.json()["errors"]) == ["44"]
    strict = wire.__class__(make_emulator(reject_expired_cards=True))
    expired = strict.post(
        "/v1/transactions/sale/keyed", {"amount": "1.00", "credit_card": wire.card(year=2020)}
    )
    assert list(expired.json()["errors"]) == ["44"]


def test_vault_update_delete_export_and_refund_to_customer(wire: Any) -> None:
    wire.ok(
        "/v1/customer/create",
        {"customer_id": "c1", "credit_card": wire.card(), "billing_address": {"name": "Al"}},
    )
    updated = wire.ok(
        "/v1/customer/update",
        {"customer_id": "c1", "credit_card": wire.card("5454545454545454"), "email": "a@b.c"},
    )
    assert updated["response_code"] == 161
    assert updated["status_message"] == "The customer profile for c1/Al was successfully updated"
    export = wire.ok("/v1/customer/export", {"customer_id": "c1", "include_bin": True})
    record = export["customers"][0]
    assert record["credit_card"]["masked_number"] == "545454xxxxxx5454"
    assert record["email"] == "a@b.c"
    refund = wire.ok("/v1/transactions/refund/to_customer", {"amount": "1.00", "customer_id": "c1"})
    assert refund["masked_card_number"] == "xxxxxxxxxxxx5454"
    deleted = wire.ok("/v1/customer/delete", {"customer_id": "c1"})
    assert deleted["response_code"] == 162
    missing = wire.post(
        "/v1/transactions/sale/by_customer", {"amount": "1.00", "customer_id": "c1"}
    )
    assert missing.json()["errors"] == {"30": ["Customer ID, c1, was not found or is incomplete."]}


def test_check_profile_hold_fund_void_refund(wire: Any) -> None:
    check = {"account_number": "987654321", "routing_number": "325070760"}
    wire.ok(
        "/v1/customer/create",
        {"customer_id": "ach1", "check": check, "billing_address": {"name": "B"}},
    )
    held = wire.ok("/v1/checks/hold/by_customer", {"amount": "20.00", "customer_id": "ach1"})
    cid = held["check_transaction_id"]
    assert (
        "821"
        in wire.post("/v1/checks/refund/by_transaction", {"check_transaction_id": cid}).json()[
            "errors"
        ]
    )
    funded = wire.ok("/v1/checks/manage/fund", {"check_transaction_id": cid, "amount": "15.00"})
    assert funded["response_code"] == 124
    refund = wire.ok(
        "/v1/checks/refund/by_transaction", {"check_transaction_id": cid, "amount": "5.00"}
    )
    assert refund["response_code"] == 122
    assert (
        "821" in wire.post("/v1/checks/manage/void", {"check_transaction_id": cid}).json()["errors"]
    )
    assert "80" in wire.post("/v1/checks/manage/void", {"check_transaction_id": 1}).json()["errors"]
    by_account = wire.ok("/v1/checks/refund/by_account", {"amount": "1.00", "check": check})
    assert by_account["response_code"] == 122
    sale = wire.ok(
        "/v1/checks/sale/by_customer", {"amount": "2.00", "customer_id": "customerTest124-ach"}
    )
    assert (
        wire.ok("/v1/checks/manage/void", {"check_transaction_id": sale["check_transaction_id"]})[
            "status_message"
        ]
        == "Your check was successfully managed."
    )


def test_duplicate_transaction_window(make_emulator: Any, request: pytest.FixtureRequest) -> None:
    emulator: PayTraceEmulator = make_emulator(duplicate_window_minutes=5)
    wire = request.getfixturevalue("wire").__class__(emulator)
    first = wire.sale("9.99", invoice_id="INV-1")
    blocked = wire.post(
        "/v1/transactions/sale/keyed",
        {"amount": "9.99", "credit_card": wire.card(), "invoice_id": "INV-1"},
    ).json()
    assert list(blocked["errors"]) == ["996"]
    assert str(first) in blocked["errors"]["996"][0]
    assert wire.sale("9.99", invoice_id="INV-2") > first  # other invoice: not a duplicate
    emulator.advance_clock(301)
    assert wire.sale("9.99", invoice_id="INV-1") > first


def test_declines_do_not_count_as_duplicates(
    make_emulator: Any, request: pytest.FixtureRequest
) -> None:
    emulator: PayTraceEmulator = make_emulator(duplicate_window_minutes=5)
    wire = request.getfixturevalue("wire").__class__(emulator)
    for _ in range(2):
        body = wire.post(
            "/v1/transactions/sale/keyed", {"amount": "0.29", "credit_card": wire.card()}
        ).json()
        assert body["response_code"] == 102


def test_avs_csc_auto_void_and_decline_status_switch(
    make_emulator: Any, request: pytest.FixtureRequest
) -> None:
    emulator: PayTraceEmulator = make_emulator(
        auto_void_on=frozenset({"avs", "csc"}),
        decline_status=400,
        decline_amounts=frozenset({Decimal("112.00")}),
    )
    wire = request.getfixturevalue("wire").__class__(emulator)
    body = wire.ok(
        "/v1/transactions/sale/keyed",
        {"amount": "1.00", "credit_card": wire.card(), "billing_address": {"zip": "K1C2N6"}},
    )
    assert (body["success"], body["response_code"]) == (True, 103)
    voided = wire.post("/v1/transactions/void", {"transaction_id": body["transaction_id"]})
    assert "818" in voided.json()["errors"]
    csc = wire.ok(
        "/v1/transactions/sale/keyed", {"amount": "1.00", "credit_card": wire.card(), "csc": "000"}
    )
    assert csc["response_code"] == 103
    declined = wire.post(
        "/v1/transactions/sale/keyed", {"amount": "112.00", "credit_card": wire.card()}
    )
    assert (declined.status_code, declined.json()["response_code"]) == (400, 102)
    assert wire.sale("0.29") > 0  # no longer a decline amount


# -- property test: random operation sequences keep the lifecycle invariants ---------------

_ops = st.lists(
    st.tuples(
        st.sampled_from(["sale", "auth", "capture", "void", "refund", "settle"]),
        st.integers(min_value=0, max_value=7),
        st.integers(min_value=1, max_value=3000),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_ops)
def test_lifecycle_invariants(make_emulator: Any, ops: list[tuple[str, int, int]]) -> None:
    emulator: PayTraceEmulator = make_emulator(seed=False)
    session = emulator.session()
    headers = {"Authorization": f"Bearer {emulator.issue_token()}"}
    card = {"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2031}
    ids: list[int] = []

    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = session.post(
            "https://api.paytrace.com/v1/" + path, json=body, headers=headers, timeout=5
        )
        data: dict[str, Any] = reply.json()
        return data

    for op, pick, cents in ops:
        amount = f"{Decimal(cents) / 100:.2f}"
        target = ids[pick % len(ids)] if ids else 1
        txn = emulator.state.txns.get(target)
        if op in ("sale", "auth"):
            path = "transactions/sale/keyed" if op == "sale" else "transactions/authorization/keyed"
            body = call(path, {"amount": amount, "credit_card": card})
            ids.append(body["transaction_id"])
        elif op == "settle":
            call("transactions/settle", {})
        elif op == "void":
            was_voidable = (
                txn is not None and txn.approved and not txn.voided and txn.batch_number is None
            )
            body = call("transactions/void", {"transaction_id": target})
            assert body["success"] == was_voidable
        elif op == "refund":
            settled = txn is not None and txn.batch_number is not None and not txn.voided
            body = call(
                "transactions/refund/for_transaction", {"transaction_id": target, "amount": amount}
            )
            if body["success"]:
                assert settled
                ids.append(body["transaction_id"])
        else:
            capturable = txn is not None and txn.uncaptured_auth
            body = call("transactions/authorization/capture", {"transaction_id": target})
            assert body["success"] == capturable
        for t in emulator.state.txns.values():
            live_refunds = sum(
                (
                    r.amount
                    for r in emulator.state.txns.values()
                    if r.parent_id == t.transaction_id and not r.voided
                ),
                Decimal(0),
            )
            assert t.refunded == live_refunds <= t.amount
            if t.refunded:
                assert t.batch_number is not None
            if t.voided:
                assert t.batch_number is None  # nothing voided ever settles
