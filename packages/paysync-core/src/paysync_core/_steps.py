"""How a use case declares its flow: a sequence of steps, each with perform and lookup."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ._errors import ConfigurationError

__all__ = [
    "FlowDefinition",
    "LookupResult",
    "LookupStatus",
    "Step",
    "StepContext",
]


@dataclass(frozen=True)
class StepContext:
    """What a step's callables get: identity, the flow's input and earlier steps' results.

    ``idempotency_key`` is stable across attempts, workers and restarts: put it (or something
    derived from it) in a field the lookup can search by — PayTrace ``invoice_id``, Fusion
    ``ReceiptNumber``/``SourceTransactionId``, a Salesforce external id.
    """

    flow_id: str
    flow_key: str
    use_case: str
    step_name: str
    step_index: int
    idempotency_key: str
    input: Mapping[str, object]
    results: Mapping[str, Mapping[str, str]]
    """External ids returned by the earlier steps, by step name."""
    attempt: int


class LookupStatus(str, enum.Enum):
    FOUND = "found"
    """The effect exists; ``external_ids`` say where."""
    ABSENT = "absent"
    """The effect certainly does not exist: performing it now cannot duplicate it."""
    PENDING = "pending"
    """Cannot decide yet (export lag, system unavailable): check again later."""


@dataclass(frozen=True)
class LookupResult:
    status: LookupStatus
    external_ids: Mapping[str, str] = field(default_factory=dict[str, str])
    detail: str = ""

    @classmethod
    def found(cls, external_ids: Mapping[str, str], detail: str = "") -> LookupResult:
        return cls(LookupStatus.FOUND, dict(external_ids), detail)

    @classmethod
    def absent(cls, detail: str = "") -> LookupResult:
        return cls(LookupStatus.ABSENT, {}, detail)

    @classmethod
    def pending(cls, detail: str = "") -> LookupResult:
        return cls(LookupStatus.PENDING, {}, detail)


Perform = Callable[[StepContext], Mapping[str, str]]
Lookup = Callable[[StepContext], LookupResult]
Summarize = Callable[[StepContext], Mapping[str, object]]


@dataclass(frozen=True)
class Step:
    """One external effect.

    * ``perform`` makes the call and returns the external ids it created;
    * ``lookup`` answers "did this effect already happen?" by the step's correlation;
    * ``safe_to_retry``: repeating ``perform`` cannot duplicate the effect (an upsert by
      external id, a PUT); such a step is retried after an unknown outcome without a lookup;
    * ``summarize`` returns what the ledger keeps about the request (redacted on write) and
      what a dry-run plan shows;
    * ``system`` names the external system written to (``"paytrace"``, ``"fusion"``, ...).
    """

    name: str
    perform: Perform
    lookup: Lookup
    safe_to_retry: bool = False
    summarize: Summarize | None = None
    system: str = ""


@dataclass(frozen=True)
class FlowDefinition:
    """The steps of one use case, run in order."""

    use_case: str
    steps: Sequence[Step]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ConfigurationError(f"flow {self.use_case!r} has no steps")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"flow {self.use_case!r} has duplicate step names")
