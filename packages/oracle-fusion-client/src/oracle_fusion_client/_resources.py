"""Typed resource classes: every endpoint is a declared method.

Writes keyed by a natural key are retried safely: a receipt by its ``ReceiptNumber`` (Fusion
refuses a second one with ``AR_RCP_DUP_NUM``), an order by its OrderKey with
``Upsert-Mode: true``. Any other write is sent once; a lost response surfaces as a
:class:`FusionConnectionError` with ``sent=True``, to be resolved with the ``find_*`` lookups.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Generic, TypeVar, cast
from urllib.parse import quote

from ._errors import FusionDuplicateError, FusionInputError, FusionRateNotFoundError
from ._http import ACTION_TYPE, FusionHTTP
from ._models import (
    ActionResult,
    ApplyReceipt,
    CreditMemo,
    CurrencyRate,
    CustomerAccountActivity,
    CustomerAccountSite,
    FusionModel,
    Invoice,
    NewCreditMemo,
    NewInvoice,
    NewSalesOrder,
    NewStandardReceipt,
    PaymentSchedule,
    ReceiptDFF,
    RemittanceReference,
    SalesOrder,
    StandardReceipt,
)
from ._query import Cond, Query, finder, q_and

__all__ = [
    "CreditMemos",
    "CurrencyRates",
    "CustomerAccountActivities",
    "CustomerAccountSites",
    "Fetched",
    "Invoices",
    "SalesOrders",
    "StandardReceipts",
]

M = TypeVar("M", bound=FusionModel)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Fetched(Generic[M]):
    """A model with the ETag the server sent (for ``If-Match`` on a later PATCH)."""

    __slots__ = ("etag", "model")

    def __init__(self, model: M, etag: str | None) -> None:
        self.model = model
        self.etag = etag

    def __repr__(self) -> str:
        return f"Fetched({self.model!r}, etag={self.etag!r})"


def _key(value: str | int) -> str:
    return quote(str(value), safe="")


class _Resource(Generic[M]):
    path: str
    model: type[M]

    def __init__(self, http: FusionHTTP) -> None:
        self._http = http

    def _get(self, key: str | int, query: Query | None = None) -> Fetched[M]:
        params = (query or Query()).params()
        item = self._http.json("GET", f"{self.path}/{_key(key)}", params=params)
        return Fetched(self.model.model_validate(item.data), item.etag)

    def _create(self, payload: FusionModel, *, upsert: bool = False, write_safe: bool = False) -> M:
        headers = {"Upsert-Mode": "true"} if upsert else {}
        item = self._http.json(
            "POST",
            self.path,
            body=payload.to_dict(),
            headers=headers,
            write_safe=write_safe or upsert,
        )
        return self.model.model_validate(item.data)

    def list(self, query: Query | None = None) -> Iterator[M]:
        """Lazily iterate the collection (``q``, ``finder``, ``orderBy`` from ``query``)."""
        for raw in self._http.iterate(self.path, query or Query()):
            yield self.model.model_validate(raw)

    def _patch(self, key: str | int, changes: Mapping[str, Any], etag: str | None) -> Fetched[M]:
        headers = {"If-Match": etag} if etag else {}
        item = self._http.json(
            "PATCH", f"{self.path}/{_key(key)}", body=dict(changes), headers=headers
        )
        return Fetched(self.model.model_validate(item.data), item.etag)

    def _first(self, query: Query) -> M | None:
        return next(iter(self.list(query)), None)


class StandardReceipts(_Resource[StandardReceipt]):
    """``/standardReceipts``."""

    path = "standardReceipts"
    model = StandardReceipt

    def create(self, receipt: NewStandardReceipt) -> StandardReceipt:
        """POST a receipt; retried safely because the ReceiptNumber is a natural key.

        When a *retried* attempt is refused with ``AR_RCP_DUP_NUM``, an earlier attempt was
        committed before its response was lost: the receipt is looked up by number and
        returned. A duplicate on the first attempt is raised as :class:`FusionDuplicateError`.
        """
        try:
            return self._create(receipt, write_safe=True)
        except FusionDuplicateError as exc:
            if exc.attempts < 2:
                raise
            found = self.find_by_number(receipt.ReceiptNumber)
            same = found is not None and (
                found.Amount == receipt.Amount
                and found.Currency == receipt.Currency
                and found.CustomerAccountNumber == receipt.CustomerAccountNumber
            )
            if found is None or not same:
                raise
            return found

    def get(self, standard_receipt_id: int, query: Query | None = None) -> Fetched[StandardReceipt]:
        return self._get(standard_receipt_id, query)

    def find_by_number(self, receipt_number: str) -> StandardReceipt | None:
        """``GET ?q=ReceiptNumber='...'``: how an unknown outcome is resolved."""
        return self._first(Query(q=Cond("ReceiptNumber", "=", receipt_number), limit=1))

    def delete(self, standard_receipt_id: int) -> None:
        self._http.request("DELETE", f"{self.path}/{_key(standard_receipt_id)}")

    def add_remittance_reference(
        self, standard_receipt_id: int, reference: RemittanceReference
    ) -> RemittanceReference:
        """POST a ``remittanceReferences`` child (AutoMatch applies it asynchronously)."""
        item = self._http.json(
            "POST",
            f"{self.path}/{_key(standard_receipt_id)}/child/remittanceReferences",
            body=reference.to_dict(),
        )
        return RemittanceReference.model_validate(item.data)

    def get_dff(self, standard_receipt_id: int) -> list[ReceiptDFF]:
        """GET the receipt's ``standardReceiptDFF`` child (descriptive flexfield rows)."""
        page = self._http.json(
            "GET",
            f"{self.path}/{_key(standard_receipt_id)}/child/standardReceiptDFF",
            params={"onlyData": "true"},
        )
        items = cast(list[Any], page.data.get("items") or [])
        return [ReceiptDFF.model_validate(row) for row in items]

    def apply_bulk(
        self, standard_receipt_id: int, payment_schedule_ids: Sequence[int]
    ) -> ActionResult:
        """The ``bulkApplyReceipt`` action: apply to the schedules in order (26x pods)."""
        item = self._http.json(
            "POST",
            f"{self.path}/{_key(standard_receipt_id)}/action/bulkApplyReceipt",
            body={"appliedPaymentScheduleIds": list(payment_schedule_ids)},
            content_type=ACTION_TYPE,
        )
        return ActionResult.model_validate(item.data)

    def reverse(
        self, standard_receipt_id: int, *, reason: str, reversal_date: date | None = None
    ) -> ActionResult:
        """The ``reverseReceipt`` action (26x pods): un-apply and reverse the receipt (its
        ``State`` becomes ``Reversed``; the invoices it paid are open again)."""
        body: dict[str, Any] = {"ReversalReason": reason}
        if reversal_date is not None:
            body["ReversalDate"] = reversal_date.isoformat()
        item = self._http.json(
            "POST",
            f"{self.path}/{_key(standard_receipt_id)}/action/reverseReceipt",
            body=body,
            content_type=ACTION_TYPE,
        )
        return ActionResult.model_validate(item.data)

    def apply(self, standard_receipt_id: int, application: ApplyReceipt) -> ActionResult:
        """The ``applyReceipt`` action (``application/vnd.oracle.adf.action+json``)."""
        item = self._http.json(
            "POST",
            f"{self.path}/{_key(standard_receipt_id)}/action/applyReceipt",
            body=application.to_dict(),
            content_type=ACTION_TYPE,
        )
        return ActionResult.model_validate(item.data)


class Invoices(_Resource[Invoice]):
    """``/receivablesInvoices``."""

    path = "receivablesInvoices"
    model = Invoice

    def create(self, invoice: NewInvoice) -> Invoice:
        return self._create(invoice)

    def get(self, customer_transaction_id: int, query: Query | None = None) -> Fetched[Invoice]:
        return self._get(customer_transaction_id, query)

    def find_by_number(self, transaction_number: str) -> Invoice | None:
        return self._first(Query(q=Cond("TransactionNumber", "=", transaction_number), limit=1))

    def update_status(
        self, customer_transaction_id: int, invoice_status: str, *, etag: str | None = None
    ) -> Fetched[Invoice]:
        """PATCH ``InvoiceStatus`` (``If-Match`` when ``etag`` is given: 412 if it changed)."""
        return self._patch(customer_transaction_id, {"InvoiceStatus": invoice_status}, etag)


class CreditMemos(_Resource[CreditMemo]):
    """``/receivablesCreditMemos`` (on-account credit memos)."""

    path = "receivablesCreditMemos"
    model = CreditMemo

    def create(self, credit_memo: NewCreditMemo) -> CreditMemo:
        return self._create(credit_memo)

    def get(self, customer_transaction_id: int, query: Query | None = None) -> Fetched[CreditMemo]:
        return self._get(customer_transaction_id, query)

    def find_by_number(self, transaction_number: str) -> CreditMemo | None:
        """``GET ?q=TransactionNumber='...'``."""
        return self._first(Query(q=Cond("TransactionNumber", "=", transaction_number), limit=1))


def order_key(source_transaction_system: str, source_transaction_id: str) -> str:
    """``<SourceTransactionSystem>:<SourceTransactionId>``."""
    return f"{source_transaction_system}:{source_transaction_id}"


class SalesOrders(_Resource[SalesOrder]):
    """``/salesOrdersForOrderHub``."""

    path = "salesOrdersForOrderHub"
    model = SalesOrder

    def create(self, order: NewSalesOrder, *, upsert: bool = True) -> SalesOrder:
        """POST with ``Upsert-Mode: true`` by default, so a retry updates instead of doubling."""
        return self._create(order, upsert=upsert)

    def get(
        self, source_transaction_system: str, source_transaction_id: str
    ) -> Fetched[SalesOrder]:
        return self._get(order_key(source_transaction_system, source_transaction_id))

    def find_by_source(
        self, source_transaction_number: str, source_transaction_system: str
    ) -> SalesOrder | None:
        name = finder(
            "findBySourceOrderNumberAndSystem",
            SourceTransactionNumber=source_transaction_number,
            SourceTransactionSystem=source_transaction_system,
        )
        return self._first(Query(finder=name, limit=1))


class CustomerAccountActivities(_Resource[CustomerAccountActivity]):
    """``/receivablesCustomerAccountActivities`` (read only): open balances and schedules."""

    path = "receivablesCustomerAccountActivities"
    model = CustomerAccountActivity

    def get(self, account_id: int, query: Query | None = None) -> Fetched[CustomerAccountActivity]:
        return self._get(account_id, query)

    def find_by_account_number(self, account_number: str) -> CustomerAccountActivity | None:
        return self._first(Query(q=Cond("AccountNumber", "=", account_number), limit=1))

    def open_payment_schedules(self, account_number: str) -> list[PaymentSchedule]:
        """The account's installments with a balance due, oldest due date first."""
        query = Query(
            q=Cond("AccountNumber", "=", account_number),
            expand=["transactionPaymentSchedules"],
            limit=1,
        )
        activity = self._first(query)
        schedules = (activity.transactionPaymentSchedules or []) if activity else []
        open_ones = [s for s in schedules if s.BalanceDue]
        return sorted(open_ones, key=lambda s: (s.DueDate is None, s.DueDate))


class CustomerAccountSites(_Resource[CustomerAccountSite]):
    """``/receivablesCustomerAccountSiteActivities`` (read only): an account's bill-to sites.

    Together with :meth:`CustomerAccountActivities.find_by_account_number` (the account:
    ``AccountId``, ``CustomerId``, ``CustomerName``) this is the customer account and site
    lookup, from the Receivables side of ``fscmRestApi``.
    """

    path = "receivablesCustomerAccountSiteActivities"
    model = CustomerAccountSite

    def get(self, bill_to_site_use_id: int) -> Fetched[CustomerAccountSite]:
        return self._get(bill_to_site_use_id)

    def find_by_account_number(self, account_number: str) -> list[CustomerAccountSite]:
        """Finder ``CustomerAccountSiteActivitiesFinder;AccountNumber=...``."""
        name = finder("CustomerAccountSiteActivitiesFinder", AccountNumber=account_number)
        return list(self.list(Query(finder=name)))

    def find_site(self, account_number: str, site_number: str) -> CustomerAccountSite | None:
        """The bill-to site with ``BillToSiteNumber`` ``site_number`` of the account."""
        for site in self.find_by_account_number(account_number):
            if site.BillToSiteNumber == site_number:
                return site
        return None


class CurrencyRates(_Resource[CurrencyRate]):
    """``/currencyRates``: GL daily conversion rates (read only).

    The resource path is confirmed by third-party integrations; the attribute names
    ``FromCurrency``, ``ToCurrency``, ``ConversionDate``, ``ConversionType`` and
    ``ConversionRate`` are **[inferred]** (they mirror the GL_DAILY_RATES columns and the BICC
    ``DailyRateExtractPVO``). Confirmed by Oracle's GL documentation: a rate is keyed by (date,
    type, to, from) and every rate has its inverse row, so either direction can be asked for.
    Rates are exact-date: there is no "latest before" fallback, as in Fusion's own conversion.
    """

    path = "currencyRates"
    model = CurrencyRate

    @staticmethod
    def _query(
        from_currency: str,
        to_currency: str,
        conversion_date: date | None,
        conversion_type: str,
    ) -> Query:
        for name, code in (("from_currency", from_currency), ("to_currency", to_currency)):
            if not _CURRENCY.fullmatch(code):
                raise FusionInputError(f"{name}: {code!r} is not an ISO 4217 currency code")
        if not conversion_type.strip():
            raise FusionInputError("conversion_type must not be empty")
        conds = [
            Cond("FromCurrency", "=", from_currency),
            Cond("ToCurrency", "=", to_currency),
        ]
        if conversion_date is not None:
            conds.append(Cond("ConversionDate", "=", conversion_date))
        conds.append(Cond("ConversionType", "=", conversion_type))
        return Query(q=q_and(*conds), limit=1 if conversion_date is not None else None)

    def find(
        self,
        from_currency: str,
        to_currency: str,
        conversion_date: date,
        conversion_type: str = "Corporate",
    ) -> CurrencyRate | None:
        """The rate row, or ``None`` (``GET ?q=FromCurrency=... and ToCurrency=... and
        ConversionDate=... and ConversionType=...``)."""
        return self._first(
            self._query(from_currency, to_currency, conversion_date, conversion_type)
        )

    def get_rate(
        self,
        from_currency: str,
        to_currency: str,
        conversion_date: date,
        conversion_type: str = "Corporate",
    ) -> CurrencyRate:
        """The rate converting ``from_currency`` amounts into ``to_currency`` on
        ``conversion_date``; :class:`FusionRateNotFoundError` (naming the pair, date and type)
        when Fusion has none, or a row without a rate."""
        found = self.find(from_currency, to_currency, conversion_date, conversion_type)
        if found is None or found.ConversionRate is None:
            raise FusionRateNotFoundError(
                from_currency, to_currency, conversion_date, conversion_type
            )
        return found

    def history(
        self,
        from_currency: str,
        to_currency: str,
        conversion_type: str = "Corporate",
        *,
        page_size: int | None = None,
    ) -> Iterator[CurrencyRate]:
        """Every rate of the pair and type, oldest first, ``page_size`` rows per request."""
        query = self._query(from_currency, to_currency, None, conversion_type)
        query = dataclasses.replace(query, order_by=[("ConversionDate", "asc")], limit=page_size)
        return self.list(query)
