"""A generated clean fortnight of 10,000 transactions raises no flag; the same data with one
anomaly of every kind planted raises exactly those flags, on both engines."""

from __future__ import annotations

import copy
from datetime import timedelta

from paysync_core.anomaly import AnomalyKind

from .conftest import NOW, START, Dataset, Detect, Row, batch_rows, txn


def test_clean_data_raises_no_flag(clean: Dataset, detect: Detect) -> None:
    assert len(clean.transactions) == 10_000
    assert detect(clean) == []


def planted(clean: Dataset) -> tuple[Dataset, set[tuple[AnomalyKind, tuple[str, ...]]]]:
    data = copy.deepcopy(clean)
    rows = data.transactions
    expected: set[tuple[AnomalyKind, tuple[str, ...]]] = set()

    at = START + timedelta(days=3, hours=5, minutes=7)
    for i, minutes in enumerate((0, 1, 4)):
        rows.append(
            txn(
                f"DUP{i}",
                at + timedelta(minutes=minutes),
                4_999,
                customer="CX",
                token="tok_dupdupdup",
                last4="4242",
                batch="5003",
            )
        )
    expected.add((AnomalyKind.DUPLICATE_CHARGE, ("DUP0", "DUP1", "DUP2")))

    usual = next(r for r in rows if r["customer"] == "C000" and r["status"] == "captured")
    big = int(usual["amount_cents"]) * 20
    rows.append(
        txn(
            "BIG",
            START + timedelta(days=5, hours=3),
            big,
            customer="C000",
            product=str(usual["product"]),
            batch="5005",
        )
    )
    expected.add((AnomalyKind.CUSTOMER_AMOUNT_OUTLIER, ("BIG",)))
    expected.add((AnomalyKind.PRODUCT_AMOUNT_OUTLIER, ("BIG",)))

    hour = START + timedelta(days=6, hours=10)
    declines = [f"DEC{i:02d}" for i in range(30)]
    for i, record_id in enumerate(declines):
        rows.append(
            txn(record_id, hour + timedelta(minutes=i), 1_000 + i, status="failed", customer="CY")
        )
    expected.add((AnomalyKind.DECLINE_SPIKE, tuple(declines)))

    refunds = [f"REF{i:02d}" for i in range(30)]
    for i, record_id in enumerate(refunds):
        rows.append(
            txn(
                record_id,
                hour + timedelta(days=1, minutes=i),
                1_000,
                kind="refund",
                customer="CY",
                batch="5007",
            )
        )
    expected.add((AnomalyKind.REFUND_SPIKE, tuple(refunds)))

    batches: list[Row] = batch_rows(rows)
    off = next(b for b in batches if b["batch"] == "5002")
    off["net_cents"] = int(off["net_cents"]) + 1
    expected.add((AnomalyKind.BATCH_TOTAL_MISMATCH, ("5002",)))
    data.batches = batches

    data.receipts.append(
        {
            "ref": "PT-OLD",
            "id": "RCPT-OLD",
            "kind": "payment",
            "amount_cents": 5_000,
            "status": "captured",
            "day": (NOW - timedelta(days=45)).date().isoformat(),
            "customer": "C001",
            "invoice": "",
            "batch": "",
            "unapplied_cents": 2_500,
        }
    )
    expected.add((AnomalyKind.UNAPPLIED_RECEIPT, ("RCPT-OLD",)))
    return data, expected


def test_planted_anomalies_are_found_and_nothing_else(clean: Dataset, detect: Detect) -> None:
    data, expected = planted(clean)
    flags = detect(data)
    assert {(f.kind, f.records) for f in flags} == expected
    assert len(flags) == len(expected)
    for flag in flags:
        assert str(flag.statistic.value) in flag.reason
