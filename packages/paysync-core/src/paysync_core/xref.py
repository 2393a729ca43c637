"""The customer cross-reference table: one row per customer, its id in each system.

``paysync_customer_xref`` lives in the ledger's own database (SQLite or PostgreSQL), created
idempotently on first use through :meth:`~paysync_core.LedgerTransaction.execute`, so it is
backed up, migrated and shared between workers together with the ledger. Keyed by the
Salesforce Account id (the customer master, see USECASES.md use case 5); the PayTrace vault
customer id is unique too, so a PayTrace record can be traced back to its Account.

Writes are merges: a ``None`` argument keeps the stored value, so each step of the customer
sync fills in only the id it learnt, and repeating a step (after a lookup) is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ._errors import PaysyncError
from ._ledger import LedgerStore, LedgerTransaction

__all__ = ["XREF_TABLE", "CustomerXrefTable", "XrefConflictError", "XrefEntry"]

XREF_TABLE = "paysync_customer_xref"

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

    def get(self, salesforce_account_id: str) -> XrefEntry | None:
        with self._store.transaction() as tx:
            return self._get(tx, "salesforce_account_id", salesforce_account_id)

    def by_paytrace(self, paytrace_customer_id: str) -> XrefEntry | None:
        with self._store.transaction() as tx:
            return self._get(tx, "paytrace_customer_id", paytrace_customer_id)

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
