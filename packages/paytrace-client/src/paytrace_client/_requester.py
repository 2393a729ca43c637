"""The seam between resource classes (one per API area) and the HTTP machinery.

Resources build a JSON body from typed arguments and hand it to a :class:`Requester` together
with how dangerous the call is (:class:`CallKind`) and, for writes, a :class:`LookupHint`
template. The requester adds authentication and ``integrator_id``, sends, retries only where no
money can move twice, classifies the JSON answer (raising the errors in ``_errors``) and
returns the decoded body of a successful response.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

__all__ = ["CallKind", "JSONObject", "RequestOptions", "Requester", "WriteCorrelation"]

JSONObject = dict[str, Any]


class CallKind(enum.Enum):
    """How a call may be retried."""

    #: No side effects (exports, batch lists, client key): retried on any transient failure.
    READ = "read"
    #: Has side effects (money, vault, Level 3, settle): retried only when the request provably
    #: never reached PayTrace; a lost response becomes ``PayTraceOutcomeUnknownError``.
    WRITE = "write"


@dataclass(frozen=True)
class WriteCorrelation:
    """The business identifiers of a write, copied into ``LookupHint`` if its outcome is lost."""

    invoice_id: str | None = None
    amount: Decimal | None = None
    customer_id: str | None = None
    transaction_id: int | None = None
    check_transaction_id: int | None = None


@dataclass(frozen=True)
class RequestOptions:
    """Per-call overrides merged over the client's configuration (the per-call value wins)."""

    timeout: float | tuple[float, float] | None = None
    max_retries: int | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict[str, str])


class Requester(Protocol):
    """What a resource needs from the client."""

    def call(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        kind: CallKind,
        correlation: WriteCorrelation | None = None,
        options: RequestOptions | None = None,
    ) -> JSONObject:
        """POST ``body`` to ``/v1/<path>`` and return the decoded successful response.

        ``path`` has no leading slash and no ``/v1`` prefix (``"transactions/sale/keyed"``).
        Raises a ``PayTraceError`` subclass for anything that is not a success.
        """
        ...
