"""The customer cross-reference table on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from paysync_core import LedgerStore
from paysync_core.xref import CustomerXrefTable, XrefConflictError


def test_link_merges_ids_and_reads_both_ways(store: LedgerStore) -> None:
    table = CustomerXrefTable(store)
    CustomerXrefTable(store)  # creating the table again is harmless
    assert table.get("001A") is None
    first = table.link("001A", paytrace_customer_id="sf-001A")
    assert (first.paytrace_customer_id, first.fusion_account_number) == ("sf-001A", None)
    moment = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    merged = table.link("001A", fusion_account_number="1008", fusion_party_id="1008", now=moment)
    assert merged.paytrace_customer_id == "sf-001A"  # kept: None means "unchanged"
    assert (merged.fusion_account_number, merged.fusion_party_id) == ("1008", "1008")
    assert merged.updated_at.startswith("2026-03-01T12:00:00")
    assert table.get("001A") == merged
    assert table.by_paytrace("sf-001A") == merged
    assert table.by_paytrace("sf-unknown") is None


def test_a_vault_id_belongs_to_one_account(store: LedgerStore) -> None:
    table = CustomerXrefTable(store)
    table.link("001A", paytrace_customer_id="shared")
    with pytest.raises(XrefConflictError, match="paytrace_customer_id: 'shared' belongs to"):
        table.link("001B", paytrace_customer_id="shared")
    assert table.get("001B") is None


def test_first_link_wins(store: LedgerStore) -> None:
    table = CustomerXrefTable(store)
    table.link("001A", fusion_account_number="1008")
    table.link("001A", fusion_account_number="1008")  # the same id again is fine
    with pytest.raises(XrefConflictError, match="fusion_account_number: Account 001A is linked"):
        table.link("001A", fusion_account_number="1004")
    entry = table.get("001A")
    assert entry is not None
    assert entry.fusion_account_number == "1008"


def test_empty_account_id_is_refused(store: LedgerStore) -> None:
    with pytest.raises(ValueError, match="salesforce_account_id: must not be empty"):
        CustomerXrefTable(store).link("  ")
