"""``GET <resource>/describe`` in the emulator, generated from the emulator's own behaviour.

The attribute list cannot drift from what the emulator does because it is *observed*: a probe
record is created by the same rules a POST runs (on a scratch state from the default seed)
and every attribute it stores is described; the attributes a client may send are the fields
of the client's ``New*`` models; a ``mandatory`` attribute is one whose absence makes the
create rule answer ``FND_CMN_REQ_ATTRIB_API_SERV`` naming it. Read-only resources describe
the attributes of a row their view materialises.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel

from oracle_fusion_client._models import (
    CreditMemoDistribution,
    CreditMemoLine,
    InvoiceDistribution,
    InvoiceLine,
    NewCreditMemo,
    NewInvoice,
    NewSalesOrder,
    NewStandardReceipt,
    ReceiptDFF,
    RemittanceReference,
    SalesOrderBillTo,
    SalesOrderLine,
    SalesOrderShipTo,
)

from . import _rules as rules
from . import _views as views
from ._gl import record_journal_batches
from ._seed import default_seed
from ._state import READ_ONLY, RESOURCES, ApiError, State

__all__ = ["DESCRIBE_TYPE", "catalog", "describe_resource"]

DESCRIBE_TYPE = "application/vnd.oracle.adf.resource+json"
_REQUIRED_CODE = "FND_CMN_REQ_ATTRIB_API_SERV"
_PROBE_DAY = date(2026, 1, 15)

#: resource -> the client model of what a POST may send
_NEW_MODELS: Mapping[str, type[BaseModel]] = {
    "standardReceipts": NewStandardReceipt,
    "receivablesInvoices": NewInvoice,
    "receivablesCreditMemos": NewCreditMemo,
    "salesOrdersForOrderHub": NewSalesOrder,
}
#: child collection -> the client model of one child row
_CHILD_MODELS: Mapping[str, type[BaseModel]] = {
    "standardReceiptDFF": ReceiptDFF,
    "remittanceReferences": RemittanceReference,
    "receivablesInvoiceLines": InvoiceLine,
    "receivablesInvoiceDistributions": InvoiceDistribution,
    "receivablesCreditMemoLines": CreditMemoLine,
    "receivablesCreditMemoDistributions": CreditMemoDistribution,
    "lines": SalesOrderLine,
    "billToCustomer": SalesOrderBillTo,
    "shipToCustomer": SalesOrderShipTo,
}


def _type_of_annotation(annotation: object) -> str | None:
    text = str(annotation)
    for marker, kind in (
        ("Decimal", "number"),
        ("datetime.datetime", "datetime"),
        ("datetime.date", "date"),
        ("bool", "boolean"),
        ("int", "integer"),
        ("str", "string"),
    ):
        if marker in text:
            return kind
    return None


def _type_of_value(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (Decimal, float)):
        return "number"
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        return "date"
    return "string"


def _model_types(model: type[BaseModel] | None) -> dict[str, str]:
    if model is None:
        return {}
    found: dict[str, str] = {}
    for name, info in model.model_fields.items():
        kind = _type_of_annotation(info.annotation)
        if kind is not None and "list[" not in str(info.annotation):
            found[info.alias or name] = kind
    return found


def _probe_bodies(seed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Smallest valid create payloads, taken from the seed so they pass the rules."""
    bu = cast(list[dict[str, Any]], seed["businessUnits"])[0]
    account = cast(list[dict[str, Any]], seed["customerAccounts"])[0]
    methods = cast(list[dict[str, Any]], seed["receiptMethods"])
    method = next(x for x in methods if not x.get("BillsOfExchange"))
    header = {
        "BusinessUnit": bu["BusinessUnitName"],
        "TransactionSource": cast(list[str], seed["transactionSources"])[0],
        "TransactionType": cast(list[str], seed["transactionTypes"])[0],
        "BillToCustomerNumber": account["AccountNumber"],
    }
    return {
        "standardReceipts": {
            "ReceiptNumber": "DESCRIBE-PROBE",
            "ReceiptMethod": method["ReceiptMethod"],
            "BusinessUnit": bu["BusinessUnitName"],
            "Amount": "1.00",
            "Currency": bu["LedgerCurrency"],
            "CustomerAccountNumber": account["AccountNumber"],
        },
        "receivablesInvoices": {
            **header,
            "InvoiceCurrencyCode": bu["LedgerCurrency"],
            "receivablesInvoiceLines": [{"LineNumber": 1, "Quantity": 1, "UnitSellingPrice": 1}],
        },
        "receivablesCreditMemos": {
            **header,
            "CreditMemoCurrency": bu["LedgerCurrency"],
            "receivablesCreditMemoLines": [
                {"LineNumber": 1, "LineQuantityCredit": 1, "UnitSellingPrice": -1}
            ],
        },
        "salesOrdersForOrderHub": {
            "SourceTransactionNumber": "DESCRIBE-PROBE",
            "SourceTransactionSystem": "DESCRIBE",
            "SourceTransactionId": "1",
            "TransactionalCurrencyCode": bu["LedgerCurrency"],
            "BusinessUnitName": bu["BusinessUnitName"],
            "BuyingPartyNumber": account["PartyNumber"],
            "lines": [{"SourceTransactionLineId": "1", "SourceTransactionLineNumber": "1"}],
        },
    }


def _creator(resource: str) -> Callable[[State, Mapping[str, Any]], str]:
    if resource == "standardReceipts":
        return lambda s, b: rules.create_receipt(s, b, _PROBE_DAY, upsert=False)
    if resource == "receivablesInvoices":
        return lambda s, b: rules.create_invoice(s, b, _PROBE_DAY)
    if resource == "receivablesCreditMemos":
        return lambda s, b: rules.create_credit_memo(s, b, _PROBE_DAY)
    return lambda s, b: rules.create_order(s, b, upsert=False)[0]


def _mandatory(resource: str, body: Mapping[str, Any]) -> set[str]:
    """Attributes whose absence the create rule refuses as a missing required attribute."""
    create = _creator(resource)
    found: set[str] = set()
    for name in body:
        try:
            create(State(), {k: v for k, v in body.items() if k != name})
        except ApiError as exc:
            if exc.code == _REQUIRED_CODE and exc.path == name:
                found.add(name)
    return found


_PROBE_VALUES: Mapping[str, object] = {
    "string": "DescribeProbe",
    "date": "2026-02-03",
    "datetime": "2026-02-03T04:05:06+00:00",
    "integer": 987654,
    "number": "987.65",
    "boolean": True,
}


def _accepted(resource: str, body: Mapping[str, Any], name: str, kind: str) -> bool:
    """Does a create store the value sent for ``name`` (the emulator accepts the attribute)?"""
    probe = _PROBE_VALUES[kind]
    state = State()
    try:
        key = _creator(resource)(state, {**body, name: probe})
    except ApiError:
        return False
    stored = state.get(resource, key).get(name)
    return stored is not None and str(stored) == str(probe)


def _probe_record(resource: str) -> dict[str, Any]:
    """One record of ``resource`` as the emulator stores it."""
    state = State()
    bodies = _probe_bodies(state.ref)
    if resource in bodies:
        key = _creator(resource)(state, bodies[resource])
        return state.get(resource, key)
    if resource == "journalBatches":
        row = [""] * 64
        row[1], row[3], row[38], row[39] = "1", "Describe", "1.00", "0"
        record_journal_batches(state, "1", [row, [*row[:38], "0", "1.00", *row[40:]]])
    else:
        rules.create_invoice(state, bodies["receivablesInvoices"], _PROBE_DAY)
        views.refresh_activities(state)
        views.refresh_currency_rates(state)
    rows = list(state.records[resource].values())
    return rows[0] if rows else {}


def _attribute(
    name: str, kind: str, *, updatable: bool, mandatory: bool, key: bool = False
) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": kind,
        "updatable": updatable,
        "mandatory": mandatory,
        "queryable": True,
        "allowChanges": "always" if updatable else "never",
    }
    if key:
        attribute["annotations"] = {"description": "The key of the resource."}
    return attribute


def _child_accepted(resource: str, child: str, name: str, kind: str) -> bool | None:
    """Does a create keep ``name`` sent on the first ``child`` row (``None``: the create
    stores no such child, so it cannot be observed)?"""
    body = dict(_probe_bodies(default_seed()).get(resource) or {})
    if not body:
        return None
    rows = [dict(r) for r in cast(list[dict[str, Any]], body.get(child) or [{}])]
    probe = _PROBE_VALUES[kind]
    rows[0][name] = probe
    state = State()
    try:
        key = _creator(resource)(state, {**body, child: rows})
    except ApiError:
        return False
    stored = state.get(resource, key).get(child)
    if not isinstance(stored, list) or not stored:
        return None
    first = cast(list[dict[str, Any]], stored)[0]
    return str(first.get(name)) == str(probe)


def _child_describe(resource: str, name: str, rows: object) -> dict[str, Any]:
    """A child collection: the client model's attributes plus those the emulator adds; the
    emulator's rules require no child attribute, so none is ``mandatory``."""
    model = _CHILD_MODELS.get(name)
    types = _model_types(model)
    names = list(types)
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        sample = cast(dict[str, Any], rows[0])
        names += [n for n in sample if n not in types]
        types.update({n: _type_of_value(v) for n, v in sample.items() if n not in types})
    sendable: set[str] = (
        {info.alias or f for f, info in model.model_fields.items()} if model else set()
    )
    attributes: list[dict[str, Any]] = []
    for attribute in names:
        observed = _child_accepted(resource, name, attribute, types[attribute])
        writable = attribute in sendable if observed is None else observed
        attributes.append(
            _attribute(attribute, types[attribute], updatable=writable, mandatory=False)
        )
    return {"title": name, "attributes": attributes, "links": []}


@functools.cache
def _describe_body(resource: str) -> dict[str, Any]:
    record = _probe_record(resource)
    key_name, children = RESOURCES[resource]
    model = _NEW_MODELS.get(resource)
    writable = _model_types(model) if resource not in READ_ONLY else {}
    bodies = _probe_bodies(default_seed())
    required: set[str] = _mandatory(resource, bodies[resource]) if resource in bodies else set()
    names = [n for n in record if n not in children]
    names += [n for n in writable if n not in record]
    if key_name not in names:
        names.insert(0, key_name)
    attributes: list[dict[str, Any]] = []
    for name in names:
        value = record.get(name)
        kind = writable.get(name) or (_type_of_value(value) if value is not None else "string")
        sendable = name in writable or (
            resource in bodies and _accepted(resource, bodies[resource], name, kind)
        )
        attributes.append(
            _attribute(
                name,
                kind,
                updatable=sendable and name != key_name,
                mandatory=name in required,
                key=name == key_name,
            )
        )
    actions = [{"name": "get", "method": "GET"}]
    if resource not in READ_ONLY:
        actions.append({"name": "create", "method": "POST"})
    return {
        "title": resource,
        "titlePlural": resource,
        "attributes": attributes,
        "collection": {"rangeSize": 25, "finders": [], "actions": actions},
        "item": {"actions": [{"name": "get", "method": "GET"}]},
        "children": {
            child: _child_describe(resource, child, record.get(child)) for child in children
        },
    }


def describe_resource(resource: str, base: str) -> dict[str, Any]:
    """The ``/describe`` answer of one resource (``base``: the versioned resources URL)."""
    body = copy.deepcopy(_describe_body(resource))
    body["links"] = [
        {"rel": "self", "href": f"{base}/{resource}/describe", "name": "self", "kind": "describe"}
    ]
    return {"Resources": {resource: body}}


def catalog(base: str) -> dict[str, Any]:
    """``GET <version>/describe``: every resource the emulator serves, with full metadata."""
    resources: dict[str, Any] = {}
    for name in RESOURCES:
        resources.update(describe_resource(name, base)["Resources"])
    return {"Resources": resources}
