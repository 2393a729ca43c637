"""The use case pages: every registered use case (``paysync_core.app``) plus any given in code.

A registered use case is built once, at start, on offline ports (clients pointing at
``.invalid`` hosts, never called) with the options of its ``[usecases.<name>]`` table, so the
steps drawn are the ones the workers run with that configuration. The rules in force are the
options model's fields: the value used, the model's default, and whether the file set it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from paysync_core import ConfigurationError, FlowDefinition

from ._config import UseCaseInfo

__all__ = ["RuleRow", "UseCasePage", "build_pages"]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleRow:
    """One option of a use case as it is in force."""

    key: str
    value: object
    default: object
    description: str = ""
    configured: bool = False
    """Set in ``[usecases.<name>]`` (else the model's default applies)."""


@dataclass(frozen=True)
class UseCasePage:
    name: str
    title: str
    flows: tuple[FlowDefinition, ...]
    systems: tuple[str, ...]
    number: int | None = None
    description: str = ""
    input_hint: str = ""
    enabled: bool = True
    rules: tuple[RuleRow, ...] = ()
    free_rules: Mapping[str, object] = field(default_factory=dict[str, object])
    """Rules given in code with a :class:`UseCaseInfo` (no model, no defaults)."""
    problem: str = ""
    """Why the flow could not be drawn (options that do not validate), if so."""


def _json(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def _rule_rows(
    model: type[BaseModel], options: BaseModel, given: Mapping[str, Any]
) -> list[RuleRow]:
    """Each field of ``model``: value in force, default, description, set by the file or not."""
    rows: list[RuleRow] = []
    for name, info in model.model_fields.items():
        default: object = "(required)"
        if not info.is_required():
            default = _json(info.get_default(call_default_factory=True, validated_data={}))
        key = info.alias or name
        rows.append(
            RuleRow(
                key=key,
                value=_json(getattr(options, name)),
                default=default,
                description=info.description or "",
                configured=key in given or name in given,
            )
        )
    return rows


def _systems(flows: Sequence[FlowDefinition]) -> tuple[str, ...]:
    seen: list[str] = []
    for flow in flows:
        for step in flow.steps:
            if step.system and step.system not in seen:
                seen.append(step.system)
    return tuple(seen)


def _registered(options: Mapping[str, Mapping[str, Any]]) -> list[UseCasePage]:
    # imported here: the registry pulls in every use case and its clients
    from paysync_core.app import offline_ports, registered

    pages: list[UseCasePage] = []
    ports = offline_ports()
    try:
        for entry in registered():
            table = dict(options.get(entry.name, {}))
            enabled = bool(table.pop("enabled", True))
            problem = ""
            flows: tuple[FlowDefinition, ...] = ()
            rows: list[RuleRow] = []
            try:
                chosen = entry.options.model_validate(table)
                flows = entry.build(ports, chosen).definitions
                rows = _rule_rows(entry.options, chosen, table)
            except (ValidationError, ConfigurationError, ValueError) as exc:
                # shown on the page rather than stopping the dashboard; config check names it
                problem = f"[usecases.{entry.name}] does not validate: {type(exc).__name__}"
                _LOG.warning("use case %s: %s", entry.name, problem)
            pages.append(
                UseCasePage(
                    name=entry.name,
                    title=entry.title,
                    flows=flows,
                    systems=entry.systems or _systems(flows),
                    number=entry.number,
                    input_hint=entry.input_hint,
                    enabled=enabled,
                    rules=tuple(rows),
                    problem=problem,
                )
            )
    finally:
        ports.store.close()
    return pages


def _from_code(info: UseCaseInfo) -> UseCasePage:
    return UseCasePage(
        name=info.definition.use_case,
        title=info.description or info.definition.use_case,
        flows=(info.definition,),
        systems=_systems([info.definition]),
        free_rules=info.rules,
    )


def build_pages(
    infos: Sequence[UseCaseInfo],
    *,
    include_registered: bool,
    options: Mapping[str, Mapping[str, Any]],
) -> dict[str, UseCasePage]:
    """Registered use cases (in number order) then the ones given in code, by name.

    A :class:`UseCaseInfo` whose flow a registered use case already draws replaces nothing:
    the registered page is the one with the configuration's rules.
    """
    pages = {p.name: p for p in (_registered(options) if include_registered else [])}
    drawn = {flow.use_case for page in pages.values() for flow in page.flows}
    for info in infos:
        if info.definition.use_case not in drawn and info.definition.use_case not in pages:
            pages[info.definition.use_case] = _from_code(info)
    return pages
