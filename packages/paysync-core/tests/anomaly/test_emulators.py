"""End to end through the PayTrace and Fusion emulators (mocked only at the wire): client
exports -> record files with the anomaly columns -> flags.

The reconciliation loaders do not write the anomaly columns yet (``at``, ``card_token``,
``last4``, ``product``, ``unapplied_cents``, the batch ``day``); :func:`paytrace_row` and
:func:`receipt_row` show the mapping they need, reusing the loaders' own status rules.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_fusion_client import BasicAuth, FusionClient, NewStandardReceipt, StandardReceipt
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core.anomaly import (
    OPTIONAL_TRANSACTION_COLUMNS,
    RECEIPT_COLUMNS,
    TRANSACTION_COLUMNS,
    AnomalyEngine,
    AnomalyKind,
    detect_anomalies,
)
from paysync_core.reconcile import RecordWriter, fusion_status, paytrace_status
from paysync_core.reconcile._schema import amount_to_cents
from paytrace_client import CreditCard, PayTraceClient, PayTraceDeclinedError
from paytrace_client.emulator import PayTraceEmulator
from paytrace_client.models import ExportedTransaction

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


def paytrace_row(txn: ExportedTransaction) -> dict[str, str | int] | None:
    status = paytrace_status(txn)
    if status is None or txn.created is None or txn.created.at is None:
        return None
    masked = (txn.credit_card.masked_number if txn.credit_card else None) or ""
    last4 = masked[-4:] if masked[-4:].isdigit() else ""
    return {
        "ref": str(txn.transaction_id),
        "id": str(txn.transaction_id),
        "kind": "refund" if (txn.transaction_type or "").upper() == "REFUND" else "payment",
        "amount_cents": amount_to_cents(txn.amount or Decimal(0), "amount"),
        "status": status,
        "day": txn.created.at.date().isoformat(),
        "customer": txn.customer_id or "",
        "invoice": txn.invoice_id or "",
        "batch": "" if txn.batch_number is None else str(txn.batch_number),
        "at": txn.created.at.isoformat(),
        # The vault profile when charged by customer id; else the masked card (BIN + last 4).
        "card_token": txn.customer_id or masked,
        "last4": last4,
        "product": "",
    }


def receipt_row(receipt: StandardReceipt) -> dict[str, str | int]:
    return {
        "ref": receipt.ReceiptNumber or "",
        "id": receipt.ReceiptNumber or "",
        "kind": "payment",
        "amount_cents": amount_to_cents(receipt.Amount or Decimal(0), "Amount"),
        "status": fusion_status(receipt),
        "day": str(receipt.ReceiptDate)[:10],
        "customer": receipt.CustomerAccountNumber or "",
        "unapplied_cents": amount_to_cents(
            receipt.UnappliedAmount or Decimal(0), "UnappliedAmount"
        ),
    }


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
    fusion.standard_receipts.create(_receipt("PT-OLD", today - timedelta(days=45)))
    fusion.standard_receipts.create(_receipt("PT-NEW", today - timedelta(days=2)))

    transactions = tmp_path / "paytrace.csv"
    with RecordWriter(transactions, (*TRANSACTION_COLUMNS, *OPTIONAL_TRANSACTION_COLUMNS)) as out:
        for txn in paytrace.exports.transactions(
            today - timedelta(days=1), today + timedelta(days=1)
        ):
            row = paytrace_row(txn)
            if row is not None:
                out.write(row)
    receipts = tmp_path / "fusion.csv"
    with RecordWriter(receipts, RECEIPT_COLUMNS) as out:
        for receipt in fusion.standard_receipts.list():
            out.write(receipt_row(receipt))

    now = datetime(today.year, today.month, today.day, 12, tzinfo=timezone.utc)
    flags = detect_anomalies(transactions, receipts, engine=engine, now=now)
    assert [f.kind for f in flags] == [AnomalyKind.DUPLICATE_CHARGE, AnomalyKind.UNAPPLIED_RECEIPT]
    duplicate, unapplied = flags
    assert sorted(duplicate.records) == sorted(sales)
    assert duplicate.reason.startswith("3 charges of 49.99 on token xxxxxxxx… (…5439)")
    assert CARD not in duplicate.reason
    assert unapplied.records == ("PT-OLD",)
    assert "75.00 of 75.00 unapplied after 45 days" in unapplied.reason
