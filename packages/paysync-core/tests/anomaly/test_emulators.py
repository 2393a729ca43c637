"""End to end through the PayTrace and Fusion emulators (mocked only at the wire): the
reconciliation loaders (``export_paytrace``, ``export_fusion``) -> record files with the
anomaly columns -> flags.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_fusion_client import BasicAuth, FusionClient, NewStandardReceipt
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core.anomaly import AnomalyEngine, AnomalyKind, detect_anomalies
from paysync_core.reconcile import export_fusion, export_paytrace, read_csv_rows
from paytrace_client import CreditCard, PayTraceClient, PayTraceDeclinedError
from paytrace_client.emulator import PayTraceEmulator

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


def _receipt(number: str, day: date) -> NewStandardReceipt:
    return NewStandardReceipt(
        ReceiptNumber=number,
        ReceiptMethod="Manual",
        BusinessUnit="Vision Operations",
        Amount=Decimal("75.00"),
        Currency="USD",
        ReceiptDate=day,
        RemittanceBankAccountNumber="10271-17621-619",
        CustomerAccountNumber="1008",
    )


@pytest.mark.parametrize("engine", ["python", "polars"])
def test_emulated_duplicates_and_unapplied_receipt(tmp_path: Path, engine: AnomalyEngine) -> None:
    pt_emulator = PayTraceEmulator()
    paytrace = PayTraceClient(
        username="demo123", password="demo123", session=pt_emulator.session(), sleep=lambda _: None
    )
    card = CreditCard(CARD, 12, 2030)
    sales = [
        str(
            paytrace.transactions.sale_keyed(
                Decimal("49.99"), card, invoice_id=f"INV-{i}"
            ).transaction_id
        )
        for i in range(3)
    ]
    with pytest.raises(PayTraceDeclinedError):  # 0.29 is the emulator's decline amount
        paytrace.transactions.sale_keyed(Decimal("0.29"), card, invoice_id="INV-D")
    assert pt_emulator.settle() is not None
    today = pt_emulator.now().date()

    fu_emulator = FusionEmulator()
    fusion = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("casey.brown", "pw"),
        session=fu_emulator.session(FUSION_URL),
        sleep=lambda _: None,
    )
    old = fusion.standard_receipts.create(_receipt("PT-OLD", today - timedelta(days=45)))
    fusion.standard_receipts.create(_receipt("PT-NEW", today - timedelta(days=2)))

    transactions = tmp_path / "paytrace.csv"
    batches = tmp_path / "batches.csv"
    receipts = tmp_path / "fusion.csv"
    window = (today - timedelta(days=1), today + timedelta(days=1))
    assert export_paytrace(paytrace, *window, transactions, batches=batches) == 4
    assert export_fusion(fusion, receipts) == 2

    rows = list(read_csv_rows(transactions, ("at", "card_token", "last4", "product")))
    assert all(r["at"].startswith(today.isoformat()) for r in rows)
    assert {r["last4"] for r in rows} == {"5439"}
    assert all(r["card_token"] and CARD not in r["card_token"] for r in rows)
    assert CARD not in transactions.read_text(encoding="utf-8")
    (batch,) = read_csv_rows(batches, ("batch", "net_cents", "count", "day"))
    assert (batch["net_cents"], batch["count"], batch["day"]) == ("14997", "3", today.isoformat())
    unapplied = {r["ref"]: r["unapplied_cents"] for r in read_csv_rows(receipts, ("ref",))}
    assert unapplied == {"PT-OLD": "7500", "PT-NEW": "7500"}

    now = datetime(today.year, today.month, today.day, 12, tzinfo=timezone.utc)
    flags = detect_anomalies(transactions, receipts, batches, engine=engine, now=now)
    assert [f.kind for f in flags] == [AnomalyKind.DUPLICATE_CHARGE, AnomalyKind.UNAPPLIED_RECEIPT]
    duplicate, unapplied = flags
    assert sorted(duplicate.records) == sorted(sales)
    assert duplicate.reason.startswith("3 charges of 49.99 on token xxxxxxxx… (…5439)")
    assert CARD not in duplicate.reason
    # the loader's ``id`` is Fusion's own receipt id
    assert unapplied.records == (str(old.StandardReceiptId),)
    assert "75.00 of 75.00 unapplied after 45 days" in unapplied.reason
