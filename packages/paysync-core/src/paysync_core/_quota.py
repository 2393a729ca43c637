"""Shared API-call budgets per external system (per minute and per UTC day).

Workers draw one unit from every window of a step's system before each call (perform or
lookup), in a ledger transaction, so all workers on the ledger share one budget. When a window
is spent the flow parks until that window ends and resumes from its ledger state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ._errors import ConfigurationError
from ._ledger import LedgerStore
from ._model import format_ts

__all__ = ["Quota", "QuotaUsage", "QuotaWindow", "quota_usage"]


@dataclass(frozen=True)
class QuotaWindow:
    span: str
    start: datetime
    end: datetime
    limit: int


@dataclass(frozen=True)
class Quota:
    """Calls allowed to one system: ``per_minute`` and/or ``per_day`` (UTC days)."""

    per_minute: int | None = None
    per_day: int | None = None

    def __post_init__(self) -> None:
        for limit in (self.per_minute, self.per_day):
            if limit is not None and limit < 1:
                raise ConfigurationError("quota limits must be at least 1")

    def windows(self, now: datetime) -> list[QuotaWindow]:
        """The windows ``now`` falls in, shortest first."""
        found: list[QuotaWindow] = []
        if self.per_minute is not None:
            start = now.replace(second=0, microsecond=0)
            found.append(
                QuotaWindow("minute", start, start + timedelta(minutes=1), self.per_minute)
            )
        if self.per_day is not None:
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            found.append(QuotaWindow("day", start, start + timedelta(days=1), self.per_day))
        return found


@dataclass(frozen=True)
class QuotaUsage:
    """How much of one quota window is spent (the "nearly spent" signal alerts watch)."""

    system: str
    span: str
    used: int
    limit: int
    resets_at: datetime

    @property
    def fraction(self) -> float:
        return self.used / self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def quota_usage(store: LedgerStore, quotas: Mapping[str, Quota], now: datetime) -> list[QuotaUsage]:
    """Usage of every current window of ``quotas`` as recorded in the shared ledger."""
    found: list[QuotaUsage] = []
    with store.transaction() as tx:
        for system in sorted(quotas):
            for window in quotas[system].windows(now):
                rows = tx.execute(
                    "SELECT used FROM quota_usage WHERE system = ? AND span = ?"
                    " AND window_start = ?",
                    (system, window.span, format_ts(window.start)),
                )
                used = int(str(rows[0][0])) if rows else 0
                found.append(QuotaUsage(system, window.span, used, window.limit, window.end))
    return found
