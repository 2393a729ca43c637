"""Map each client's exception tree onto the engine's four error kinds."""

from __future__ import annotations

import oracle_fusion_client as fusion
import paytrace_client as paytrace
import salesforce_bridge as sf
from paysync_core import Classification, DefaultClassifier, ErrorKind

__all__ = ["ClientErrorClassifier"]

_R, _P, _H, _U = (
    ErrorKind.RETRYABLE,
    ErrorKind.PERMANENT,
    ErrorKind.NEEDS_HUMAN,
    ErrorKind.UNKNOWN_OUTCOME,
)


def _paytrace(error: paytrace.PayTraceError) -> Classification:
    name = f"paytrace {type(error).__name__}"
    if isinstance(error, paytrace.PayTraceInputError):
        return Classification(_P, None, name)
    if isinstance(error, paytrace.PayTraceOutcomeUnknownError):
        return Classification(_U, None, name)
    if isinstance(error, paytrace.PayTraceConnectionError):
        return Classification(_U if error.sent else _R, None, f"{name} sent={error.sent}")
    if isinstance(error, paytrace.PayTraceRateLimitError):
        return Classification(_R, error.retry_after, name)
    if isinstance(error, paytrace.PayTraceAuthError):
        return Classification(_H, None, name)
    if isinstance(error, paytrace.PayTraceHTTPError):
        kind = _U if error.status_code >= 500 else _R if error.status_code == 408 else _P
        return Classification(kind, None, f"{name} HTTP {error.status_code}")
    if isinstance(error, paytrace.PayTraceValidationError):
        return Classification(_H, None, f"{name} codes {','.join(error.codes)}")
    return Classification(_P, None, name)


def _fusion(error: fusion.FusionError) -> Classification:
    name = f"fusion {type(error).__name__}"
    if isinstance(error, fusion.FusionInputError):
        return Classification(_P, None, name)
    if isinstance(error, fusion.FusionJobTimeoutError):
        return Classification(_U, None, name)
    if isinstance(error, fusion.FusionRateNotFoundError):
        # daily rates are loaded during the day: "not yet", nothing was posted
        return Classification(_R, None, f"{name} {error}")
    if isinstance(error, fusion.FusionConnectionError):
        return Classification(_U if error.sent else _R, None, f"{name} sent={error.sent}")
    if isinstance(error, fusion.FusionRateLimitError):
        return Classification(_R, error.retry_after, name)
    if isinstance(error, fusion.FusionAuthError):
        return Classification(_H, None, name)
    if isinstance(error, fusion.FusionConflictError | fusion.FusionPreconditionFailedError):
        return Classification(_R, None, name)
    if isinstance(error, fusion.FusionServerError):
        return Classification(_U, None, name)
    if isinstance(error, fusion.FusionStatusError):
        code = error.error_code or error.status_code
        return Classification(_H, None, f"{name} {code}")
    return Classification(_P, None, name)


def _salesforce(error: sf.SalesforceBridgeError) -> Classification:
    name = f"salesforce {type(error).__name__}"
    if isinstance(error, sf.SalesforceConnectionError):
        # Timeouts may have committed; other connection errors are treated the same way:
        # the bridge already retried what was provably unsent.
        return Classification(_U, None, name)
    if isinstance(error, sf.SalesforceQuotaError | sf.SalesforceRequestLimitError):
        return Classification(_R, None, name)
    if isinstance(error, sf.SalesforceServerError):
        return Classification(_U, None, name)
    if isinstance(error, sf.SalesforceNotFoundError):
        return Classification(_P, None, name)
    if isinstance(error, sf.SalesforceStatusError):
        return Classification(_H, None, f"{name} {error.code or error.status_code}")
    return Classification(_H, None, name)


class ClientErrorClassifier:
    """An :class:`~paysync_core.ErrorClassifier` for the three real clients.

    * bad input, not-found: **permanent**; validation and business-rule refusals (Fusion
      ``AR_*`` codes, Salesforce 400s, PayTrace ``response_code`` 1): **needs a human**;
    * credentials refused: **needs a human**;
    * 429 / quota / 409 / 412 / unsent connection failures: **retryable** (``Retry-After``
      honoured);
    * a write whose answer was lost (PayTrace ``OutcomeUnknown``, timeouts after sending, 5xx):
      **unknown outcome**, resolved by the step's lookup;
    * anything else goes to :class:`~paysync_core.DefaultClassifier`.
    """

    def __init__(self, fallback: DefaultClassifier | None = None) -> None:
        self._fallback = fallback or DefaultClassifier()

    def classify(self, error: BaseException) -> Classification:
        if isinstance(error, paytrace.PayTraceError):
            return _paytrace(error)
        if isinstance(error, fusion.FusionError):
            return _fusion(error)
        if isinstance(error, sf.SalesforceBridgeError):
            return _salesforce(error)
        return self._fallback.classify(error)
