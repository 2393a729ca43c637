"""paysync-core: exactly-once effects over APIs without idempotency keys.

A durable ledger (SQLite or PostgreSQL) records each step's intent before the call and its
outcome with the next step's intent in one transaction; unknown outcomes are resolved by lookup,
never by blind retry. See the package README for concepts and a quickstart.
"""

from ._alert_loop import AlertEvaluator, run_alert_loop
from ._alert_rules import (
    Alert,
    AlertContext,
    AlertRule,
    AuditVerificationRule,
    DeadLetterRule,
    ErrorRateRule,
    LagRule,
    QuotaNearlySpentRule,
)
from ._alert_sinks import AlertDeliveryError, EmailSink, WebhookSink, webhook_payload
from ._alerts import AlertDelivery, AlertManager, AlertReport, AlertSink
from ._audit import AuditReport, AuditTrail, verify_chain
from ._dlq import DeadLetterDetail, DeadLetterQueue
from ._engine import Engine, RunReport, SubmitHook
from ._errors import (
    AuditVerificationError,
    ConfigurationError,
    FlowBusyError,
    LeaseLostError,
    LedgerError,
    MigrationError,
    NeedsHumanError,
    PaysyncError,
    PermanentError,
    RetryableError,
    SensitiveDataError,
    StepError,
    UnknownFlowError,
    UnknownOutcomeError,
)
from ._keys import idempotency_key, step_key
from ._ledger import LedgerStore, LedgerTransaction
from ._metrics import Metrics
from ._model import (
    AuditRecord,
    DeadLetter,
    DeadLetterStatus,
    FlowRecord,
    FlowState,
    StepRecord,
    StepState,
)
from ._open import open_ledger
from ._plan import PlannedWrite, plan_flow
from ._postgres import PostgresLedger
from ._quota import Quota, QuotaUsage, quota_usage
from ._redact import redact
from ._retry import (
    Classification,
    DefaultClassifier,
    ErrorClassifier,
    ErrorKind,
    RetryPolicy,
    backoff_delay,
    next_delay,
    parse_retry_after,
)
from ._runtime import CheckpointHook
from ._sqlite import SqliteLedger
from ._steps import FlowDefinition, LookupResult, LookupStatus, Step, StepContext

__all__ = [
    "Alert",
    "AlertContext",
    "AlertDelivery",
    "AlertDeliveryError",
    "AlertEvaluator",
    "AlertManager",
    "AlertReport",
    "AlertRule",
    "AlertSink",
    "AuditRecord",
    "AuditReport",
    "AuditTrail",
    "AuditVerificationError",
    "AuditVerificationRule",
    "CheckpointHook",
    "Classification",
    "ConfigurationError",
    "DeadLetter",
    "DeadLetterDetail",
    "DeadLetterQueue",
    "DeadLetterRule",
    "DeadLetterStatus",
    "DefaultClassifier",
    "EmailSink",
    "Engine",
    "ErrorClassifier",
    "ErrorKind",
    "ErrorRateRule",
    "FlowBusyError",
    "FlowDefinition",
    "FlowRecord",
    "FlowState",
    "LagRule",
    "LeaseLostError",
    "LedgerError",
    "LedgerStore",
    "LedgerTransaction",
    "LookupResult",
    "LookupStatus",
    "Metrics",
    "MigrationError",
    "NeedsHumanError",
    "PaysyncError",
    "PermanentError",
    "PlannedWrite",
    "PostgresLedger",
    "Quota",
    "QuotaNearlySpentRule",
    "QuotaUsage",
    "RetryPolicy",
    "RetryableError",
    "RunReport",
    "SensitiveDataError",
    "SqliteLedger",
    "Step",
    "StepContext",
    "StepError",
    "StepRecord",
    "StepState",
    "SubmitHook",
    "UnknownFlowError",
    "UnknownOutcomeError",
    "WebhookSink",
    "backoff_delay",
    "idempotency_key",
    "next_delay",
    "open_ledger",
    "parse_retry_after",
    "plan_flow",
    "quota_usage",
    "redact",
    "run_alert_loop",
    "step_key",
    "verify_chain",
    "webhook_payload",
]

__version__ = "0.1.0"
