"""Value types of anomaly detection: what a flag says and why.

Every flag carries the statistic that tripped it (name, value, threshold) so an operator can
check the arithmetic, the ids of the records involved and a one-line reason. Money values are
``Decimal``; times are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from paysync_core.reconcile import ReconcileInputError

__all__ = [
    "AnomalyFlag",
    "AnomalyInputError",
    "AnomalyKind",
    "Severity",
    "Statistic",
]


class AnomalyInputError(ReconcileInputError):
    """An input file, column, value or rule is unusable; ``field`` names what is wrong.

    A :class:`~paysync_core.reconcile.ReconcileInputError`, so callers that already handle
    reconciliation input errors handle these too.
    """


class AnomalyKind(str, enum.Enum):
    DUPLICATE_CHARGE = "duplicate_charge"
    CUSTOMER_AMOUNT_OUTLIER = "customer_amount_outlier"
    PRODUCT_AMOUNT_OUTLIER = "product_amount_outlier"
    DECLINE_SPIKE = "decline_spike"
    REFUND_SPIKE = "refund_spike"
    BATCH_TOTAL_MISMATCH = "batch_total_mismatch"
    BATCH_DRIFT = "batch_drift"
    UNAPPLIED_RECEIPT = "unapplied_receipt"


class Severity(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Statistic:
    """The number that tripped a rule and the configured limit it crossed.

    ``unit`` says how to read both: ``count``, ``z`` (robust or Poisson z-score), ``money``,
    ``percent`` or ``days``.
    """

    name: str
    value: Decimal
    threshold: Decimal
    unit: str

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "value": str(self.value),
            "threshold": str(self.threshold),
            "unit": self.unit,
        }


@dataclass(frozen=True)
class AnomalyFlag:
    """One anomaly: the records involved, the statistic that tripped and why, in one line.

    ``subject`` names what the statistic is about (a shortened card token, a customer, a
    product line, an hour, a batch, a receipt); it never holds a card number.
    """

    kind: AnomalyKind
    severity: Severity
    subject: str
    records: tuple[str, ...]
    statistic: Statistic
    reason: str
    start: datetime | None = None
    end: datetime | None = None

    def sort_key(self) -> tuple[int, str, str, tuple[str, ...]]:
        order = list(AnomalyKind).index(self.kind)
        when = self.start.isoformat() if self.start else ""
        return (order, when, self.subject, self.records)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "subject": self.subject,
            "records": list(self.records),
            "statistic": self.statistic.as_dict(),
            "reason": self.reason,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }
