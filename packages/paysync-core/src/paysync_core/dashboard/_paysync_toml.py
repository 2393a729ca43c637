"""The dashboard from ``paysync.toml``: its ``[dashboard]`` section plus the workers' settings.

One file for workers and dashboard means the dashboard reads the ledger, the quota budgets and
the use case options the workers run with. The session key is a secret reference resolved by
:class:`~paysync_core.config.SecretResolver`; the file never holds the key itself.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from paysync_core import ConfigurationError
from paysync_core.config import PaysyncConfig, SecretResolver, config_quotas
from paysync_core.config import load_config as load_paysync_config

from ._config import AuthMode, DashboardConfig, Role, User

__all__ = ["config_from_paysync", "load_paysync_toml"]


def config_from_paysync(
    config: PaysyncConfig, *, resolver: SecretResolver | None = None
) -> DashboardConfig:
    """The :class:`DashboardConfig` of a validated ``paysync.toml`` with a ``[dashboard]``."""
    section = config.dashboard
    if section is None:
        raise ConfigurationError("dashboard: the configuration has no [dashboard] section")
    secret = ""
    if section.secret_key is not None:
        try:
            secret = (resolver or SecretResolver()).resolve(section.secret_key).get_secret_value()
        except ConfigurationError as exc:
            raise ConfigurationError(f"dashboard.secret_key: {exc}") from None
    return DashboardConfig(
        ledger_url=config.ledger.url,
        schema=config.ledger.db_schema,
        secret_key=secret,
        users={
            name: User(name, user.password_hash, Role(user.role))
            for name, user in section.users.items()
        },
        auth_mode=AuthMode(section.auth_mode),
        proxy_user_header=section.proxy_user_header,
        secure_cookies=section.secure_cookies,
        same_site=section.same_site,
        reports_dir=None if section.reports_dir is None else Path(section.reports_dir),
        quotas=config_quotas(config),
        links=dict(section.links),
        poll_seconds=section.poll_seconds,
        usecase_options={
            name: {"enabled": usecase.enabled, **usecase.options()}
            for name, usecase in config.usecases.items()
        },
    )


def load_paysync_toml(path: Path, *, resolver: SecretResolver | None = None) -> DashboardConfig:
    """Validate ``path`` as ``paysync.toml`` (use case options included) and build the config."""
    importlib.import_module("paysync_core.app")  # registers the use case options validated here

    return config_from_paysync(load_paysync_config(path), resolver=resolver)
