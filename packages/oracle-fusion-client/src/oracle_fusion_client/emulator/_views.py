"""Derived and reference resources: customer account activities, currency rates, and the
remittance references child of receipts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from ._state import ApiError, State, money, oracle_error

__all__ = ["add_remittance_reference", "refresh_activities", "refresh_currency_rates"]

ACTIVITIES = "receivablesCustomerAccountActivities"
RATES = "currencyRates"
SITES = "receivablesCustomerAccountSiteActivities"


def refresh_activities(state: State) -> None:
    """Recompute every account's open balance and payment schedules from the invoices."""
    for account in cast(list[dict[str, Any]], state.ref["customerAccounts"]):
        schedules: list[dict[str, Any]] = []
        for invoice in state.records["receivablesInvoices"].values():
            if invoice.get("BillToCustomerNumber") != account["AccountNumber"]:
                continue
            for inst in cast(list[dict[str, Any]], invoice["receivablesInvoiceInstallments"]):
                schedules.append(
                    {
                        "PaymentScheduleId": inst["InstallmentId"],
                        "CustomerTransactionId": invoice["CustomerTransactionId"],
                        "TransactionNumber": invoice["TransactionNumber"],
                        "TransactionType": invoice.get("TransactionType"),
                        "InstallmentNumber": inst["InstallmentSequenceNumber"],
                        "DueDate": inst["DueDate"],
                        "OriginalAmount": inst["OriginalAmount"],
                        "BalanceDue": inst["InstallmentBalanceDue"],
                        "CurrencyCode": invoice["InvoiceCurrencyCode"],
                        "Status": inst["InstallmentStatus"],
                    }
                )
        open_total = sum((s["BalanceDue"] for s in schedules), Decimal(0))
        key = str(account["CustomerAccountId"])
        record = {
            "AccountId": account["CustomerAccountId"],
            "AccountNumber": account["AccountNumber"],
            "CustomerId": account["PartyId"],
            "CustomerName": account["CustomerName"],
            "TotalOpenReceivablesForAccount": open_total,
            "TotalTransactionsDueForAccount": sum(1 for s in schedules if s["BalanceDue"] != 0),
            "transactionPaymentSchedules": schedules,
        }
        if state.records[ACTIVITIES].get(key) != record:
            state.put(ACTIVITIES, key, record)
        _refresh_sites(state, account)


def _refresh_sites(state: State, account: Mapping[str, Any]) -> None:
    """One row per bill-to site; an invoice without ``BillToSite`` counts for the first site
    (the account's primary bill-to site) **[inferred]**."""
    sites = cast(list[dict[str, Any]], account.get("sites") or [])
    for index, site in enumerate(sites):
        balances: list[Decimal] = []
        for invoice in state.records["receivablesInvoices"].values():
            if invoice.get("BillToCustomerNumber") != account["AccountNumber"]:
                continue
            bill_to = invoice.get("BillToSite")
            if bill_to == site["SiteNumber"] or (bill_to is None and index == 0):
                installments = cast(list[dict[str, Any]], invoice["receivablesInvoiceInstallments"])
                balances.extend(i["InstallmentBalanceDue"] for i in installments)
        key = str(site["SiteUseId"])
        record = {
            "BillToSiteUseId": site["SiteUseId"],
            "BillToSiteNumber": site["SiteNumber"],
            "AccountNumber": account["AccountNumber"],
            "AccountId": account["CustomerAccountId"],
            "CustomerName": account["CustomerName"],
            "CustomerId": account["PartyId"],
            "TotalOpenReceivablesForSite": sum(balances, Decimal(0)),
            "TotalTransactionsDueForSite": sum(1 for b in balances if b != 0),
        }
        if state.records[SITES].get(key) != record:
            state.put(SITES, key, record)


def refresh_currency_rates(state: State) -> None:
    """Materialise the seeded rates; each has its inverse row, as in Fusion."""
    for rate in cast(list[dict[str, Any]], state.ref.get("currencyRates", [])):
        value = money(rate["ConversionRate"], "ConversionRate")
        for src, dst, factor in (
            (rate["FromCurrency"], rate["ToCurrency"], value),
            (
                rate["ToCurrency"],
                rate["FromCurrency"],
                (Decimal(1) / value).quantize(Decimal("1e-10")),
            ),
        ):
            key = f"{src}:{dst}:{rate['ConversionType']}:{rate['ConversionDate']}"
            row = {
                "FromCurrency": src,
                "ToCurrency": dst,
                "ConversionDate": rate["ConversionDate"],
                "ConversionType": rate["ConversionType"],
                "ConversionRate": factor,
            }
            # a rate seeded again for the same key replaces the old one, as a daily rates
            # load updates existing rows in Fusion
            if state.records[RATES].get(key) != row:
                state.put(RATES, key, row)


def add_remittance_reference(
    state: State, key: str, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    receipt = state.get("standardReceipts", key)
    for name in ("ReceiptMatchBy", "ReferenceNumber"):
        if body.get(name) in (None, ""):
            raise oracle_error("FND_CMN_REQ_ATTRIB_API_SERV", path=name, ATTRIBUTE_NAME=name)
    if body["ReceiptMatchBy"] not in {"Purchase Order", "Transaction Number", "Sales Order"}:
        raise ApiError(400, "The value of ReceiptMatchBy isn't valid.", path="ReceiptMatchBy")
    reference: dict[str, Any] = {
        "RemittanceReferenceId": state.new_id(),
        **dict(body),
        # the reference's two forms: "2018-08-17T03:55:50+00:00", "…50.095+00:00"
        "CreationDate": now.isoformat(timespec="seconds"),
        "LastUpdateDate": now.isoformat(timespec="milliseconds"),
    }
    if "ReferenceAmount" in body:
        reference["ReferenceAmount"] = money(body["ReferenceAmount"], "ReferenceAmount")
    cast(list[dict[str, Any]], receipt.setdefault("remittanceReferences", [])).append(reference)
    state.put("standardReceipts", key, receipt)
    return reference
