"""The client against the emulator in-process: the reference's example payloads, unchanged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from oracle_fusion_client import (
    ApplyReceipt,
    BasicAuth,
    BatchPart,
    FusionAuthError,
    FusionBadRequestError,
    FusionBatchError,
    FusionClient,
    FusionConnectionError,
    FusionDuplicateError,
    FusionNotFoundError,
    FusionPreconditionFailedError,
    FusionRateLimitError,
    FusionServerError,
    FusionTimeoutError,
    NewCreditMemo,
    NewInvoice,
    NewSalesOrder,
    NewStandardReceipt,
    Query,
    RetryConfig,
)
from oracle_fusion_client.emulator import EmulatorConfig, Fault, FusionEmulator

BASE = "https://fusion.emulator"

# Verbatim from reference/oracle-fusion-api.md
RECEIPT: dict[str, Any] = {
    "ReceiptNumber": "SKR_Receipt_1008",
    "ReceiptMethod": "Manual",
    "BusinessUnit": "Vision Operations",
    "Amount": "451.23",
    "Currency": "USD",
    "RemittanceBankAccountNumber": "10271-17621-619",
}
INVOICE: dict[str, Any] = {
    "BillingDate": "2018-02-20",
    "BillToCustomerNumber": "1008",
    "BusinessUnit": "Vision Operations",
    "Comments": "New Laptop Promotion",
    "DueDate": "2018-02-20",
    "InternalNotes": "Best Priced item",
    "InvoiceCurrencyCode": "USD",
    "PaymentTerms": "30 Net",
    "TransactionDate": "2018-02-20",
    "TransactionSource": "Manual-NES",
    "ShipToCustomerName": "Total Internet",
    "ShipToCustomerNumber": "1008",
    "ShipToSite": "1042",
    "TransactionType": "Invoice",
    "receivablesInvoiceLines": [
        {"Description": "Laptop", "LineNumber": 1, "Quantity": 2, "UnitSellingPrice": 1299.99},
        {"Description": "Battery", "LineNumber": 2, "Quantity": 2, "UnitSellingPrice": 102.15},
        {"Description": "Charger", "LineNumber": 3, "Quantity": 4, "UnitSellingPrice": 65.45},
    ],
}
ORDER: dict[str, Any] = {
    "SourceTransactionNumber": "R13_Sample_Order_ATOModel_22",
    "SourceTransactionSystem": "GPR",
    "SourceTransactionId": "R13_Sample_Order_ATOModel_22",
    "TransactionalCurrencyCode": "USD",
    "BusinessUnitId": 204,
    "BuyingPartyNumber": "1006",
    "TransactionTypeCode": "STD",
    "RequestedShipDate": "2018-09-19T19:51:48+00:00",
    "SubmittedFlag": "true",
    "FreezePriceFlag": "false",
    "FreezeShippingChargeFlag": "false",
    "FreezeTaxFlag": "false",
    "RequestingBusinessUnitId": 204,
    "billToCustomer": [{"CustomerAccountId": 1006, "SiteUseId": 1025}],
    "shipToCustomer": [{"PartyId": 1006, "SiteId": 1036}],
    "lines": [
        {
            "SourceTransactionLineId": "1",
            "SourceTransactionLineNumber": "1",
            "SourceScheduleNumber": "1",
            "SourceTransactionScheduleId": "1",
            "OrderedUOMCode": "Ea",
            "OrderedQuantity": 1,
            "ProductNumber": "STOVE_ATO_MODEL",
            "FOBPoint": "Destination",
            "FreightTerms": "Add freight",
            "PaymentTerms": "30 Net",
            "ShipmentPriority": "High",
            "RequestedFulfillmentOrganizationId": 204,
        }
    ],
}
CREDIT_MEMO: dict[str, Any] = {
    "BusinessUnit": "Vision Operations",
    "TransactionSource": "Manual",
    "TransactionType": "Credit Memo",
    "TransactionDate": "2018-02-20",
    "BillToCustomerNumber": "1008",
    "ShipToCustomerSite": "1042",
    "CreditMemoComments": "Returned items",
    "GenerateBill": "Yes",
    "CreditMemoCurrency": "EUR",
    "ConversionRateType": "User",
    "ConversionRate": "0.8751",
    "receivablesCreditMemoLines": [
        {
            "LineDescription": "Item-01",
            "LineNumber": 1,
            "LineQuantityCredit": 2,
            "UnitSellingPrice": -5243,
            "TaxClassificationCode": "VAT20",
        }
    ],
}


@pytest.fixture
def emulator() -> FusionEmulator:
    return FusionEmulator(EmulatorConfig(today=lambda: date(2026, 1, 15)))


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(emulator: FusionEmulator, sleeps: Sleeps) -> FusionClient:
    return FusionClient(
        base_url=BASE,
        auth=BasicAuth("casey.brown", "Welcome1"),
        session=emulator.session(BASE),
        retry=RetryConfig(max_retries=2),
        sleep=sleeps,
        rand=lambda: 0.5,
    )


def test_reference_receipt_payload(client: FusionClient) -> None:
    receipt = client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    assert receipt.StandardReceiptId is not None
    assert receipt.Amount == Decimal("451.23")
    assert receipt.ReceiptDate == date(2026, 1, 15)
    assert (receipt.State, receipt.Status) == ("Unapplied", "Confirmed")
    fetched = client.standard_receipts.get(receipt.StandardReceiptId)
    assert fetched.model.ReceiptNumber == "SKR_Receipt_1008"
    assert fetched.etag
    found = client.standard_receipts.find_by_number("SKR_Receipt_1008")
    assert found is not None
    assert found.StandardReceiptId == receipt.StandardReceiptId
    assert client.standard_receipts.find_by_number("nope") is None
    client.standard_receipts.delete(receipt.StandardReceiptId)
    with pytest.raises(FusionNotFoundError):
        client.standard_receipts.get(receipt.StandardReceiptId)


def test_duplicate_receipt_number(client: FusionClient) -> None:
    client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    with pytest.raises(FusionDuplicateError) as info:
        client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    assert info.value.error_code == "AR_RCP_DUP_NUM"
    assert info.value.detail == (
        "A receipt with this number, date, amount and customer already exists. "
        "Enter a unique receipt number."
    )


@pytest.mark.parametrize(
    ("change", "code", "detail"),
    [
        ({"BusinessUnit": "Nowhere"}, "AR_RAPI_BU_INVALID", "The business unit is invalid."),
        (
            {"ReceiptMethod": "Pigeon"},
            "AR_INVAL_RECEIPT_MTH_ID",
            "The receipt method that you selected is invalid.",
        ),
        ({"Currency": "XXX"}, "AR_RAPI_CURR_CODE_INVALID", "The currency is invalid."),
        (
            {"ReceiptMethod": "Bills of Exchange"},
            "AR_BOE_OBSOLETE",
            "Bills of exchange receipt methods are no longer valid. Enter another receipt method.",
        ),
    ],
)
def test_receipt_validation(
    client: FusionClient, change: dict[str, str], code: str, detail: str
) -> None:
    with pytest.raises(FusionBadRequestError) as info:
        client.standard_receipts.create(NewStandardReceipt.model_validate({**RECEIPT, **change}))
    assert (info.value.error_code, info.value.detail) == (code, detail)


def test_missing_required_attribute(client: FusionClient) -> None:
    body = {k: v for k, v in RECEIPT.items() if k != "Amount"}
    response = client.http.session.post(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/standardReceipts",
        json=body,
        headers={"REST-Framework-Version": "4", "Authorization": "Basic dTpw"},
    )
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "FND_CMN_REQ_ATTRIB_API_SERV"
    assert detail["detail"] == "You must provide a value for the attribute Amount."


def test_reference_invoice_then_apply_receipt(client: FusionClient) -> None:
    invoice = client.receivables_invoices.create(NewInvoice.model_validate(INVOICE))
    assert invoice.EnteredAmount == Decimal("3066.08")
    assert invoice.InvoiceBalanceAmount == Decimal("3066.08")
    assert invoice.CustomerTransactionId is not None
    assert invoice.TransactionNumber is not None
    found = client.receivables_invoices.find_by_number(invoice.TransactionNumber)
    assert found is not None
    assert found.CustomerTransactionId == invoice.CustomerTransactionId
    expanded = client.receivables_invoices.get(
        invoice.CustomerTransactionId, Query(expand=["receivablesInvoiceInstallments"])
    ).model
    assert expanded.receivablesInvoiceInstallments is not None
    schedule_id = int(expanded.receivablesInvoiceInstallments[0]["InstallmentId"])
    receipt = client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    assert receipt.StandardReceiptId is not None
    client.standard_receipts.apply(
        receipt.StandardReceiptId,
        ApplyReceipt(appliedPaymentScheduleId=schedule_id, amountApplied=Decimal("400.00")),
    )
    after = client.receivables_invoices.get(invoice.CustomerTransactionId).model
    assert after.InvoiceBalanceAmount == Decimal("2666.08")
    receipt_after = client.standard_receipts.get(receipt.StandardReceiptId).model
    assert receipt_after.UnappliedAmount == Decimal("51.23")
    # without amountApplied the rest of the receipt is applied
    client.standard_receipts.apply(
        receipt.StandardReceiptId, ApplyReceipt(appliedPaymentScheduleId=schedule_id)
    )
    receipt_after = client.standard_receipts.get(receipt.StandardReceiptId).model
    assert (receipt_after.UnappliedAmount, receipt_after.State) == (Decimal(0), "Applied")
    after = client.receivables_invoices.get(invoice.CustomerTransactionId).model
    assert after.InvoiceBalanceAmount == Decimal("2614.85")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"BillToCustomerNumber": "9999"}, "AR_BILL_TO_CUST_NOT_FOUND"),
        ({"InvoiceCurrencyCode": "EUR"}, "AR_FUNC_CURRENCY_REQ"),
        ({"BusinessUnit": "Atlantis"}, "AR_BU_NOT_FOUND"),
        ({"TransactionSource": "Nope"}, "AR_BATCH_SOURCE_NOT_FOUND"),
    ],
)
def test_invoice_validation(client: FusionClient, change: dict[str, str], code: str) -> None:
    with pytest.raises(FusionBadRequestError) as info:
        client.receivables_invoices.create(NewInvoice.model_validate({**INVOICE, **change}))
    assert info.value.error_code == code


def test_invoice_patch_with_etag(client: FusionClient) -> None:
    invoice = client.receivables_invoices.create(NewInvoice.model_validate(INVOICE))
    assert invoice.CustomerTransactionId is not None
    fetched = client.receivables_invoices.get(invoice.CustomerTransactionId)
    updated = client.receivables_invoices.update_status(
        invoice.CustomerTransactionId, "Incomplete", etag=fetched.etag
    )
    assert updated.model.InvoiceStatus == "Incomplete"
    assert updated.etag != fetched.etag
    with pytest.raises(FusionPreconditionFailedError):
        client.receivables_invoices.update_status(
            invoice.CustomerTransactionId, "Complete", etag=fetched.etag
        )


def test_reference_credit_memo(client: FusionClient) -> None:
    memo = client.receivables_credit_memos.create(NewCreditMemo.model_validate(CREDIT_MEMO))
    assert memo.EnteredAmount == Decimal(-10486)
    assert memo.CustomerTransactionId is not None
    got = client.receivables_credit_memos.get(
        memo.CustomerTransactionId, Query(expand=["all"])
    ).model
    assert got.CreditMemoCurrency == "EUR"
    assert got.receivablesCreditMemoLines is not None
    assert got.receivablesCreditMemoLines[0].LineAmountCredit == Decimal(-10486)


def test_reference_sales_order_upsert_get_find_ship(
    client: FusionClient, emulator: FusionEmulator
) -> None:
    order = client.sales_orders.create(NewSalesOrder.model_validate(ORDER))
    assert order.OrderKey == "GPR:R13_Sample_Order_ATOModel_22"
    assert order.StatusCode == "OPEN"
    again = client.sales_orders.create(NewSalesOrder.model_validate(ORDER))  # Upsert-Mode
    assert again.HeaderId == order.HeaderId
    assert len(emulator.state.records["salesOrdersForOrderHub"]) == 1
    with pytest.raises(FusionBadRequestError):
        client.sales_orders.create(NewSalesOrder.model_validate(ORDER), upsert=False)
    got = client.sales_orders.get("GPR", "R13_Sample_Order_ATOModel_22").model
    assert got.HeaderId == order.HeaderId
    found = client.sales_orders.find_by_source("R13_Sample_Order_ATOModel_22", "GPR")
    assert found is not None
    assert found.OrderKey == order.OrderKey
    assert client.sales_orders.find_by_source("R13_Sample_Order_ATOModel_22", "OTHER") is None
    shipped = client.http.session.post(
        f"{BASE}/__emulator__/orders/GPR:R13_Sample_Order_ATOModel_22/ship"
    )
    assert shipped.status_code == 200
    assert client.sales_orders.get("GPR", "R13_Sample_Order_ATOModel_22").model.StatusCode == (
        "CLOSED"
    )


def test_paging_follows_has_more(client: FusionClient) -> None:
    for i in range(7):
        client.standard_receipts.create(
            NewStandardReceipt.model_validate({**RECEIPT, "ReceiptNumber": f"R-{i}"})
        )
    page = client.http.page(
        "standardReceipts", Query(limit=3, total_results=True, order_by=[("ReceiptNumber", "asc")])
    )
    assert (page.count, page.has_more, page.limit, page.offset) == (3, True, 3, 0)
    assert page.total_results == 7
    numbers = [r.ReceiptNumber for r in client.standard_receipts.list(Query(limit=3))]
    assert numbers == [f"R-{i}" for i in range(7)]
    newest_first = [
        r.ReceiptNumber
        for r in client.standard_receipts.list(Query(order_by=[("ReceiptNumber", "desc")]))
    ]
    assert newest_first == [f"R-{i}" for i in reversed(range(7))]


def test_batch_all_or_none(client: FusionClient, emulator: FusionEmulator) -> None:
    ok = client.batch(
        [
            BatchPart("p1", "/standardReceipts", "create", {**RECEIPT, "ReceiptNumber": "B-1"}),
            BatchPart("p2", "/standardReceipts", "create", {**RECEIPT, "ReceiptNumber": "B-2"}),
        ]
    )
    assert [r.id for r in ok] == ["p1", "p2"]
    assert ok[0].payload["ReceiptNumber"] == "B-1"
    with pytest.raises(FusionBatchError) as info:
        client.batch(
            [
                BatchPart("p3", "/standardReceipts", "create", {**RECEIPT, "ReceiptNumber": "B-3"}),
                BatchPart("p4", "/standardReceipts", "create", {**RECEIPT, "BusinessUnit": "X"}),
            ]
        )
    assert info.value.error_code == "AR_RAPI_BU_INVALID"
    assert info.value.error_path == "p4"
    numbers = {r["ReceiptNumber"] for r in emulator.state.records["standardReceipts"].values()}
    assert numbers == {"B-1", "B-2"}


def test_framework_v1_plain_text_errors(emulator: FusionEmulator) -> None:
    client = FusionClient(
        base_url=BASE,
        auth=BasicAuth("u", "p"),
        session=emulator.session(BASE),
        framework_version="1",
    )
    client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    with pytest.raises(FusionDuplicateError) as info:
        client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    assert info.value.error_code == "AR_RCP_DUP_NUM"
    assert info.value.title is None


def test_429_retry_after_is_honoured(
    client: FusionClient, emulator: FusionEmulator, sleeps: Sleeps
) -> None:
    emulator.inject(Fault("status", status=429, retry_after=3, method="GET"))
    emulator.inject(Fault("status", status=503, method="GET"))
    assert client.standard_receipts.find_by_number("x") is None
    assert sleeps == [3.0, 0.5]  # Retry-After, then 0.5 * 2**1 * jitter 0.5


def test_retries_exhausted(client: FusionClient, emulator: FusionEmulator) -> None:
    emulator.inject(Fault("status", status=503, times=3))
    with pytest.raises(FusionServerError) as info:
        client.standard_receipts.find_by_number("x")
    assert info.value.attempts == 3
    emulator.inject(Fault("status", status=429, times=3, retry_after=1))
    with pytest.raises(FusionRateLimitError) as rate:
        client.standard_receipts.find_by_number("x")
    assert rate.value.retry_after == 1.0


def test_unsafe_write_is_not_retried(client: FusionClient, emulator: FusionEmulator) -> None:
    emulator.inject(Fault("status", status=503, method="POST"))
    with pytest.raises(FusionServerError):
        client.receivables_invoices.create(NewInvoice.model_validate(INVOICE))
    emulator.inject(Fault("reset", method="POST"))
    with pytest.raises(FusionConnectionError) as info:
        client.receivables_invoices.create(NewInvoice.model_validate(INVOICE))
    assert info.value.sent is True
    assert emulator.state.records["receivablesInvoices"] == {}


def test_timeout_after_commit_resolved_by_natural_key(
    client: FusionClient, emulator: FusionEmulator
) -> None:
    emulator.inject(Fault("timeout_after_commit", method="POST", path="standardReceipts"))
    receipt = client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    assert receipt.ReceiptNumber == "SKR_Receipt_1008"
    assert len(emulator.state.records["standardReceipts"]) == 1


def test_timeout_on_unsafe_write_surfaces(client: FusionClient, emulator: FusionEmulator) -> None:
    emulator.inject(Fault("timeout_after_commit", method="POST"))
    with pytest.raises(FusionTimeoutError) as info:
        client.receivables_invoices.create(NewInvoice.model_validate(INVOICE))
    assert info.value.sent is True
    assert len(emulator.state.records["receivablesInvoices"]) == 1


def test_reset_on_get_is_retried(client: FusionClient, emulator: FusionEmulator) -> None:
    emulator.inject(Fault("reset", method="GET"))
    assert client.standard_receipts.find_by_number("x") is None


def test_expired_token_triggers_one_refresh(client: FusionClient, emulator: FusionEmulator) -> None:
    emulator.inject(Fault("expired_token"))
    assert client.standard_receipts.find_by_number("x") is None
    emulator.inject(Fault("expired_token", times=2))
    with pytest.raises(FusionAuthError):
        client.standard_receipts.find_by_number("x")


def test_control_endpoints(client: FusionClient, emulator: FusionEmulator) -> None:
    session = client.http.session
    client.standard_receipts.create(NewStandardReceipt.model_validate(RECEIPT))
    state = session.get(f"{BASE}/__emulator__/state").json()
    assert state["counts"]["standardReceipts"] == 1
    faults = session.post(
        f"{BASE}/__emulator__/faults", json={"faults": [{"kind": "latency", "delay": 0}]}
    ).json()
    assert faults["faults"][0]["kind"] == "latency"
    assert session.post(f"{BASE}/__emulator__/faults", json={"kind": "bogus"}).status_code == 400
    assert session.delete(f"{BASE}/__emulator__/faults").json() == {"faults": []}
    seeded = session.post(
        f"{BASE}/__emulator__/seed",
        json={
            "businessUnits": [
                {"BusinessUnitId": 1, "BusinessUnitName": "Acme", "LedgerCurrency": "USD"}
            ]
        },
    )
    assert seeded.status_code == 200
    client.standard_receipts.create(
        NewStandardReceipt.model_validate({**RECEIPT, "BusinessUnit": "Acme", "ReceiptNumber": "A"})
    )
    assert session.post(f"{BASE}/__emulator__/reset").status_code == 200
    assert emulator.state.records["standardReceipts"] == {}


def test_version_root_and_unknown_paths(client: FusionClient) -> None:
    session = client.http.session
    root = session.get(f"{BASE}/fscmRestApi/resources", auth=("u", "p")).json()
    assert root["items"][0]["version"] == "11.13.18.05"
    assert (
        session.get(
            f"{BASE}/fscmRestApi/resources/11.13.18.05/nothing", auth=("u", "p")
        ).status_code
        == 404
    )
    assert (
        session.get(f"{BASE}/fscmRestApi/resources/11.13.18.05/standardReceipts").status_code == 401
    )


def test_malformed_child_items_are_refused(client: FusionClient) -> None:
    response = client.http.session.post(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/receivablesInvoices",
        json={**INVOICE, "receivablesInvoiceLines": ["not an object"]},
        headers={"REST-Framework-Version": "4"},
        auth=("u", "p"),
    )
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "receivablesInvoiceLines"
