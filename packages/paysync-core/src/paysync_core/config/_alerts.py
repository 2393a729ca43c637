"""Alert rules and sinks from ``[alerts]`` in ``paysync.toml``."""

from __future__ import annotations

from datetime import timedelta

from paysync_core._alert_rules import (
    AlertRule,
    AuditVerificationRule,
    DeadLetterRule,
    ErrorRateRule,
    LagRule,
    QuotaNearlySpentRule,
)
from paysync_core._alert_sinks import EmailSink, WebhookSink
from paysync_core._alerts import AlertManager, AlertSink
from paysync_core._ledger import LedgerStore
from paysync_core._quota import Quota

from ._models import AlertsSection, PaysyncConfig
from ._secrets import SecretResolver

__all__ = ["build_alert_manager", "build_alert_rules", "build_alert_sinks", "config_quotas"]


def config_quotas(config: PaysyncConfig) -> dict[str, Quota]:
    """``[quota.<system>]`` as the engine's :class:`~paysync_core.Quota` objects."""
    return {
        system: Quota(per_minute=section.per_minute, per_day=section.daily)
        for system, section in config.quota.items()
    }


def build_alert_rules(section: AlertsSection, quotas: dict[str, Quota]) -> list[AlertRule]:
    rules: list[AlertRule] = []
    if section.rules.dead_letter:
        rules.append(DeadLetterRule())
    if section.rules.error_rate is not None:
        rate = section.rules.error_rate
        rules.append(
            ErrorRateRule(
                threshold=rate.threshold,
                window=timedelta(minutes=rate.window_minutes),
                min_flows=rate.min_flows,
            )
        )
    if section.rules.lag is not None:
        rules.append(LagRule(max_lag=timedelta(minutes=section.rules.lag.max_lag_minutes)))
    if section.rules.quota is not None and quotas:
        rules.append(QuotaNearlySpentRule(quotas=quotas, threshold=section.rules.quota.threshold))
    if section.rules.audit:
        rules.append(AuditVerificationRule())
    return rules


def build_alert_sinks(section: AlertsSection, resolver: SecretResolver) -> list[AlertSink]:
    sinks: list[AlertSink] = []
    for index, hook in enumerate(section.webhooks):
        url = resolver.resolve(hook.url).get_secret_value()
        sinks.append(WebhookSink(url, style=hook.style, name=f"webhook-{index + 1}"))
    if section.email is not None:
        email = section.email
        sinks.append(
            EmailSink(
                host=email.host,
                port=email.port,
                sender=email.sender,
                recipients=list(email.recipients),
                security=email.security,
                username=resolver.resolve(email.username).get_secret_value()
                if email.username
                else None,
                password=resolver.resolve(email.password).get_secret_value()
                if email.password
                else None,
            )
        )
    return sinks


def build_alert_manager(
    config: PaysyncConfig, store: LedgerStore, resolver: SecretResolver | None = None
) -> AlertManager:
    resolver = resolver or SecretResolver()
    return AlertManager(
        store,
        build_alert_rules(config.alerts, config_quotas(config)),
        build_alert_sinks(config.alerts, resolver),
    )
