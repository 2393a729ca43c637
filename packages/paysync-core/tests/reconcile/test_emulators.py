"""End to end: the three emulators (in-process, mocked only at the wire) -> loaders -> record
files -> reconcile, with one planted discrepancy of each kind the emulators allow
(duplicates cannot be created there: both natural keys are unique; test_engines covers them)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_fusion_client import BasicAuth, FusionClient, NewStandardReceipt
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core.reconcile import (
    DiscrepancyClass,
    export_fusion,
    export_paytrace,
    export_salesforce,
    reconcile,
)
from paytrace_client import CreditCard, PayTraceClient, PayTraceDeclinedError
from paytrace_client.emulator import PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import DEFAULT_BASE_URL, SalesforceEmulator, emulator_session

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


def _receipt(number: str, amount: str, day: object) -> NewStandardReceipt:
    return NewStandardReceipt(
        ReceiptNumber=number,
        ReceiptMethod="Manual",
        BusinessUnit="Vision Operations",
        Amount=Decimal(amount),
        Currency="USD",
        ReceiptDate=day,  # type: ignore[arg-type]
        RemittanceBankAccountNumber="10271-17621-619",
        CustomerAccountNumber="1008",
    )


@pytest.mark.parametrize("engine", ["python", "polars"])
def test_emulators_to_report(tmp_path: Path, engine: str) -> None:
    pt_emulator = PayTraceEmulator()
    paytrace = PayTraceClient(
        username="demo123", password="demo123", session=pt_emulator.session(), sleep=lambda _: None
    )
    fu_emulator = FusionEmulator()
    fusion = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("casey.brown", "pw"),
        session=fu_emulator.session(FUSION_URL),
        sleep=lambda _: None,
    )
    sf_emulator = SalesforceEmulator()
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(sf_emulator))

    card = CreditCard(CARD, 12, 2030)
    ids: dict[str, str] = {}
    for name, amount in (
        ("A", "10.00"),
        ("B", "20.00"),
        ("C", "30.00"),
        ("D", "40.00"),
        ("E", "0.29"),
        ("F", "50.00"),
    ):
        try:
            result = paytrace.transactions.sale_keyed(
                Decimal(amount), card, invoice_id=f"INV-{name}"
            )
            ids[name] = str(result.transaction_id)
        except PayTraceDeclinedError as declined:  # 0.29 is the emulator's decline amount
            ids[name] = str(declined.body["transaction_id"])
    batch = pt_emulator.settle()
    assert batch is not None
    paytrace.transactions.refund_transaction(int(ids["A"]), Decimal("5.00"), invoice_id="INV-A")

    today = pt_emulator.now().date()
    # Fusion: A without its refund credit memo (amount mismatch), B fine, C never posted
    # (missing in Fusion), D and F posted, and a receipt no PayTrace sale explains.
    for name, amount in (("A", "10.00"), ("B", "20.00"), ("D", "40.00"), ("F", "50.00")):
        fusion.standard_receipts.create(_receipt(f"PT-{ids[name]}", amount, today))
    fusion.standard_receipts.create(_receipt("PT-999999999", "12.34", today))
    # Salesforce: A at its net, D recorded as failed (status mismatch), E's decline, no F.
    bridge.create_many(
        "Payment__c",
        [
            {
                "Payment_ID__c": ids[n],
                "Amount__c": float(a),
                "Status__c": s,
                "Processed_At__c": f"{today.isoformat()}T12:00:00.000+0000",
            }
            for n, a, s in (
                ("A", "5.00", "Captured"),
                ("B", "20.00", "Captured"),
                ("C", "30.00", "Captured"),
                ("D", "40.00", "Failed"),
                ("E", "0.29", "Failed"),
            )
        ],
    )

    files = {
        name: tmp_path / f"{name}.csv" for name in ("paytrace", "fusion", "salesforce", "batches")
    }
    written = export_paytrace(
        paytrace,
        today - timedelta(days=1),
        today + timedelta(days=1),
        files["paytrace"],
        batches=files["batches"],
    )
    assert written == 7  # six sales (one declined) and a refund
    assert export_fusion(fusion, files["fusion"]) == 5
    # the emulator's two seeded payments never went through the gateway: left out
    processed = "Processed_At__c != null"
    assert export_salesforce(bridge, files["salesforce"], where=processed) == 5

    result = reconcile(
        paytrace=files["paytrace"],
        fusion=files["fusion"],
        salesforce=files["salesforce"],
        batches=files["batches"],
        engine="polars" if engine == "polars" else "python",
    )
    found = {(d.kind, d.key) for d in result.discrepancies}
    assert found == {
        (DiscrepancyClass.AMOUNT_MISMATCH, ids["A"]),
        (DiscrepancyClass.MISSING_IN_FUSION, ids["C"]),
        (DiscrepancyClass.STATUS_MISMATCH, ids["D"]),
        (DiscrepancyClass.MISSING_IN_SALESFORCE, ids["F"]),
        (DiscrepancyClass.MISSING_IN_PAYTRACE, "999999999"),
    }
    assert result.matched == 2  # B, and E (declined: Salesforce says failed, Fusion has none)
    amount = next(d for d in result.discrepancies if d.kind is DiscrepancyClass.AMOUNT_MISMATCH)
    assert (amount.paytrace_amount, amount.fusion_amount, amount.salesforce_amount) == (
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("5.00"),
    )
    assert [(b.batch, b.ok) for b in result.batch_checks] == [(str(batch), True)]
    assert result.batch_checks[0].computed_cents == 15_000  # A-D and F; E declined, refund later
