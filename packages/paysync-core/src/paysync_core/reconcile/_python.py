"""The pure-Python engine: one streaming pass per file into per-key folds.

Correct on any input and dependency-free; memory grows with the number of distinct keys, so
it is meant for small and medium runs (and is the reference the fast engine is tested against).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._classify import SYSTEMS, Agg, Outcome, classify, fuzzy_pass
from ._model import BatchCheck, DayTotal, ReconcileInputError, ReconcileResult, ReconcileRules
from ._schema import BATCH_COLUMNS, KINDS, RECORD_COLUMNS, STATUSES, normalize_ref, read_csv_rows

__all__ = ["Inputs", "reconcile_python"]


@dataclass(frozen=True)
class Inputs:
    paytrace: Path
    fusion: Path
    salesforce: Path
    batches: Path | None = None


class _Fold:
    """Running fold of one key in one system (see :class:`Agg` for the meaning)."""

    __slots__ = ("any_min", "has_refund", "net", "pay_min", "payments")

    def __init__(self) -> None:
        self.payments = 0
        self.net = 0
        self.has_refund = False
        # (status, day, customer, invoice, batch, id): min per column over payment rows,
        # and over all rows for keys that only have refunds.
        self.pay_min: list[str] | None = None
        self.any_min: list[str] | None = None

    def add(self, row: Mapping[str, str], cents: int, is_payment: bool) -> None:
        values = [
            row["status"],
            row["day"],
            row["customer"],
            row["invoice"],
            row["batch"],
            row["id"],
        ]
        self.any_min = values if self.any_min is None else list(map(min, self.any_min, values))
        if is_payment:
            self.payments += 1
            self.net += cents
            self.pay_min = values if self.pay_min is None else list(map(min, self.pay_min, values))
        else:
            self.has_refund = True
            self.net -= cents

    def agg(self) -> Agg:
        if self.pay_min is not None:
            status, day, customer, invoice, batch, record_id = self.pay_min
        else:
            assert self.any_min is not None
            _, day, customer, invoice, batch, record_id = self.any_min
            status = "refunded"
        if self.has_refund and self.net == 0:
            status = "refunded"
        return Agg(self.payments, self.net, status, day, customer, invoice, batch, record_id)


def _cents(row: Mapping[str, str], path: Path, line: int) -> int:
    raw = (row.get("amount_cents") or "").strip()
    if not raw.isdigit():
        raise ReconcileInputError(f"{path}:{line}:amount_cents", f"{raw!r} is not whole cents")
    return int(raw)


def _fold_file(
    system: str,
    path: Path,
    rules: ReconcileRules,
    days: dict[str, list[int]],
    batches: dict[str, list[int]] | None,
) -> dict[str, _Fold]:
    folds: dict[str, _Fold] = {}
    index = SYSTEMS.index(system)
    low = rules.date_from.isoformat() if rules.date_from else None
    high = rules.date_to.isoformat() if rules.date_to else None
    for row_number, raw in enumerate(read_csv_rows(path, RECORD_COLUMNS)):
        row = {c: (raw.get(c) or "") for c in RECORD_COLUMNS}
        kind = row["kind"]
        if kind not in KINDS:
            raise ReconcileInputError(
                f"{path}:{row_number}:kind", f"{kind!r} is not payment/refund"
            )
        if row["status"] not in STATUSES:
            raise ReconcileInputError(f"{path}:{row_number}:status", f"{row['status']!r} unknown")
        cents = _cents(row, path, row_number)
        signed = cents if kind == "payment" else -cents
        if batches is not None and row["batch"]:
            acc = batches.setdefault(row["batch"], [0, 0])
            acc[0] += signed
            acc[1] += 1
        day = row["day"]
        if (low is not None and day < low) or (high is not None and day > high):
            continue
        ref = normalize_ref(row["ref"], rules.receipt_prefix)
        key = ref or f"{system}#{row_number}"
        fold = folds.get(key)
        if fold is None:
            fold = folds[key] = _Fold()
        fold.add(row, cents, kind == "payment")
        if row["status"] != "failed":  # day totals count money that moved
            days.setdefault(day, [0, 0, 0])[index] += signed
    return folds


def _batch_checks(path: Path, computed: dict[str, list[int]]) -> list[BatchCheck]:
    checks: list[BatchCheck] = []
    for line, row in enumerate(read_csv_rows(path, BATCH_COLUMNS)):
        batch = (row.get("batch") or "").strip()
        net = (row.get("net_cents") or "").strip()
        if not batch:
            raise ReconcileInputError(f"{path}:{line}:batch", "is empty")
        try:
            reported = int(net)
        except ValueError as exc:
            raise ReconcileInputError(f"{path}:{line}:net_cents", f"{net!r} is not cents") from exc
        count = (row.get("count") or "").strip()
        sums = computed.get(batch, [0, 0])
        checks.append(BatchCheck(batch, reported, sums[0], int(count) if count else None, sums[1]))
    return sorted(checks, key=lambda b: b.batch)


def reconcile_python(inputs: Inputs, rules: ReconcileRules) -> ReconcileResult:
    days: dict[str, list[int]] = {}
    computed: dict[str, list[int]] = {}
    folds = {
        "paytrace": _fold_file("paytrace", inputs.paytrace, rules, days, computed),
        "fusion": _fold_file("fusion", inputs.fusion, rules, days, None),
        "salesforce": _fold_file("salesforce", inputs.salesforce, rules, days, None),
    }
    keys: set[str] = set()
    for per_system in folds.values():
        keys.update(per_system)
    outcomes: list[Outcome] = []
    for key in keys:
        aggs = {s: folds[s][key].agg() for s in SYSTEMS if key in folds[s]}
        found = classify(key, aggs, rules)
        if found:
            outcomes.append(Outcome(key, aggs, found))
    return finish(
        "python", len(keys), outcomes, rules=rules, days=days, inputs=inputs, computed=computed
    )


def finish(
    engine: str,
    keys: int,
    outcomes: list[Outcome],
    *,
    rules: ReconcileRules,
    days: dict[str, list[int]],
    inputs: Inputs,
    computed: dict[str, list[int]],
) -> ReconcileResult:
    """The engine-independent tail: fuzzy pass, ordering, batch checks, day totals."""
    left, absorbed = fuzzy_pass(outcomes, rules)
    found = sorted((d for o in left for d in o.found), key=lambda d: d.sort_key())
    distinct = len({d.key for d in found})
    total = keys - absorbed
    return ReconcileResult(
        engine=engine,
        keys=total,
        discrepancies=found,
        batch_checks=_batch_checks(inputs.batches, computed) if inputs.batches else [],
        day_totals=[DayTotal(d, *days[d]) for d in sorted(days)],
        matched=total - distinct,
    )
