"""Explainable anomaly detection over exported PayTrace, Fusion and batch records (issue 9).

:func:`detect_anomalies` reads the reconciliation record files (:mod:`paysync_core.reconcile`
layout plus a timestamp, card token and product line) and returns :class:`AnomalyFlag` s:
duplicate-looking charges, per-customer and per-product amount outliers, hourly decline and
refund spikes, settlement batch drift and long-unapplied receipts. Each flag names its records,
the statistic that tripped it against its threshold, and a one-line reason. No model, no
training: thresholds live in :class:`AnomalyRules` (TOML-friendly). See ``ANOMALIES.md``.
"""

from ._api import AnomalyEngine, detect_anomalies
from ._model import AnomalyFlag, AnomalyInputError, AnomalyKind, Severity, Statistic
from ._report import (
    AnomalyFormat,
    render_anomalies,
    to_html_section,
    to_json_lines,
    to_markdown,
)
from ._rules import (
    AnomalyRules,
    BatchRule,
    DuplicateRule,
    OutlierRule,
    SpikeRule,
    UnappliedRule,
)
from ._schema import (
    BATCH_FILE_COLUMNS,
    OPTIONAL_TRANSACTION_COLUMNS,
    RECEIPT_COLUMNS,
    TRANSACTION_COLUMNS,
)

__all__ = [
    "BATCH_FILE_COLUMNS",
    "OPTIONAL_TRANSACTION_COLUMNS",
    "RECEIPT_COLUMNS",
    "TRANSACTION_COLUMNS",
    "AnomalyEngine",
    "AnomalyFlag",
    "AnomalyFormat",
    "AnomalyInputError",
    "AnomalyKind",
    "AnomalyRules",
    "BatchRule",
    "DuplicateRule",
    "OutlierRule",
    "Severity",
    "SpikeRule",
    "Statistic",
    "UnappliedRule",
    "detect_anomalies",
    "render_anomalies",
    "to_html_section",
    "to_json_lines",
    "to_markdown",
]
