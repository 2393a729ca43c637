"""``paysync status`` sees the PayTrace export cursors (one per set of use cases reading them).

Registered as a :data:`~paysync_core._status.StreamReporter` when :mod:`paysync_core.app` is
imported; the lag is the time since the cursor last moved, as for Salesforce channels.
"""

from __future__ import annotations

from datetime import datetime

from paysync_core import LedgerTransaction
from paysync_core._status import StreamPosition, register_stream_reporter
from paysync_core.usecases._paytrace_poller import (
    _CREATE,  # pyright: ignore[reportPrivateUsage] - the poller owns its tables
    _TABLE,  # pyright: ignore[reportPrivateUsage]
)

__all__ = ["paytrace_cursor_positions"]


def paytrace_cursor_positions(tx: LedgerTransaction, now: datetime) -> list[StreamPosition]:
    """Each PayTrace export cursor: the newest record handled, and when it moved."""
    for statement in _CREATE:  # absent before the first poll: report nothing, not an error
        tx.execute(statement)
    positions: list[StreamPosition] = []
    for name, position, updated in tx.execute(
        f"SELECT name, position, updated_at FROM {_TABLE} ORDER BY name"  # noqa: S608
    ):
        at = datetime.fromisoformat(str(updated))
        positions.append(
            StreamPosition(
                kind="paytrace-polling",
                name=str(name),
                position=str(position),
                updated_at=at,
                lag_seconds=max(0.0, (now - at).total_seconds()),
            )
        )
    return positions


register_stream_reporter(paytrace_cursor_positions)
