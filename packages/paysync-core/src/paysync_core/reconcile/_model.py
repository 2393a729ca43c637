"""Value types of a reconciliation: rules in, classified discrepancies out.

Amounts are integer cents inside the engines (exact and fast to sum); the public properties
turn them into ``Decimal`` at the boundary.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from paysync_core._errors import PaysyncError

__all__ = [
    "BatchCheck",
    "DayTotal",
    "Discrepancy",
    "DiscrepancyClass",
    "ReconcileInputError",
    "ReconcileResult",
    "ReconcileRules",
    "SuggestedFix",
    "cents_to_decimal",
]


class ReconcileInputError(PaysyncError, ValueError):
    """An input file, column or rule is unusable; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class DiscrepancyClass(str, enum.Enum):
    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    STATUS_MISMATCH = "status_mismatch"
    MISSING_IN_FUSION = "missing_in_fusion"
    MISSING_IN_SALESFORCE = "missing_in_salesforce"
    MISSING_IN_PAYTRACE = "missing_in_paytrace"
    DUPLICATE = "duplicate"


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class ReconcileRules:
    """How records are paired once exact keys are exhausted.

    Fuzzy matching only ever looks at records left unmatched by the exact key phase; a pair
    must agree on every enabled criterion. ``amount_tolerance`` also applies to exact-key
    pairs (0.00 by default: any difference is a mismatch).
    """

    amount_tolerance: Decimal = Decimal("0.00")
    fuzzy: bool = True
    fuzzy_amount_tolerance: Decimal = Decimal("0.00")
    date_window_days: int = 3
    match_customer: bool = True
    match_invoice: bool = False
    receipt_prefix: str = "PT-"
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        for name in ("amount_tolerance", "fuzzy_amount_tolerance"):
            value: object = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ReconcileInputError(name, "must be a non-negative Decimal")
            if value != value.quantize(Decimal("0.01")):
                raise ReconcileInputError(name, "has at most two decimal places")
        if self.date_window_days < 0:
            raise ReconcileInputError("date_window_days", "must be >= 0")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ReconcileInputError("date_from", "is after date_to")

    @property
    def tolerance_cents(self) -> int:
        return int(self.amount_tolerance * 100)

    @property
    def fuzzy_tolerance_cents(self) -> int:
        return int(self.fuzzy_amount_tolerance * 100)


@dataclass(frozen=True)
class SuggestedFix:
    """What to do about one discrepancy, as data the engine can turn into a flow.

    ``action`` is ``replay`` (run ``use_case``'s ``step`` again for ``source_id``),
    ``correct`` (change ``field`` of the record in ``system`` to ``value``), ``remove_duplicate``
    or ``investigate`` (no safe automatic action).
    """

    action: str
    system: str
    source_id: str
    use_case: str | None = None
    step: str | None = None
    field: str | None = None
    value: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Discrepancy:
    """One finding about one business key (a PayTrace transaction id when known)."""

    key: str
    kind: DiscrepancyClass
    evidence: str
    paytrace_cents: int | None = None
    fusion_cents: int | None = None
    salesforce_cents: int | None = None
    day: str | None = None
    batch: str | None = None
    fix: SuggestedFix | None = None

    @property
    def paytrace_amount(self) -> Decimal | None:
        return None if self.paytrace_cents is None else cents_to_decimal(self.paytrace_cents)

    @property
    def fusion_amount(self) -> Decimal | None:
        return None if self.fusion_cents is None else cents_to_decimal(self.fusion_cents)

    @property
    def salesforce_amount(self) -> Decimal | None:
        return None if self.salesforce_cents is None else cents_to_decimal(self.salesforce_cents)

    def sort_key(self) -> tuple[str, str]:
        return (self.kind.value, self.key)


@dataclass(frozen=True)
class BatchCheck:
    """A settlement batch's reported net total against the sum of its transactions."""

    batch: str
    reported_cents: int
    computed_cents: int
    reported_count: int | None
    computed_count: int

    @property
    def ok(self) -> bool:
        count_ok = self.reported_count is None or self.reported_count == self.computed_count
        return self.reported_cents == self.computed_cents and count_ok

    @property
    def variance(self) -> Decimal:
        return cents_to_decimal(self.computed_cents - self.reported_cents)


@dataclass(frozen=True)
class DayTotal:
    """PayTrace / Fusion / Salesforce net totals of one day, failed payments left out (for
    the report's charts)."""

    day: str
    paytrace_cents: int
    fusion_cents: int
    salesforce_cents: int


@dataclass
class ReconcileResult:
    engine: str
    keys: int
    discrepancies: list[Discrepancy]
    batch_checks: list[BatchCheck] = field(default_factory=list[BatchCheck])
    day_totals: list[DayTotal] = field(default_factory=list[DayTotal])
    matched: int = 0

    @property
    def counts(self) -> dict[DiscrepancyClass, int]:
        out = dict.fromkeys(DiscrepancyClass, 0)
        out[DiscrepancyClass.MATCHED] = self.matched
        for d in self.discrepancies:
            out[d.kind] += 1
        return out

    @property
    def batch_mismatches(self) -> list[BatchCheck]:
        return [b for b in self.batch_checks if not b.ok]

    @property
    def fixes(self) -> list[SuggestedFix]:
        return [d.fix for d in self.discrepancies if d.fix is not None]
