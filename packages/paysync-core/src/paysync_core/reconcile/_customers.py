"""One customer key across the three systems, through the ledger's cross-reference table.

PayTrace names a customer by its vault id, Fusion by the customer account number,
Salesforce by the Account id; fuzzy rules that compare customers need one value. The
Salesforce Account id is the customer master (``paysync_core.xref``), so every system's id
is mapped to it. The table holds one row per customer (far fewer than transactions), so it
is read once into memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from paysync_core._ledger import LedgerStore
from paysync_core.xref import XREF_TABLE, CustomerXrefTable

__all__ = ["CustomerKeys", "customer_keys"]


@dataclass(frozen=True)
class CustomerKeys:
    """Per system, its customer id -> the Salesforce Account id."""

    paytrace: dict[str, str] = field(default_factory=dict[str, str])
    fusion: dict[str, str] = field(default_factory=dict[str, str])
    salesforce: dict[str, str] = field(default_factory=dict[str, str])

    def mapper(self, system: str) -> Callable[[str], str]:
        """The key of one system's customer id. An id the table does not know keeps its
        value, prefixed by the system (``paytrace:V-17``), so two systems' unrelated ids can
        never compare equal."""
        table: dict[str, str] = getattr(self, system)

        def key(value: str) -> str:
            if not value:
                return ""
            return table.get(value) or f"{system}:{value}"

        return key


def customer_keys(store: LedgerStore) -> CustomerKeys:
    """Read the cross-reference table of ``store`` (created if absent)."""
    CustomerXrefTable(store)  # creates the table on first use
    keys = CustomerKeys()
    with store.transaction() as tx:
        rows = tx.execute(
            f"SELECT salesforce_account_id, paytrace_customer_id, fusion_account_number "  # noqa: S608
            f"FROM {XREF_TABLE}"
        )
    for account, vault, fusion_account in rows:
        account_id = str(account)
        keys.salesforce[account_id] = account_id
        if vault is not None:
            keys.paytrace[str(vault)] = account_id
        if fusion_account is not None:
            # Several Accounts may share one Fusion account; the first one read wins.
            keys.fusion.setdefault(str(fusion_account), account_id)
    return keys
