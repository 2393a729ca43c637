"""``pull_records`` on the emulators: one customer key through the ledger's cross-reference
table (fuzzy customer rules then pair live records), ``Payment__c.Account__c`` as the
Salesforce customer, and the Salesforce Bulk API 2.0 loader."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oracle_fusion_client import NewStandardReceipt
from paysync_core import open_ledger
from paysync_core.config import Clients
from paysync_core.reconcile import (
    DiscrepancyClass,
    ReconcileRules,
    export_salesforce,
    pull_records,
    reconcile,
)
from paysync_core.xref import CustomerXrefTable
from paytrace_client import CreditCard

if TYPE_CHECKING:
    from conftest import Emulators

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


def _unkeyed_receipt(number: str, account: str, day: object) -> NewStandardReceipt:
    """A receipt keyed by hand (no ``PT-`` number): only fuzzy rules can pair it."""
    return NewStandardReceipt(
        ReceiptNumber=number,
        ReceiptMethod="Manual",
        BusinessUnit="Vision Operations",
        Amount=Decimal("50.00"),
        Currency="USD",
        ReceiptDate=day,  # type: ignore[arg-type]
        RemittanceBankAccountNumber="10271-17621-619",
        CustomerAccountNumber=account,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _world(emulators: Emulators) -> tuple[dict[str, str], list[str]]:
    """Two vault customers paying 50.00 each; their Fusion receipts carry no PayTrace id and
    are listed so that pairing by key order alone would cross them over."""
    pt, today = emulators.paytrace, emulators.paytrace_emulator.now().date()
    accounts = [r.fields["Id"] for r in emulators.bridge.query("SELECT Id FROM Account")][:2]
    sales: dict[str, str] = {}
    for vault in ("VAULT-1", "VAULT-2"):
        pt.customers.create(vault, credit_card=CreditCard(CARD, 12, 2030))
        sales[vault] = str(pt.transactions.sale_by_customer(Decimal("50.00"), vault).transaction_id)
    emulators.paytrace_emulator.settle()
    for number, account in (("MANUAL-A", "2002"), ("MANUAL-B", "2001")):
        emulators.fusion.standard_receipts.create(_unkeyed_receipt(number, account, today))
    emulators.bridge.create_many(
        "Payment__c",
        [
            {
                "Payment_ID__c": sales[vault],
                "Amount__c": 50.0,
                "Status__c": "Settled",
                "Account__c": account,
                "Processed_At__c": f"{today.isoformat()}T12:00:00.000+0000",
            }
            for vault, account in zip(("VAULT-1", "VAULT-2"), accounts, strict=True)
        ],
    )
    return sales, accounts


def _clients(emulators: Emulators) -> Clients:
    return Clients(
        paytrace=emulators.paytrace, fusion=emulators.fusion, salesforce=emulators.bridge
    )


@pytest.mark.parametrize("engine", ["python", "polars"])
def test_xref_gives_one_customer_key_and_fuzzy_rules_pair_live_records(
    emulators: Emulators, tmp_path: Path, engine: str
) -> None:
    sales, accounts = _world(emulators)
    ledger = open_ledger(str(tmp_path / "ledger.db"))
    xref = CustomerXrefTable(ledger)
    xref.link(accounts[0], paytrace_customer_id="VAULT-1", fusion_account_number="2001")
    xref.link(accounts[1], paytrace_customer_id="VAULT-2", fusion_account_number="2002")
    today = emulators.paytrace_emulator.now().date()
    window = (today - timedelta(days=1), today + timedelta(days=1))

    files = pull_records(_clients(emulators), *window, tmp_path / "xref", ledger=ledger)
    assert files.salesforce is not None
    for name in ("paytrace", "fusion", "salesforce"):
        customers = {row["customer"] for row in _rows(getattr(files, name))}
        assert customers == set(accounts), name
    result = reconcile(
        paytrace=files.paytrace,
        fusion=files.fusion,
        salesforce=files.salesforce,
        rules=ReconcileRules(match_customer=True),
        engine=engine,  # type: ignore[arg-type]
    )
    assert result.discrepancies == []
    assert result.matched == 2

    # Without the table each system keeps its own ids: nothing can pair by customer.
    plain = pull_records(_clients(emulators), *window, tmp_path / "plain")
    assert plain.salesforce is not None
    assert {r["customer"] for r in _rows(plain.paytrace)} == {"VAULT-1", "VAULT-2"}
    assert {r["customer"] for r in _rows(plain.salesforce)} == set(accounts)
    unpaired = reconcile(
        paytrace=plain.paytrace,
        fusion=plain.fusion,
        salesforce=plain.salesforce,
        rules=ReconcileRules(match_customer=True),
        engine=engine,  # type: ignore[arg-type]
    )
    assert sorted((d.kind, d.key) for d in unpaired.discrepancies) == sorted(
        [(DiscrepancyClass.MISSING_IN_FUSION, s) for s in sales.values()]
        + [(DiscrepancyClass.MISSING_IN_PAYTRACE, k) for k in ("MANUAL-A", "MANUAL-B")]
    )


def test_unknown_customer_ids_keep_their_system(emulators: Emulators, tmp_path: Path) -> None:
    _world(emulators)
    ledger = open_ledger(str(tmp_path / "ledger.db"))  # empty table
    today = emulators.paytrace_emulator.now().date()
    files = pull_records(_clients(emulators), today, today, tmp_path, ledger=ledger)
    assert {r["customer"] for r in _rows(files.paytrace)} == {
        "paytrace:VAULT-1",
        "paytrace:VAULT-2",
    }
    assert {r["customer"] for r in _rows(files.fusion)} == {"fusion:2001", "fusion:2002"}


def test_bulk_loader_writes_what_the_soql_loader_writes(
    emulators: Emulators, tmp_path: Path
) -> None:
    _world(emulators)
    where = "Processed_At__c != null"
    rest, bulk = tmp_path / "rest.csv", tmp_path / "bulk.csv"
    assert export_salesforce(emulators.bridge, rest, where=where, customer_field="Account__c") == 2
    written = export_salesforce(
        emulators.bridge, bulk, where=where, customer_field="Account__c", bulk=True
    )
    assert written == 2
    assert bulk.read_text() == rest.read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if "spool" in p.name) == []
