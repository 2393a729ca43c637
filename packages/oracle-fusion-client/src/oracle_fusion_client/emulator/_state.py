"""The emulator's mutable state: reference data, records, ids and ETags."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from oracle_fusion_client._errors import ORACLE_MESSAGES

from ._seed import default_seed

__all__ = [
    "READ_ONLY",
    "RESOURCES",
    "WHO_ATTRIBUTES",
    "ApiError",
    "State",
    "money",
    "oracle_error",
]

#: resource name -> (key attribute, child collections)
RESOURCES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "standardReceipts": ("StandardReceiptId", ("remittanceReferences", "standardReceiptDFF")),
    "receivablesInvoices": (
        "CustomerTransactionId",
        (
            "receivablesInvoiceLines",
            "receivablesInvoiceDistributions",
            "receivablesInvoiceInstallments",
        ),
    ),
    "receivablesCreditMemos": (
        "CustomerTransactionId",
        ("receivablesCreditMemoLines", "receivablesCreditMemoDistributions"),
    ),
    "salesOrdersForOrderHub": ("OrderKey", ("lines", "billToCustomer", "shipToCustomer")),
    "receivablesCustomerAccountActivities": ("AccountId", ("transactionPaymentSchedules",)),
    "receivablesCustomerAccountSiteActivities": ("BillToSiteUseId", ()),
    "currencyRates": ("CurrencyRateKey", ()),
    "journalBatches": ("JeBatchId", ()),
}
#: resources that only answer GET
READ_ONLY = frozenset(
    {
        "receivablesCustomerAccountActivities",
        "receivablesCustomerAccountSiteActivities",
        "currencyRates",
        "journalBatches",
    }
)


class ApiError(Exception):
    """An error answer: HTTP status, optional Oracle code, message and error path."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.path = path
        self.headers = dict(headers or {})
        #: the batch part (id, path, operation) that failed, when raised inside a batch
        self.part: dict[str, Any] | None = None


def oracle_error(code: str, *, path: str | None = None, **values: str) -> ApiError:
    """A 400 with Oracle's documented message for ``code``."""
    message = ORACLE_MESSAGES[code]
    for name, value in values.items():
        message = message.replace("{" + name + "}", value)
    return ApiError(400, message, code=code, path=path)


def money(value: object, attribute: str) -> Decimal:
    """A Decimal from a JSON string or number."""
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(
            400, f"The value {value!r} of the attribute {attribute} isn't a number.", path=attribute
        ) from None
    if not result.is_finite():
        raise ApiError(400, f"The attribute {attribute} must be a finite number.", path=attribute)
    return result


#: The ADF "who" attributes every writable record carries (standard audit columns).
WHO_ATTRIBUTES = ("CreatedBy", "CreationDate", "LastUpdatedBy", "LastUpdateDate")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    """Fusion's timestamp text: UTC, milliseconds, ``+00:00``
    (``2018-08-17T03:55:50.095+00:00``)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


class State:
    """All records; guarded by ``lock`` (one request at a time mutates it).

    Writes through :meth:`put` to a writable resource stamp the ADF who-columns
    (:data:`WHO_ATTRIBUTES`): ``CreationDate``/``CreatedBy`` once, ``LastUpdateDate``/
    ``LastUpdatedBy`` on every write, the user being :attr:`actor` (the authenticated caller of
    the current request). Stamps strictly increase, so ``q=LastUpdateDate>'...'`` polling sees
    every write once.
    """

    def __init__(
        self, seed: Mapping[str, Any] | None = None, *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.clock = clock
        self.actor = "FIN_USER"
        """Who the current write is made by (set per request from the credentials)."""
        self._last_stamp: datetime | None = None
        self.lock = threading.RLock()
        self.ref: dict[str, Any] = copy.deepcopy(dict(seed)) if seed else default_seed()
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self.versions: dict[tuple[str, str], int] = {}
        self.next_id = 300100170000001
        self.next_number = 10001
        self.jobs: dict[str, dict[str, Any]] = {}
        self.gl_journal_lines: list[list[str]] = []
        self.ucm: dict[str, dict[str, Any]] = {}
        #: Trading Community records created over SOAP (``_customer_soap``), by id
        self.tca: dict[str, dict[str, dict[str, Any]]] = {"locations": {}, "parties": {}}
        #: who-columns of Trading Community parties by ``PartyId``, stamped by the SOAP
        #: services when they change the party, its account or its site's location (the
        #: ``crmRestApi`` ``accounts`` view reads them; see ``_crm_accounts``)
        self.party_who: dict[str, dict[str, str]] = {}

    # -- ids and versions --------------------------------------------------------------
    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def new_number(self) -> str:
        value = self.next_number
        self.next_number += 1
        return str(value)

    def put(self, resource: str, key: str, record: dict[str, Any]) -> None:
        if resource not in READ_ONLY:
            self._touch(resource, key, record)
        self.records[resource][key] = record
        self.versions[(resource, key)] = self.versions.get((resource, key), 0) + 1

    def _touch(self, resource: str, key: str, record: dict[str, Any]) -> None:
        now = self._next_stamp()
        if key not in self.records[resource] or "CreationDate" not in record:
            record["CreatedBy"] = self.actor
            record["CreationDate"] = _stamp(now)
        record["LastUpdatedBy"] = self.actor
        record["LastUpdateDate"] = _stamp(now)

    def touch_party(self, party_id: object) -> None:
        """Stamp the who-columns of a Trading Community party (created or changed), with
        the same strictly increasing clock as :meth:`put`."""
        now = self._next_stamp()
        who = self.party_who.setdefault(str(party_id), {})
        if "CreationDate" not in who:
            who["CreatedBy"] = self.actor
            who["CreationDate"] = _stamp(now)
        who["LastUpdatedBy"] = self.actor
        who["LastUpdateDate"] = _stamp(now)

    def _next_stamp(self) -> datetime:
        now = self.clock().astimezone(timezone.utc)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def etag(self, resource: str, key: str) -> str:
        version = self.versions.get((resource, key), 0)
        digest = hashlib.sha256(f"{resource}/{key}/{version}".encode()).hexdigest()
        return f'"{digest[:40].upper()}"'

    def get(self, resource: str, key: str) -> dict[str, Any]:
        record = self.records[resource].get(key)
        if record is None:
            raise ApiError(404, f"The requested resource {resource}/{key} doesn't exist.")
        return record

    def delete(self, resource: str, key: str) -> None:
        self.get(resource, key)
        del self.records[resource][key]
        self.versions.pop((resource, key), None)

    # -- reference data ----------------------------------------------------------------
    def business_unit(self, name: object = None, bu_id: object = None) -> dict[str, Any] | None:
        for bu in cast(list[dict[str, Any]], self.ref["businessUnits"]):
            if (name is not None and bu["BusinessUnitName"] == name) or (
                bu_id is not None and str(bu["BusinessUnitId"]) == str(bu_id)
            ):
                return bu
        return None

    def account(self, number: object = None, account_id: object = None) -> dict[str, Any] | None:
        for acct in cast(list[dict[str, Any]], self.ref["customerAccounts"]):
            if (number is not None and acct["AccountNumber"] == str(number)) or (
                account_id is not None and str(acct["CustomerAccountId"]) == str(account_id)
            ):
                return acct
        return None

    def party(self, number: object = None, party_id: object = None) -> dict[str, Any] | None:
        for acct in cast(list[dict[str, Any]], self.ref["customerAccounts"]):
            if (number is not None and acct["PartyNumber"] == str(number)) or (
                party_id is not None and str(acct["PartyId"]) == str(party_id)
            ):
                return acct
        return None

    def receipt_method(self, name: object) -> dict[str, Any] | None:
        methods = cast(list[dict[str, Any]], self.ref["receiptMethods"])
        return next((m for m in methods if m["ReceiptMethod"] == name), None)

    def payment_terms(self, name: object) -> dict[str, Any] | None:
        terms = cast(list[dict[str, Any]], self.ref["paymentTerms"])
        return next((t for t in terms if t["Name"] == name), None)

    def seed(self, extra: Mapping[str, Any]) -> None:
        """Append reference data (same keys as the default seed)."""
        for key, values in extra.items():
            if key not in self.ref or not isinstance(values, list):
                raise ApiError(400, f"unknown seed collection {key}")
            cast(list[Any], self.ref[key]).extend(copy.deepcopy(cast(list[Any], values)))

    # -- transactions ------------------------------------------------------------------
    def snapshot(self) -> tuple[Any, ...]:
        return copy.deepcopy(
            (self.records, self.versions, self.next_id, self.next_number, self.jobs)
        )

    def restore(self, snap: tuple[Any, ...]) -> None:
        self.records, self.versions, self.next_id, self.next_number, self.jobs = snap

    def summary(self) -> dict[str, Any]:
        return {
            "counts": {name: len(items) for name, items in self.records.items()},
            "records": self.records,
            "essJobs": {
                rid: {"JobName": job["JobName"], "errors": job["errors"], "polls": job["polls"]}
                for rid, job in self.jobs.items()
            },
            "glJournalLines": self.gl_journal_lines,
        }
