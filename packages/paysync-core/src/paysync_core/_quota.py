"""Shared API-call budgets per external system (per minute and per UTC day).

Workers draw one unit from every window of a step's system before each call (perform or
lookup), in a ledger transaction, so all workers on the ledger share one budget. When a window
is spent the flow parks until that window ends and resumes from its ledger state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ._errors import ConfigurationError

__all__ = ["Quota", "QuotaWindow"]


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
