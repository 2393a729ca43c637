"""The paysync web dashboard (``paysync serve``; needs the ``paysync-core[dashboard]`` extra).

Pages: overview, flow detail, dead-letter queue (retry/resolve), reconciliation reports, audit
chain status and one page per use case. Login required; CSRF on every action; a read-only
``viewer`` role. See ``DASHBOARD.md`` in the package for configuration and the security model.
"""

from ._app import create_app
from ._config import (
    AuthMode,
    CursorStatus,
    DashboardConfig,
    Role,
    StreamStatus,
    UseCaseInfo,
    User,
    load_config,
)
from ._paysync_toml import config_from_paysync

__all__ = [
    "AuthMode",
    "CursorStatus",
    "DashboardConfig",
    "Role",
    "StreamStatus",
    "UseCaseInfo",
    "User",
    "config_from_paysync",
    "create_app",
    "load_config",
]
