"""Salesforce change events as a paysync input source (use cases 1 and 5).

:class:`SalesforceEventSource` drains a :func:`salesforce_bridge.events.subscribe`
subscription (Pub/Sub or CometD) and hands each event to its handlers, which submit flows.
The replay checkpoint lives in the ledger (:class:`LedgerReplayStore`) and is written **in the
transaction that records the flow** (the engine's ``checkpoint`` hook, through the store's
``save_in`` seam): either the flow is recorded and the stream has moved past its event, or
neither. After a crash the event comes again and submitting it again returns the existing flow
(flows are keyed by record and version), so a Closed Won opportunity makes exactly one flow.

An event that submits several flows commits its replay id with the last of them. A handler
that submits nothing leaves the checkpoint to the source, which writes it in its own ledger
transaction.
:func:`salesforce_stream_positions` is registered as a status ``StreamReporter``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from paysync_core import ConfigurationError, Engine, FlowRecord, LedgerStore, LedgerTransaction
from paysync_core._engine import SubmitHook
from paysync_core._status import StreamPosition, register_stream_reporter, stream_positions
from paysync_core.ports import SalesforcePort
from paysync_core.usecases.customer_sync import CustomerSync
from paysync_core.usecases.order_to_cash import OrderToCash
from salesforce_bridge.events import (
    ChangeEvent,
    Delivery,
    EventSubscription,
    PlatformEvent,
    SalesforceEvent,
)

__all__ = [
    "OPPORTUNITY_BY_ID_SOQL",
    "ORDER_BY_ID_SOQL",
    "BillingContacts",
    "ClosedWonOpportunities",
    "CustomerAccounts",
    "EventHandler",
    "LedgerReplayStore",
    "OrderCreated",
    "SalesforceEventSource",
    "salesforce_stream_positions",
]

_log = logging.getLogger(__name__)
#: How the use case 1 handlers read the announced record (one ``{}`` for the Id); the app
#: adds the fields the use case's options read (``custom_fields``, ``payment_method_field``).
OPPORTUNITY_BY_ID_SOQL = (
    "SELECT Id, Name, StageName, CloseDate, Amount, AccountId FROM Opportunity WHERE Id = {}"
)
ORDER_BY_ID_SOQL = (
    "SELECT Id, AccountId, OpportunityId, OrderNumber, Status, EffectiveDate, "
    "TotalAmount FROM Order WHERE Id = {}"
)
_TABLE = "paysync_replay_checkpoints"
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
    "channel TEXT PRIMARY KEY, replay_id TEXT NOT NULL, updated_at TEXT NOT NULL)"
)
_RELEVANT = {"CREATE", "UPDATE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_UNDELETE"}
_DELETES = {"DELETE", "GAP_DELETE"}


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LedgerReplayStore:
    """Replay checkpoints in the ledger (``paysync_replay_checkpoints``; ids stored as hex).

    A ``salesforce_bridge`` ``TransactionalReplayStore`` whose connection is a
    :class:`~paysync_core.LedgerTransaction`: :meth:`save_in` writes inside the caller's
    ledger transaction, on SQLite and PostgreSQL ledgers alike.
    """

    def __init__(self, ledger: LedgerStore, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.ledger = ledger
        self._clock = clock

    def load(self, channel: str) -> bytes | None:
        with self.ledger.transaction() as tx:
            tx.execute(_CREATE)
            rows = tx.execute(f"SELECT replay_id FROM {_TABLE} WHERE channel = ?", (channel,))  # noqa: S608
        return bytes.fromhex(str(rows[0][0])) if rows else None

    def save(self, channel: str, replay_id: bytes) -> None:
        with self.ledger.transaction() as tx:
            self.save_in(tx, channel, replay_id)

    def save_in(self, connection: LedgerTransaction, channel: str, replay_id: bytes) -> None:
        """Upsert the checkpoint inside ``connection`` (a ledger transaction); it commits it."""
        connection.execute(_CREATE)
        connection.execute(
            f"INSERT INTO {_TABLE} (channel, replay_id, updated_at) VALUES (?, ?, ?) "  # noqa: S608
            "ON CONFLICT (channel) DO UPDATE SET replay_id = excluded.replay_id, "
            "updated_at = excluded.updated_at",
            (channel, bytes(replay_id).hex(), self._clock().isoformat()),
        )

    def clear(self, channel: str) -> None:
        with self.ledger.transaction() as tx:
            tx.execute(_CREATE)
            tx.execute(f"DELETE FROM {_TABLE} WHERE channel = ?", (channel,))  # noqa: S608

    def __repr__(self) -> str:
        return f"LedgerReplayStore(ledger={type(self.ledger).__name__})"


def salesforce_stream_positions(tx: LedgerTransaction, now: datetime) -> list[StreamPosition]:
    """The ``StreamReporter`` of Salesforce event channels: each channel's checkpoint."""
    tx.execute(_CREATE)  # absent before the first subscription: report nothing, not an error
    rows = tx.execute(
        f"SELECT channel, replay_id, updated_at FROM {_TABLE} "  # noqa: S608
        "WHERE channel NOT LIKE ? ORDER BY channel",
        ("%#dedup",),  # persisted dedup windows are not streams
    )
    return stream_positions("salesforce-events", rows, now)


register_stream_reporter(salesforce_stream_positions)


class EventHandler(Protocol):
    """Submits the flows an event calls for; runs ``checkpoint`` in the submitting transaction
    (pass it to ``Engine.submit``) or leaves it to the source. Returns the flows submitted."""

    def __call__(
        self, engine: Engine, event: SalesforceEvent, /, *, checkpoint: SubmitHook
    ) -> Sequence[FlowRecord]: ...


def _last_carries(checkpoint: SubmitHook, index: int, count: int) -> SubmitHook | None:
    # Only the event's last submission commits its replay id: a crash between two
    # submissions redelivers the event, and the first submission is then a no-op.
    return checkpoint if index == count - 1 else None


def _change(event: SalesforceEvent, entity: str) -> ChangeEvent | None:
    if not isinstance(event, ChangeEvent) or event.header.entity_name != entity:
        return None
    return event if event.header.change_type in _RELEVANT else None


class ClosedWonOpportunities:
    """Use case 1: an Opportunity that is (now) Closed Won -> ``OrderToCash.submit_opportunity``.

    Change events carry only the changed fields, so the full record is read through the
    Salesforce port (``soql`` with one ``{}`` for the Id). Updates that do not touch
    ``StageName``, and events whose ``StageName`` is another stage, are skipped unread.
    """

    def __init__(
        self,
        order_to_cash: OrderToCash,
        salesforce: SalesforcePort,
        *,
        soql: str = OPPORTUNITY_BY_ID_SOQL,
    ) -> None:
        self.order_to_cash = order_to_cash
        self.salesforce = salesforce
        self.soql = soql

    def __call__(
        self, engine: Engine, event: SalesforceEvent, /, *, checkpoint: SubmitHook
    ) -> list[FlowRecord]:
        change = _change(event, "Opportunity")
        if change is None:
            return []
        header = change.header
        if header.change_type == "UPDATE" and "StageName" not in header.changed_fields:
            return []
        stage = change.payload.get("StageName")
        if stage is not None and stage != self.order_to_cash.config.closed_won_stage:
            return []
        records = [
            record
            for record_id in header.record_ids
            for record in self.salesforce.records(self.soql, record_id)
            if record.get("StageName") == self.order_to_cash.config.closed_won_stage
        ]
        flows: list[FlowRecord] = []
        for index, record in enumerate(records):
            flow = self.order_to_cash.submit_opportunity(
                engine, record, checkpoint=_last_carries(checkpoint, index, len(records))
            )
            if flow is not None:
                flows.append(flow)
        return flows


class OrderCreated:
    """Use case 1: a created Salesforce ``Order`` -> ``OrderToCash.submit_order``.

    Two announcements are understood, on their own channels: the ``CREATE`` change event of
    ``/data/OrderChangeEvent`` (its ``recordIds``) and the ``Order_Event__e`` platform event
    (its ``Order_ID__c``). Both read the full Order through the port (``soql`` with one ``{}``
    for the Id), and both submit the flow keyed by the Order id: the same Order announced
    both ways makes one flow. Orders no longer readable (deleted) or without a total yet are
    skipped.
    """

    def __init__(
        self,
        order_to_cash: OrderToCash,
        salesforce: SalesforcePort,
        *,
        soql: str = ORDER_BY_ID_SOQL,
        platform_event: str = "Order_Event__e",
        order_id_field: str = "Order_ID__c",
    ) -> None:
        self.order_to_cash = order_to_cash
        self.salesforce = salesforce
        self.soql = soql
        self.platform_event = platform_event
        self.order_id_field = order_id_field

    def order_ids(self, event: SalesforceEvent) -> list[str]:
        """The Order ids an event announces as created (none for other events)."""
        if isinstance(event, PlatformEvent):
            if event.channel.rsplit("/", 1)[-1] != self.platform_event:
                return []
            order_id = event.payload.get(self.order_id_field)
            return [str(order_id)] if order_id else []
        change = _change(event, "Order")
        if change is None or change.header.change_type not in {"CREATE", "GAP_CREATE"}:
            return []
        return list(change.header.record_ids)

    def __call__(
        self, engine: Engine, event: SalesforceEvent, /, *, checkpoint: SubmitHook
    ) -> list[FlowRecord]:
        records = [
            record
            for order_id in self.order_ids(event)
            for record in self.salesforce.records(self.soql, order_id)
        ]
        flows: list[FlowRecord] = []
        for index, record in enumerate(records):
            flow = self.order_to_cash.submit_order(
                engine, record, checkpoint=_last_carries(checkpoint, index, len(records))
            )
            if flow is not None:
                flows.append(flow)
        return flows


class CustomerAccounts:
    """Use case 5: Account changes -> ``CustomerSync.submit_account`` (with its billing
    Contact).

    The Account is read through the port (``account_soql`` with one ``{}``); the Contact by
    ``contact_soql`` (first row) when given, else by the use case's billing-contact rule
    (:meth:`CustomerSync.billing_contact`). Deletes are not synced.
    """

    def __init__(
        self,
        customer_sync: CustomerSync,
        salesforce: SalesforcePort,
        *,
        account_soql: str,
        contact_soql: str | None = None,
    ) -> None:
        self.customer_sync = customer_sync
        self.salesforce = salesforce
        self.account_soql = account_soql
        self.contact_soql = contact_soql

    def __call__(
        self, engine: Engine, event: SalesforceEvent, /, *, checkpoint: SubmitHook
    ) -> list[FlowRecord]:
        change = _change(event, "Account")
        if change is None:
            return []
        pairs: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = []
        for record_id in change.header.record_ids:
            for account in self.salesforce.records(self.account_soql, record_id):
                pairs.append((account, self._contact(record_id)))
        return [
            self.customer_sync.submit_account(
                engine, account, contact, checkpoint=_last_carries(checkpoint, index, len(pairs))
            )
            for index, (account, contact) in enumerate(pairs)
        ]

    def _contact(self, account_id: str) -> Mapping[str, Any] | None:
        if self.contact_soql is None:
            return self.customer_sync.billing_contact(account_id)
        contacts = self.salesforce.records(self.contact_soql, account_id)
        return contacts[0] if contacts else None


class BillingContacts:
    """Use case 5: Contact changes (``/data/ContactChangeEvent``) -> the Account's sync.

    An e-mail edited on a Contact, a Contact created, or a Contact moved or (un)flagged as the
    billing contact can change what the Account syncs. The Contact's ``AccountId`` is read
    through the port (``contact_soql``, one ``{}``: the Contact id), then
    :meth:`CustomerSync.submit_contact_accounts` re-reads the Account and its billing contact.
    Updates touching none of ``fields`` (``Email``, ``AccountId``, and the configured flag)
    are skipped unread. A deleted Contact (``DELETE``: ``recordIds`` only) is read from the
    recycle bin (``queryAll``, :meth:`CustomerSync.deleted_contact_accounts`) for its
    ``AccountId``, and the Account syncs with its next billing contact (or none; deleting
    another Contact changes nothing synced). Echoes are harmless: the flow is keyed by the
    synced content, so paysync's own e-mail write-back returns the flow that made it.
    """

    def __init__(
        self,
        customer_sync: CustomerSync,
        salesforce: SalesforcePort,
        *,
        account_soql: str,
        contact_soql: str = "SELECT Id, AccountId FROM Contact WHERE Id = {}",
    ) -> None:
        self.customer_sync = customer_sync
        self.salesforce = salesforce
        self.account_soql = account_soql
        self.contact_soql = contact_soql
        flag = customer_sync.config.billing_contact.flag_field
        self.fields = frozenset({"Email", "AccountId", *([flag] if flag else [])})

    def __call__(
        self, engine: Engine, event: SalesforceEvent, /, *, checkpoint: SubmitHook
    ) -> list[FlowRecord]:
        deleted = self._deleted(event)
        if deleted:
            # the billing contact deleted: the Account syncs with the next one (or none)
            accounts = self.customer_sync.deleted_contact_accounts(deleted)
            return self.customer_sync.submit_contact_accounts(
                engine, accounts, account_soql=self.account_soql, checkpoint=checkpoint
            )
        change = _change(event, "Contact")
        if change is None:
            return []
        header = change.header
        if header.change_type == "UPDATE" and not self.fields & set(header.changed_fields):
            return []
        accounts = [
            str(row["AccountId"])
            for record_id in header.record_ids
            for row in self.salesforce.records(self.contact_soql, record_id)
            if row.get("AccountId")
        ]
        return self.customer_sync.submit_contact_accounts(
            engine, accounts, account_soql=self.account_soql, checkpoint=checkpoint
        )

    @staticmethod
    def _deleted(event: SalesforceEvent) -> list[str]:
        """The Contact ids a ``DELETE`` change event announces (none for other events)."""
        if not isinstance(event, ChangeEvent) or event.header.entity_name != "Contact":
            return []
        if event.header.change_type not in _DELETES:
            return []
        return list(event.header.record_ids)


class SalesforceEventSource:
    """A runner ``Source``: each :meth:`poll` drains up to ``max_events`` deliveries.

    The subscription's store must be a :class:`LedgerReplayStore` on the engine's ledger.
    """

    def __init__(
        self,
        subscription: EventSubscription,
        handlers: Sequence[EventHandler],
        *,
        name: str | None = None,
        max_events: int = 500,
        wait: float = 0.5,
    ) -> None:
        if not handlers:
            raise ConfigurationError("handlers: at least one event handler is needed")
        if not isinstance(subscription.store, LedgerReplayStore):
            raise ConfigurationError(
                "subscription.store: must be a LedgerReplayStore (the checkpoint commits with "
                f"the flow), got {type(subscription.store).__name__}"
            )
        self.subscription = subscription
        self.handlers = tuple(handlers)
        self.name = name or f"salesforce-events:{subscription.channel}"
        self.max_events = max_events
        self.wait = wait

    def poll(self, engine: Engine) -> int:
        """Handle the deliveries available now; return how many flows were submitted."""
        store = self.subscription.store
        if isinstance(store, LedgerReplayStore) and store.ledger is not engine.store:
            raise ConfigurationError("subscription.store: must use the engine's ledger")
        submitted = 0
        for delivery in self.subscription.fetch(self.max_events, timeout=self.wait):
            try:
                submitted += self._handle(engine, delivery)
            except BaseException:
                # A rolled-back transaction may have counted an event handled: start over
                # from the durable checkpoint (the failing event comes again next poll).
                self.subscription.rewind()
                raise
        return submitted

    def _handle(self, engine: Engine, delivery: Delivery) -> int:
        acked = False

        def checkpoint(tx: LedgerTransaction, _flow: FlowRecord) -> None:
            nonlocal acked
            delivery.ack_in(tx)  # handlers pass this to the event's last submission
            acked = True

        flows: list[FlowRecord] = []
        for handler in self.handlers:
            flows = list(handler(engine, delivery.event, checkpoint=checkpoint))
            if flows:
                break
        if not acked:  # nothing submitted (an event that calls for no flow)
            with engine.store.transaction() as tx:
                delivery.ack_in(tx)
        return len(flows)

    def close(self) -> None:
        self.subscription.close()

    def __repr__(self) -> str:
        return f"SalesforceEventSource(name={self.name!r}, handlers={len(self.handlers)})"
