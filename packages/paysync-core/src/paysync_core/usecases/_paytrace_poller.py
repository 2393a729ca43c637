"""New PayTrace activity, found by polling the exports (PayTrace v1 has no webhooks).

The cursor is durable: a row of ``paysync_poll_cursors`` in the ledger, holding the creation
instant of the newest transaction handled. Each poll re-reads from ``cursor - overlap`` (the
exports lag behind: a transaction may appear after newer ones were already read), hands each
record to the handlers in creation order, and advances the cursor **in the transaction that
submits the record's flow** (the engine's ``checkpoint`` hook). A crash therefore loses nothing
and repeats nothing: the record is either submitted with the cursor moved past it, or neither.
Records seen again in the overlap are deduplicated by transaction id (``paysync_poll_seen``,
written in the same transaction, pruned once older than the overlap) and, behind that, by the
flow key, so re-reading them submits nothing new.

Export timestamps carry no zone; :class:`~paytrace_client.PayTraceClient` parses them in its
configured export time zone, and the date range is computed in that zone too.

A void makes no transaction of its own: it turns the sale's record to ``status_code`` ``N`` /
``Voided``, keeping the sale's creation time, so the cursor (which has moved past the sale)
never sees it. :class:`PayTraceVoidPoller` therefore re-reads ``transaction_type=VOID`` over a
bounded window of sale creation dates (a sale can be voided only while pending settlement, a
day or a few) and hands each voided sale not handled before to its handlers; a handled one is
marked seen in the submitting transaction, as above. A record no handler takes (not a sale
paysync knows yet, a void paysync made itself) is not marked, so it is looked at again on the
next poll until it leaves the window: a sale paysync records a moment after it was voided is
still caught.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from paysync_core import (
    ConfigurationError,
    Engine,
    FlowRecord,
    LedgerStore,
    LedgerTransaction,
    SubmitHook,
)
from paysync_core._durable_cursor import CursorTable, SeenSet, utc_text
from paysync_core.ports import PayTracePort
from paytrace_client.models import ExportedTransaction

__all__ = [
    "PAYTRACE_CURSORS",
    "ActivityHandler",
    "PayTraceActivityPoller",
    "PayTraceVoidPoller",
    "PollReport",
    "VoidPollReport",
]

#: The export cursors, and the transactions handled (by id, stamped with their creation).
PAYTRACE_CURSORS = CursorTable(
    "paysync_poll_cursors",
    SeenSet(
        "paysync_poll_seen",
        key="transaction_id",
        stamp="created",
        primary_key=("transaction_id",),
        create="CREATE TABLE IF NOT EXISTS paysync_poll_seen (name TEXT NOT NULL, "
        "transaction_id BIGINT NOT NULL, created TEXT NOT NULL, "
        "PRIMARY KEY (name, transaction_id))",
    ),
)
_SEEN = PAYTRACE_CURSORS.seen


class ActivityHandler(Protocol):
    """A use case trigger: submit a flow for the record (with ``checkpoint`` run inside the
    submitting transaction), or return ``None`` if the record is not its business."""

    def __call__(
        self, engine: Engine, record: ExportedTransaction, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None: ...


@dataclass
class PollReport:
    """What one :meth:`PayTraceActivityPoller.poll` did."""

    read: int = 0
    """Export records in the window (overlap included)."""
    submitted: list[str] = field(default_factory=list[str])
    """Flows submitted for records not seen before."""
    already_known: int = 0
    """Records handled by an earlier poll (the overlap window reads them again)."""
    ignored: int = 0
    """Records no handler wanted (declines, other channels, paysync's own refunds)."""
    cursor: datetime | None = None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _created(record: ExportedTransaction) -> datetime | None:
    return record.created.at if record.created is not None else None


class PayTraceActivityPoller:
    """Polls ``transactions/export/by_date_range`` and submits flows through ``handlers``
    (tried in order; the first that returns a flow takes the record)."""

    def __init__(
        self,
        paytrace: PayTracePort,
        handlers: Sequence[ActivityHandler],
        *,
        name: str = "paytrace",
        overlap: timedelta = timedelta(hours=2),
        initial_lookback: timedelta = timedelta(days=1),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not handlers:
            raise ConfigurationError("handlers: at least one activity handler is needed")
        if overlap < timedelta(0):
            raise ConfigurationError("overlap must not be negative")
        self.paytrace = paytrace
        self.handlers = tuple(handlers)
        self.name = name
        self.overlap = overlap
        self.initial_lookback = initial_lookback
        self._clock = clock

    # -- the durable cursor ---------------------------------------------------------------
    def _seen(self, store: LedgerStore, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        with store.transaction() as tx:
            PAYTRACE_CURSORS.ensure(tx)
            return {int(key) for key, _ in _SEEN.handled(tx, self.name, ids)}

    def _advance(self, tx: LedgerTransaction, to: datetime, transaction_id: int) -> None:
        """Mark the record seen and move the cursor forward (never back), inside the caller's
        transaction."""
        current = PAYTRACE_CURSORS.read(tx, self.name)
        _SEEN.mark(tx, self.name, transaction_id, utc_text(to))
        if current is not None and current >= to:
            return
        _SEEN.prune(tx, self.name, to - self.overlap - self.overlap)
        PAYTRACE_CURSORS.write(tx, self.name, utc_text(to), self._clock())

    def cursor(self, store: LedgerStore) -> datetime | None:
        """The creation instant of the newest record handled so far (``None`` before any)."""
        with store.transaction() as tx:
            return PAYTRACE_CURSORS.read(tx, self.name)

    # -- polling --------------------------------------------------------------------------
    def poll(self, engine: Engine) -> PollReport:
        """Read the window, submit flows for new activity, advance the cursor with them."""
        store = engine.store
        started = self._clock()
        cursor = self.cursor(store)
        since = (cursor - self.overlap) if cursor is not None else started - self.initial_lookback
        tz = self.paytrace.export_timezone
        records = [
            r
            for r in self.paytrace.activity(
                since.astimezone(tz).date(), started.astimezone(tz).date()
            )
            if (_created(r) or since) >= since
        ]
        records.sort(key=lambda r: (_created(r) or since, r.transaction_id))
        report = PollReport(read=len(records), cursor=cursor)
        handled = self._seen(store, sorted({r.transaction_id for r in records}))
        for record in records:
            if record.transaction_id in handled:  # read before (overlap), or twice in one read
                report.already_known += 1
                continue
            handled.add(record.transaction_id)
            at = _created(record) or since
            flow = self._submit(engine, record, at)
            if flow is None:
                report.ignored += 1
                with store.transaction() as tx:  # nothing submitted: just move past it
                    self._advance(tx, at, record.transaction_id)
            else:
                report.submitted.append(flow.flow_id)
        report.cursor = self.cursor(store)
        return report

    def _submit(
        self, engine: Engine, record: ExportedTransaction, at: datetime
    ) -> FlowRecord | None:
        def checkpoint(tx: LedgerTransaction, _flow: FlowRecord) -> None:
            self._advance(tx, at, record.transaction_id)

        for handler in self.handlers:
            flow = handler(engine, record, checkpoint=checkpoint)
            if flow is not None:
                return flow
        return None


@dataclass
class VoidPollReport:
    """What one :meth:`PayTraceVoidPoller.poll` did."""

    read: int = 0
    """Voided sales in the window."""
    submitted: list[FlowRecord] = field(default_factory=list[FlowRecord])
    """Flows submitted for voids not handled before."""
    already_known: int = 0
    """Voids handled by an earlier poll."""
    ignored: int = 0
    """Voids no handler took (looked at again next poll, while in the window)."""


class PayTraceVoidPoller:
    """Polls ``transactions/export/by_date_range`` with ``transaction_type=VOID`` over the last
    ``lookback`` of sale creation dates; each voided sale is submitted once (``handlers`` tried
    in order, the first that returns a flow takes it)."""

    def __init__(
        self,
        paytrace: PayTracePort,
        handlers: Sequence[ActivityHandler],
        *,
        name: str = "paytrace-voids",
        lookback: timedelta = timedelta(days=3),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not handlers:
            raise ConfigurationError("handlers: at least one void handler is needed")
        if lookback <= timedelta(0):
            raise ConfigurationError("lookback must be positive")
        self.paytrace = paytrace
        self.handlers = tuple(handlers)
        self.name = name
        self.lookback = lookback
        self._clock = clock

    def _seen(self, store: LedgerStore, ids: Sequence[int], horizon: datetime) -> set[int]:
        with store.transaction() as tx:
            PAYTRACE_CURSORS.ensure(tx)
            # a void older than twice the window can no longer be read: forget it
            _SEEN.prune(tx, self.name, horizon - self.lookback)
            return {int(key) for key, _ in _SEEN.handled(tx, self.name, ids)}

    def poll(self, engine: Engine) -> VoidPollReport:
        """Read the window and submit a flow for every void not handled before."""
        now = self._clock()
        since = now - self.lookback
        tz = self.paytrace.export_timezone
        records = self.paytrace.activity(
            since.astimezone(tz).date(), now.astimezone(tz).date(), transaction_type="VOID"
        )
        records = sorted(records, key=lambda r: r.transaction_id)
        report = VoidPollReport(read=len(records))
        handled = self._seen(engine.store, [r.transaction_id for r in records], since)
        for record in records:
            if record.transaction_id in handled:
                report.already_known += 1
                continue
            handled.add(record.transaction_id)
            flow = self._submit(engine, record, now)
            if flow is None:
                report.ignored += 1
            else:
                report.submitted.append(flow)
        return report

    def poll_flows(self, engine: Engine) -> list[FlowRecord]:
        """:meth:`poll`, as the flows submitted (for a scheduler source)."""
        return self.poll(engine).submitted

    def _submit(
        self, engine: Engine, record: ExportedTransaction, now: datetime
    ) -> FlowRecord | None:
        def checkpoint(tx: LedgerTransaction, _flow: FlowRecord) -> None:
            _SEEN.mark(tx, self.name, record.transaction_id, utc_text(now))

        for handler in self.handlers:
            flow = handler(engine, record, checkpoint=checkpoint)
            if flow is not None:
                return flow
        return None
