"""Every request on the wire, checked with ``responses``."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from oracle_fusion_client import (
    ApplyReceipt,
    BasicAuth,
    BatchPart,
    Cond,
    FusionBatchError,
    FusionClient,
    FusionConnectionError,
    FusionInputError,
    NewInvoice,
    NewSalesOrder,
    NewStandardReceipt,
    Query,
    RemittanceReference,
    RetryConfig,
    Timeouts,
    finder,
)

HOST = "https://pod.fa.us2.oraclecloud.com"
ROOT = f"{HOST}/fscmRestApi/resources/11.13.18.05"
AUTH = "Basic Y2FzZXk6V2VsY29tZTE="


def make_client(**kwargs: Any) -> FusionClient:
    return FusionClient(
        base_url=HOST,
        auth=BasicAuth("casey", "Welcome1"),
        sleep=lambda _: None,
        retry=RetryConfig(max_retries=2),
        **kwargs,
    )


def _body(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


@responses.activate
def test_create_receipt_request() -> None:
    responses.post(
        f"{ROOT}/standardReceipts",
        status=201,
        json={"StandardReceiptId": 300100153164586, "ReceiptNumber": "R1", "Amount": 451.23},
        match=[
            matchers.header_matcher(
                {
                    "Authorization": AUTH,
                    "REST-Framework-Version": "4",
                    "Content-Type": "application/vnd.oracle.adf.resourceitem+json",
                }
            )
        ],
    )
    receipt = make_client().standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="R1",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("451.23"),
            Currency="USD",
        )
    )
    assert receipt.Amount == Decimal("451.23")
    assert _body(responses.calls[0]) == {
        "ReceiptNumber": "R1",
        "ReceiptMethod": "Manual",
        "BusinessUnit": "Vision Operations",
        "Amount": "451.23",
        "Currency": "USD",
    }


@responses.activate
def test_collection_query_parameters() -> None:
    responses.get(
        f"{ROOT}/receivablesInvoices",
        json={"items": [], "count": 0, "hasMore": False, "limit": 10, "offset": 0},
        match=[
            matchers.query_param_matcher(
                {
                    "onlyData": "true",
                    "q": "TransactionNumber='O''Brien 1' and EnteredAmount>100",
                    "fields": "CustomerTransactionId,TransactionNumber",
                    "expand": "receivablesInvoiceLines",
                    "orderBy": "TransactionDate:desc",
                    "totalResults": "true",
                    "limit": "10",
                    "offset": "0",
                }
            )
        ],
    )
    query = Query(
        q=f"{Cond('TransactionNumber', '=', 'O' + chr(39) + 'Brien 1')} and "
        f"{Cond('EnteredAmount', '>', 100)}",
        fields=["CustomerTransactionId", "TransactionNumber"],
        expand=["receivablesInvoiceLines"],
        order_by=[("TransactionDate", "desc")],
        total_results=True,
        limit=10,
    )
    assert list(make_client().receivables_invoices.list(query)) == []


@responses.activate
def test_paging_requests_follow_offsets() -> None:
    for offset, ids, more in ((0, [1, 2], True), (2, [3, 4], True), (4, [5], False)):
        responses.get(
            f"{ROOT}/standardReceipts",
            json={
                "items": [{"StandardReceiptId": i} for i in ids],
                "count": len(ids),
                "hasMore": more,
                "limit": 2,
                "offset": offset,
            },
            match=[
                matchers.query_param_matcher(
                    {"onlyData": "true", "limit": "2", "offset": str(offset)}
                )
            ],
        )
    ids = [r.StandardReceiptId for r in make_client().standard_receipts.list(Query(limit=2))]
    assert ids == [1, 2, 3, 4, 5]


@responses.activate
def test_default_page_size_is_500() -> None:
    responses.get(
        f"{ROOT}/standardReceipts",
        json={"items": [], "count": 0, "hasMore": False, "limit": 500, "offset": 0},
        match=[matchers.query_param_matcher({"onlyData": "true", "limit": "500", "offset": "0"})],
    )
    assert list(make_client().standard_receipts.list()) == []


def test_page_size_bounds() -> None:
    with pytest.raises(FusionInputError):
        Query(limit=501)
    with pytest.raises(FusionInputError):
        Query(limit=0)


@responses.activate
def test_order_upsert_header_and_get_by_order_key() -> None:
    responses.post(
        f"{ROOT}/salesOrdersForOrderHub",
        status=201,
        json={"OrderKey": "GPR:R13"},
        match=[matchers.header_matcher({"Upsert-Mode": "true"})],
    )
    responses.get(f"{ROOT}/salesOrdersForOrderHub/GPR%3AR13", json={"OrderKey": "GPR:R13"})
    client = make_client()
    order = NewSalesOrder(
        SourceTransactionNumber="R13",
        SourceTransactionSystem="GPR",
        SourceTransactionId="R13",
        TransactionalCurrencyCode="USD",
    )
    assert client.sales_orders.create(order).OrderKey == "GPR:R13"
    assert client.sales_orders.get("GPR", "R13").model.OrderKey == "GPR:R13"


@responses.activate
def test_order_finder() -> None:
    responses.get(
        f"{ROOT}/salesOrdersForOrderHub",
        json={"items": [{"OrderKey": "GPR:A,B"}], "count": 1, "hasMore": False},
        match=[
            matchers.query_param_matcher(
                {
                    "onlyData": "true",
                    "finder": "findBySourceOrderNumberAndSystem;"
                    "SourceTransactionNumber='A,B',SourceTransactionSystem=GPR",
                    "limit": "1",
                    "offset": "0",
                }
            )
        ],
    )
    found = make_client().sales_orders.find_by_source("A,B", "GPR")
    assert found is not None
    assert found.OrderKey == "GPR:A,B"


@responses.activate
def test_patch_sends_if_match_and_returns_new_etag() -> None:
    responses.patch(
        f"{ROOT}/receivablesInvoices/42",
        json={"CustomerTransactionId": 42, "InvoiceStatus": "Incomplete"},
        headers={"ETag": '"v2"'},
        match=[
            matchers.header_matcher({"If-Match": '"v1"'}),
            matchers.json_params_matcher({"InvoiceStatus": "Incomplete"}),
        ],
    )
    fetched = make_client().receivables_invoices.update_status(42, "Incomplete", etag='"v1"')
    assert fetched.etag == '"v2"'


@responses.activate
def test_apply_receipt_action_media_type() -> None:
    responses.post(
        f"{ROOT}/standardReceipts/7/action/applyReceipt",
        json={"result": "SUCCESS"},
        match=[
            matchers.header_matcher({"Content-Type": "application/vnd.oracle.adf.action+json"}),
            matchers.json_params_matcher({"appliedPaymentScheduleId": 9, "amountApplied": "10.50"}),
        ],
    )
    result = make_client().standard_receipts.apply(
        7, ApplyReceipt(appliedPaymentScheduleId=9, amountApplied=Decimal("10.50"))
    )
    assert result.result == "SUCCESS"


@responses.activate
def test_delete_receipt() -> None:
    responses.delete(f"{ROOT}/standardReceipts/7", status=204)
    make_client().standard_receipts.delete(7)
    assert responses.calls[0].request.method == "DELETE"


@responses.activate
def test_batch_request_shape() -> None:
    responses.post(
        f"{ROOT}/",
        json={
            "parts": [
                {"id": "p1", "path": "/standardReceipts/1", "operation": "get", "payload": {"A": 1}}
            ]
        },
        match=[
            matchers.header_matcher({"Content-Type": "application/vnd.oracle.adf.batch+json"}),
            matchers.json_params_matcher(
                {
                    "parts": [
                        {"id": "p1", "path": "/standardReceipts/1", "operation": "get"},
                        {
                            "id": "p2",
                            "path": "/receivablesInvoices/2",
                            "operation": "update",
                            "payload": {"InvoiceStatus": "Complete"},
                            "preconditionSucceeded": False,
                            "ifMatch": '"e"',
                        },
                    ]
                }
            ),
        ],
    )
    results = make_client().batch(
        [
            BatchPart("p1", "standardReceipts/1", "get"),
            BatchPart(
                "p2",
                "/receivablesInvoices/2",
                "update",
                {"InvoiceStatus": "Complete"},
                if_match='"e"',
            ),
        ]
    )
    assert results[0].payload == {"A": 1}


@responses.activate
def test_batch_failure_is_a_batch_error() -> None:
    responses.post(
        f"{ROOT}/", status=400, body="The business unit is invalid.", content_type="text/plain"
    )
    with pytest.raises(FusionBatchError) as info:
        make_client().batch([BatchPart("p1", "/standardReceipts", "create", {})])
    assert info.value.error_code == "AR_RAPI_BU_INVALID"


@responses.activate
def test_retry_sequence_503_503_200_for_get() -> None:
    url = f"{ROOT}/standardReceipts/1"
    responses.get(url, status=503)
    responses.get(url, status=503)
    responses.get(url, json={"StandardReceiptId": 1})
    sleeps: list[float] = []
    client = FusionClient(
        base_url=HOST, auth=BasicAuth("u", "p"), sleep=sleeps.append, rand=lambda: 1.0
    )
    assert client.standard_receipts.get(1).model.StandardReceiptId == 1
    assert sleeps == [0.5, 1.0]


@responses.activate
def test_connection_refused_is_retried_even_for_unsafe_write() -> None:
    url = f"{ROOT}/receivablesInvoices"
    responses.post(url, body=requests.exceptions.ConnectTimeout("connect timed out"))
    responses.post(url, status=201, json={"CustomerTransactionId": 5})
    invoice = NewInvoice.model_validate(
        {
            "BusinessUnit": "B",
            "TransactionSource": "S",
            "TransactionType": "Invoice",
            "TransactionDate": "2018-02-20",
            "BillToCustomerNumber": "1008",
            "InvoiceCurrencyCode": "USD",
        }
    )
    assert make_client().receivables_invoices.create(invoice).CustomerTransactionId == 5


@responses.activate
def test_connection_error_after_retries() -> None:
    responses.get(f"{ROOT}/standardReceipts/1", body=requests.ConnectionError("reset"))
    with pytest.raises(FusionConnectionError) as info:
        make_client().standard_receipts.get(1)
    assert info.value.sent is True
    assert len(responses.calls) == 3


@responses.activate
def test_401_refreshes_once() -> None:
    url = f"{ROOT}/standardReceipts/1"
    responses.get(url, status=401)
    responses.get(url, json={"StandardReceiptId": 1})
    assert make_client().standard_receipts.get(1).model.StandardReceiptId == 1


def test_repr_has_no_password() -> None:
    assert "Welcome1" not in repr(make_client())
    assert "Welcome1" not in str(make_client())


@pytest.mark.parametrize("api_version", ["latest", "11.13.18.05"])
@responses.activate
def test_api_version_is_configurable(api_version: str) -> None:
    responses.get(
        f"{HOST}/fscmRestApi/resources/{api_version}/standardReceipts/1",
        json={"StandardReceiptId": 1},
        match=[matchers.header_matcher({"REST-Framework-Version": "6"})],
    )
    client = make_client(api_version=api_version, framework_version="6")
    assert client.standard_receipts.get(1).model.StandardReceiptId == 1


def test_finder_builder() -> None:
    assert finder("PrimaryKey", StandardReceiptId=5) == "PrimaryKey;StandardReceiptId=5"
    assert finder("F") == "F"
    with pytest.raises(FusionInputError):
        finder("bad name", a=1)


@responses.activate
def test_logs_never_contain_credentials(caplog: pytest.LogCaptureFixture) -> None:
    url = f"{ROOT}/standardReceipts/1"
    responses.get(url, status=503)
    responses.get(url, json={"StandardReceiptId": 1})
    with caplog.at_level(logging.DEBUG):
        make_client().standard_receipts.get(1)
    assert "retrying GET" in caplog.text
    assert "Welcome1" not in caplog.text
    assert AUTH.split()[1] not in caplog.text


@responses.activate
def test_remittance_reference_request() -> None:
    responses.post(
        f"{ROOT}/standardReceipts/7/child/remittanceReferences",
        status=201,
        json={
            "RemittanceReferenceId": 1,
            "ReceiptMatchBy": "Purchase Order",
            "ReferenceNumber": "PO",
        },
        match=[
            matchers.json_params_matcher(
                {
                    "ReceiptMatchBy": "Purchase Order",
                    "ReferenceNumber": "PO",
                    "ReferenceAmount": "1.50",
                }
            )
        ],
    )
    ref = make_client().standard_receipts.add_remittance_reference(
        7,
        RemittanceReference(
            ReceiptMatchBy="Purchase Order", ReferenceNumber="PO", ReferenceAmount=Decimal("1.50")
        ),
    )
    assert ref.RemittanceReferenceId == 1


@responses.activate
def test_account_activity_and_currency_rate_requests() -> None:
    responses.get(
        f"{ROOT}/receivablesCustomerAccountActivities",
        json={"items": [], "count": 0, "hasMore": False},
        match=[
            matchers.query_param_matcher(
                {
                    "onlyData": "true",
                    "q": "AccountNumber='1008'",
                    "expand": "transactionPaymentSchedules",
                    "limit": "1",
                    "offset": "0",
                }
            )
        ],
    )
    responses.get(
        f"{ROOT}/currencyRates",
        json={"items": [{"ConversionRate": 1.25}], "count": 1, "hasMore": False},
        match=[
            matchers.query_param_matcher(
                {
                    "onlyData": "true",
                    "q": "FromCurrency='EUR' and ToCurrency='USD' and "
                    "ConversionDate='2018-02-20' and ConversionType='Corporate'",
                    "limit": "1",
                    "offset": "0",
                }
            )
        ],
    )
    client = make_client()
    assert client.customer_account_activities.open_payment_schedules("1008") == []
    rate = client.currency_rates.find("EUR", "USD", date(2018, 2, 20))
    assert rate is not None
    assert rate.ConversionRate == Decimal("1.25")


@responses.activate
def test_with_options_overrides_per_call_and_shares_the_session() -> None:
    url = f"{ROOT}/standardReceipts/1"
    responses.get(
        url,
        json={"StandardReceiptId": 1},
        match=[
            matchers.header_matcher(
                {"Metadata-Context": 'sandbox="S1"', "X-Trace": "call", "Authorization": AUTH}
            )
        ],
    )
    client = make_client(headers={"Metadata-Context": 'sandbox="S1"', "X-Trace": "client"})
    derived = client.with_options(
        timeouts=Timeouts(connect=1, read=300), headers={"X-Trace": "call"}
    )
    assert derived.http.session is client.http.session
    assert derived.http.timeouts.read == 300
    assert client.http.timeouts.read == 120
    assert derived.standard_receipts.get(1).model.StandardReceiptId == 1
    assert client.http.headers["X-Trace"] == "client"
