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


def test_fusion_number_reads_its_row(store: LedgerStore) -> None:
    table = CustomerXrefTable(store)
    table.link("001A", fusion_account_number="SF-001A", fusion_party_id="77")
    entry = table.by_fusion("SF-001A")
    assert entry is not None
    assert entry.salesforce_account_id == "001A"
    assert table.by_fusion("SF-unknown") is None


def test_synced_state_merges_groups_and_names_its_flow(store: LedgerStore) -> None:
    table = CustomerXrefTable(store)
    assert table.synced("001A") is None
    address = {"street": "500 Main St.", "city": "Seattle", "country": "US"}
    first = table.record_synced(
        "001A", {"name": "Northwind", "billing_address": address, "email": None}, flow_id="f1"
    )
    assert first.content["billing_address"] == address
    # a Fusion flow holds no email: the stored one is kept
    table.record_synced("001A", {"name": "Northwind Ltd"}, flow_id="f2")
    state = table.synced("001A")
    assert state is not None
    assert state.flow_id == "f2"
    assert state.content == {"name": "Northwind Ltd", "billing_address": address, "email": None}
    with store.transaction() as tx:  # inside a caller's transaction (a flow's submit)
        table.record_synced("001A", {"email": "ap@northwind.example"}, flow_id="f3", tx=tx)
        inner = table.synced("001A", tx=tx)
    assert inner is not None
    assert inner.content["email"] == "ap@northwind.example"
    with pytest.raises(ValueError, match="salesforce_account_id: must not be empty"):
        table.record_synced(" ", {}, flow_id=None)
