"""Exceptions raised by paysync-core.

There is one root, :class:`PaysyncError`. The tree::

    PaysyncError
    ├── LedgerError                  the ledger store failed or is inconsistent
    │   ├── MigrationError           the schema could not be brought up to date
    │   └── LeaseLostError           another worker took over a flow this worker was running
    ├── ConfigurationError           invalid policy / flow definition / engine settings
    │                                (also a ValueError)
    ├── SensitiveDataError           a value that must be stored verbatim looks like a secret/PAN
    ├── UnknownFlowError             no flow / use case / dead letter with that id or name
    ├── FlowBusyError                the flow is leased by another live worker
    ├── AuditVerificationError       the audit chain was edited, reordered or truncated
    └── StepError                    raised by ports to classify a failure explicitly
        ├── RetryableError           not applied; safe to try again (optional retry_after)
        ├── PermanentError           not applied; retrying cannot help
        ├── NeedsHumanError          not applied; a person must fix data or configuration
        └── UnknownOutcomeError      the call may or may not have taken effect

Ports (the adapters around PayTrace, Fusion and Salesforce) may raise any exception; an
:class:`~paysync_core.ErrorClassifier` maps it to one of the four :class:`StepError` kinds.
Raising a :class:`StepError` subclass directly skips that mapping.
"""

from __future__ import annotations

__all__ = [
    "AuditVerificationError",
    "ConfigurationError",
    "FlowBusyError",
    "LeaseLostError",
    "LedgerError",
    "MigrationError",
    "NeedsHumanError",
    "PaysyncError",
    "PermanentError",
    "RetryableError",
    "SensitiveDataError",
    "StepError",
    "UnknownFlowError",
    "UnknownOutcomeError",
]


class PaysyncError(Exception):
    """Root of every exception raised by paysync-core."""


class LedgerError(PaysyncError):
    """The ledger store failed or holds inconsistent data."""


class MigrationError(LedgerError):
    """The ledger schema could not be migrated (for example it is newer than this code)."""


class LeaseLostError(LedgerError):
    """This worker no longer holds the lease of the flow it was running."""


class ConfigurationError(PaysyncError, ValueError):
    """Invalid settings: a retry policy, a flow definition or engine options."""


class SensitiveDataError(PaysyncError):
    """A value that must be stored verbatim contains something that looks like a secret or PAN."""


class UnknownFlowError(PaysyncError, LookupError):
    """No flow, use case or dead-letter entry with that identifier."""


class FlowBusyError(PaysyncError):
    """The flow is leased by another worker whose lease has not expired."""


class AuditVerificationError(PaysyncError):
    """The audit chain does not verify; ``seq`` is the first bad record (or ``None``)."""

    def __init__(self, message: str, *, seq: int | None) -> None:
        super().__init__(message)
        self.seq = seq


class StepError(PaysyncError):
    """A failure that a port classified itself (see the subclasses)."""


class RetryableError(StepError):
    """The effect was not applied and trying again may succeed (429, 503, refused connection)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(StepError):
    """The effect was not applied and retrying the same request cannot succeed."""


class NeedsHumanError(StepError):
    """The effect was not applied; data or configuration must be fixed by a person."""


class UnknownOutcomeError(StepError):
    """The request may have been applied (timeout or reset after sending)."""
