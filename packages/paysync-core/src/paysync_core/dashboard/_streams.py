"""Input streams on the overview: the ledger's stream reporters plus any code-given status.

The Salesforce event source and the PayTrace export poller register a
:data:`~paysync_core._status.StreamReporter` (what ``paysync status`` shows); the dashboard
reads the same reporters, so their checkpoints and lag appear without any configuration.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime

from paysync_core import LedgerStore
from paysync_core._status import StreamPosition, StreamReporter, stream_reporters

from ._config import DashboardConfig
from ._present import safe_text

__all__ = ["registered_reporters", "stream_rows"]


def registered_reporters() -> tuple[StreamReporter, ...]:
    """Every reporter registered so far, after importing the sources that register one."""
    # importing them registers the PayTrace export cursors and the Salesforce replay checkpoints
    for module in ("paysync_core.app", "paysync_core.sources.salesforce_events"):
        importlib.import_module(module)
    return stream_reporters()


def _row(position: StreamPosition, lag_events: int | None = None) -> dict[str, object]:
    return {
        "kind": position.kind,
        "name": safe_text(position.name),
        "position": safe_text(position.position) or None,
        "updated_at": position.updated_at.isoformat() if position.updated_at else None,
        "lag_seconds": None if position.lag_seconds is None else round(position.lag_seconds, 1),
        "lag_events": lag_events,
    }


def _lag(now: datetime, at: datetime | None) -> float | None:
    return None if at is None else max(0.0, (now - at).total_seconds())


def stream_rows(
    store: LedgerStore,
    config: DashboardConfig,
    reporters: Sequence[StreamReporter],
    now: datetime,
) -> list[dict[str, object]]:
    """One row per stream: kind, name, position, when it moved and how far behind it is."""
    rows: list[dict[str, object]] = []
    if reporters:
        with store.transaction() as tx:
            for reporter in reporters:
                rows.extend(_row(p) for p in reporter(tx, now))
    for s in config.streams() if config.streams else ():
        at = s.checkpointed_at
        position = StreamPosition(
            "salesforce-events", s.channel, s.last_replay_id or "", at, _lag(now, at)
        )
        rows.append(_row(position, s.lag_events))
    for c in config.cursors() if config.cursors else ():
        at = c.advanced_at
        position = StreamPosition("paytrace-polling", c.name, c.position or "", at, _lag(now, at))
        rows.append(_row(position))
    return rows
