from __future__ import annotations

import paysync_core

EXPECTED = [
    "AuditRecord",
    "AuditReport",
    "AuditTrail",
    "AuditVerificationError",
    "CheckpointHook",
    "Classification",
    "ConfigurationError",
    "DeadLetter",
    "DeadLetterDetail",
    "DeadLetterQueue",
    "DeadLetterStatus",
    "DefaultClassifier",
    "Engine",
    "ErrorClassifier",
    "ErrorKind",
    "FlowBusyError",
    "FlowDefinition",
    "FlowRecord",
    "FlowState",
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
    "backoff_delay",
    "idempotency_key",
    "next_delay",
    "open_ledger",
    "parse_retry_after",
    "plan_flow",
    "redact",
    "step_key",
    "verify_chain",
]


def test_all_is_pinned_and_sorted() -> None:
    assert paysync_core.__all__ == EXPECTED
    assert sorted(paysync_core.__all__) == paysync_core.__all__


def test_every_public_name_is_exported() -> None:
    public = {n for n in vars(paysync_core) if not n.startswith("_")}
    # submodules importable as attributes are not part of the flat surface
    public -= {"cli", "testing", "annotations"}
    assert public == set(EXPECTED)


def test_one_exception_root() -> None:
    for name in EXPECTED:
        obj = getattr(paysync_core, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, paysync_core.PaysyncError), name


def test_testing_helpers_surface() -> None:
    from paysync_core import testing

    assert testing.__all__ == ["Crash", "FakeClock", "FakeSystem", "Fault", "HttpStatusError"]
    assert not issubclass(testing.Crash, Exception)  # must escape the engine's handlers
