"""What a worker needs to run flows: store, policy, identity, injectable clock/sleep/random."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ._keys import step_key
from ._ledger import LedgerStore, LedgerTransaction
from ._metrics import Metrics
from ._model import FlowRecord, StepRecord, StepState
from ._quota import Quota
from ._retry import ErrorClassifier, RetryPolicy
from ._steps import FlowDefinition

__all__ = ["CheckpointHook", "Runtime", "intent_for", "is_armed"]

CheckpointHook = Callable[[LedgerTransaction, FlowRecord, StepRecord], None]
"""Called inside the transaction that records a step's success (e.g. to store a replay id)."""


@dataclass(frozen=True)
class Runtime:
    store: LedgerStore
    policy: RetryPolicy
    classifier: ErrorClassifier
    owner: str
    lease_ttl: timedelta
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    rand: Callable[[], float]
    on_step_committed: CheckpointHook | None
    quotas: Mapping[str, Quota] = field(default_factory=dict[str, Quota])
    metrics: Metrics | None = None


def intent_for(
    flow: FlowRecord, definition: FlowDefinition, index: int, now: datetime, *, armed: bool = False
) -> StepRecord:
    """A step's intent; ``armed`` when written by the lease holder that goes on to call it.

    An armed intent (``intended`` with ``requested_at`` set) means "maybe sent" to every reader
    but the run that wrote it: that run calls without committing ``requested`` first, so a
    crash after the call leaves exactly this record behind.
    """
    step = definition.steps[index]
    return StepRecord(
        flow_id=flow.flow_id,
        index=index,
        name=step.name,
        idempotency_key=step_key(flow.flow_key, step.name),
        state=StepState.INTENDED,
        attempts=0,
        intended_at=now,
        requested_at=now if armed else None,
    )


def is_armed(record: StepRecord) -> bool:
    """An intent written by a lease holder: it may have been sent (see :func:`intent_for`)."""
    return record.state is StepState.INTENDED and record.requested_at is not None
