"""Evaluating alert rules and delivering each incident once per sink.

De-duplication lives in the ledger (``alert_incidents``), not in memory: an incident is claimed
per sink with an ``INSERT ... ON CONFLICT DO NOTHING`` in one transaction, so any number of
processes evaluating the same rules deliver one alert per incident and sink. The claim is
dropped when the incident stops firing (a new occurrence later is a new incident) and when the
delivery fails (the next evaluation retries it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ._alert_rules import Alert, AlertContext, AlertRule
from ._errors import ConfigurationError
from ._ledger import LedgerStore, LedgerTransaction
from ._model import format_ts, utc_now
from ._redact import redact_text

__all__ = ["AlertDelivery", "AlertManager", "AlertReport", "AlertSink"]

log = logging.getLogger("paysync_core.alerts")


class AlertSink(Protocol):
    """Delivers an alert somewhere (raise on failure; the manager retries next time)."""

    @property
    def name(self) -> str: ...

    def send(self, alert: Alert) -> None: ...


@dataclass(frozen=True)
class AlertDelivery:
    sink: str
    alert: Alert
    error: str | None = None


@dataclass
class AlertReport:
    """What one :meth:`AlertManager.evaluate` did."""

    firing: list[Alert] = field(default_factory=list[Alert])
    """Every alert the rules returned (new and already-delivered incidents)."""
    delivered: list[AlertDelivery] = field(default_factory=list[AlertDelivery])
    failed: list[AlertDelivery] = field(default_factory=list[AlertDelivery])
    rule_errors: dict[str, str] = field(default_factory=dict[str, str])


class AlertManager:
    """Runs ``rules`` against the ledger and sends new incidents to every sink.

    Call :meth:`evaluate` periodically (e.g. after each ``run_pending`` or once a minute from a
    scheduler). A rule that raises is reported in :attr:`AlertReport.rule_errors` and its open
    incidents are kept (a failing check must not look like a recovery).
    """

    def __init__(
        self,
        store: LedgerStore,
        rules: Sequence[AlertRule],
        sinks: Sequence[AlertSink],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"alert rule names must be unique: {names}")
        sink_names = [sink.name for sink in sinks]
        if len(set(sink_names)) != len(sink_names):
            raise ConfigurationError(f"alert sink names must be unique: {sink_names}")
        self._store = store
        self._rules = list(rules)
        self._sinks = list(sinks)
        self._clock = clock

    def evaluate(self) -> AlertReport:
        now = self._clock()
        ctx = AlertContext(store=self._store, now=now)
        report = AlertReport()
        evaluated: list[str] = []
        for rule in self._rules:
            try:
                alerts = list(rule.evaluate(ctx))
            except Exception as exc:  # one broken rule must not silence the others
                report.rule_errors[rule.name] = redact_text(f"{type(exc).__name__}: {exc}")
                log.warning("alert rule %s failed: %s", rule.name, report.rule_errors[rule.name])
                continue
            evaluated.append(rule.name)
            report.firing.extend(alerts)
        claimed = self._claim(report.firing, evaluated, now)
        for sink, alert in claimed:
            try:
                sink.send(alert)
            except Exception as exc:  # delivery is retried on the next evaluation
                error = redact_text(f"{type(exc).__name__}: {exc}")
                report.failed.append(AlertDelivery(sink.name, alert, error))
                log.warning("alert %s not delivered to %s: %s", alert.key, sink.name, error)
                self._unclaim(sink.name, alert.key)
                continue
            report.delivered.append(AlertDelivery(sink.name, alert))
            log.info("alert %s delivered to %s", alert.key, sink.name)
        return report

    def _claim(
        self, firing: Sequence[Alert], evaluated: Sequence[str], now: datetime
    ) -> list[tuple[AlertSink, Alert]]:
        claimed: list[tuple[AlertSink, Alert]] = []
        keys = {alert.key for alert in firing}
        with self._store.transaction() as tx:
            for sink in self._sinks:
                for alert in firing:
                    if _insert_claim(tx, sink.name, alert, now):
                        claimed.append((sink, alert))
                for rule in evaluated:  # incidents that stopped firing are closed
                    rows = tx.execute(
                        "SELECT dedup_key FROM alert_incidents WHERE sink = ? AND rule = ?",
                        (sink.name, rule),
                    )
                    for (key,) in rows:
                        if key not in keys:
                            tx.execute(
                                "DELETE FROM alert_incidents WHERE sink = ? AND dedup_key = ?",
                                (sink.name, key),
                            )
        return claimed

    def _unclaim(self, sink: str, key: str) -> None:
        with self._store.transaction() as tx:
            tx.execute("DELETE FROM alert_incidents WHERE sink = ? AND dedup_key = ?", (sink, key))


def _insert_claim(tx: LedgerTransaction, sink: str, alert: Alert, now: datetime) -> bool:
    rows = tx.execute(
        "INSERT INTO alert_incidents (sink, dedup_key, rule, opened_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (sink, dedup_key) DO NOTHING RETURNING dedup_key",
        (sink, alert.key, alert.rule, format_ts(now)),
    )
    return bool(rows)
