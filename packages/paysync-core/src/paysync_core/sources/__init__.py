"""Input sources that push work into paysync (event streams) or are polled (Fusion changes)."""

from .fusion_changes import (
    FusionChange,
    FusionChangeHandler,
    FusionChangePoller,
    FusionPollReport,
    FusionResource,
    fusion_change,
    fusion_cursor_positions,
)
from .salesforce_events import (
    BillingContacts,
    ClosedWonOpportunities,
    CustomerAccounts,
    EventHandler,
    LedgerReplayStore,
    OrderCreated,
    SalesforceEventSource,
    salesforce_stream_positions,
)

__all__ = [
    "BillingContacts",
    "ClosedWonOpportunities",
    "CustomerAccounts",
    "EventHandler",
    "FusionChange",
    "FusionChangeHandler",
    "FusionChangePoller",
    "FusionPollReport",
    "FusionResource",
    "LedgerReplayStore",
    "OrderCreated",
    "SalesforceEventSource",
    "fusion_change",
    "fusion_cursor_positions",
    "salesforce_stream_positions",
]
