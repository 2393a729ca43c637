"""Receipt DFF, credit memo lookup, customer accounts and sites (wire and emulator)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import cast

import responses

from oracle_fusion_client import (
    BasicAuth,
    FusionClient,
    NewCreditMemo,
    NewSalesOrder,
    NewStandardReceipt,
    ReceiptDFF,
)
from oracle_fusion_client.emulator import FusionEmulator, running_emulator

BASE = "https://fusion.emulator"
ROOT = f"{BASE}/fscmRestApi/resources/11.13.18.05"


def _client(emulator: FusionEmulator) -> FusionClient:
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def test_receipt_dff_is_typed_on_the_wire() -> None:
    receipt = NewStandardReceipt.model_validate(
        {
            "ReceiptNumber": "DFF-1",
            "ReceiptMethod": "Manual",
            "BusinessUnit": "Vision Operations",
            "Amount": "10",
            "Currency": "USD",
            "standardReceiptDFF": [{"__FLEX_Context": "Third Party", "thirdPartyName": "Acme"}],
        }
    )
    assert receipt.standardReceiptDFF is not None
    assert receipt.standardReceiptDFF[0].FLEX_Context == "Third Party"
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"))
    with responses.RequestsMock() as mock:
        mock.post(f"{ROOT}/standardReceipts", json={"StandardReceiptId": 1}, status=201)
        client.standard_receipts.create(receipt)
        body = json.loads(cast(bytes, mock.calls[0].request.body))
    assert body["standardReceiptDFF"] == [
        {"__FLEX_Context": "Third Party", "thirdPartyName": "Acme"}
    ]


def test_receipt_dff_round_trips_through_the_emulator() -> None:
    client = _client(FusionEmulator())
    created = client.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="DFF-2",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("12.50"),
            Currency="USD",
            standardReceiptDFF=[
                ReceiptDFF.model_validate({"__FLEX_Context": "Third Party", "thirdPartyName": "X"})
            ],
        )
    )
    assert created.StandardReceiptId is not None
    rows = client.standard_receipts.get_dff(created.StandardReceiptId)
    assert [(r.FLEX_Context, r.segments) for r in rows] == [
        ("Third Party", {"thirdPartyName": "X"})
    ]
    assert rows[0].CashReceiptId == created.StandardReceiptId


def test_credit_memo_find_by_number() -> None:
    client = _client(FusionEmulator())
    memo = client.receivables_credit_memos.create(
        NewCreditMemo.model_validate(
            {
                "BusinessUnit": "Vision Operations",
                "TransactionSource": "Manual",
                "TransactionType": "Credit Memo",
                "TransactionDate": "2018-02-20",
                "BillToCustomerNumber": "1008",
                "CreditMemoCurrency": "USD",
                "receivablesCreditMemoLines": [
                    {"LineDescription": "x", "LineNumber": 1, "UnitSellingPrice": -5}
                ],
            }
        )
    )
    assert memo.TransactionNumber is not None
    found = client.receivables_credit_memos.find_by_number(memo.TransactionNumber)
    assert found is not None
    assert found.CustomerTransactionId == memo.CustomerTransactionId
    assert found.EnteredAmount == Decimal(-5)
    assert client.receivables_credit_memos.find_by_number("no-such") is None
    listed = list(client.receivables_credit_memos.list())
    assert [m.TransactionNumber for m in listed] == [memo.TransactionNumber]


def test_account_sites_request_uses_the_documented_finder() -> None:
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"))
    with responses.RequestsMock() as mock:
        mock.get(
            f"{ROOT}/receivablesCustomerAccountSiteActivities",
            json={
                "items": [{"BillToSiteUseId": 7, "BillToSiteNumber": "S 1", "AccountNumber": "A"}],
                "count": 1,
                "hasMore": False,
                "limit": 500,
                "offset": 0,
            },
        )
        sites = client.customer_account_sites.find_by_account_number("A,1")
        url = mock.calls[0].request.url or ""
    assert "finder=CustomerAccountSiteActivitiesFinder%3BAccountNumber%3D%27A%2C1%27" in url
    assert [s.BillToSiteUseId for s in sites] == [7]


def test_customer_account_and_sites_lookup_against_the_seed() -> None:
    client = _client(FusionEmulator())
    account = client.customer_account_activities.find_by_account_number("1008")
    assert account is not None
    assert (account.AccountId, account.CustomerName) == (1008, "Total Internet")
    sites = client.customer_account_sites.find_by_account_number("1008")
    assert [(s.BillToSiteNumber, s.BillToSiteUseId, s.AccountId) for s in sites] == [
        ("1042", 1042, 1008)
    ]
    assert sites[0].TotalOpenReceivablesForSite == Decimal(0)
    site = client.customer_account_sites.find_site("1006", "1025")
    assert site is not None
    assert site.BillToSiteUseId == 1025
    assert client.customer_account_sites.find_site("1006", "nope") is None
    assert client.customer_account_sites.find_by_account_number("9999") == []
    assert client.customer_account_sites.get(1042).model.CustomerName == "Total Internet"


def test_site_balance_follows_invoices() -> None:
    emulator = FusionEmulator()
    client = _client(emulator)
    client.http.json(
        "POST",
        "receivablesInvoices",
        body={
            "BillToCustomerNumber": "1008",
            "BusinessUnit": "Vision Operations",
            "InvoiceCurrencyCode": "USD",
            "PaymentTerms": "30 Net",
            "TransactionDate": "2018-02-20",
            "TransactionSource": "Manual-NES",
            "TransactionType": "Invoice",
            "receivablesInvoiceLines": [
                {"Description": "x", "LineNumber": 1, "Quantity": 2, "UnitSellingPrice": "10.25"}
            ],
        },
    )
    site = client.customer_account_sites.find_site("1008", "1042")
    assert site is not None
    assert site.TotalOpenReceivablesForSite == Decimal("20.50")
    assert site.TotalTransactionsDueForSite == 1
    denied = client.http.session.post(
        f"{ROOT}/receivablesCustomerAccountSiteActivities", json={}, auth=("u", "p")
    )
    assert denied.status_code == 405


def test_an_order_key_with_a_slash_over_tcp() -> None:
    with running_emulator() as (url, _):
        client = FusionClient(base_url=url, auth=BasicAuth("u", "p"))
        client.sales_orders.create(
            NewSalesOrder.model_validate(
                {
                    "SourceTransactionNumber": "N/1",
                    "SourceTransactionSystem": "A/B",
                    "SourceTransactionId": "x?y",
                    "TransactionalCurrencyCode": "USD",
                    "BusinessUnitId": 204,
                    "BuyingPartyNumber": "1006",
                }
            )
        )
        got = client.sales_orders.get("A/B", "x?y").model
        assert got.OrderKey == "A/B:x?y"
