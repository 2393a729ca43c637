"""The pure-Python engine: one streaming pass over the transactions into per-group lists.

Dependency-free and the reference the polars engine is tested against; memory grows with the
number of payments (amounts are kept per customer and per product line for the medians).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paysync_core.reconcile import KINDS, STATUSES, read_csv_rows

from ._detect import (
    HOUR_US,
    BatchSum,
    Charge,
    HourCount,
    OutlierHit,
    ReceiptRow,
    batch_flags,
    duplicate_flags,
    is_outlier,
    outlier_flags,
    spike_flags,
    spread4,
    unapplied_flags,
)
from ._inputs import Inputs, parse_day, read_batches
from ._model import AnomalyFlag, AnomalyInputError, AnomalyKind
from ._rules import AnomalyRules, OutlierRule
from ._schema import RECEIPT_COLUMNS, TRANSACTION_COLUMNS, check_token, epoch_us

__all__ = ["detect_python"]

_LAST4 = re.compile(r"([0-9]{4})?")
_DIGITS = re.compile(r"[0-9]+")
Payment = tuple[int, int, str]  # cents, at_us, id
Event = tuple[AnomalyKind, int]  # spike kind, hour


@dataclass
class _Folds:
    charges: list[Charge] = field(default_factory=list[Charge])
    customers: dict[str, list[Payment]] = field(default_factory=dict[str, list[Payment]])
    products: dict[str, list[Payment]] = field(default_factory=dict[str, list[Payment]])
    hours: dict[int, list[int]] = field(default_factory=dict[int, list[int]])
    events: dict[tuple[AnomalyKind, int], list[str]] = field(
        default_factory=dict[tuple[AnomalyKind, int], list[str]]
    )
    batches: dict[str, list[int]] = field(default_factory=dict[str, list[int]])


def _cents(row: Mapping[str, str], column: str, where: str) -> int:
    raw = (row.get(column) or "").strip()
    if not _DIGITS.fullmatch(raw):
        raise AnomalyInputError(f"{where}:{column}", f"{raw!r} is not whole cents")
    return int(raw)


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, Mapping[str, str]]]:
    for line, row in enumerate(read_csv_rows(path, columns), start=2):
        where = f"{path}:{line}"
        if row["kind"] not in KINDS:
            raise AnomalyInputError(f"{where}:kind", f"{row['kind']!r} is not payment or refund")
        if row["status"] not in STATUSES:
            raise AnomalyInputError(f"{where}:status", f"{row['status']!r} is not a status")
        yield where, row


def _fold(inputs: Inputs) -> _Folds:
    folds = _Folds()
    for where, row in _rows(inputs.transactions, TRANSACTION_COLUMNS):
        cents = _cents(row, "amount_cents", where)
        at_us = epoch_us(row["at"], f"{where}:at")
        token = row.get("card_token") or ""
        last4 = row.get("last4") or ""
        check_token(token, f"{where}:card_token")
        if not _LAST4.fullmatch(last4):
            raise AnomalyInputError(f"{where}:last4", "must be empty or the last four digits")
        if not inputs.in_window(row["day"]):
            continue
        _add(folds, row, cents, at_us, token=token, last4=last4)
    return folds


def _add(
    folds: _Folds, row: Mapping[str, str], cents: int, at_us: int, *, token: str, last4: str
) -> None:
    is_payment = row["kind"] == "payment"
    failed = row["status"] == "failed"
    hour = at_us // HOUR_US
    counts = folds.hours.setdefault(hour, [0, 0, 0])
    if is_payment:
        counts[0] += 1
        if failed:
            counts[1] += 1
            folds.events.setdefault((AnomalyKind.DECLINE_SPIKE, hour), []).append(row["id"])
        else:
            if token:
                folds.charges.append(Charge(token, cents, at_us, row["id"], last4))
            payment = (cents, at_us, row["id"])
            if row["customer"]:
                folds.customers.setdefault(row["customer"], []).append(payment)
            if row.get("product"):
                folds.products.setdefault(row["product"], []).append(payment)
    elif not failed:
        counts[2] += 1
        folds.events.setdefault((AnomalyKind.REFUND_SPIKE, hour), []).append(row["id"])
    if row["batch"]:
        net, count, first, last = folds.batches.setdefault(row["batch"], [0, 0, at_us, at_us])
        signed = cents if is_payment else -cents
        folds.batches[row["batch"]] = [net + signed, count + 1, min(first, at_us), max(last, at_us)]


def _twice_median(values: list[int]) -> int:
    """Twice the median of sorted integers (exact: an even count's median ends in .5)."""
    n = len(values)
    return values[n // 2 - 1] + values[n // 2] if n % 2 == 0 else 2 * values[n // 2]


def _outliers(groups: dict[str, list[Payment]], rule: OutlierRule) -> list[OutlierHit]:
    hits: list[OutlierHit] = []
    for group, payments in groups.items():
        if len(payments) < rule.min_history:
            continue
        med2 = _twice_median(sorted(p[0] for p in payments))
        mad4 = _twice_median(sorted(abs(2 * p[0] - med2) for p in payments))
        spread = spread4(mad4, med2, rule)
        for cents, at_us, record_id in payments:
            if is_outlier(abs(2 * cents - med2), spread, rule):
                hits.append(OutlierHit(group, record_id, cents, at_us, med2, spread, len(payments)))
    return hits


def _receipts(path: Path) -> Iterator[ReceiptRow]:
    for where, row in _rows(path, RECEIPT_COLUMNS):
        amount = _cents(row, "amount_cents", where)
        unapplied = _cents(row, "unapplied_cents", where)
        if row["kind"] != "payment" or row["status"] != "captured" or unapplied == 0:
            continue
        day = parse_day(row["day"], f"{where}:day")
        yield ReceiptRow(row["id"], day, unapplied, amount, row["customer"])


def detect_python(inputs: Inputs, rules: AnomalyRules, today: date) -> list[AnomalyFlag]:
    folds = _fold(inputs)
    flags: list[AnomalyFlag] = []
    if rules.duplicates.enabled:
        flags += duplicate_flags(folds.charges, rules.duplicates)
    if rules.outliers.enabled and rules.outliers.per_customer:
        hits = _outliers(folds.customers, rules.outliers)
        flags += outlier_flags(AnomalyKind.CUSTOMER_AMOUNT_OUTLIER, hits, rules.outliers)
    if rules.outliers.enabled and rules.outliers.per_product:
        hits = _outliers(folds.products, rules.outliers)
        flags += outlier_flags(AnomalyKind.PRODUCT_AMOUNT_OUTLIER, hits, rules.outliers)
    if rules.spikes.enabled:
        hours = {h: HourCount(*c) for h, c in folds.hours.items()}
        flags += spike_flags(hours, folds.events, rules.spikes)
    if rules.batches.enabled and inputs.batches is not None:
        sums = {b: BatchSum(*v) for b, v in folds.batches.items()}
        flags += batch_flags(read_batches(inputs), sums, rules.batches)
    if rules.unapplied.enabled and inputs.receipts is not None:
        flags += unapplied_flags(_receipts(inputs.receipts), today, rules.unapplied)
    return flags
