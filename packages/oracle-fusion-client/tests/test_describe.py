"""``<resource>/describe``: the client's typed parse, and the emulator's generated metadata."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from oracle_fusion_client import (
    BasicAuth,
    FusionClient,
    FusionInputError,
    FusionNotFoundError,
    parse_describe,
)
from oracle_fusion_client.emulator import FusionEmulator

BASE = "https://fusion.emulator"
ROOT = f"{BASE}/fscmRestApi/resources/11.13.18.05"

# The shape ADF REST documents for a resource describe (trimmed to two attributes).
WIRE_DESCRIBE: dict[str, Any] = {
    "Resources": {
        "standardReceipts": {
            "discrColumnType": False,
            "title": "Standard Receipts",
            "titlePlural": "Standard Receipts",
            "attributes": [
                {
                    "name": "ReceiptNumber",
                    "type": "string",
                    "updatable": True,
                    "mandatory": True,
                    "queryable": True,
                    "allowChanges": "always",
                    "precision": 30,
                    "title": "Receipt Number",
                    "maxLength": "30",
                    "properties": {"fnDisplayWidth": "30"},
                },
                {
                    "name": "StandardReceiptId",
                    "type": "integer",
                    "updatable": False,
                    "mandatory": True,
                    "queryable": True,
                    "precision": 18,
                },
            ],
            "collection": {"rangeSize": 25, "finders": [{"name": "PrimaryKey"}]},
            "item": {"links": []},
            "children": {
                "standardReceiptDFF": {
                    "title": "Descriptive Flexfields",
                    "attributes": [
                        {"name": "CashReceiptId", "type": "integer", "updatable": False}
                    ],
                }
            },
        }
    }
}


def _client(emulator: FusionEmulator | None = None) -> FusionClient:
    session = emulator.session(BASE) if emulator else None
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=session)


@responses.activate
def test_describe_is_a_get_on_the_describe_path_and_parses_attributes() -> None:
    responses.get(f"{ROOT}/standardReceipts/describe", json=WIRE_DESCRIBE)
    described = _client().describe("standardReceipts")
    assert responses.calls[0].request.method == "GET"
    number = described.attribute("ReceiptNumber")
    assert number is not None
    assert (number.type, number.updatable, number.mandatory, number.max_length) == (
        "string",
        True,
        True,
        30,
    )
    assert number.writable_on_create
    key = described.attribute("StandardReceiptId")
    assert key is not None
    assert not key.writable_on_create
    child = described.child("standardReceiptDFF")
    assert child is not None
    assert child.attribute("CashReceiptId") is not None
    # Keys the model does not name are kept, not dropped.
    assert number.model_extra == {"properties": {"fnDisplayWidth": "30"}}


def test_create_only_attributes_count_as_writable_on_create() -> None:
    raw = json.loads(json.dumps(WIRE_DESCRIBE))
    raw["Resources"]["standardReceipts"]["attributes"][0].update(
        {"updatable": False, "allowChanges": "create"}
    )
    attribute = parse_describe(raw).attribute("ReceiptNumber")
    assert attribute is not None
    assert attribute.writable_on_create


def test_bad_describe_and_bad_names_raise_typed_errors() -> None:
    with pytest.raises(FusionInputError, match="no 'Resources'"):
        parse_describe({"items": []})
    with pytest.raises(FusionInputError, match="no resource 'invoices'"):
        parse_describe(WIRE_DESCRIBE, "invoices")
    bad = {"Resources": {"x": {"attributes": [{"type": "string"}]}}}
    with pytest.raises(FusionInputError, match=r"describe of x: attributes\.0\.name"):
        parse_describe(bad)
    with pytest.raises(FusionInputError, match="not a REST resource name"):
        _client(FusionEmulator()).describe("standardReceipts/1")


def test_emulator_describes_what_its_create_rules_require_and_store() -> None:
    emulator = FusionEmulator()
    client = _client(emulator)
    receipts = client.describe("standardReceipts")
    mandatory = {a.name for a in receipts.attributes if a.mandatory}
    assert mandatory == {"ReceiptNumber", "ReceiptMethod", "BusinessUnit", "Amount", "Currency"}
    state = receipts.attribute("State")
    assert state is not None
    assert not state.updatable
    amount = receipts.attribute("Amount")
    assert amount is not None
    assert (amount.type, amount.updatable) == ("number", True)
    memos = client.describe("receivablesCreditMemos")
    number = memos.attribute("TransactionNumber")
    assert number is not None
    assert number.updatable
    assert set(memos.children) == {
        "receivablesCreditMemoLines",
        "receivablesCreditMemoDistributions",
    }
    lines = client.describe("receivablesInvoices").child("receivablesInvoiceLines")
    assert lines is not None
    sent = {a.name: a.updatable for a in lines.attributes}
    # observed: the rule keeps a line's price but computes its amount
    assert sent["UnitSellingPrice"]
    assert not sent["LineAmount"]
    orders = client.describe("salesOrdersForOrderHub")
    assert {a.name for a in orders.attributes if a.mandatory} == {
        "SourceTransactionNumber",
        "SourceTransactionSystem",
        "SourceTransactionId",
        "TransactionalCurrencyCode",
    }


def test_every_described_attribute_of_a_created_receipt_is_in_the_record() -> None:
    emulator = FusionEmulator()
    client = _client(emulator)
    created = client.http.json(
        "POST",
        "standardReceipts",
        body={
            "ReceiptNumber": "R-1",
            "ReceiptMethod": "Manual",
            "BusinessUnit": "Vision Operations",
            "Amount": "10.00",
            "Currency": "USD",
        },
    ).data
    described = {a.name for a in client.describe("standardReceipts").attributes}
    scalar = {k for k, v in created.items() if not isinstance(v, (list, dict))}
    assert scalar <= described


def test_read_only_resources_are_described_without_updatable_attributes() -> None:
    client = _client(FusionEmulator())
    journals = client.describe("journalBatches")
    names = {a.name for a in journals.attributes}
    assert {"JeBatchId", "BatchName", "RunningTotalEnteredDr"} <= names
    assert not any(a.updatable for a in journals.attributes)


def test_unknown_resource_describe_is_a_404_and_the_catalog_lists_all() -> None:
    emulator = FusionEmulator()
    client = _client(emulator)
    with pytest.raises(FusionNotFoundError):
        client.describe("noSuchThing")
    response = client.http.request("GET", "describe")
    assert response.headers["Content-Type"].startswith("application/vnd.oracle.adf.resource+json")
    assert "standardReceipts" in response.json()["Resources"]
