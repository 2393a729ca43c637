"""Dry run: the writes a flow would make, without calling any port or touching the ledger."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from ._keys import idempotency_key as derive_key
from ._keys import step_key
from ._redact import redact
from ._steps import FlowDefinition, StepContext

__all__ = ["PlannedWrite", "plan_flow"]


@dataclass(frozen=True)
class PlannedWrite:
    """One write a flow would make: the step, its system, key and (redacted) payload summary."""

    use_case: str
    step: str
    system: str
    idempotency_key: str
    payload: Mapping[str, object]


class _Placeholders(Mapping[str, str]):
    """External ids of a step that has not run: any id reads as ``<step.name>``."""

    def __init__(self, step: str) -> None:
        self._step = step

    def __getitem__(self, key: str) -> str:
        return f"<{self._step}.{key}>"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def plan_flow(
    definition: FlowDefinition,
    *,
    source_system: str,
    source_id: str,
    version: str | int,
    input: Mapping[str, object],
    idempotency_key: str | None = None,
) -> list[PlannedWrite]:
    """Every write of ``definition`` for this input, in order, from the steps' ``summarize``.

    Results of earlier steps are placeholders (``<charge.transaction_id>``), since nothing runs.
    """
    flow_key = idempotency_key or derive_key(definition.use_case, source_system, source_id, version)
    results: dict[str, Mapping[str, str]] = {}
    plan: list[PlannedWrite] = []
    for index, step in enumerate(definition.steps):
        key = step_key(flow_key, step.name)
        ctx = StepContext(
            flow_id="<dry-run>",
            flow_key=flow_key,
            use_case=definition.use_case,
            step_name=step.name,
            step_index=index,
            idempotency_key=key,
            input=dict(input),
            results=dict(results),
            attempt=1,
        )
        payload = dict(step.summarize(ctx)) if step.summarize else {}
        plan.append(
            PlannedWrite(
                use_case=definition.use_case,
                step=step.name,
                system=step.system,
                idempotency_key=key,
                payload=cast(dict[str, object], redact(payload)),
            )
        )
        results[step.name] = _Placeholders(step.name)
    return plan
