"""``paysync run``: the engine against configured endpoints, fed by the use cases' sources.

One pass = poll every source (each submits flows idempotently), then run what is pending.
:meth:`Runner.run_forever` repeats passes, sleeping ``engine.idle_sleep_seconds`` when a pass
found nothing to do, until its stop event is set (the CLI sets it on SIGINT / SIGTERM).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel

from paysync_core import Engine, LedgerStore, Metrics, Quota, RetryPolicy, RunReport
from paysync_core._errors import ConfigurationError
from paysync_core.config import (
    PaysyncConfig,
    SecretResolver,
    build_clients,
    config_quotas,
    usecase_options,
)
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import ActivityHandler

from ._events import event_streams_from_config
from ._registry import (
    Ports,
    Source,
    UseCase,
    UseCaseBuild,
    enabled_usecases,
    get_usecase,
    registered,
)
from ._sources import FusionChangeSource, PayTraceExportSource

__all__ = [
    "DEFAULT_INTERVALS",
    "PassReport",
    "Runner",
    "UseCaseSelection",
    "ports_from_config",
    "select_usecases",
]


#: Waits longer than this (seconds) park the flow in ``paysync run`` (see RetryPolicy).
RUN_PARK_AFTER = 2.0
#: Seconds between two polls of a source in ``run_forever``, by the source's name before
#: ``:`` (``salesforce-events``), else its system (``paytrace``, ``salesforce``). Event streams
#: are drained every pass (each fetch waits briefly for deliveries).
DEFAULT_INTERVALS: Mapping[str, float] = {
    "paytrace": 60.0,
    "salesforce": 60.0,
    "salesforce-events": 0.0,
    "fusion": 300.0,
}


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class UseCaseSelection:
    chosen: tuple[UseCase, ...]
    skipped: Mapping[str, str] = field(default_factory=dict[str, str])
    """Use cases left out, with why (disabled, or a system not configured)."""


def _configured(config: PaysyncConfig) -> set[str]:
    return {name for name in ("paytrace", "fusion", "salesforce") if getattr(config, name)}


def select_usecases(config: PaysyncConfig, names: Sequence[str] = ()) -> UseCaseSelection:
    """The use cases to run: ``names`` if given (each must be runnable), else every registered
    one neither disabled (``[usecases.<name>] enabled = false``) nor missing a system."""
    systems = _configured(config)
    if names:
        chosen = tuple(get_usecase(n) for n in dict.fromkeys(names))
        for entry in chosen:
            missing = sorted(set(entry.systems) - systems)
            if missing:
                raise ConfigurationError(
                    f"use case {entry.name!r} needs [{'], ['.join(missing)}] in the configuration"
                )
        return UseCaseSelection(chosen)
    picked: list[UseCase] = []
    skipped: dict[str, str] = {}
    enabled = {entry.name for entry in enabled_usecases(config)}
    for entry in registered():
        missing = sorted(set(entry.systems) - systems)
        if entry.name not in enabled:
            skipped[entry.name] = "disabled in the configuration"
        elif missing:
            skipped[entry.name] = f"no [{'], ['.join(missing)}] section"
        else:
            picked.append(entry)
    return UseCaseSelection(tuple(picked), skipped)


def ports_from_config(
    config: PaysyncConfig,
    store: LedgerStore,
    *,
    resolver: SecretResolver | None = None,
    clock: Callable[[], datetime] = _utc_now,
    events: bool = False,
) -> Ports:
    """Clients from the configuration, credentials through ``resolver`` (never the file).

    ``events``: open the Salesforce event streams of ``[salesforce.events]`` (``paysync
    run``); close them with :meth:`Runner.close`."""
    clients = build_clients(config, resolver)
    return Ports(
        store=store,
        paytrace=PayTracePort(clients.paytrace, clock=clock) if clients.paytrace else None,
        fusion=FusionPort(clients.fusion) if clients.fusion else None,
        salesforce=SalesforcePort(clients.salesforce) if clients.salesforce else None,
        clock=clock,
        events=event_streams_from_config(config, clients.salesforce) if events else None,
    )


@dataclass
class PassReport:
    """What one pass did: flows submitted per source, then the engine's run."""

    polled: dict[str, int] = field(default_factory=dict[str, int])
    poll_errors: dict[str, str] = field(default_factory=dict[str, str])
    run: RunReport = field(default_factory=RunReport)

    @property
    def busy(self) -> bool:
        return bool(sum(self.polled.values()) or self.run.processed)

    def as_json(self) -> dict[str, object]:
        return {
            "polled": dict(self.polled),
            "poll_errors": dict(self.poll_errors),
            "succeeded": len(self.run.succeeded),
            "dead": len(self.run.dead),
            "parked": len(self.run.parked),
            "errors": dict(self.run.errors),
        }


class Runner:
    """The engine plus the sources of the chosen use cases."""

    def __init__(
        self,
        ports: Ports,
        usecases: Sequence[UseCase],
        *,
        options: Mapping[str, BaseModel] | None = None,
        workers: int = 8,
        idle_sleep: float = 1.0,
        policy: RetryPolicy | None = None,
        lease_ttl: timedelta = timedelta(minutes=5),
        quotas: Mapping[str, Quota] | None = None,
        paytrace_overlap: timedelta = timedelta(minutes=15),
        fusion_overlap: timedelta = timedelta(minutes=15),
        engine_sleep: Callable[[float], None] = time.sleep,
        metrics: Metrics | None = None,
        intervals: Mapping[str, float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ports = ports
        self.intervals: dict[str, float] = dict(
            intervals if intervals is not None else DEFAULT_INTERVALS
        )
        """Seconds between polls of a source, by system (``paytrace``, ``salesforce``)."""
        self._monotonic = monotonic
        self._polled_at: dict[str, float] = {}
        self.usecases = tuple(usecases)
        self.builds: dict[str, UseCaseBuild] = {
            entry.name: entry.build(ports, (options or {}).get(entry.name))
            for entry in self.usecases
        }
        self.workers = workers
        self.idle_sleep = idle_sleep
        self.engine = Engine(
            ports.store,
            [d for build in self.builds.values() for d in build.definitions],
            policy=policy,
            classifier=ClientErrorClassifier(),
            lease_ttl=lease_ttl,
            clock=ports.clock,
            sleep=engine_sleep,
            quotas=quotas,
            metrics=metrics,
        )
        handlers: list[ActivityHandler] = [
            h for build in self.builds.values() for h in build.activity_handlers
        ]
        readers = sorted(name for name, build in self.builds.items() if build.activity_handlers)
        sources: list[Source] = []
        if handlers and ports.paytrace is not None:
            # One cursor per set of readers: a record skipped by `--use-case ecommerce` (no
            # taker) is still new to a later run that includes refunds.
            sources.append(
                PayTraceExportSource(
                    ports.paytrace,
                    handlers,
                    overlap=paytrace_overlap,
                    clock=ports.clock,
                    cursor="paytrace:" + "+".join(readers),
                )
            )
        fusion_readers = sorted(n for n, b in self.builds.items() if b.fusion_resources)
        if fusion_readers and ports.fusion is not None:
            # Fusion has no change events: its collections are polled by LastUpdateDate
            sources.append(
                FusionChangeSource(
                    ports.fusion,
                    [r for build in self.builds.values() for r in build.fusion_resources],
                    overlap=fusion_overlap,
                    clock=ports.clock,
                    cursor="fusion:" + "+".join(fusion_readers),
                )
            )
        sources.extend(s for build in self.builds.values() for s in build.sources)
        self.sources: tuple[Source, ...] = tuple(sources)

    @classmethod
    def from_config(
        cls,
        config: PaysyncConfig,
        ports: Ports,
        usecases: Sequence[UseCase],
        *,
        engine_sleep: Callable[[float], None] = time.sleep,
    ) -> Runner:
        """Engine settings, quotas and use case options from ``paysync.toml``."""
        options = {e.name: usecase_options(config, e.name, e.options) for e in usecases}
        quotas = config_quotas(config)
        return cls(
            ports,
            usecases,
            options=options,
            workers=config.engine.workers,
            idle_sleep=config.engine.idle_sleep_seconds,
            # A long-running worker parks waits longer than a few seconds instead of sleeping:
            # its threads stay free, and the next pass (or cron run) resumes the flow.
            policy=config.engine.retry_policy(park_after=RUN_PARK_AFTER),
            lease_ttl=timedelta(seconds=config.engine.lease_ttl_seconds),
            quotas=quotas,
            paytrace_overlap=timedelta(minutes=config.polling.paytrace_overlap_minutes),
            engine_sleep=engine_sleep,
            intervals={
                **DEFAULT_INTERVALS,
                "paytrace": config.polling.paytrace_interval_seconds,
                "salesforce": config.polling.salesforce_interval_seconds,
                "fusion": config.polling.fusion_interval_seconds,
            },
        )

    def poll(self, *, only: Collection[str] | None = None, due_only: bool = False) -> PassReport:
        """Poll every source (or those named in ``only``) once; a failing source is reported,
        the others still run. ``due_only`` skips sources polled less than their interval
        ago (:attr:`intervals`, by the source name's system prefix)."""
        report = PassReport()
        for source in self.sources:
            if only is not None and source.name not in only:
                continue
            if due_only and not self._due(source.name):
                continue
            self._polled_at[source.name] = self._monotonic()
            try:
                report.polled[source.name] = source.poll(self.engine)
            except Exception as exc:  # one bad source must not stop the others
                report.poll_errors[source.name] = f"{type(exc).__name__}: {exc}"
        return report

    def _due(self, name: str) -> bool:
        last = self._polled_at.get(name)
        stream = name.split(":", 1)[0]
        interval = self.intervals.get(stream, self.intervals.get(name.split("-", 1)[0], 0.0))
        return last is None or self._monotonic() - last >= interval

    def run_once(self, *, due_only: bool = False) -> PassReport:
        """One pass: poll the sources, then run every runnable flow."""
        report = self.poll(due_only=due_only)
        report.run = self.engine.run_pending(max_workers=self.workers)
        return report

    def run_forever(
        self,
        stop: threading.Event,
        *,
        on_pass: Callable[[PassReport], None] | None = None,
        max_passes: int | None = None,
    ) -> int:
        """Passes until ``stop`` is set (checked between passes and while idle)."""
        passes = 0
        while not stop.is_set() and (max_passes is None or passes < max_passes):
            # sources are read on their interval; parked and retried flows every pass
            report = self.run_once(due_only=True)
            passes += 1
            if on_pass is not None:
                on_pass(report)
            if not report.busy:
                stop.wait(self.idle_sleep)
        return passes

    def close(self) -> None:
        """Close the event streams (subscriptions and the Pub/Sub channel)."""
        if self.ports.events is not None:
            self.ports.events.close()
