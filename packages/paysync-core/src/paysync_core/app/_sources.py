"""Input sources the runner polls: each submits flows (idempotently) and says how many.

* :class:`PayTraceExportSource` the shared PayTrace export poller (durable cursor in the
  ledger) feeding use cases 2 and 3;
* :class:`WindowSource` a scheduler re-reading a date window (declines, settlement batches):
  re-submitting a known record returns its existing flow, so re-reading is harmless;
* :class:`CallSource` a scheduler with its own notion of "due" (recurring billing);
* :class:`FusionChangeSource` the shared Fusion change poller (``LastUpdateDate``, durable
  cursors in the ledger) feeding the use cases that declare Fusion resources;
* :class:`SoqlSource` Salesforce records changed (or, with ``cursor_field="CreatedDate"``,
  created) since the last poll (use cases 1 and 5), until the event-stream source
  (Pub/Sub / CometD) replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from paysync_core import Engine, FlowRecord
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.sources import FusionChangePoller, FusionResource
from paysync_core.usecases import ActivityHandler, PayTraceActivityPoller

__all__ = [
    "CallSource",
    "FusionChangeSource",
    "PayTraceExportSource",
    "SoqlSource",
    "WindowSource",
    "merge_fusion_resources",
]


class PayTraceExportSource:
    """PayTrace ``transactions/export`` polling with a durable cursor (one for all handlers)."""

    def __init__(
        self,
        paytrace: PayTracePort,
        handlers: Sequence[ActivityHandler],
        *,
        overlap: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime],
        cursor: str = "paytrace",
    ) -> None:
        self.name = "paytrace-exports"
        self.poller = PayTraceActivityPoller(
            paytrace, handlers, name=cursor, overlap=overlap, clock=clock
        )

    def poll(self, engine: Engine) -> int:
        return len(self.poller.poll(engine).submitted)


def merge_fusion_resources(resources: Sequence[FusionResource]) -> list[FusionResource]:
    """One entry per collection: the handlers of every use case polling it, in order (a
    collection is read once per poll, whoever wants its changes)."""
    merged: dict[tuple[str, str], FusionResource] = {}
    for resource in resources:
        at = (resource.api, resource.name)
        known = merged.get(at)
        if known is None:
            merged[at] = resource
            continue
        fields = () if not known.fields or not resource.fields else known.fields + resource.fields
        merged[at] = FusionResource(
            resource.name,
            known.key,
            known.handlers + resource.handlers,
            q=known.q if known.q == resource.q else None,
            fields=tuple(dict.fromkeys(fields)),
            api=known.api,
        )
    return list(merged.values())


class FusionChangeSource:
    """Fusion collections polled by ``LastUpdateDate`` with durable cursors (one per
    collection and set of readers)."""

    def __init__(
        self,
        fusion: FusionPort,
        resources: Sequence[FusionResource],
        *,
        overlap: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime],
        cursor: str = "fusion",
    ) -> None:
        self.name = "fusion-changes"
        self.poller = FusionChangePoller(
            fusion,
            merge_fusion_resources(resources),
            name=cursor,
            overlap=overlap,
            clock=clock,
        )

    def poll(self, engine: Engine) -> int:
        return len(self.poller.poll(engine).submitted)


@dataclass
class WindowSource:
    """Calls ``submit(engine, start, end)`` for the last ``days`` days (in ``today()``'s zone)."""

    name: str
    submit: Callable[[Engine, date, date], Sequence[FlowRecord]]
    today: Callable[[], date]
    days: int = 1

    def poll(self, engine: Engine) -> int:
        end = self.today()
        return len(self.submit(engine, end - timedelta(days=self.days), end))


@dataclass
class CallSource:
    """Calls ``submit(engine)`` (a scheduler that decides what is due itself)."""

    name: str
    submit: Callable[[Engine], Sequence[FlowRecord]]

    def poll(self, engine: Engine) -> int:
        return len(self.submit(engine))


class SoqlSource:
    """Salesforce rows changed since the previous poll, each handed to ``submit``.

    The first poll reads ``lookback`` back; later polls read from the newest
    ``LastModifiedDate`` seen minus ``overlap``. The cursor lives in memory: after a restart
    the lookback is read again, which submits nothing new (flows are keyed by record and
    version).
    """

    def __init__(
        self,
        name: str,
        salesforce: SalesforcePort,
        soql: str,
        submit: Callable[[Engine, Mapping[str, Any]], FlowRecord | None],
        *,
        clock: Callable[[], datetime],
        soql_args: Callable[[datetime], tuple[object, ...]] = lambda since: (since,),
        lookback: timedelta = timedelta(days=1),
        overlap: timedelta = timedelta(minutes=5),
        cursor_field: str = "LastModifiedDate",
    ) -> None:
        self.name = name
        self._cursor_field = cursor_field
        self._salesforce = salesforce
        self._soql = soql
        self._submit = submit
        self._args = soql_args
        self._clock = clock
        self._lookback = lookback
        self._overlap = overlap
        self._cursor: datetime | None = None

    def poll(self, engine: Engine) -> int:
        since = (
            self._cursor - self._overlap
            if self._cursor is not None
            else self._clock() - self._lookback
        )
        submitted = 0
        for row in self._salesforce.records(self._soql, *self._args(since)):
            if self._submit(engine, row) is not None:
                submitted += 1
            modified = _parse_datetime(row.get(self._cursor_field))
            if modified is not None and (self._cursor is None or modified > self._cursor):
                self._cursor = modified
        return submitted


def _parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # Salesforce's +0000
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
