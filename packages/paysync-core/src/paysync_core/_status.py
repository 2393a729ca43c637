"""What ``paysync status`` shows: flows by use case and state, open dead letters, quota left,
and the position of every input stream (Salesforce replay checkpoints, PayTrace cursors).

Input sources register a :data:`StreamReporter` so the status of a stream is read from the same
ledger the workers use, without the status code knowing each source's tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ._ledger import LedgerStore, LedgerTransaction
from ._quota import Quota, QuotaUsage, quota_usage

__all__ = [
    "StatusReport",
    "StreamPosition",
    "StreamReporter",
    "collect_status",
    "register_stream_reporter",
    "stream_positions",
    "stream_reporters",
]


@dataclass(frozen=True)
class StreamPosition:
    """Where one input stream stands: its checkpoint and how far behind it is."""

    kind: str  # "salesforce-events", "paytrace-polling", ...
    name: str  # channel or cursor name
    position: str  # replay id (hex) or cursor value
    updated_at: datetime | None = None
    lag_seconds: float | None = None


#: Reads stream positions inside a ledger transaction; returns [] when its tables are absent.
StreamReporter = Callable[[LedgerTransaction, datetime], list[StreamPosition]]
_REPORTERS: list[StreamReporter] = []


def stream_positions(
    kind: str, rows: Iterable[Sequence[object]], now: datetime
) -> list[StreamPosition]:
    """The positions of ``rows`` ``(name, position, updated_at ISO text)`` read by a reporter;
    the lag is the time since the position last moved."""
    positions: list[StreamPosition] = []
    for name, position, updated in rows:
        at = datetime.fromisoformat(str(updated))
        positions.append(
            StreamPosition(
                kind=kind,
                name=str(name),
                position=str(position),
                updated_at=at,
                lag_seconds=max(0.0, (now - at).total_seconds()),
            )
        )
    return positions


def register_stream_reporter(reporter: StreamReporter) -> None:
    if reporter not in _REPORTERS:
        _REPORTERS.append(reporter)


def stream_reporters() -> tuple[StreamReporter, ...]:
    """Every registered reporter (input sources register theirs when imported)."""
    return tuple(_REPORTERS)


@dataclass(frozen=True)
class StatusReport:
    flows: Mapping[str, Mapping[str, int]]  # use case -> state -> count
    open_dead_letters: int
    quotas: Sequence[QuotaUsage]
    streams: Sequence[StreamPosition] = field(default_factory=tuple[StreamPosition, ...])

    def as_json(self) -> dict[str, object]:
        return {
            "flows": {uc: dict(states) for uc, states in self.flows.items()},
            "open_dead_letters": self.open_dead_letters,
            "quotas": [
                {
                    "system": q.system,
                    "span": q.span,
                    "used": q.used,
                    "limit": q.limit,
                    "remaining": q.remaining,
                    "resets_at": q.resets_at.isoformat(),
                }
                for q in self.quotas
            ],
            "streams": [
                {
                    "kind": s.kind,
                    "name": s.name,
                    "position": s.position,
                    "updated_at": s.updated_at.isoformat() if s.updated_at else None,
                    "lag_seconds": s.lag_seconds,
                }
                for s in self.streams
            ],
        }


def collect_status(
    store: LedgerStore,
    *,
    quotas: Mapping[str, Quota] | None = None,
    now: datetime,
    reporters: Sequence[StreamReporter] | None = None,
) -> StatusReport:
    flows: dict[str, dict[str, int]] = {}
    streams: list[StreamPosition] = []
    with store.transaction() as tx:
        for use_case, state, count in tx.execute(
            "SELECT use_case, state, COUNT(*) FROM flows GROUP BY use_case, state"
            " ORDER BY use_case, state"
        ):
            flows.setdefault(str(use_case), {})[str(state)] = int(str(count))
        rows = tx.execute("SELECT COUNT(*) FROM dead_letters WHERE status = 'open'")
        open_dead_letters = int(str(rows[0][0])) if rows else 0
        for reporter in _REPORTERS if reporters is None else reporters:
            streams.extend(reporter(tx, now))
    usage = quota_usage(store, quotas, now) if quotas else []
    return StatusReport(flows, open_dead_letters, usage, tuple(streams))
