"""``paysync status`` sees the PayTrace export cursors (one per set of use cases reading them).

Registered as a :data:`~paysync_core._status.StreamReporter` when :mod:`paysync_core.app` is
imported; the lag is the time since the cursor last moved, as for Salesforce channels.
"""

from __future__ import annotations

from datetime import datetime

from paysync_core import LedgerTransaction
from paysync_core._status import StreamPosition, register_stream_reporter
from paysync_core.usecases._paytrace_poller import PAYTRACE_CURSORS

__all__ = ["paytrace_cursor_positions"]


def paytrace_cursor_positions(tx: LedgerTransaction, now: datetime) -> list[StreamPosition]:
    """Each PayTrace export cursor: the newest record handled, and when it moved."""
    return PAYTRACE_CURSORS.positions(tx, "paytrace-polling", now)


register_stream_reporter(paytrace_cursor_positions)
