"""Input sources that push work into paysync (event streams)."""

from .salesforce_events import (
    ClosedWonOpportunities,
    CustomerAccounts,
    EventHandler,
    LedgerReplayStore,
    OrderCreated,
    SalesforceEventSource,
    salesforce_stream_positions,
)

__all__ = [
    "ClosedWonOpportunities",
    "CustomerAccounts",
    "EventHandler",
    "LedgerReplayStore",
    "OrderCreated",
    "SalesforceEventSource",
    "salesforce_stream_positions",
]
