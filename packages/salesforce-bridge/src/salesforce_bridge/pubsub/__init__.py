"""The Salesforce Pub/Sub API (gRPC) client: typed events, flow control, reconnects, publishing.

Stubs are generated from ``_proto/pubsub_api.proto`` at build time (``hatch_build.py``);
see ``EVENTS.md`` in the package for the behaviour and the emulator.
"""

from ._client import (
    PublishOutcome,
    PubSubClient,
    ReplayStart,
    Schema,
    TopicInfo,
    error_from_rpc,
    is_auth_error,
)
from ._credentials import CredentialsProvider, PubSubCredentials, credentials_from_grant
from ._errors import (
    AUTH_ERROR,
    REPLAY_ID_CORRUPTED,
    REPLAY_ID_VALIDATION_FAILED,
    REQUESTED_EVENTS_INVALID,
    SERVICE_UNAVAILABLE,
    PubSubAuthError,
    PubSubConnectionError,
    PubSubError,
    PubSubInvalidReplayError,
    PubSubSchemaError,
)
from ._subscription import MAX_BATCH, PubSubSubscription

__all__ = [
    "AUTH_ERROR",
    "MAX_BATCH",
    "REPLAY_ID_CORRUPTED",
    "REPLAY_ID_VALIDATION_FAILED",
    "REQUESTED_EVENTS_INVALID",
    "SERVICE_UNAVAILABLE",
    "CredentialsProvider",
    "PubSubAuthError",
    "PubSubClient",
    "PubSubConnectionError",
    "PubSubCredentials",
    "PubSubError",
    "PubSubInvalidReplayError",
    "PubSubSchemaError",
    "PubSubSubscription",
    "PublishOutcome",
    "ReplayStart",
    "Schema",
    "TopicInfo",
    "credentials_from_grant",
    "error_from_rpc",
    "is_auth_error",
]
