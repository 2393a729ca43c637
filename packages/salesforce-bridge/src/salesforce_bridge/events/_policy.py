"""What happens when a stored replay id is refused: typed reports and the fallback policy.

Salesforce refuses a replay id that is unknown or past retention (CometD
``400::The replayId {..} you provided was invalid``, Pub/Sub ``...replayid.corrupted`` /
``...replayid.validation.failed``). That is never handled silently: an
:class:`InvalidReplayEvent` is reported, then the configured :class:`InvalidReplayPolicy`
applies. ``FAIL`` raises :class:`InvalidReplayError`; ``EARLIEST`` resubscribes from the
oldest retained event (the dedup window drops what this subscription already delivered);
``LATEST`` resubscribes for new events only and reports the events it skipped as a
:class:`ReplayGap`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone

from salesforce_bridge._errors import SalesforceBridgeError

from ._models import Transport

__all__ = [
    "InvalidReplayError",
    "InvalidReplayEvent",
    "InvalidReplayPolicy",
    "ReplayGap",
]


class InvalidReplayPolicy(enum.Enum):
    """The fallback after a refused replay id."""

    FAIL = "fail"
    EARLIEST = "earliest"
    LATEST = "latest"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class InvalidReplayEvent:
    """A subscription's replay id was refused by the server."""

    channel: str
    transport: Transport
    replay_id: bytes | None
    """The refused position (opaque bytes; CometD ids as 8 big-endian bytes)."""
    error: str
    """Salesforce's error: the CometD ``400::...`` string or the Pub/Sub ``error-code``."""
    policy: InvalidReplayPolicy
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class ReplayGap:
    """Events lost by a ``LATEST`` fallback: everything after ``after`` and before ``before``.

    ``before`` is the first event delivered after the fallback (exclusive bound of the gap).
    Reconcile the range by other means (a query on ``LastModifiedDate``, for example).
    """

    channel: str
    after: bytes | None
    before: bytes
    detected_at: datetime
    resumed_at: datetime = field(default_factory=_now)


class InvalidReplayError(SalesforceBridgeError):
    """Raised under :attr:`InvalidReplayPolicy.FAIL`; ``report`` says what was refused."""

    def __init__(self, report: InvalidReplayEvent) -> None:
        position = report.replay_id.hex() if report.replay_id is not None else "none"
        super().__init__(
            f"{report.channel}: replay id {position} refused over {report.transport} "
            f"({report.error})"
        )
        self.report = report
