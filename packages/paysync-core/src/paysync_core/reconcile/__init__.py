"""Three-way reconciliation of PayTrace, Oracle Fusion and Salesforce (issue 9).

Loaders stream each system into a record file (:mod:`._schema` describes the columns);
:func:`reconcile` folds the three files by business key, classifies every key and suggests a
fix for each discrepancy; :func:`write_report` renders JSON, CSV, Markdown or a
self-contained HTML page. See ``RECONCILE.md`` in the package directory.
"""

from ._api import Engine, polars_available, reconcile
from ._fixes import fix_plan
from ._loaders import (
    RecordWriter,
    export_fusion,
    export_paytrace,
    export_salesforce,
    fusion_status,
    paytrace_status,
    salesforce_status,
)
from ._model import (
    BatchCheck,
    DayTotal,
    Discrepancy,
    DiscrepancyClass,
    ReconcileInputError,
    ReconcileResult,
    ReconcileRules,
    SuggestedFix,
)
from ._report import ReportFormat, render_report, write_report
from ._schema import BATCH_COLUMNS, RECORD_COLUMNS

__all__ = [
    "BATCH_COLUMNS",
    "RECORD_COLUMNS",
    "BatchCheck",
    "DayTotal",
    "Discrepancy",
    "DiscrepancyClass",
    "Engine",
    "ReconcileInputError",
    "ReconcileResult",
    "ReconcileRules",
    "RecordWriter",
    "ReportFormat",
    "SuggestedFix",
    "export_fusion",
    "export_paytrace",
    "export_salesforce",
    "fix_plan",
    "fusion_status",
    "paytrace_status",
    "polars_available",
    "reconcile",
    "render_report",
    "salesforce_status",
    "write_report",
]
