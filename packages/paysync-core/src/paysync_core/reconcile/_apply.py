"""``paysync reconcile --fix --apply``: turn replay fixes into engine flows.

A ``replay`` fix names a registered use case (``order_to_cash``) and the step whose effect is
missing (``salesforce_payment``, ``fusion_receipt``) for a PayTrace transaction. The flow
that charged that transaction is found in the ledger; a *replay flow* then re-runs that step,
and the following steps writing to the same system (a receipt, then its application), with
the original flow's input and the results of its earlier steps.

Why a flow of its own rather than resubmitting the original: a fresh flow performs its steps
without looking them up first, so resubmitting would charge the card and invoice again. Each
replayed step here looks its effect up before performing it, so a fix someone already made
by hand is found, not duplicated. The flow key is derived from the discrepancy, so applying
the same reconciliation twice submits nothing new. Engines built for ``paysync run`` claim
only their own use cases and leave replay flows alone; :func:`apply_fixes` runs them.

Corrections, duplicates and unknown PayTrace references need a person: they are listed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paysync_core import (
    Engine,
    FlowBusyError,
    FlowDefinition,
    FlowRecord,
    LedgerStore,
    LookupResult,
    LookupStatus,
    Step,
    StepContext,
    open_ledger,
)

from ._model import DiscrepancyClass, ReconcileInputError, ReconcileResult

__all__ = [
    "REPLAY_USE_CASE",
    "AppliedFix",
    "ApplyReport",
    "apply_fixes",
    "apply_from_config",
    "replay_definition",
    "replay_key",
]

#: The engine use case of replay flows.
REPLAY_USE_CASE = "reconcile_replay"


def replay_key(kind: DiscrepancyClass, key: str, use_case: str, step: str) -> str:
    """The flow key of a discrepancy's replay: the same finding always maps to one flow."""
    raw = f"reconcile|{kind.value}|{key}|{use_case}|{step}"
    return "reconcile:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class AppliedFix:
    key: str
    kind: str
    use_case: str
    step: str
    flow_id: str
    state: str
    submitted: bool
    """False when this discrepancy's replay flow already existed (applied before)."""


@dataclass
class ApplyReport:
    applied: list[AppliedFix] = field(default_factory=list[AppliedFix])
    manual: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    """Fixes left to a person, each with why."""

    @property
    def submitted(self) -> int:
        return sum(1 for a in self.applied if a.submitted)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": False,
            "submitted": self.submitted,
            "applied": [vars(a) for a in self.applied],
            "manual": list(self.manual),
        }


def _delegate(original: Step, prior: Mapping[str, Mapping[str, str]]) -> Step:
    """``original`` run with the recorded flow's input and results, looked up first."""

    def context(ctx: StepContext) -> StepContext:
        replayed = ctx.input
        flow_input: Any = replayed.get("flow_input", {})
        results: dict[str, Mapping[str, str]] = {**prior, **ctx.results}
        return replace(ctx, input=flow_input, results=results)

    def lookup(ctx: StepContext) -> LookupResult:
        return original.lookup(context(ctx))

    def perform(ctx: StepContext) -> Mapping[str, str]:
        inner = context(ctx)
        found = original.lookup(inner)
        if found.status is LookupStatus.FOUND:
            return found.external_ids
        return original.perform(inner)

    return Step(
        original.name,
        perform,
        lookup,
        safe_to_retry=original.safe_to_retry,
        summarize=None,
        system=original.system,
    )


def _replayed_steps(definition: FlowDefinition, step: str) -> list[Step]:
    """The restart step and the steps after it that write to the same system."""
    names = [s.name for s in definition.steps]
    start = names.index(step)
    system = definition.steps[start].system
    chosen = [definition.steps[start]]
    for later in definition.steps[start + 1 :]:
        if later.system != system:
            break
        chosen.append(later)
    return chosen


def replay_definition(
    definitions: Mapping[str, FlowDefinition], flow_input: Mapping[str, Any]
) -> FlowDefinition:
    """The steps of one replay flow (its input names the original use case and step)."""
    definition = definitions[str(flow_input["use_case"])]
    prior: dict[str, Mapping[str, str]] = dict(flow_input.get("results", {}))
    steps = [_delegate(s, prior) for s in _replayed_steps(definition, str(flow_input["step"]))]
    return FlowDefinition(REPLAY_USE_CASE, steps)


def _charging_flow(store: LedgerStore, use_case: str, transaction_id: str) -> FlowRecord | None:
    """The flow of ``use_case`` whose steps recorded ``transaction_id`` (its charge)."""
    with store.transaction() as tx:
        for flow in tx.list_flows():
            if flow.use_case != use_case:
                continue
            if any(
                s.external_ids.get("transaction_id") == transaction_id
                for s in tx.get_steps(flow.flow_id)
            ):
                return flow
    return None


def _results(store: LedgerStore, flow_id: str, before: str) -> dict[str, dict[str, str]]:
    with store.transaction() as tx:
        steps = sorted(tx.get_steps(flow_id), key=lambda s: s.index)
    results: dict[str, dict[str, str]] = {}
    for s in steps:
        if s.name == before:
            break
        results[s.name] = dict(s.external_ids)
    return results


def apply_fixes(
    result: ReconcileResult,
    store: LedgerStore,
    definitions: Mapping[str, FlowDefinition],
    *,
    registry: Mapping[str, Sequence[str]],
    engine_factory: Callable[[FlowDefinition], Engine],
) -> ApplyReport:
    """Submit (once) and run a replay flow per replay fix; list the fixes left to a person.

    ``definitions`` are the flow definitions of the configured use cases (by engine use case
    name); ``registry`` maps a registry use case name (``order_to_cash``) to its engine use
    case names; ``engine_factory(definition)`` builds an engine for one replay definition.
    """
    report = ApplyReport()
    for d in result.discrepancies:
        fix = d.fix
        if fix is None:
            continue
        if fix.action != "replay" or not fix.use_case or not fix.step:
            report.manual.append(
                {"key": d.key, "class": d.kind.value, "action": fix.action, "why": fix.reason}
            )
            continue
        engine_names = [n for n in registry.get(fix.use_case, ()) if n in definitions]
        flow = next(
            (f for n in engine_names if (f := _charging_flow(store, n, d.key)) is not None), None
        )
        if flow is None:
            why = f"no {fix.use_case} flow in the ledger charged PayTrace transaction {d.key}"
            report.manual.append(
                {"key": d.key, "class": d.kind.value, "action": "replay", "why": why}
            )
            continue
        flow_input: dict[str, Any] = {
            "use_case": flow.use_case,
            "step": fix.step,
            "replay_of": flow.flow_id,
            "flow_input": dict(flow.input),
            "results": _results(store, flow.flow_id, fix.step),
        }
        definition = replay_definition(definitions, flow_input)
        engine = engine_factory(definition)
        key = replay_key(d.kind, d.key, fix.use_case, fix.step)
        with store.transaction() as tx:
            existed = tx.get_flow_by_key(key) is not None
        submitted = engine.submit(
            REPLAY_USE_CASE,
            source_system="reconcile",
            source_id=d.key,
            version=1,
            input=flow_input,
            # after the original flow: one flow at a time per entity
            entity_key=flow.entity_key,
            idempotency_key=key,
        )
        try:
            state = engine.run_flow(submitted.flow_id).state.value
        except FlowBusyError:
            # the original flow of this entity is still running: the replay waits its turn
            state = submitted.state.value
        report.applied.append(
            AppliedFix(
                d.key,
                d.kind.value,
                fix.use_case,
                fix.step,
                submitted.flow_id,
                state,
                not existed,
            )
        )
    return report


def apply_from_config(
    result: ReconcileResult, config_path: Path, ledger: str, *, schema: str = "paysync"
) -> ApplyReport:
    """:func:`apply_fixes` with the use cases, clients and ledger of ``paysync.toml``."""
    from paysync_core._errors import PaysyncError
    from paysync_core.app import get_usecase, ports_from_config
    from paysync_core.config import load_config, usecase_options
    from paysync_core.ports import ClientErrorClassifier

    wanted: set[str] = set()
    for d in result.discrepancies:
        if d.fix is not None and d.fix.action == "replay" and d.fix.use_case:
            wanted.add(d.fix.use_case)
    try:
        config = load_config(config_path)
        store = open_ledger(ledger, schema=schema)
    except PaysyncError as exc:
        raise ReconcileInputError("--config", str(exc)) from None
    try:
        ports = ports_from_config(config, store)
        definitions: dict[str, FlowDefinition] = {}
        registry: dict[str, tuple[str, ...]] = {}
        for name in sorted(wanted):
            entry = get_usecase(name)
            build = entry.build(ports, usecase_options(config, entry.name, entry.options))
            definitions.update({d.use_case: d for d in build.definitions})
            registry[entry.name] = entry.flows
        policy = config.engine.retry_policy(park_after=2.0)

        def engine_for(definition: FlowDefinition) -> Engine:
            return Engine(store, [definition], policy=policy, classifier=ClientErrorClassifier())

        return apply_fixes(result, store, definitions, registry=registry, engine_factory=engine_for)
    except PaysyncError as exc:
        raise ReconcileInputError("--apply", str(exc)) from None
    finally:
        store.close()
