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

__all__ = [
    "AckTracker",
    "CdcDecodeError",
    "ChangeEvent",
    "ChangeEventHeader",
    "Checkpointer",
    "CometdError",
    "CometdInvalidReplayError",
    "CometdSubscriber",
    "DeliveryTicket",
    "InMemoryReplayStore",
    "PlatformEvent",
    "PostgresReplayStore",
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
    "is_echo",
    "parse_salesforce_datetime",
    "schema_fields",
]
