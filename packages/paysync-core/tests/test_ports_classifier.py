"""The three clients' exception trees mapped onto the engine's error kinds."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

import oracle_fusion_client as fusion
import paytrace_client as paytrace
import salesforce_bridge as sf
from paysync_core import ErrorKind, PermanentError
from paysync_core.ports import ClientErrorClassifier

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
HINT = paytrace.LookupHint(
    path="transactions/sale/by_customer",
    started_at=NOW,
    finished_at=NOW,
    invoice_id="SF-1",
    amount=Decimal("1.00"),
)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (paytrace.PayTraceOutcomeUnknownError("lost", hint=HINT), ErrorKind.UNKNOWN_OUTCOME),
        (
            paytrace.PayTraceConnectionError("refused", path="p", sent=False),
            ErrorKind.RETRYABLE,
        ),
        (
            paytrace.PayTraceConnectionError("reset", path="p", sent=True),
            ErrorKind.UNKNOWN_OUTCOME,
        ),
        (
            paytrace.PayTraceRateLimitError("429", status_code=429, retry_after=7.0),
            ErrorKind.RETRYABLE,
        ),
        (paytrace.PayTraceAuthError("no", status_code=401), ErrorKind.NEEDS_HUMAN),
        (paytrace.PayTraceHTTPError("502", status_code=502), ErrorKind.UNKNOWN_OUTCOME),
        (paytrace.PayTraceInputError("amount", "must be positive"), ErrorKind.PERMANENT),
        (
            fusion.FusionConnectionError("refused", method="POST", url="u", sent=False),
            ErrorKind.RETRYABLE,
        ),
        (
            fusion.FusionTimeoutError("timeout", method="POST", url="u", sent=True),
            ErrorKind.UNKNOWN_OUTCOME,
        ),
        (sf.SalesforceTimeoutError("timeout"), ErrorKind.UNKNOWN_OUTCOME),
        (sf.SalesforceServerError(503), ErrorKind.UNKNOWN_OUTCOME),
        (sf.SalesforceBadRequestError(400), ErrorKind.NEEDS_HUMAN),
        (sf.SalesforceNotFoundError(404), ErrorKind.PERMANENT),
        (sf.SalesforceRequestLimitError(403), ErrorKind.RETRYABLE),
        (PermanentError("engine's own"), ErrorKind.PERMANENT),
        (TimeoutError("builtin"), ErrorKind.UNKNOWN_OUTCOME),
    ],
)
def test_classification(error: BaseException, kind: ErrorKind) -> None:
    assert ClientErrorClassifier().classify(error).kind is kind


def test_retry_after_is_carried() -> None:
    error = paytrace.PayTraceRateLimitError("429", status_code=429, retry_after=7.0)
    assert ClientErrorClassifier().classify(error).retry_after == 7.0
