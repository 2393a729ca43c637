"""Platform Events and Change Data Capture: replay checkpoints, CDC decoding, subscribers.

Work in progress (issue 6); see ``EVENTS.md`` in the package for what works today.
"""

from ._cdc import (
    CdcDecodeError,
    ChangeEventHeader,
    SchemaField,
    change_origin_client,
    decode_field_bitmaps,
    encode_field_bitmaps,
    is_echo,
    schema_fields,
)
from ._cometd import CometdError, CometdInvalidReplayError, CometdSubscriber
from ._dedup import DedupWindow, event_keys
from ._lease import (
    ConsumerLease,
    FileLease,
    LeaseLostError,
    PostgresAdvisoryLease,
    lease_id,
)
from ._models import (
    ChangeEvent,
    PlatformEvent,
    SalesforceEvent,
    Transport,
    cometd_replay_bytes,
    cometd_replay_int,
    event_from_cometd,
    event_from_pubsub,
    parse_salesforce_datetime,
)
from ._policy import InvalidReplayError, InvalidReplayEvent, InvalidReplayPolicy, ReplayGap
from ._replay import (
    AckTracker,
    Checkpointer,
    DeliveryTicket,
    InMemoryReplayStore,
    ReplayStore,
    TransactionalReplayStore,
)
from ._replay_postgres import PostgresReplayStore
from ._replay_sqlite import SqliteReplayStore
from ._subscribe import Delivery, EventSubscription, subscribe

__all__ = [
    "AckTracker",
    "CdcDecodeError",
    "ChangeEvent",
    "ChangeEventHeader",
    "Checkpointer",
    "CometdError",
    "CometdInvalidReplayError",
    "CometdSubscriber",
    "ConsumerLease",
    "DedupWindow",
    "Delivery",
    "DeliveryTicket",
    "EventSubscription",
    "FileLease",
    "InMemoryReplayStore",
    "InvalidReplayError",
    "InvalidReplayEvent",
    "InvalidReplayPolicy",
    "LeaseLostError",
    "PlatformEvent",
    "PostgresAdvisoryLease",
    "PostgresReplayStore",
    "ReplayGap",
    "ReplayStore",
    "SalesforceEvent",
    "SchemaField",
    "SqliteReplayStore",
    "TransactionalReplayStore",
    "Transport",
    "change_origin_client",
    "cometd_replay_bytes",
    "cometd_replay_int",
    "decode_field_bitmaps",
    "encode_field_bitmaps",
    "event_from_cometd",
    "event_from_pubsub",
    "event_keys",
    "is_echo",
    "lease_id",
    "parse_salesforce_datetime",
    "schema_fields",
    "subscribe",
]
