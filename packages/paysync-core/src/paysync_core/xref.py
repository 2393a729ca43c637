"""The customer cross-reference table: one row per customer, its id in each system.

``paysync_customer_xref`` lives in the ledger's own database (SQLite or PostgreSQL), created
idempotently on first use through :meth:`~paysync_core.LedgerTransaction.execute`, so it is
backed up, migrated and shared between workers together with the ledger. Keyed by the
Salesforce Account id (the customer master, see USECASES.md use case 5); the PayTrace vault
customer id is unique too, so a PayTrace record can be traced back to its Account.

Writes are merges: a ``None`` argument keeps the stored value, so each step of the customer
sync fills in only the id it learnt, and repeating a step (after a lookup) is harmless.

``paysync_customer_synced`` holds, per Account, the content paysync last made consistent
across the three systems (the canonical name, billing address and email, see
:func:`paysync_core.mapping.customer_groups`) and the flow that did it. It is written in the
transaction that submits that flow, so a change read later from any system is compared with
it: equal means nothing changed there (or it is paysync's own write coming back: no flow in
the other direction), different means a new flow, and it is the base the conflict rule uses
to tell which side changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from ._errors import PaysyncError
from ._ledger import LedgerStore, LedgerTransaction
from ._model import FlowState

__all__ = [
    "SYNCED_TABLE",
    "XREF_TABLE",
    "CustomerXrefTable",
    "SyncedState",
    "XrefConflictError",
    "XrefEntry",
]

XREF_TABLE = "paysync_customer_xref"
SYNCED_TABLE = "paysync_customer_synced"
_SYNCED_DDL = (
    f"CREATE TABLE IF NOT EXISTS {SYNCED_TABLE} ("
    " salesforce_account_id TEXT PRIMARY KEY,"
    " content TEXT NOT NULL,"
    " flow_id TEXT,"
    " updated_at TEXT NOT NULL)"
)
_SYNCED_UPSERT = (
    "INSERT INTO paysync_customer_synced (salesforce_account_id, content, flow_id, updated_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (salesforce_account_id) DO UPDATE SET "
    "content = excluded.content, flow_id = excluded.flow_id, updated_at = excluded.updated_at"
)

_DDL = (
    f"CREATE TABLE IF NOT EXISTS {XREF_TABLE} ("
    " salesforce_account_id TEXT PRIMARY KEY,"
    " paytrace_customer_id TEXT UNIQUE,"
    " fusion_account_number TEXT,"
    " fusion_party_id TEXT,"
    " updated_at TEXT NOT NULL)"
)
_COLUMNS = (
    "salesforce_account_id, paytrace_customer_id, fusion_account_number, fusion_party_id, "
    "updated_at"
)

# ON CONFLICT ... DO UPDATE is the same statement on SQLite (>= 3.24) and PostgreSQL; a NULL
# argument keeps the stored value.
_UPSERT = (
    "INSERT INTO paysync_customer_xref (salesforce_account_id, paytrace_customer_id, "
    "fusion_account_number, fusion_party_id, updated_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (salesforce_account_id) DO UPDATE SET "
    "paytrace_customer_id = COALESCE(excluded.paytrace_customer_id, "
    "paysync_customer_xref.paytrace_customer_id), "
    "fusion_account_number = COALESCE(excluded.fusion_account_number, "
    "paysync_customer_xref.fusion_account_number), "
    "fusion_party_id = COALESCE(excluded.fusion_party_id, paysync_customer_xref.fusion_party_id), "
    "updated_at = excluded.updated_at"
)


class XrefConflictError(PaysyncError, ValueError):
    """A link contradicts the table: the first link wins, a different id needs a human."""


@dataclass(frozen=True)
class XrefEntry:
    salesforce_account_id: str
    paytrace_customer_id: str | None
    fusion_account_number: str | None
    fusion_party_id: str | None
    updated_at: str


@dataclass(frozen=True)
class SyncedState:
    """What paysync last made consistent for one Account, and the flow that did it."""

    salesforce_account_id: str
    content: Mapping[str, Any]
    flow_id: str | None
    updated_at: str


def _entry(row: tuple[object, ...]) -> XrefEntry:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return XrefEntry(str(row[0]), text(row[1]), text(row[2]), text(row[3]), str(row[4]))


class CustomerXrefTable:
    """Reads and merges cross-reference rows; the table is created on construction."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        with store.transaction() as tx:
            tx.execute(_DDL)
            tx.execute(_SYNCED_DDL)

    def get(self, salesforce_account_id: str) -> XrefEntry | None:
        with self._store.transaction() as tx:
            return self._get(tx, "salesforce_account_id", salesforce_account_id)

    def by_paytrace(self, paytrace_customer_id: str) -> XrefEntry | None:
        with self._store.transaction() as tx:
            return self._get(tx, "paytrace_customer_id", paytrace_customer_id)

    def by_fusion(self, fusion_account_number: str) -> XrefEntry | None:
        """The row of a Fusion customer account number (the first one if several)."""
        with self._store.transaction() as tx:
            rows = tx.execute(
                f"SELECT {_COLUMNS} FROM {XREF_TABLE} WHERE fusion_account_number = ? "  # noqa: S608
                "ORDER BY salesforce_account_id LIMIT 1",
                (fusion_account_number,),
            )
        return _entry(rows[0]) if rows else None

    # -- the synced state ---------------------------------------------------------------
    def synced(
        self, salesforce_account_id: str, *, tx: LedgerTransaction | None = None
    ) -> SyncedState | None:
        if tx is None:
            with self._store.transaction() as own:
                return self.synced(salesforce_account_id, tx=own)
        rows = tx.execute(
            f"SELECT salesforce_account_id, content, flow_id, updated_at FROM {SYNCED_TABLE} "  # noqa: S608
            "WHERE salesforce_account_id = ?",
            (salesforce_account_id,),
        )
        if not rows:
            return None
        row = rows[0]
        content = cast(dict[str, Any], json.loads(str(row[1])))
        flow_id = None if row[2] is None else str(row[2])
        return SyncedState(str(row[0]), content, flow_id, str(row[3]))

    def flow_state(self, flow_id: str) -> FlowState | None:
        """The state of a flow of this ledger (``None``: unknown id)."""
        with self._store.transaction() as tx:
            flow = tx.get_flow(flow_id)
        return None if flow is None else flow.state

    def record_synced(
        self,
        salesforce_account_id: str,
        content: Mapping[str, Any],
        *,
        flow_id: str | None,
        tx: LedgerTransaction | None = None,
        now: datetime | None = None,
    ) -> SyncedState:
        """Merge ``content`` (field group -> canonical value) into the Account's synced state;
        groups not named keep their value. ``tx``: inside the caller's transaction (the one
        submitting ``flow_id``)."""
        if not salesforce_account_id.strip():
            raise ValueError("salesforce_account_id: must not be empty")
        if tx is None:
            with self._store.transaction() as own:
                return self.record_synced(
                    salesforce_account_id, content, flow_id=flow_id, tx=own, now=now
                )
        current = self.synced(salesforce_account_id, tx=tx)
        merged = {**(current.content if current else {}), **content}
        moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat()
        text = json.dumps(merged, sort_keys=True, default=str)
        tx.execute(_SYNCED_UPSERT, (salesforce_account_id, text, flow_id, moment))
        return SyncedState(salesforce_account_id, merged, flow_id, moment)

    def link(
        self,
        salesforce_account_id: str,
        *,
        paytrace_customer_id: str | None = None,
        fusion_account_number: str | None = None,
        fusion_party_id: str | None = None,
        now: datetime | None = None,
    ) -> XrefEntry:
        """Insert or merge the row of ``salesforce_account_id``; returns the stored row."""
        if not salesforce_account_id.strip():
            raise ValueError("salesforce_account_id: must not be empty")
        moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat()
        sql = _UPSERT
        params: tuple[str, str | None, str | None, str | None, str] = (
            salesforce_account_id,
            paytrace_customer_id,
            fusion_account_number,
            fusion_party_id,
            moment,
        )
        with self._store.transaction() as tx:
            self._check(tx, salesforce_account_id, params[1:4])
            tx.execute(sql, params)
            stored = self._get(tx, "salesforce_account_id", salesforce_account_id)
        assert stored is not None  # written in this very transaction
        return stored

    def _check(self, tx: LedgerTransaction, account_id: str, ids: tuple[str | None, ...]) -> None:
        current = self._get(tx, "salesforce_account_id", account_id)
        names = ("paytrace_customer_id", "fusion_account_number", "fusion_party_id")
        if current is not None:
            stored = (
                current.paytrace_customer_id,
                current.fusion_account_number,
                current.fusion_party_id,
            )
            for name, new, old in zip(names, ids, stored, strict=True):
                if new is not None and old is not None and new != old:
                    raise XrefConflictError(
                        f"{name}: Account {account_id} is linked to {old!r}, not {new!r}"
                    )
        if ids[0] is not None:
            owner = self._get(tx, "paytrace_customer_id", ids[0])
            if owner is not None and owner.salesforce_account_id != account_id:
                raise XrefConflictError(
                    f"paytrace_customer_id: {ids[0]!r} belongs to Account "
                    f"{owner.salesforce_account_id}"
                )

    @staticmethod
    def _get(tx: LedgerTransaction, column: str, value: str) -> XrefEntry | None:
        # column is one of two code constants, never input.
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM {XREF_TABLE} WHERE {column} = ?",  # noqa: S608
            (value,),
        )
        return _entry(rows[0]) if rows else None
