"""Use case 5: reading deleted Salesforce records (``queryAll``), for deleted Contacts.

``query`` never returns a deleted record; ``queryAll`` also reads the recycle bin
(``IsDeleted = true``, ``SystemModstamp`` = the deletion time), with the field values the
record had. That is how a deleted Contact still names its Account: a Contact change event
of type ``DELETE`` carries ``recordIds`` only, and a poll by ``LastModifiedDate`` never sees
the delete at all.

:class:`QueryAllPort` is a :class:`~paysync_core.ports.SalesforcePort` whose
:meth:`~QueryAllPort.records` reads through ``queryAll`` (``SalesforceBridge.query(...,
include_deleted=True)``, with the bridge's retries and error translation), so a polling
source can read deleted rows as it reads live ones. Everything else (writes) is the ordinary
port.
"""

from __future__ import annotations

from typing import Any

from paysync_core.ports import SalesforcePort
from salesforce_bridge import SalesforceBridge

__all__ = ["QueryAllPort"]


class QueryAllPort(SalesforcePort):
    """A Salesforce port whose SOQL reads include deleted records (``queryAll``)."""

    def __init__(self, bridge: SalesforceBridge) -> None:
        super().__init__(bridge)

    def records(self, soql: str, *args: Any) -> list[dict[str, Any]]:
        """The rows of ``soql`` (``{}`` placeholders quoted by the bridge), deleted included."""
        return [dict(r.fields) for r in self.bridge.query(soql, *args, include_deleted=True)]

    def __repr__(self) -> str:
        return f"QueryAllPort(bridge={self.bridge!r})"
