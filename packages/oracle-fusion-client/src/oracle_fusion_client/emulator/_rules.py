"""Business rules of the emulated resources, with Oracle's error codes and messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from ._conversion import convert_document
from ._state import ApiError, State, money, oracle_error

__all__ = [
    "apply_receipt",
    "bulk_apply_receipt",
    "create_credit_memo",
    "create_invoice",
    "create_order",
    "create_receipt",
    "patch_credit_memo",
    "patch_invoice",
    "reverse_receipt",
    "ship_order",
]

INVOICE_PATCHABLE = frozenset({"InvoiceStatus", "PaymentTerms", "TransactionDate"})
#: the card attributes of an electronic receipt method (reference §3.1), in Oracle's order
_CARD_ATTRIBUTES = (
    "CreditCardTokenNumber",
    "CardHolderFirstName",
    "CardHolderLastName",
    "CreditCardExpirationDate",
    "CreditCardIssuerCode",
)
#: reference §3.3 documents PATCH on credit memos without its attribute list: the header
#: attributes a billing system would correct **[inferred]**
CREDIT_MEMO_PATCHABLE = frozenset(
    {"CreditMemoStatus", "CreditMemoComments", "CreditReason", "TransactionDate", "AccountingDate"}
)


def _require(body: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if body.get(name) in (None, ""):
            raise oracle_error("FND_CMN_REQ_ATTRIB_API_SERV", path=name, ATTRIBUTE_NAME=name)


def _date(value: object, attribute: str, default: date) -> date:
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ApiError(
            400, f"The date {value!r} of {attribute} isn't valid.", path=attribute
        ) from None


def _lines(body: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    raw: object = body.get(name) or []
    if not isinstance(raw, list):
        raise ApiError(400, f"{name} must be an array.", path=name)
    lines = cast(list[object], raw)
    if not all(isinstance(line, dict) for line in lines):
        raise ApiError(400, f"Each item of {name} must be an object.", path=name)
    return [dict(cast(Mapping[str, Any], line)) for line in lines]


def create_receipt(state: State, body: Mapping[str, Any], today: date, *, upsert: bool) -> str:
    _require(body, "ReceiptNumber", "ReceiptMethod", "BusinessUnit", "Amount", "Currency")
    if state.business_unit(name=body["BusinessUnit"]) is None:
        raise oracle_error("AR_RAPI_BU_INVALID", path="BusinessUnit")
    method = state.receipt_method(body["ReceiptMethod"])
    if method is not None and method.get("BillsOfExchange"):
        raise oracle_error("AR_BOE_OBSOLETE", path="ReceiptMethod")
    if method is None:
        raise oracle_error("AR_INVAL_RECEIPT_MTH_ID", path="ReceiptMethod")
    if body["Currency"] not in state.ref["currencies"]:
        raise oracle_error("AR_RAPI_CURR_CODE_INVALID", path="Currency")
    amount = money(body["Amount"], "Amount")
    receipt_date = _date(body.get("ReceiptDate"), "ReceiptDate", today)
    conversion = convert_document(state, body, body["Currency"], receipt_date, amount) or {}
    account = state.account(number=body.get("CustomerAccountNumber"))
    for key, existing in state.records["standardReceipts"].items():
        if existing["ReceiptNumber"] != body["ReceiptNumber"]:
            continue
        if upsert:
            existing.update({k: v for k, v in body.items() if k not in {"StandardReceiptId"}})
            state.put("standardReceipts", key, existing)
            return key
        if (
            existing["ReceiptDate"] == receipt_date.isoformat()
            and existing["Amount"] == amount
            and existing["CustomerAccountNumber"] == body.get("CustomerAccountNumber")
        ):
            raise oracle_error("AR_RCP_DUP_NUM", path="ReceiptNumber")
    receipt_id = state.new_id()
    record: dict[str, Any] = {
        "StandardReceiptId": receipt_id,
        "ReceiptNumber": body["ReceiptNumber"],
        "BusinessUnit": body["BusinessUnit"],
        "ReceiptMethod": body["ReceiptMethod"],
        "ReceiptDate": receipt_date.isoformat(),
        "DocumentNumber": receipt_id,
        "Amount": amount,
        "Currency": body["Currency"],
        "ConversionRateType": conversion.get("ConversionRateType", body.get("ConversionRateType")),
        "ConversionDate": conversion.get("ConversionDate", body.get("ConversionDate")),
        "ConversionRate": conversion.get("ConversionRate", body.get("ConversionRate")),
        "State": "Unapplied",
        "Status": "Confirmed",
        "RemittanceBankName": method.get("RemittanceBankName"),
        "RemittanceBankBranch": method.get("RemittanceBankBranch"),
        "RemittanceBankAccountNumber": body.get("RemittanceBankAccountNumber")
        or method.get("RemittanceBankAccountNumber"),
        "RemittanceBankDepositDate": None,
        "RemittanceBankAllowOverride": "N",
        "CustomerName": account["CustomerName"] if account else body.get("CustomerName"),
        "TaxpayerIdentificationNumber": None,
        "CustomerSite": body.get("CustomerSite"),
        "CustomerAccountNumber": body.get("CustomerAccountNumber"),
        "CustomerBank": None,
        "CustomerBankBranch": None,
        "CustomerBankAccountNumber": None,
        "UnappliedAmount": amount,
        "AccountedAmount": conversion.get("AccountedAmount", amount),
        "AccountingDate": _date(
            body.get("AccountingDate"), "AccountingDate", receipt_date
        ).isoformat(),
        "MaturityDate": receipt_date.isoformat(),
        "PostmarkDate": None,
        "ReceiptAtRisk": "N",
        "ReceivablesSpecialist": None,
        "Comments": body.get("Comments"),
        # reference §3.1: the card attributes close the documented key order (null unless an
        # electronic receipt method sent them)
        **{name: body.get(name) for name in _CARD_ATTRIBUTES},
    }
    extra = {k: v for k, v in body.items() if k not in record}
    record.update(extra)
    if isinstance(body.get("standardReceiptDFF"), list):
        rows = cast(list[Any], body["standardReceiptDFF"])
        record["standardReceiptDFF"] = [
            {"CashReceiptId": receipt_id, **cast(dict[str, Any], row)}
            for row in rows
            if isinstance(row, dict)
        ]
    state.put("standardReceipts", str(receipt_id), record)
    return str(receipt_id)


def _transaction_header(state: State, body: Mapping[str, Any], currency_attr: str) -> None:
    _require(body, "BusinessUnit", "TransactionSource", "TransactionType", currency_attr)
    if state.business_unit(name=body["BusinessUnit"]) is None:
        raise oracle_error("AR_BU_NOT_FOUND", path="BusinessUnit")
    if body["TransactionSource"] not in state.ref["transactionSources"]:
        raise oracle_error("AR_BATCH_SOURCE_NOT_FOUND", path="TransactionSource")
    if body["TransactionType"] not in state.ref["transactionTypes"]:
        raise ApiError(
            400, "The transaction type you entered doesn't exist.", path="TransactionType"
        )
    if state.account(number=body.get("BillToCustomerNumber")) is None:
        raise oracle_error("AR_BILL_TO_CUST_NOT_FOUND", path="BillToCustomerNumber")


def create_invoice(state: State, body: Mapping[str, Any], today: date) -> str:
    _transaction_header(state, body, "InvoiceCurrencyCode")
    bu = state.business_unit(name=body["BusinessUnit"]) or {}
    foreign = body["InvoiceCurrencyCode"] != bu.get("LedgerCurrency")
    if foreign and not body.get("ConversionRateType"):
        # a foreign-currency invoice needs its conversion (see ``_conversion``)
        raise oracle_error("AR_FUNC_CURRENCY_REQ", path="InvoiceCurrencyCode")
    terms = state.payment_terms(body.get("PaymentTerms") or "30 Net")
    if terms is None:
        raise ApiError(400, "The payment terms you entered don't exist.", path="PaymentTerms")
    account = state.account(number=body["BillToCustomerNumber"]) or {}
    trx_date = _date(body.get("TransactionDate"), "TransactionDate", today)
    due = _date(body.get("DueDate"), "DueDate", trx_date + timedelta(days=int(terms["DueDays"])))
    lines = _lines(body, "receivablesInvoiceLines")
    total = Decimal(0)
    for line in lines:
        amount = money(line.get("Quantity", 1), "Quantity") * money(
            line.get("UnitSellingPrice", 0), "UnitSellingPrice"
        )
        line.setdefault("CustomerTransactionLineId", state.new_id())
        line["LineAmount"] = amount
        total += amount
    conversion = convert_document(state, body, body["InvoiceCurrencyCode"], trx_date, total)
    trx_id = state.new_id()
    record: dict[str, Any] = {
        "CustomerTransactionId": trx_id,
        "DueDate": due.isoformat(),
        "ConversionDate": None,
        "ConversionRate": None,
        **{k: v for k, v in body.items() if k not in {"receivablesInvoiceLines"}},
        **(conversion or {}),
        "TransactionNumber": body.get("TransactionNumber") or state.new_number(),
        "TransactionDate": trx_date.isoformat(),
        "PaymentTerms": terms["Name"],
        "BillToCustomerName": account.get("CustomerName"),
        "InvoiceStatus": "Complete",
        "EnteredAmount": total,
        "InvoiceBalanceAmount": total,
        "receivablesInvoiceLines": lines,
        "receivablesInvoiceDistributions": _lines(body, "receivablesInvoiceDistributions"),
        "receivablesInvoiceInstallments": [
            {
                "InstallmentId": state.new_id(),
                "InstallmentSequenceNumber": 1,
                "DueDate": due.isoformat(),
                "OriginalAmount": total,
                "InstallmentBalanceDue": total,
                "InstallmentStatus": "Open",
            }
        ],
    }
    state.put("receivablesInvoices", str(trx_id), record)
    return str(trx_id)


def patch_invoice(state: State, key: str, body: Mapping[str, Any]) -> None:
    record = state.get("receivablesInvoices", key)
    for name in body:
        if name not in INVOICE_PATCHABLE:
            raise ApiError(400, f"The attribute {name} can't be updated.", path=name)
    if "PaymentTerms" in body and state.payment_terms(body["PaymentTerms"]) is None:
        raise ApiError(400, "The payment terms you entered don't exist.", path="PaymentTerms")
    record.update(body)
    state.put("receivablesInvoices", key, record)


def patch_credit_memo(state: State, key: str, body: Mapping[str, Any]) -> None:
    record = state.get("receivablesCreditMemos", key)
    for name in body:
        if name not in CREDIT_MEMO_PATCHABLE:
            raise ApiError(400, f"The attribute {name} can't be updated.", path=name)
    for name in ("TransactionDate", "AccountingDate"):
        if body.get(name) not in (None, ""):
            body = {**body, name: _date(body[name], name, date.min).isoformat()}
    record.update(body)
    state.put("receivablesCreditMemos", key, record)


def create_credit_memo(state: State, body: Mapping[str, Any], today: date) -> str:
    _transaction_header(state, body, "CreditMemoCurrency")
    if body["CreditMemoCurrency"] not in state.ref["currencies"]:
        raise oracle_error("AR_RAPI_CURR_CODE_INVALID", path="CreditMemoCurrency")
    lines = _lines(body, "receivablesCreditMemoLines")
    total = Decimal(0)
    for line in lines:
        amount = money(line.get("LineQuantityCredit", 1), "LineQuantityCredit") * money(
            line.get("UnitSellingPrice", 0), "UnitSellingPrice"
        )
        line.setdefault("CustomerTransactionLineId", state.new_id())
        line["LineAmountCredit"] = amount
        total += amount
    trx_id = state.new_id()
    record: dict[str, Any] = {
        "CustomerTransactionId": trx_id,
        **{k: v for k, v in body.items() if k != "receivablesCreditMemoLines"},
        "TransactionNumber": body.get("TransactionNumber") or state.new_number(),
        "TransactionDate": _date(body.get("TransactionDate"), "TransactionDate", today).isoformat(),
        "EnteredAmount": total,
        "receivablesCreditMemoLines": lines,
    }
    state.put("receivablesCreditMemos", str(trx_id), record)
    return str(trx_id)


def _installment(state: State, schedule_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    for inv_key, invoice in state.records["receivablesInvoices"].items():
        for inst in cast(list[dict[str, Any]], invoice["receivablesInvoiceInstallments"]):
            if str(inst["InstallmentId"]) == schedule_id:
                return inv_key, invoice, inst
    raise ApiError(
        400,
        f"The payment schedule {schedule_id} doesn't exist.",
        path="appliedPaymentScheduleId",
    )


def apply_receipt(state: State, key: str, body: Mapping[str, Any], today: date) -> dict[str, Any]:
    receipt = state.get("standardReceipts", key)
    _require(body, "appliedPaymentScheduleId")
    schedule_id = str(body["appliedPaymentScheduleId"])
    inv_key, invoice, inst = _installment(state, schedule_id)
    if invoice["InvoiceCurrencyCode"] != receipt["Currency"]:
        raise ApiError(400, "The receipt and transaction currencies differ.", path="Currency")
    balance: Decimal = inst["InstallmentBalanceDue"]
    unapplied: Decimal = receipt["UnappliedAmount"]
    raw_amount = body.get("amountApplied")
    amount = min(balance, unapplied) if raw_amount is None else money(raw_amount, "amountApplied")
    if amount <= 0 or amount > unapplied or amount > balance:
        raise ApiError(
            400,
            f"The amount applied {amount} must be positive and at most the unapplied amount "
            f"{unapplied} and the balance due {balance}.",
            path="amountApplied",
        )
    inst["InstallmentBalanceDue"] = balance - amount
    inst["InstallmentStatus"] = "Closed" if balance == amount else "Open"
    invoice["InvoiceBalanceAmount"] = invoice["InvoiceBalanceAmount"] - amount
    receipt["UnappliedAmount"] = unapplied - amount
    receipt["State"] = "Applied" if receipt["UnappliedAmount"] == 0 else "Unapplied"
    applications = cast(list[dict[str, Any]], receipt.setdefault("applications", []))
    application = {
        "ApplicationId": state.new_id(),
        "AppliedPaymentScheduleId": int(schedule_id),
        "TransactionNumber": invoice["TransactionNumber"],
        "AmountApplied": amount,
        "ApplicationDate": today.isoformat(),
    }
    applications.append(application)
    state.put("standardReceipts", key, receipt)
    state.put("receivablesInvoices", inv_key, invoice)
    return {"result": "SUCCESS"}


def bulk_apply_receipt(
    state: State, key: str, body: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """Apply to each schedule in turn, its full balance or what is left of the receipt;
    all or nothing (the caller restores the state on error)."""
    raw: object = body.get("appliedPaymentScheduleIds")
    if not isinstance(raw, list) or not raw:
        raise oracle_error(
            "FND_CMN_REQ_ATTRIB_API_SERV",
            path="appliedPaymentScheduleIds",
            ATTRIBUTE_NAME="appliedPaymentScheduleIds",
        )
    for schedule_id in cast(list[object], raw):
        if state.get("standardReceipts", key)["UnappliedAmount"] == 0:
            raise ApiError(400, "The receipt has no unapplied amount left.", path=str(schedule_id))
        apply_receipt(state, key, {"appliedPaymentScheduleId": schedule_id}, today)
    return {"result": "SUCCESS"}


def reverse_receipt(state: State, key: str, body: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Reverse a receipt: every application is undone (the installments and invoices owe
    again) and the receipt is marked ``Reversed``; a second reversal is refused."""
    receipt = state.get("standardReceipts", key)
    _require(body, "ReversalReason")
    if receipt.get("State") == "Reversed":
        raise ApiError(400, f"The receipt {receipt['ReceiptNumber']} is already reversed.")
    for application in cast(list[dict[str, Any]], receipt.get("applications") or []):
        schedule_id = str(application["AppliedPaymentScheduleId"])
        inv_key, invoice, inst = _installment(state, schedule_id)
        amount: Decimal = application["AmountApplied"]
        inst["InstallmentBalanceDue"] = inst["InstallmentBalanceDue"] + amount
        inst["InstallmentStatus"] = "Open"
        invoice["InvoiceBalanceAmount"] = invoice["InvoiceBalanceAmount"] + amount
        state.put("receivablesInvoices", inv_key, invoice)
    receipt["applications"] = []
    receipt["UnappliedAmount"] = Decimal(0)
    receipt["State"] = "Reversed"
    receipt["ReversalReason"] = body["ReversalReason"]
    receipt["ReversalDate"] = _date(body.get("ReversalDate"), "ReversalDate", today).isoformat()
    state.put("standardReceipts", key, receipt)
    return {"result": "SUCCESS"}


ORDER_REQUIRED = (
    "SourceTransactionNumber",
    "SourceTransactionSystem",
    "SourceTransactionId",
    "TransactionalCurrencyCode",
)


def create_order(state: State, body: Mapping[str, Any], *, upsert: bool) -> tuple[str, bool]:
    """Create (or with Upsert-Mode update) an order; returns (OrderKey, created)."""
    _require(body, *ORDER_REQUIRED)
    bu = state.business_unit(name=body.get("BusinessUnitName"), bu_id=body.get("BusinessUnitId"))
    if bu is None:
        raise oracle_error("AR_RAPI_BU_INVALID", path="BusinessUnitId")
    party = state.party(number=body.get("BuyingPartyNumber"), party_id=body.get("BuyingPartyId"))
    if party is None:
        raise ApiError(400, "The buying party doesn't exist.", path="BuyingPartyNumber")
    key = f"{body['SourceTransactionSystem']}:{body['SourceTransactionId']}"
    existing = state.records["salesOrdersForOrderHub"].get(key)
    if existing is not None and not upsert:
        raise ApiError(
            400,
            f"JBO-25013: Too many objects match the primary key oracle.jbo.Key[{key}].",
            code="JBO-25013",
        )
    submitted = str(body.get("SubmittedFlag", "false")).lower() == "true"
    lines = _lines(body, "lines")
    for line in lines:
        line.setdefault("LineId", state.new_id())
        line["StatusCode"] = "AWAIT_SHIPPING" if submitted else "DRAFT"
    header_id = existing["HeaderId"] if existing else state.new_id()
    record: dict[str, Any] = {
        "HeaderId": header_id,
        "OrderKey": key,
        "OrderNumber": existing["OrderNumber"] if existing else state.new_number(),
        **dict(body),
        "BusinessUnitId": bu["BusinessUnitId"],
        "BusinessUnitName": bu["BusinessUnitName"],
        "BuyingPartyId": party["PartyId"],
        "BuyingPartyNumber": party["PartyNumber"],
        "BuyingPartyName": party["CustomerName"],
        "SubmittedFlag": submitted,
        "StatusCode": "OPEN" if submitted else "DRAFT",
        "lines": lines,
    }
    state.put("salesOrdersForOrderHub", key, record)
    return key, existing is None


def ship_order(state: State, key: str) -> dict[str, Any]:
    order = state.get("salesOrdersForOrderHub", key)
    if order["StatusCode"] != "OPEN":
        raise ApiError(409, f"Order {key} is {order['StatusCode']}, not OPEN.")
    for line in cast(list[dict[str, Any]], order["lines"]):
        line["StatusCode"] = "SHIPPED"
    order["StatusCode"] = "CLOSED"
    state.put("salesOrdersForOrderHub", key, order)
    return order
