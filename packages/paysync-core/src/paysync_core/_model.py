"""Records the ledger stores: flows, steps, dead letters and audit entries."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

from ._errors import ConfigurationError

__all__ = [
    "AuditRecord",
    "DeadLetter",
    "DeadLetterStatus",
    "FlowRecord",
    "FlowState",
    "StepRecord",
    "StepState",
    "evolve",
    "format_ts",
    "parse_ts",
    "utc_now",
]

UTC = timezone.utc
_D = TypeVar("_D")


class FlowState(str, enum.Enum):
    """Lifecycle of a flow. ``dead`` means it is parked in the dead-letter queue."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DEAD = "dead"


class StepState(str, enum.Enum):
    """Lifecycle of a step.

    * ``intended``  - intent is durable; no call has been sent (``requested`` is written first),
      unless the intent is *armed* (``requested_at`` set: written with the previous step's
      outcome by the lease holder, which calls without a ``requested`` commit): then a call
      may have been sent and any other reader resolves it by lookup first.
    * ``requested`` - a call may have been sent; its outcome is not recorded.
    * ``succeeded`` - the effect happened (by perform or found by lookup); external ids kept.
    * ``failed``    - the last attempt failed and the effect is known not applied.
    * ``unknown``   - the last attempt may have been applied; resolve by lookup.
    * ``dead``      - given up; see the dead-letter queue.
    """

    INTENDED = "intended"
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    DEAD = "dead"


class DeadLetterStatus(str, enum.Enum):
    OPEN = "open"
    RETRIED = "retried"
    RESOLVED = "resolved"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC text, so string order is time order in both stores."""
    if moment.tzinfo is None:
        raise ConfigurationError("naive datetime; paysync only stores aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def evolve(record: _D, **changes: object) -> _D:
    """``dataclasses.replace`` for the plain frozen records of this package (no
    ``__post_init__``, no ``__slots__``), without re-running ``__init__``: several times
    faster, and the engine copies step records a few times per step. Unknown field names are
    refused as ``replace`` refuses them."""
    fields = record.__dict__
    if not changes.keys() <= fields.keys():
        unknown = sorted(changes.keys() - fields.keys())
        raise TypeError(f"{type(record).__name__} has no field(s) {', '.join(unknown)}")
    new = object.__new__(type(record))
    state = new.__dict__
    state.update(fields)
    state.update(changes)
    return new


@dataclass(frozen=True)
class FlowRecord:
    """One business object moving through a use case."""

    flow_id: str
    flow_key: str
    use_case: str
    source_system: str
    source_id: str
    version: str
    entity_key: str
    input: Mapping[str, object]
    state: FlowState
    current_step: int
    created_at: datetime
    updated_at: datetime
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    not_before: datetime | None = None
    """A parked flow is not claimed before this time (long backoff, Retry-After, lookup lag)."""


@dataclass(frozen=True)
class StepRecord:
    """One step of a flow as recorded in the ledger."""

    flow_id: str
    index: int
    name: str
    idempotency_key: str
    state: StepState
    attempts: int
    intended_at: datetime
    request_summary: Mapping[str, object] = field(default_factory=dict[str, object])
    external_ids: Mapping[str, str] = field(default_factory=dict[str, str])
    requested_at: datetime | None = None
    finished_at: datetime | None = None
    last_error: str | None = None
    lookup_checks: int = 0
    """Undecided lookups so far (the bounded re-check schedule survives parking/restarts)."""


@dataclass(frozen=True)
class DeadLetter:
    """A dead-letter queue entry; repeated identical failures raise ``occurrences``."""

    entry_id: str
    fingerprint: str
    flow_id: str
    step_name: str
    reason: str
    last_error: str | None
    evidence: list[object]
    occurrences: int
    status: DeadLetterStatus
    note: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AuditRecord:
    """One link of the hash-chained audit trail."""

    seq: int
    at: str
    flow_id: str | None
    kind: str
    detail: Mapping[str, object]
    prev_hash: str
    hash: str
    shard: int | None = None
    """The audit chain this record belongs to (None: the legacy ledger-wide chain)."""
    shard_seq: int | None = None
    """Position in its shard's chain, from 1 (None for legacy records)."""
