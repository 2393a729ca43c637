"""Status mapping to Fusion: what a canonical payment status means for receivables.

Each PayTrace outcome, once mapped to a canonical :class:`PaymentStatus` (``paytrace_status``,
or the export record's status via :func:`paytrace_export_status`), decides one Fusion action:
create the invoice + standard receipt, reverse the receipt, create an on-account credit memo,
or post nothing; plus the receipt ``Status`` the posting is expected to reach and, for web
orders, the Order Hub status the order is booked in.

The receipt status is *expected*, never sent: the standard-receipt create payload has no
status field (``/work/shared/reference/oracle-fusion-api.md`` §3.1, Status
CONFIRMED/CLEARED/APPROVED/REMITTED is read back); the Order Hub status is set through
``SubmittedFlag`` (``OPEN`` = submitted, ``DRAFT`` = not). The defaults are the behaviour the
flows had before the map existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from paysync_core.canonical import PaymentStatus
from paysync_core.mapping._rules import Decision
from paytrace_client.models import ExportedTransaction

__all__ = [
    "FusionAction",
    "FusionState",
    "FusionStatusMap",
    "paytrace_export_status",
]

FusionAction = Literal["receipt", "reverse_receipt", "credit_memo", "none"]
ReceiptStatus = Literal["Confirmed", "Remitted", "Cleared", "Approved"]
OrderHubStatus = Literal["OPEN", "DRAFT"]

#: Actions that make sense for each status (anything else is refused when the map is loaded):
#: money that was never taken cannot be receipted, and a partial refund cannot reverse the
#: whole receipt.
_ALLOWED: Mapping[PaymentStatus, tuple[FusionAction, ...]] = {
    PaymentStatus.AUTHORIZED: ("receipt", "none"),
    PaymentStatus.CAPTURED: ("receipt", "none"),
    PaymentStatus.SETTLED: ("receipt", "none"),
    PaymentStatus.DECLINED: ("none",),
    PaymentStatus.ERROR: ("none",),
    PaymentStatus.VOIDED: ("reverse_receipt", "credit_memo", "none"),
    PaymentStatus.REFUNDED: ("credit_memo", "none"),
}

_WHAT: Mapping[FusionAction, str] = {
    "receipt": "create the invoice and standard receipt",
    "reverse_receipt": "reverse the standard receipt (State Reversed)",
    "credit_memo": "create an on-account credit memo",
    "none": "post nothing to Fusion",
}


class FusionState(BaseModel):
    """The Fusion outcome of one canonical status."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    action: FusionAction
    """``receipt`` (invoice + standard receipt), ``reverse_receipt``, ``credit_memo`` or
    ``none`` (nothing posted)."""
    receipt_status: ReceiptStatus | None = None
    """The receipt ``Status`` expected in Fusion (recorded in the plan; not a wire field)."""
    order_status: OrderHubStatus | None = None
    """Use case 2: the Order Hub status the web order is booked in; ``None`` keeps
    ``order_hub.submit``."""

    def describe(self) -> str:
        text = _WHAT[self.action]
        if self.receipt_status:
            text += f", receipt Status {self.receipt_status} expected"
        if self.order_status:
            text += f", Order Hub order {self.order_status}"
        return text


def _state(action: FusionAction, receipt_status: ReceiptStatus | None = None) -> FusionState:
    return FusionState(action=action, receipt_status=receipt_status)


class FusionStatusMap(BaseModel):
    """Canonical payment status -> Fusion action and states (one key per status)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    authorized: FusionState = Field(default=_state("none"))
    """An authorization: ``receipt`` or ``none`` (it moves no money until captured)."""
    captured: FusionState = Field(default=_state("receipt", "Confirmed"))
    """Approved, pending settlement: ``receipt`` or ``none``."""
    settled: FusionState = Field(default=_state("receipt", "Cleared"))
    """Settled in a batch: ``receipt`` or ``none``."""
    declined: FusionState = Field(default=_state("none"))
    """Declined by the issuer or processor: ``none`` only."""
    error: FusionState = Field(default=_state("none"))
    """An unknown PayTrace outcome: ``none`` only."""
    voided: FusionState = Field(default=_state("reverse_receipt"))
    """Voided before settlement: ``reverse_receipt``, ``credit_memo`` or ``none``."""
    refunded: FusionState = Field(default=_state("credit_memo"))
    """Refunded after settlement (possibly partially): ``credit_memo`` or ``none``."""

    @field_validator("*")
    @classmethod
    def _allowed(cls, state: FusionState, info: ValidationInfo) -> FusionState:
        key = info.field_name or ""
        allowed = _ALLOWED[PaymentStatus(key)]
        if state.action not in allowed:
            raise ValueError(
                f"{key}.action {state.action!r} is not possible for a {key} payment; "
                f"use one of {', '.join(allowed)}"
            )
        if state.action != "receipt" and (state.receipt_status or state.order_status):
            raise ValueError(
                f"{key}: receipt_status and order_status only apply to action 'receipt'"
            )
        return state

    def decide(self, status: PaymentStatus) -> Decision[FusionState]:
        """The Fusion state of ``status``, with the reason naming the map entry used."""
        key = status.value
        state: FusionState = getattr(self, key)
        source = "configured" if key in self.model_fields_set else "default"
        return Decision(state, f"payment {key} -> {state.describe()} ({source} Fusion status map)")


def paytrace_export_status(record: ExportedTransaction) -> Decision[PaymentStatus]:
    """An export record's canonical status: its status message says declined or voided;
    otherwise settled once it has a settlement time, else captured (pending settlement)."""
    message = (record.status_message or "").strip()
    lowered = message.lower()
    kind = (record.transaction_type or "").upper() or "transaction"
    said = f"PayTrace {kind} status {message!r}" if message else f"PayTrace {kind}"
    if "declined" in lowered:
        return Decision(PaymentStatus.DECLINED, said)
    if "voided" in lowered:
        return Decision(PaymentStatus.VOIDED, said)
    if kind == "REFUND":
        return Decision(PaymentStatus.REFUNDED, said)
    if record.settled is not None:
        return Decision(PaymentStatus.SETTLED, f"{said}, settled")
    return Decision(PaymentStatus.CAPTURED, f"{said}, not settled yet")
