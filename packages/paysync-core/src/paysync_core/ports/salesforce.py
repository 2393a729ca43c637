"""Salesforce port: records upserted by external id and found again by querying it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from paysync_core import NeedsHumanError
from salesforce_bridge import SalesforceBridge

__all__ = ["SalesforcePort"]


def _wire(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Salesforce's JSON has no decimal type: currency fields travel as JSON numbers. Money is
    ``Decimal`` up to this edge; at most two places, so the float round-trips exactly."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in fields.items()}


class SalesforcePort:
    def __init__(self, bridge: SalesforceBridge) -> None:
        self.bridge = bridge

    def upsert(
        self, sobject: str, external_field: str, external_id: str, fields: Mapping[str, Any]
    ) -> str:
        """Upsert by external id (safe to repeat); returns the record id."""
        result = self.bridge.upsert(sobject, external_field, external_id, _wire(fields))
        if result.id:
            return str(result.id)
        found = self.find_id(sobject, external_field, external_id)
        if found is None:  # pragma: no cover - an upsert that wrote nothing
            raise LookupError(f"{sobject} {external_field}={external_id} missing after upsert")
        return found

    def find_id(self, sobject: str, external_field: str, external_id: str) -> str | None:
        """Lookup by correlation: ``SELECT Id FROM <sobject> WHERE <field> = '<id>'``."""
        # sobject and field are code constants; the value is quoted by format_soql.
        soql = f"SELECT Id FROM {sobject} WHERE {external_field} = {{}} LIMIT 2"  # noqa: S608
        rows = list(self.bridge.query(soql, external_id))
        return str(rows[0]["Id"]) if rows else None

    def records(self, soql: str, *args: Any) -> list[dict[str, Any]]:
        """A SOQL query's rows (``args`` quoted into ``{}`` placeholders by the bridge)."""
        return [dict(row.fields) for row in self.bridge.query(soql, *args)]

    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Update one record by Id (safe to repeat: the same values again)."""
        [result] = self.bridge.update_many(sobject, [{"Id": record_id, **_wire(fields)}])
        if not result.success:
            errors = "; ".join(f"{e.code}: {e.message}" for e in result.errors)
            raise NeedsHumanError(f"{sobject} {record_id} not updated: {errors}")
