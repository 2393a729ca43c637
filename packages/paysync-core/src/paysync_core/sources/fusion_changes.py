"""Changes made in Oracle Fusion, found by polling (Fusion sends no events paysync can use).

Every writable ADF REST resource carries the standard who-columns (``CreationDate``,
``CreatedBy``, ``LastUpdateDate``, ``LastUpdatedBy``). :class:`FusionChangePoller` reads each
configured resource with ``q=LastUpdateDate > '<cursor - overlap>'`` and
``orderBy=LastUpdateDate:asc``, paging with ``limit``/``offset`` until ``hasMore`` is false,
and hands every change to the resource's handlers, oldest first.

As for the PayTrace exports (:mod:`paysync_core.usecases._paytrace_poller`), the cursor is
durable and moves **in the transaction that submits the change's flow** (the engine's
``checkpoint`` hook): a crash loses nothing and repeats nothing. One cursor per resource, a row
of ``paysync_fusion_cursors``, holds the ``LastUpdateDate`` of the newest change handled. The
overlap window re-reads recent changes (a write committed late may carry an older stamp); a
change seen again is recognised by (resource, record key, ``LastUpdateDate``) in
``paysync_fusion_seen``, written in the same transaction and pruned past twice the overlap.

A resource names its REST API (:attr:`FusionResource.api`): ``fscmRestApi`` by default, or
``crmRestApi`` for the CRM ``accounts`` (parties, keyed by ``PartyNumber``) that use case 5
polls for customer changes made in Fusion.

Changes made by paysync itself are skipped before any handler sees them when their
``LastUpdatedBy`` is one of ``own_users`` (paysync's Fusion integration user); handlers may
also recognise them by correlation with the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from oracle_fusion_client import CRM_API, Cond, Query, crm_http, q_and
from paysync_core import (
    ConfigurationError,
    Engine,
    FlowRecord,
    LedgerStore,
    LedgerTransaction,
    SubmitHook,
)
from paysync_core._durable_cursor import CursorTable, SeenSet, utc_text
from paysync_core._status import StreamPosition, register_stream_reporter
from paysync_core.ports import FusionPort

__all__ = [
    "FusionChange",
    "FusionChangeHandler",
    "FusionChangePoller",
    "FusionPollReport",
    "FusionResource",
    "fusion_change",
    "fusion_cursor_positions",
]

#: The per-resource cursors, and the changes handled (each version of a record once).
_CURSORS = CursorTable(
    "paysync_fusion_cursors",
    SeenSet(
        "paysync_fusion_seen",
        key="record_key",
        stamp="last_update",
        primary_key=("record_key", "last_update"),
        create="CREATE TABLE IF NOT EXISTS paysync_fusion_seen (name TEXT NOT NULL, "
        "record_key TEXT NOT NULL, last_update TEXT NOT NULL, "
        "PRIMARY KEY (name, record_key, last_update))",
    ),
)
_SEEN = _CURSORS.seen
_STAMP = "LastUpdateDate"
_FSCM = "fscmRestApi"
#: The REST APIs a polled collection may live in (the Financials one, the CRM one).
_APIS = frozenset({_FSCM, CRM_API})


@dataclass(frozen=True)
class FusionChange:
    """One version of one Fusion record, as the collection GET returned it."""

    resource: str
    key: str
    """The record's key attribute (``StandardReceiptId``, ``CustomerTransactionId``, ...)."""
    last_update: datetime
    record: Mapping[str, Any] = field(repr=False)

    @property
    def last_updated_by(self) -> str | None:
        value = self.record.get("LastUpdatedBy")
        return None if value in (None, "") else str(value)

    @property
    def version(self) -> str:
        """The change's identity within the record: its ``LastUpdateDate`` as UTC text."""
        return utc_text(self.last_update)


def fusion_change(resource: str, key_attribute: str, record: Mapping[str, Any]) -> FusionChange:
    """A :class:`FusionChange` from a record as the REST API returns it (``paysync plan
    --input``); ``ValueError`` naming the attribute when the key or ``LastUpdateDate`` is
    missing or not a zoned timestamp."""
    key = record.get(key_attribute)
    if key in (None, ""):
        raise ValueError(f"input: record.{key_attribute} is missing (the {resource} key)")
    stamp = _parse(record.get(_STAMP))
    if stamp is None:
        raise ValueError(
            f"input: record.{_STAMP} must be an ISO-8601 timestamp, got {record.get(_STAMP)!r}"
        )
    return FusionChange(resource, str(key), stamp, dict(record))


class FusionChangeHandler(Protocol):
    """A use case trigger: submit a flow for the change (with ``checkpoint`` run inside the
    submitting transaction), or return ``None`` if the change is not its business."""

    def __call__(
        self, engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None: ...


@dataclass(frozen=True)
class FusionResource:
    """One polled collection and the handlers of its changes (tried in order; the first that
    returns a flow takes the change)."""

    name: str
    """The REST collection (``standardReceipts``)."""
    key: str
    """Its key attribute (``StandardReceiptId``)."""
    handlers: tuple[FusionChangeHandler, ...]
    q: str | None = None
    """An extra row filter, and-ed with the ``LastUpdateDate`` condition, to read less; a
    handler still checks the rows it is given (use cases sharing a collection with different
    filters read it unfiltered)."""
    fields: tuple[str, ...] = ()
    """``fields=``: the attributes to read (empty: all; the key and who-columns are added)."""
    api: str = _FSCM
    """The REST API of the collection: ``fscmRestApi`` (receipts, invoices ...) or
    ``crmRestApi`` (the CRM ``accounts``); both on the Fusion port's origin and credentials."""


@dataclass
class FusionPollReport:
    """What one :meth:`FusionChangePoller.poll` did (over every resource)."""

    read: int = 0
    """Changes in the windows (overlap included)."""
    submitted: list[str] = field(default_factory=list[str])
    """Flows submitted for changes not seen before."""
    already_known: int = 0
    """Changes handled by an earlier poll (the overlap window reads them again)."""
    own: int = 0
    """Changes whose ``LastUpdatedBy`` is paysync's own Fusion user."""
    ignored: int = 0
    """Changes no handler wanted."""
    cursors: dict[str, datetime | None] = field(default_factory=dict[str, datetime | None])
    """Each resource's cursor after the poll."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class FusionChangePoller:
    """Polls Fusion collections by ``LastUpdateDate`` and submits flows through each resource's
    handlers; ``name`` prefixes the cursors (``<name>:<resource>``)."""

    def __init__(
        self,
        fusion: FusionPort,
        resources: Sequence[FusionResource],
        *,
        name: str = "fusion",
        overlap: timedelta = timedelta(minutes=15),
        initial_lookback: timedelta = timedelta(days=1),
        own_users: Collection[str] = (),
        page_size: int = 500,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not resources:
            raise ConfigurationError("resources: at least one Fusion resource is needed")
        for resource in resources:
            if not resource.handlers:
                raise ConfigurationError(f"resources.{resource.name}: no handler")
        for resource in resources:
            if resource.api not in _APIS:
                raise ConfigurationError(
                    f"resources.{resource.name}.api: {resource.api!r} is not one of "
                    f"{', '.join(sorted(_APIS))}"
                )
        if len({r.name for r in resources}) != len(resources):
            raise ConfigurationError("resources: a Fusion resource is listed twice")
        if overlap < timedelta(0):
            raise ConfigurationError("overlap must not be negative")
        if not 1 <= page_size <= 500:
            raise ConfigurationError("page_size must be between 1 and 500 (the ADF maximum)")
        self.fusion = fusion
        self.resources = tuple(resources)
        self.name = name
        self.overlap = overlap
        self.initial_lookback = initial_lookback
        self.own_users = frozenset(own_users)
        self.page_size = page_size
        self._clock = clock

    # -- the durable cursors --------------------------------------------------------------
    def cursor_name(self, resource: str) -> str:
        return f"{self.name}:{resource}"

    def cursor(self, store: LedgerStore, resource: str) -> datetime | None:
        """The ``LastUpdateDate`` of the newest change of ``resource`` handled so far."""
        with store.transaction() as tx:
            return _CURSORS.read(tx, self.cursor_name(resource))

    def _seen(self, store: LedgerStore, name: str, changes: Sequence[FusionChange]) -> set[str]:
        if not changes:
            return set()
        keys = sorted({c.key for c in changes})
        with store.transaction() as tx:
            _CURSORS.ensure(tx)
            return {f"{key}@{version}" for key, version in _SEEN.handled(tx, name, keys)}

    def _advance(self, tx: LedgerTransaction, name: str, change: FusionChange) -> None:
        """Mark the change seen and move the cursor forward (never back), inside the caller's
        transaction."""
        current = _CURSORS.read(tx, name)
        _SEEN.mark(tx, name, change.key, change.version)
        if current is not None and current >= change.last_update:
            return
        _SEEN.prune(tx, name, change.last_update - self.overlap - self.overlap)
        _CURSORS.write(tx, name, change.version, self._clock())

    # -- polling --------------------------------------------------------------------------
    def poll(self, engine: Engine) -> FusionPollReport:
        """Read every resource's window, submit flows for new changes, advance the cursors.

        A resource that fails (a refusal, a lost connection) does not stop the others: its
        error is raised once every resource was polled."""
        report = FusionPollReport()
        failed: list[Exception] = []
        for resource in self.resources:
            try:
                self._poll_resource(engine, resource, report)
            except Exception as exc:  # re-raised below, once the others ran
                # one collection refused (say the integration user lacks crmRestApi access)
                # must not starve the others: each cursor only ever moves with its own changes
                failed.append(exc)
        if failed:
            raise failed[0]
        return report

    def _query(self, resource: FusionResource, since: datetime) -> Query:
        stamp = Cond(_STAMP, ">", since.astimezone(timezone.utc))
        fields: tuple[str, ...] = ()
        if resource.fields:
            extra = (resource.key, _STAMP, "LastUpdatedBy")
            fields = tuple(dict.fromkeys((*resource.fields, *extra)))
        return Query(
            q=q_and(stamp, resource.q) if resource.q else stamp,
            order_by=((_STAMP, "asc"), (resource.key, "asc")),
            fields=fields,
            limit=self.page_size,
        )

    def _read_changes(self, resource: FusionResource, since: datetime) -> list[FusionChange]:
        changes: list[FusionChange] = []
        http = self.fusion.client.http
        if resource.api != _FSCM:  # the same origin and credentials, another API root
            http = crm_http(http)
        for raw in http.iterate(resource.name, self._query(resource, since)):
            stamp = _parse(raw.get(_STAMP))
            key = raw.get(resource.key)
            if stamp is None or key is None or stamp <= since:
                continue  # not a change in the window (or a row without the audit columns)
            changes.append(FusionChange(resource.name, str(key), stamp, raw))
        # pages may overlap when records change between two pages: one entry per version
        unique = {(c.key, c.version): c for c in changes}
        return sorted(unique.values(), key=lambda c: (c.last_update, c.key))

    def _poll_resource(
        self, engine: Engine, resource: FusionResource, report: FusionPollReport
    ) -> None:
        store = engine.store
        name = self.cursor_name(resource.name)
        cursor = self.cursor(store, resource.name)
        since = (
            cursor - self.overlap if cursor is not None else self._clock() - self.initial_lookback
        )
        changes = self._read_changes(resource, since)
        report.read += len(changes)
        handled = self._seen(store, name, changes)
        for change in changes:
            mark = f"{change.key}@{change.version}"
            if mark in handled:  # read before (overlap)
                report.already_known += 1
                continue
            handled.add(mark)
            flow = None
            if change.last_updated_by in self.own_users:
                report.own += 1
            else:
                flow = self._submit(engine, resource, name, change)
                if flow is None:
                    report.ignored += 1
            if flow is None:
                with store.transaction() as tx:  # nothing submitted: just move past it
                    self._advance(tx, name, change)
            else:
                report.submitted.append(flow.flow_id)
        report.cursors[resource.name] = self.cursor(store, resource.name)

    def _submit(
        self, engine: Engine, resource: FusionResource, name: str, change: FusionChange
    ) -> FlowRecord | None:
        def checkpoint(tx: LedgerTransaction, _flow: FlowRecord) -> None:
            self._advance(tx, name, change)

        for handler in resource.handlers:
            flow = handler(engine, change, checkpoint=checkpoint)
            if flow is not None:
                return flow
        return None


def fusion_cursor_positions(tx: LedgerTransaction, now: datetime) -> list[StreamPosition]:
    """``paysync status``: each Fusion change cursor, the newest change handled, when it moved
    (the lag is the time since then, as for the other streams)."""
    return _CURSORS.positions(tx, "fusion-polling", now)


register_stream_reporter(fusion_cursor_positions)
