"""Pub/Sub error codes (the ``error-code`` trailer) and the typed errors the client raises.

The codes are Salesforce's (handling-errors guide); the emulator sends the same ones, so the
client's classification is exercised against the real strings.
"""

from __future__ import annotations

from salesforce_bridge._errors import SalesforceBridgeError

__all__ = [
    "AUTH_ERROR",
    "REPLAY_ID_CORRUPTED",
    "REPLAY_ID_VALIDATION_FAILED",
    "REQUESTED_EVENTS_INVALID",
    "SERVICE_UNAVAILABLE",
    "PubSubAuthError",
    "PubSubConnectionError",
    "PubSubError",
    "PubSubInvalidReplayError",
    "PubSubSchemaError",
]

_PREFIX = "sfdc.platform.eventbus.grpc."
REPLAY_ID_CORRUPTED = _PREFIX + "subscription.fetch.replayid.corrupted"
REPLAY_ID_VALIDATION_FAILED = _PREFIX + "subscription.fetch.replayid.validation.failed"
REQUESTED_EVENTS_INVALID = _PREFIX + "subscription.fetch.requested.events.invalid"
SERVICE_UNAVAILABLE = _PREFIX + "service.unavailable"
AUTH_ERROR = _PREFIX + "service.auth.error"


class PubSubError(SalesforceBridgeError):
    """A Pub/Sub RPC failed: gRPC ``status`` name, Salesforce ``error_code`` trailer, ``rpc_id``."""

    def __init__(
        self, message: str, *, status: str = "", error_code: str = "", rpc_id: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.rpc_id = rpc_id


class PubSubAuthError(PubSubError):
    """The access token was refused, still after one credential refresh."""


class PubSubConnectionError(PubSubError):
    """The stream kept failing (drops, ``service.unavailable``) past the retry budget."""


class PubSubInvalidReplayError(PubSubError):
    """The replay id to resume from is unknown or past retention (or CUSTOM without one).

    Never handled silently: choose a fallback (EARLIEST or LATEST) and resubscribe.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str,
        replay_id: bytes,
        status: str = "",
        error_code: str = "",
        rpc_id: str = "",
    ) -> None:
        super().__init__(message, status=status, error_code=error_code, rpc_id=rpc_id)
        self.topic = topic
        self.replay_id = replay_id


class PubSubSchemaError(PubSubError):
    """An event payload could not be encoded or decoded with its Avro schema."""
