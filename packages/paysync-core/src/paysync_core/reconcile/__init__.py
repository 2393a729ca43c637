"""Three-way reconciliation of PayTrace, Oracle Fusion and Salesforce (issue 9).

Loaders stream each system into a record file (:mod:`._schema` describes the columns);
:func:`reconcile` folds the three files by business key, classifies every key and suggests a
fix for each discrepancy; :func:`write_report` renders JSON, CSV, Markdown or a
self-contained HTML page. :func:`pull_records` runs the loaders with the clients of
``paysync.toml``; :func:`apply_fixes` turns replay fixes into engine flows. The schema
helpers (:func:`read_csv_rows`, :func:`amount_to_cents`, ...) are public for
:mod:`paysync_core.anomaly`, which reads the same files. See ``RECONCILE.md``.
"""

from ._api import Engine, polars_available, reconcile
from ._apply import (
    REPLAY_USE_CASE,
    AppliedFix,
    ApplyReport,
    apply_fixes,
    apply_from_config,
    replay_definition,
    replay_key,
)
from ._customers import CustomerKeys, customer_keys
from ._fixes import fix_plan
from ._loaders import (
    RecordWriter,
    card_token,
    credit_memo_ref,
    export_fusion,
    export_fusion_invoices,
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
    cents_to_decimal,
)
from ._pull import RecordFiles, clients_from_config, pull_records
from ._report import ReportFormat, render_report, write_report
from ._schema import (
    BATCH_COLUMNS,
    BATCH_EXPORT_COLUMNS,
    FUSION_EXPORT_COLUMNS,
    INVOICE_COLUMNS,
    KINDS,
    PAYTRACE_EXPORT_COLUMNS,
    RECORD_COLUMNS,
    STATUSES,
    amount_to_cents,
    read_csv_rows,
    record_format,
)

__all__ = [
    "BATCH_COLUMNS",
    "BATCH_EXPORT_COLUMNS",
    "FUSION_EXPORT_COLUMNS",
    "INVOICE_COLUMNS",
    "KINDS",
    "PAYTRACE_EXPORT_COLUMNS",
    "RECORD_COLUMNS",
    "REPLAY_USE_CASE",
    "STATUSES",
    "AppliedFix",
    "ApplyReport",
    "BatchCheck",
    "CustomerKeys",
    "DayTotal",
    "Discrepancy",
    "DiscrepancyClass",
    "Engine",
    "ReconcileInputError",
    "ReconcileResult",
    "ReconcileRules",
    "RecordFiles",
    "RecordWriter",
    "ReportFormat",
    "SuggestedFix",
    "amount_to_cents",
    "apply_fixes",
    "apply_from_config",
    "card_token",
    "cents_to_decimal",
    "clients_from_config",
    "credit_memo_ref",
    "customer_keys",
    "export_fusion",
    "export_fusion_invoices",
    "export_paytrace",
    "export_salesforce",
    "fix_plan",
    "fusion_status",
    "paytrace_status",
    "polars_available",
    "pull_records",
    "read_csv_rows",
    "reconcile",
    "record_format",
    "render_report",
    "replay_definition",
    "replay_key",
    "salesforce_status",
    "write_report",
]
