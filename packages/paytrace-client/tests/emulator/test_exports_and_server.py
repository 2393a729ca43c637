"""Export/batch formats, and the emulator on a real port (thread and subprocess)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import requests

from paytrace_client.emulator import EmulatorServer, FaultRule, PayTraceEmulator

STAMP = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")
RANGE = {"start_date": "03/07/2024", "end_date": "03/07/2024"}


def test_export_by_id_record_shape(wire: Any) -> None:
    tid = wire.sale(
        "12.34",
        invoice_id="INV-9",
        description="Order 9",
        billing_address={"name": "Ann", "zip": "99201"},
    )
    body = wire.ok("/v1/transactions/export/by_id", {"transaction_id": tid})
    assert body["success"] is True
    [record] = body["transactions"]
    assert record["transaction_id"] == tid
    assert (record["transaction_type"], record["amount"]) == ("SALE", 12.34)
    assert (record["status_code"], record["status_message"]) == ("Y", "Pending Settlement")
    assert record["credit_card"] == {
        "masked_number": "xxxxxxxxxxxx1111",
        "expiration_month": 12,
        "expiration_year": 2030,
        "type": "VISA",
    }
    assert (record["invoice_id"], record["description"]) == ("INV-9", "Order 9")
    assert record["settled"] == ""
    # 18:30 UTC on 7 March 2024 is 10:30 AM in Spokane (PST).
    assert record["created"] == {"at": "3/7/2024 10:30:00 AM", "by": "demo123", "through": "API"}
    assert "batch_number" not in record
    assert list(
        wire.post("/v1/transactions/export/by_id", {"transaction_id": 9}).json()["errors"]
    ) == ["811"]


def test_export_by_date_range_filters(wire: Any) -> None:
    sale = wire.sale("1.00", invoice_id="alpha-1", customer_id="ignored")
    auth = wire.ok(
        "/v1/transactions/authorization/keyed", {"amount": "2.00", "credit_card": wire.card()}
    )["transaction_id"]
    declined = wire.post(
        "/v1/transactions/sale/keyed", {"amount": "0.29", "credit_card": wire.card()}
    ).json()["transaction_id"]
    voided = wire.sale("3.00")
    wire.ok("/v1/transactions/void", {"transaction_id": voided})
    vault = wire.ok(
        "/v1/transactions/sale/by_customer", {"amount": "4.00", "customer_id": "customerTest123"}
    )["transaction_id"]

    def ids(**filters: Any) -> set[int]:
        body = wire.ok("/v1/transactions/export/by_date_range", {**RANGE, **filters})
        return {t["transaction_id"] for t in body["transactions"]}

    assert ids() == {sale, auth, declined, voided, vault}
    assert ids(transaction_type="AUTHORIZATION") == {auth}
    assert ids(transaction_type="DECLINED") == {declined}
    assert ids(transaction_type="VOID") == {voided}
    assert ids(transaction_type="PENDING") == {sale, vault}
    assert ids(transaction_type="STR/FWD") == set()
    assert ids(customer_id="customerTest123") == {vault}
    assert ids(transaction_id=auth) == {auth}
    assert ids(including_text="ALPHA") == {sale}
    assert ids(start_date="03/08/2024", end_date="03/09/2024") == set()
    wire.settle()
    assert ids(transaction_type="SETTLED") == {sale, vault}
    bad = wire.post("/v1/transactions/export/by_date_range", {"start_date": "2024-03-07"}).json()
    assert list(bad["errors"]) == ["49", "50"]


def test_batches_exports(wire: Any, emulator: PayTraceEmulator) -> None:
    assert list(wire.post("/v1/batches/export_one").json()["errors"]) == ["823"]
    first = wire.sale("10.00")
    wire.settle()
    wire.ok("/v1/transactions/refund/for_transaction", {"transaction_id": first, "amount": "4.00"})
    wire.sale("1.50")
    emulator.advance_clock(86400)
    wire.token = emulator.issue_token()  # the old one expired overnight
    settled = wire.ok("/v1/transactions/settle")
    assert settled["transaction_count"] == 2
    latest = wire.ok("/v1/batches/export_one")["batch"]
    assert latest["number"] == settled["batch_number"]
    assert (latest["sale_amount"], latest["refund_amount"], latest["net_amount"]) == (
        1.5,
        4.0,
        -2.5,
    )
    assert STAMP.match(latest["settled"])
    one = wire.ok("/v1/batches/export_one", {"batch_number": latest["number"] - 1})["batch"]
    assert one["transaction_count"] == 1
    both = wire.ok("/v1/batches/export", {"start_date": "03/01/2024", "end_date": "03/31/2024"})[
        "batches"
    ]
    assert [b["number"] for b in both] == [one["number"], latest["number"]]
    listing = wire.ok("/v1/batches/transaction_list", {"batch_number": one["number"]})[
        "transactions"
    ]
    assert [(t["transaction_id"], t["status_code"], t["batch_number"]) for t in listing] == [
        (first, f"GB{one['number']}", one["number"])
    ]
    assert STAMP.match(listing[0]["settled"])
    assert wire.ok("/v1/transactions/settle")["batch_number"] is None  # nothing pending


def test_client_key_email_receipt_and_swiped(wire: Any) -> None:
    key = wire.ok("/v1/payment_fields/token/create")
    assert list(key) == ["clientKey"]
    swipe = (
        "%B4012881888818888^Demo/Customer^2412101001020001000000701000000?"
        ";4012881888818888=24121010010270100001?"
    )
    sale = wire.ok("/v1/transactions/sale/swiped", {"amount": "1.00", "swipe": swipe})
    assert sale["masked_card_number"] == "xxxxxxxxxxxx8888"
    receipt = wire.ok(
        "/v1/transactions/email_receipt",
        {"transaction_id": sale["transaction_id"], "email": "a@b.co"},
    )
    assert receipt["response_code"] == 149
    assert list(
        wire.post(
            "/v1/transactions/email_receipt",
            {"transaction_id": sale["transaction_id"], "email": "x"},
        ).json()["errors"]
    ) == ["48"]


# -- on a real port --------------------------------------------------------------------------


def _token(session: requests.Session, base: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": "u", "password": "p"}
    return {
        "Authorization": "Bearer "
        + session.post(base + "/oauth/token", data=form, timeout=5).json()["access_token"]
    }


SALE = {
    "amount": "1.00",
    "credit_card": {"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030},
}


def test_server_keep_alive_and_faults_on_port() -> None:
    with EmulatorServer() as server:
        base = server.base_url
        session = requests.Session()
        headers = _token(session, base)
        first = session.post(
            base + "/v1/transactions/sale/keyed", json=SALE, headers=headers, timeout=5
        )
        assert first.status_code == 200
        assert first.raw.version == 11  # HTTP/1.1
        server.emulator.add_fault(FaultRule(kind="reset", path="/v1/transactions/sale/keyed"))
        with pytest.raises(requests.exceptions.ConnectionError):
            session.post(
                base + "/v1/transactions/sale/keyed", json=SALE, headers=headers, timeout=5
            )
        server.emulator.add_fault(
            FaultRule(
                kind="timeout_after_commit", path="/v1/transactions/sale/keyed", latency_seconds=2.0
            )
        )
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.post(
                base + "/v1/transactions/sale/keyed", json=SALE, headers=headers, timeout=0.3
            )
        assert len(server.emulator.state.txns) == 2  # the withheld sale was committed
        server.emulator.add_fault(FaultRule(kind="rate_limit", retry_after=3))
        limited = session.post(
            base + "/v1/transactions/settle", json={}, headers=headers, timeout=5
        )
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
        state = session.get(base + "/__emulator__/state", timeout=5).json()
        assert len(state["transactions"]) == 2
        session.close()


def test_cli_port_zero_prints_base_url_first() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paytrace_client.emulator",
            "--port",
            "0",
            "--strict",
            "--user",
            "me:pw",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        session = requests.Session()
        bad = session.post(
            base + "/oauth/token",
            data={"grant_type": "password", "username": "demo123", "password": "demo123"},
            timeout=5,
        )
        assert bad.json()["error"] == "invalid_grant"
        good = session.post(
            base + "/oauth/token",
            data={"grant_type": "password", "username": "me", "password": "pw"},
            timeout=5,
        )
        assert good.status_code == 200
        session.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
