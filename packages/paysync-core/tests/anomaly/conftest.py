"""Record files for the anomaly tests: a generated clean month and helpers to plant anomalies.

Files are written with the reconciliation package's own :class:`RecordWriter` (the loaders'
writer), in the reconciliation layout plus the anomaly columns.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import cast

import pytest

from paysync_core.anomaly import (
    BATCH_FILE_COLUMNS,
    OPTIONAL_TRANSACTION_COLUMNS,
    RECEIPT_COLUMNS,
    TRANSACTION_COLUMNS,
    AnomalyEngine,
    AnomalyFlag,
    AnomalyRules,
    detect_anomalies,
)
from paysync_core.reconcile import RecordWriter

Row = dict[str, str | int]
START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday
NOW = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)
DAYS = 14
PRODUCTS = {"basic": 2_000, "pro": 9_900, "team": 24_900, "enterprise": 120_000, "addon": 500}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def txn(
    record_id: str,
    at: datetime,
    cents: int,
    *,
    kind: str = "payment",
    status: str = "captured",
    customer: str = "C1",
    token: str = "",
    last4: str = "",
    product: str = "",
    batch: str = "",
) -> Row:
    return {
        "ref": record_id if kind == "payment" else "",
        "id": record_id,
        "kind": kind,
        "amount_cents": cents,
        "status": status,
        "day": at.date().isoformat(),
        "customer": customer,
        "invoice": f"INV-{record_id}",
        "batch": batch,
        "at": iso(at),
        "card_token": token,
        "last4": last4,
        "product": product,
    }


def write(path: Path, rows: Iterable[Mapping[str, str | int]], columns: tuple[str, ...]) -> Path:
    with RecordWriter(path, columns) as out:
        for row in rows:
            out.write(row)
    return path


def batch_rows(rows: Iterable[Row]) -> list[Row]:
    """The batch file PayTrace would report for ``rows`` (exact totals, settlement day)."""
    sums: dict[str, list[int]] = {}
    days: dict[str, str] = {}
    for row in rows:
        batch = str(row["batch"])
        if not batch:
            continue
        cents = int(row["amount_cents"])
        entry = sums.setdefault(batch, [0, 0])
        entry[0] += cents if row["kind"] == "payment" else -cents
        entry[1] += 1
        days[batch] = max(days.get(batch, ""), str(row["day"]))
    return [
        {"batch": b, "net_cents": n, "count": c, "day": days[b]}
        for b, (n, c) in sorted(sums.items())
    ]


@dataclass
class Dataset:
    transactions: list[Row]
    receipts: list[Row] = field(default_factory=list[Row])
    batches: list[Row] | None = None

    def write(self, directory: Path) -> tuple[Path, Path, Path]:
        batches = self.batches if self.batches is not None else batch_rows(self.transactions)
        return (
            write(
                directory / "paytrace.csv",
                self.transactions,
                (*TRANSACTION_COLUMNS, *OPTIONAL_TRANSACTION_COLUMNS),
            ),
            write(directory / "fusion.csv", self.receipts, RECEIPT_COLUMNS),
            write(directory / "batches.csv", batches, (*BATCH_FILE_COLUMNS, "day")),
        )


def clean_dataset(rows: int = 10_000, seed: int = 11) -> Dataset:
    """Two weeks of ordinary traffic: each customer buys one product line at a steady price,
    2% declines, 3% refunds, one batch a day whose reported total is exact, recent receipts."""
    rng = random.Random(seed)
    customers: list[tuple[str, str, float, str]] = []
    for n in range(200):
        product = rng.choice(list(PRODUCTS))
        base = PRODUCTS[product] * rng.uniform(0.85, 1.15)
        customers.append((f"C{n:03d}", product, base, f"tok_{n:04d}{rng.getrandbits(40):010x}"))
    out: list[Row] = []
    span = DAYS * 86_400
    for i in range(rows):
        customer, product, base, token = rng.choice(customers)
        at = START + timedelta(seconds=rng.randrange(span))
        cents = round(base * rng.uniform(0.9, 1.1))
        day_index = (at - START).days
        roll = rng.random()
        if roll < 0.02:
            out.append(
                txn(
                    f"T{i}",
                    at,
                    cents,
                    status="failed",
                    customer=customer,
                    token=token,
                    product=product,
                )
            )
        elif roll < 0.05:
            out.append(
                txn(
                    f"R{i}",
                    at,
                    cents // 2,
                    kind="refund",
                    customer=customer,
                    token=token,
                    product=product,
                    batch=str(5000 + day_index),
                )
            )
        else:
            out.append(
                txn(
                    f"T{i}",
                    at,
                    cents,
                    customer=customer,
                    token=token,
                    last4=f"{n_last4(token)}",
                    product=product,
                    batch=str(5000 + day_index),
                )
            )
    receipts: list[Row] = []
    for j in range(300):
        day = (NOW - timedelta(days=rng.randrange(0, 30))).date()
        amount = rng.randrange(1_000, 100_000)
        receipts.append(
            {
                "ref": f"PT-{j}",
                "id": f"RCPT-{j}",
                "kind": "payment",
                "amount_cents": amount,
                "status": "captured",
                "day": day.isoformat(),
                "customer": f"C{j % 200:03d}",
                "invoice": "",
                "batch": "",
                "unapplied_cents": amount if j % 7 == 0 else 0,
            }
        )
    return Dataset(out, receipts)


def n_last4(token: str) -> str:
    return f"{sum(map(ord, token)) % 10_000:04d}"


@pytest.fixture(scope="session")
def clean() -> Dataset:
    return clean_dataset()


@pytest.fixture(params=["python", "polars"])
def engine(request: pytest.FixtureRequest) -> AnomalyEngine:
    return cast("AnomalyEngine", request.param)


Detect = Callable[..., list[AnomalyFlag]]  # (data, rules=None, *, start, end, now)


@pytest.fixture
def detect(tmp_path: Path, engine: AnomalyEngine) -> Detect:
    """Write a dataset and run one engine over it (``now`` defaults to :data:`NOW`)."""
    counter = iter(range(1_000))

    def _run(
        data: Dataset,
        rules: AnomalyRules | None = None,
        *,
        start: date | None = None,
        end: date | None = None,
        now: datetime = NOW,
    ) -> list[AnomalyFlag]:
        directory = tmp_path / f"set{next(counter)}"
        directory.mkdir()
        transactions, receipts, batches = data.write(directory)
        return detect_anomalies(
            transactions,
            receipts,
            batches,
            rules=rules,
            engine=engine,
            now=now,
            start=start,
            end=end,
        )

    return _run
