"""The use case registry: one description per use case, shared by ``paysync run``, ``demo``,
``plan``, ``replay`` and the dashboard.

An entry names the use case, the systems it touches and its options model (the
``[usecases.<name>]`` table of ``paysync.toml``, registered with
:func:`~paysync_core.config.register_usecase_options`), and builds, from the ports and the
validated options, its flow definitions, its input sources and its trigger for a JSON input.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from paysync_core import Engine, FlowDefinition, FlowRecord, LedgerStore
from paysync_core._errors import ConfigurationError
from paysync_core.config import PaysyncConfig, register_usecase_options
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.sources import FusionResource
from paysync_core.usecases import ActivityHandler

from ._events import EventStreams

__all__ = [
    "Ports",
    "Source",
    "UseCase",
    "UseCaseBuild",
    "enabled_usecases",
    "get_usecase",
    "register",
    "registered",
]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@runtime_checkable
class Source(Protocol):
    """An input source polled by the runner.

    ``poll`` submits a flow for every record it finds (submission is idempotent: a record
    seen again returns its existing flow) and returns how many records it handed to the
    engine. An event-stream source (Pub/Sub, CometD) plugs in the same way.
    """

    name: str

    def poll(self, engine: Engine) -> int: ...


@dataclass(frozen=True)
class Ports:
    """What a builder gets: the ports of the configured systems, the ledger, a clock."""

    store: LedgerStore
    paytrace: PayTracePort | None = None
    fusion: FusionPort | None = None
    salesforce: SalesforcePort | None = None
    clock: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], None] = time.sleep
    events: EventStreams | None = None
    """Salesforce event streams (``[salesforce.events]``); ``None``: SOQL polling."""

    def need_paytrace(self, use_case: str) -> PayTracePort:
        if self.paytrace is None:
            raise ConfigurationError(f"use case {use_case!r} needs [paytrace] in the configuration")
        return self.paytrace

    def need_fusion(self, use_case: str) -> FusionPort:
        if self.fusion is None:
            raise ConfigurationError(f"use case {use_case!r} needs [fusion] in the configuration")
        return self.fusion

    def need_salesforce(self, use_case: str) -> SalesforcePort:
        if self.salesforce is None:
            raise ConfigurationError(
                f"use case {use_case!r} needs [salesforce] in the configuration"
            )
        return self.salesforce


#: Submits flows for one JSON input (``paysync plan --input``); returns the flows submitted.
JsonTrigger = Callable[[Engine, Mapping[str, Any]], Sequence[FlowRecord]]


@dataclass(frozen=True)
class UseCaseBuild:
    """A use case wired to ports: its flows, its sources, and what feeds it."""

    definitions: tuple[FlowDefinition, ...]
    sources: tuple[Source, ...] = ()
    activity_handlers: tuple[ActivityHandler, ...] = ()
    """Handlers for the shared PayTrace export poller (one cursor for every use case)."""
    fusion_resources: tuple[FusionResource, ...] = ()
    """Fusion collections for the shared Fusion change poller (polled by ``LastUpdateDate``
    every ``[polling] fusion_interval_seconds``), each with this use case's handlers."""
    submit_json: JsonTrigger | None = None
    instance: object = None
    """The use case object itself (``OrderToCash`` ...), for callers that drive it directly."""


Builder = Callable[[Ports, Any], UseCaseBuild]


@dataclass(frozen=True)
class UseCase:
    number: int
    name: str
    title: str
    systems: tuple[str, ...]
    options: type[BaseModel]
    builder: Builder = field(repr=False)
    input_hint: str = ""
    """What ``paysync plan --input`` expects for this use case."""
    flows: tuple[str, ...] = ()
    """The engine's use case names of its flow definitions (ledger ``flows.use_case``)."""

    def build(self, ports: Ports, options: BaseModel | None = None) -> UseCaseBuild:
        chosen = options if options is not None else self.options()
        if not isinstance(chosen, self.options):
            raise ConfigurationError(
                f"use case {self.name!r}: options must be {self.options.__name__}"
            )
        return self.builder(ports, chosen)


_REGISTRY: dict[str, UseCase] = {}


def register(entry: UseCase) -> UseCase:
    """Add a use case (and its options model under ``[usecases.<name>]``)."""
    if entry.name in _REGISTRY and _REGISTRY[entry.name] is not entry:
        raise ConfigurationError(f"use case {entry.name!r} registered twice")
    _REGISTRY[entry.name] = entry
    register_usecase_options(entry.name, entry.options)
    return entry


def registered() -> list[UseCase]:
    """Every registered use case, in number order."""
    return sorted(_REGISTRY.values(), key=lambda e: (e.number, e.name))


def enabled_usecases(config: PaysyncConfig) -> list[UseCase]:
    """Every registered use case the configuration does not disable, in number order.

    A use case without its own ``[usecases.<name>]`` table is enabled with its default
    options; only ``enabled = false`` turns it off. ``paysync run`` (which further drops use
    cases missing a system section) and ``paysync mapping check`` both start from this list,
    so check looks at exactly the maps run will use.
    """
    chosen: list[UseCase] = []
    for entry in registered():
        section = config.usecases.get(entry.name)
        if section is None or section.enabled:
            chosen.append(entry)
    return chosen


def get_usecase(name: str) -> UseCase:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(e.name for e in registered())
        raise ConfigurationError(f"unknown use case {name!r}; known: {known}") from None
