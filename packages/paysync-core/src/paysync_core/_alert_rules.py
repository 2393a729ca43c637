"""Alert rules: what counts as an incident worth telling a human about.

A rule looks at the shared ledger (never at one process's memory, so every worker sees the same
incidents) and returns one :class:`Alert` per incident that is firing *now*. The ``key`` of an
alert names the incident: as long as a rule keeps returning the same key it is the same
incident, and :class:`~paysync_core.AlertManager` delivers it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ._audit import AuditTrail
from ._errors import AuditVerificationError, ConfigurationError
from ._ledger import LedgerStore
from ._model import DeadLetterStatus, format_ts, parse_ts
from ._quota import Quota, quota_usage
from ._redact import redact, redact_text

__all__ = [
    "Alert",
    "AlertContext",
    "AlertRule",
    "AuditVerificationRule",
    "DeadLetterRule",
    "ErrorRateRule",
    "LagRule",
    "QuotaNearlySpentRule",
]


@dataclass(frozen=True)
class Alert:
    """One incident. ``summary`` and ``details`` are redacted on creation (no secrets, PANs)."""

    rule: str
    key: str
    severity: str
    summary: str
    at: datetime
    details: Mapping[str, object] = field(default_factory=dict[str, object])

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ConfigurationError("alert time must be an aware datetime")
        object.__setattr__(self, "summary", redact_text(self.summary))
        cleaned = redact(dict(self.details))
        object.__setattr__(self, "details", cleaned if isinstance(cleaned, dict) else {})

    @property
    def title(self) -> str:
        return f"[paysync {self.severity}] {self.summary}"

    def text(self) -> str:
        """Plain text: title, then one ``name: value`` line per detail."""
        lines = [self.title, f"rule: {self.rule}", f"at: {format_ts(self.at)}"]
        lines += [f"{name}: {value}" for name, value in sorted(self.details.items())]
        return "\n".join(lines)


@dataclass(frozen=True)
class AlertContext:
    store: LedgerStore
    now: datetime


class AlertRule(Protocol):
    """Returns the alerts firing now; ``name`` groups its incidents."""

    @property
    def name(self) -> str: ...

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]: ...


@dataclass(frozen=True)
class DeadLetterRule:
    """Every open dead-letter entry is an incident (a retried entry that fails again reopens)."""

    severity: str = "critical"
    name: str = "dead_letter"

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
        with ctx.store.transaction() as tx:
            entries = tx.list_dead_letters(DeadLetterStatus.OPEN)
        return [
            Alert(
                rule=self.name,
                key=f"dead_letter:{entry.entry_id}",
                severity=self.severity,
                summary=f"flow {entry.flow_id} dead-lettered at step {entry.step_name}"
                f" ({entry.reason})",
                at=ctx.now,
                details={
                    "entry_id": entry.entry_id,
                    "flow_id": entry.flow_id,
                    "step": entry.step_name,
                    "reason": entry.reason,
                    "last_error": entry.last_error or "",
                    "occurrences": entry.occurrences,
                },
            )
            for entry in entries
        ]


@dataclass(frozen=True)
class ErrorRateRule:
    """Dead-lettered / finished flows over the last ``window`` above ``threshold``.

    Needs at least ``min_flows`` finished flows in the window, so one failure on a quiet night
    is the dead-letter rule's business, not this one's.
    """

    threshold: float = 0.1
    window: timedelta = timedelta(minutes=15)
    min_flows: int = 10
    severity: str = "critical"
    name: str = "error_rate"

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1 or self.min_flows < 1:
            raise ConfigurationError("threshold must be in (0, 1] and min_flows at least 1")

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
        with ctx.store.transaction() as tx:
            rows = tx.execute(
                "SELECT state, COUNT(*) FROM flows WHERE updated_at >= ?"
                " AND state IN ('succeeded', 'dead') GROUP BY state",
                (format_ts(ctx.now - self.window),),
            )
        counts = {str(state): int(str(count)) for state, count in rows}
        dead, finished = counts.get("dead", 0), sum(counts.values())
        if finished < self.min_flows or dead / finished < self.threshold:
            return []
        rate = dead / finished
        return [
            Alert(
                rule=self.name,
                key=self.name,
                severity=self.severity,
                summary=f"error rate {rate:.0%} over the last {self.window}"
                f" (threshold {self.threshold:.0%})",
                at=ctx.now,
                details={"dead": dead, "finished": finished, "rate": round(rate, 4)},
            )
        ]


@dataclass(frozen=True)
class LagRule:
    """The oldest unfinished flow (pending, running or parked) is older than ``max_lag``."""

    max_lag: timedelta = timedelta(minutes=15)
    severity: str = "warning"
    name: str = "lag"

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
        with ctx.store.transaction() as tx:
            rows = tx.execute(
                "SELECT MIN(created_at), COUNT(*) FROM flows WHERE state IN ('pending', 'running')"
            )
        oldest, backlog = rows[0] if rows else (None, 0)
        if oldest is None:
            return []
        lag = ctx.now - parse_ts(str(oldest))
        if lag <= self.max_lag:
            return []
        return [
            Alert(
                rule=self.name,
                key=self.name,
                severity=self.severity,
                summary=f"backlog lag {lag} exceeds {self.max_lag}",
                at=ctx.now,
                details={"lag_seconds": round(lag.total_seconds(), 3), "backlog": backlog},
            )
        ]


@dataclass(frozen=True)
class QuotaNearlySpentRule:
    """A quota window of a system is at least ``threshold`` spent (one incident per system
    and span while consecutive windows stay over it)."""

    quotas: Mapping[str, Quota]
    threshold: float = 0.9
    severity: str = "warning"
    name: str = "quota"

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ConfigurationError("threshold must be in (0, 1]")

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
        return [
            Alert(
                rule=self.name,
                key=f"quota:{usage.system}:{usage.span}",
                severity=self.severity,
                summary=f"{usage.system} {usage.span} quota {usage.fraction:.0%} spent"
                f" ({usage.used}/{usage.limit})",
                at=ctx.now,
                details={
                    "system": usage.system,
                    "span": usage.span,
                    "used": usage.used,
                    "limit": usage.limit,
                    "resets_at": format_ts(usage.resets_at),
                },
            )
            for usage in quota_usage(ctx.store, self.quotas, ctx.now)
            if usage.fraction >= self.threshold
        ]


@dataclass(frozen=True)
class AuditVerificationRule:
    """The audit chain does not verify (edit, deletion, reordering, or a head mismatch)."""

    expected_head: str | None = None
    severity: str = "critical"
    name: str = "audit"

    def evaluate(self, ctx: AlertContext) -> Sequence[Alert]:
        try:
            AuditTrail(ctx.store).verify(expected_head=self.expected_head)
        except AuditVerificationError as exc:
            return [
                Alert(
                    rule=self.name,
                    key=self.name,
                    severity=self.severity,
                    summary="audit trail verification failed",
                    at=ctx.now,
                    details={"error": str(exc), "seq": exc.seq if exc.seq is not None else ""},
                )
            ]
        return []
