"""The resources through the real ``PayTraceClient``, mocked at the wire with ``responses``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from responses import matchers

from paytrace_client import PayTraceDeclinedError, PayTraceStateError
from paytrace_client._client import PayTraceClient
from paytrace_client.models import Address, CreditCard

BASE = "https://api.sandbox.paytrace.com"
TOKEN = {"access_token": "aa:bb:cc", "token_type": "bearer", "expires_in": 7200}
PAN = "4012000098765439"
CSC = "999"
CARD = CreditCard(PAN, 9, 2030, today=date(2026, 11, 23))
DECLINED_F2 = {
    "success": False,
    "response_code": 102,
    "status_message": "Your transaction was not approved.",
    "transaction_id": 178803407,
    "approval_code": "",
    "approval_message": "    DECLINE      - Do not honor",
    "avs_response": "0",
    "csc_response": "Match",
    "discretionary_data": {"BALANCEAMOUNT": "11111.11"},
    "external_transaction_id": "",
    "masked_card_number": "xxxxxxxxxxxx5439",
}


def _json(body: object) -> dict[str, Any]:
    assert isinstance(body, (bytes, str))
    decoded: dict[str, Any] = json.loads(body)
    return decoded


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(f"{BASE}/oauth/token", json=TOKEN)
        yield mock


@pytest.fixture
def client() -> Iterator[PayTraceClient]:
    with PayTraceClient(
        username="api-user",
        password="pass-w0rd",
        integrator_id="INT123",
        base_url=BASE,
        session=requests.Session(),
        export_timezone=ZoneInfo("America/Chicago"),
    ) as c:
        yield c


def test_keyed_sale_on_the_wire(wire: responses.RequestsMock, client: PayTraceClient) -> None:
    wire.post(
        f"{BASE}/v1/transactions/sale/keyed",
        json={
            "success": True,
            "response_code": 101,
            "status_message": "Your transaction was successfully approved.",
            "transaction_id": 395970044,
            "approval_code": "TAS679",
            "approval_message": "  NO  MATCH - Approved and completed",
            "avs_response": "No Match",
            "csc_response": "",
            "external_transaction_id": "",
            "masked_card_number": "xxxxxxxxxxxx5439",
        },
        match=[
            matchers.json_params_matcher(
                {
                    "amount": "1.00",
                    "credit_card": {
                        "number": PAN,
                        "expiration_month": "09",
                        "expiration_year": "2030",
                    },
                    "csc": CSC,
                    "billing_address": {"name": "Longbob Longsen", "zip": "K1C2N6"},
                    "invoice_id": "INV-1",
                    "integrator_id": "INT123",
                }
            )
        ],
    )
    result = client.transactions.sale_keyed(
        Decimal("1"),
        CARD,
        csc=CSC,
        billing_address=Address(name="Longbob Longsen", zip="K1C2N6"),
        invoice_id="INV-1",
    )
    assert result.transaction_id == 395970044
    assert result.masked_card_number == "xxxxxxxxxxxx5439"


def test_decline_is_raised_and_leaks_no_card_data(
    wire: responses.RequestsMock, client: PayTraceClient, caplog: pytest.LogCaptureFixture
) -> None:
    wire.post(f"{BASE}/v1/transactions/sale/keyed", status=400, json=DECLINED_F2)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PayTraceDeclinedError) as info:
        client.transactions.sale_keyed("1.00", CARD, csc=CSC)
    assert info.value.transaction_id == 178803407
    assert info.value.approval_message == "DECLINE      - Do not honor"
    for text in (str(info.value), repr(info.value), caplog.text, repr(CARD), repr(client)):
        assert PAN not in text
    assert f'"csc": "{CSC}"' not in caplog.text


def test_void_of_settled_transaction_is_a_state_error(
    wire: responses.RequestsMock, client: PayTraceClient
) -> None:
    wire.post(
        f"{BASE}/v1/transactions/void",
        status=400,
        json={
            "success": False,
            "response_code": 1,
            "status_message": "One or more errors has occurred.",
            "errors": {
                "818": [
                    "The Transaction ID that you provided could not be voided. Only transactions"
                    " that are pending settlement can be voided."
                ]
            },
        },
        match=[matchers.json_params_matcher({"transaction_id": 5, "integrator_id": "INT123"})],
    )
    with pytest.raises(PayTraceStateError) as info:
        client.transactions.void(5)
    assert info.value.codes == ["818"]


def test_lazy_export_through_the_client_uses_its_time_zone(
    wire: responses.RequestsMock, client: PayTraceClient
) -> None:
    url = f"{BASE}/v1/transactions/export/by_date_range"
    record = {"transaction_id": 7, "amount": "5.00", "settled": "3/1/2024 11:59:59 PM"}
    for day in ("03/01/2024", "03/02/2024"):
        wire.post(
            url,
            json={
                "success": True,
                "response_code": 0,
                "status_message": "",
                "transactions": [record],
            },
            match=[
                matchers.json_params_matcher(
                    {"start_date": day, "end_date": day, "integrator_id": "INT123"}
                )
            ],
        )
    records = client.exports.transactions(
        date(2024, 3, 1), date(2024, 3, 2), window=timedelta(days=1)
    )
    assert not [c for c in wire.calls if c.request.url == url]
    found = list(records)
    assert [r.amount for r in found] == [Decimal("5.00"), Decimal("5.00")]
    assert found[0].settled == datetime(2024, 3, 1, 23, 59, 59, tzinfo=ZoneInfo("America/Chicago"))
    sent = [_json(c.request.body) for c in wire.calls if c.request.url == url]
    assert [s["start_date"] for s in sent] == ["03/01/2024", "03/02/2024"]


def test_client_exposes_every_resource(client: PayTraceClient) -> None:
    for name in (
        "transactions",
        "customers",
        "checks",
        "exports",
        "batches",
        "level_three",
        "protect",
    ):
        assert hasattr(client, name)
