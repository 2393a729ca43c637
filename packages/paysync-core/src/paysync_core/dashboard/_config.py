"""Dashboard configuration: ledger, users, cookies, reports folder and status providers.

Loaded from a TOML file by :func:`load_config` (``paysync serve --config dashboard.toml``) or
built in code. Passwords are stored only as werkzeug hashes (``scrypt:``/``pbkdf2:``); a plain
password in the file is refused so a config file can never leak one.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from paysync_core import ConfigurationError, FlowDefinition, LedgerStore, Quota
from paysync_core._status import StreamReporter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

# Typed once here: on Python 3.10 the checker cannot see tomli's annotations.
_toml_loads = cast("Callable[[str], dict[str, Any]]", tomllib.loads)  # pyright: ignore[reportUnknownMemberType]

__all__ = [
    "AuthMode",
    "CursorStatus",
    "DashboardConfig",
    "Role",
    "StreamStatus",
    "UseCaseInfo",
    "User",
    "load_config",
]


class Role(str, enum.Enum):
    """``viewer`` reads everything; ``operator`` may also retry and resolve."""

    VIEWER = "viewer"
    OPERATOR = "operator"


class AuthMode(str, enum.Enum):
    PASSWORD = "password"  # noqa: S105 - a mode name, not a secret
    """Login form against the configured users."""
    PROXY = "proxy"
    """A reverse proxy authenticates and names the user in a header (it must strip that header
    from client requests); the user must still be configured, for their role."""


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: Role = Role.VIEWER

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigurationError("users: a user has an empty name")
        if self.password_hash and not self.password_hash.startswith(("scrypt:", "pbkdf2:")):
            raise ConfigurationError(
                f"users.{self.name}.password_hash: not a werkzeug scrypt/pbkdf2 hash "
                "(make one with `python -m paysync_core.dashboard.cli hash-password`)"
            )

    def __repr__(self) -> str:  # never show the hash
        return f"User(name={self.name!r}, role={self.role.value!r})"


@dataclass(frozen=True)
class StreamStatus:
    """One Salesforce event channel as the subscriber last checkpointed it."""

    channel: str
    last_replay_id: str | None
    checkpointed_at: datetime | None
    lag_events: int | None = None
    """Events published but not yet processed, when the subscriber knows it."""


@dataclass(frozen=True)
class CursorStatus:
    """A polling cursor (PayTrace transaction exports) and when it last advanced."""

    name: str
    position: str | None
    advanced_at: datetime | None


@dataclass(frozen=True)
class UseCaseInfo:
    """A use case as business users see it: its flow and the mapping rules in force."""

    definition: FlowDefinition
    description: str = ""
    rules: Mapping[str, object] = field(default_factory=dict[str, object])
    """Configuration that shapes the mapping (e.g. ``OrderToCashConfig().model_dump()``)."""


@dataclass(frozen=True)
class DashboardConfig:
    """Everything :func:`~paysync_core.dashboard.create_app` needs.

    ``secure_cookies`` ``None`` means: on, unless the server binds 127.0.0.1/localhost (dev).
    ``links`` maps a system (``paytrace``, ``fusion``, ``salesforce``) to a URL template with
    ``{id}`` used to link external ids on the flow page.
    """

    ledger: LedgerStore | None = None
    ledger_url: str = "paysync.db"
    schema: str = "paysync"
    secret_key: str = ""
    users: Mapping[str, User] = field(default_factory=dict[str, User])
    auth_mode: AuthMode = AuthMode.PASSWORD
    proxy_user_header: str = "X-Forwarded-User"
    secure_cookies: bool | None = None
    same_site: str = "Lax"
    reports_dir: Path | None = None
    quotas: Mapping[str, Quota] = field(default_factory=dict[str, Quota])
    use_cases: Sequence[UseCaseInfo] = ()
    links: Mapping[str, str] = field(default_factory=dict[str, str])
    streams: Callable[[], Sequence[StreamStatus]] | None = None
    cursors: Callable[[], Sequence[CursorStatus]] | None = None
    poll_seconds: float = 2.0
    include_registered: bool = True
    """List every use case of the registry (``paysync_core.app``) besides ``use_cases``."""
    usecase_options: Mapping[str, Mapping[str, Any]] = field(
        default_factory=dict[str, Mapping[str, Any]]
    )
    """The ``[usecases.<name>]`` tables of ``paysync.toml``: the rules in force."""
    stream_reporters: Sequence[StreamReporter] | None = None
    """Status reporters read for the overview's input streams; ``None``: every registered one
    (Salesforce replay checkpoints and PayTrace export cursors register themselves)."""

    def __post_init__(self) -> None:
        if self.same_site not in ("Lax", "Strict"):
            raise ConfigurationError("same_site: must be 'Lax' or 'Strict'")
        if self.poll_seconds <= 0:
            raise ConfigurationError("poll_seconds: must be positive")

    def __repr__(self) -> str:  # the secret key and users' hashes stay out of logs
        return f"DashboardConfig(ledger_url=<set>, users={sorted(self.users)!r})"


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigurationError(f"{key}: must be a table")
    return cast(Mapping[str, Any], value)


def load_config(path: Path) -> DashboardConfig:
    """Read ``paysync.toml`` (its ``[dashboard]`` section) or a standalone dashboard file.

    A file with a ``[dashboard]`` table is a ``paysync.toml``: it is validated whole and the
    ledger, quotas and use case options come from its ``[ledger]``, ``[quota.*]`` and
    ``[usecases.*]`` (see :func:`~paysync_core.dashboard.config_from_paysync`). Otherwise the
    file is the standalone form::

    ledger = "postgresql://paysync@db/paysync"
    secret_key_file = "/run/secrets/dashboard_key"
    reports_dir = "/var/lib/paysync/reports"
    auth_mode = "password"          # or "proxy"
    secure_cookies = true

    [users.alice]
    password_hash = "scrypt:32768:8:1$..."
    role = "operator"

    [quotas.paytrace]
    per_minute = 60
    """
    data = _toml_loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("dashboard"), dict):
        from ._paysync_toml import load_paysync_toml  # the whole paysync.toml machinery

        return load_paysync_toml(path)
    users: dict[str, User] = {}
    for name, entry in _table(data, "users").items():
        entry = cast(Mapping[str, Any], entry)
        role = str(entry.get("role", "viewer"))
        if role not in {r.value for r in Role}:
            raise ConfigurationError(f"users.{name}.role: must be 'viewer' or 'operator'")
        if "password" in entry:
            raise ConfigurationError(
                f"users.{name}.password: store password_hash, never a password"
            )
        users[name] = User(name, str(entry.get("password_hash", "")), Role(role))
    quotas = {
        system: Quota(
            per_minute=cast(Mapping[str, Any], q).get("per_minute"),
            per_day=cast(Mapping[str, Any], q).get("per_day"),
        )
        for system, q in _table(data, "quotas").items()
    }
    secret = str(data.get("secret_key", ""))
    secret_file = data.get("secret_key_file")
    if secret_file:
        secret = Path(str(secret_file)).read_text(encoding="utf-8").strip()
    mode = str(data.get("auth_mode", "password"))
    if mode not in {m.value for m in AuthMode}:
        raise ConfigurationError("auth_mode: must be 'password' or 'proxy'")
    reports = data.get("reports_dir")
    secure = data.get("secure_cookies")
    return DashboardConfig(
        ledger_url=str(data.get("ledger", "paysync.db")),
        schema=str(data.get("schema", "paysync")),
        secret_key=secret,
        users=users,
        auth_mode=AuthMode(mode),
        proxy_user_header=str(data.get("proxy_user_header", "X-Forwarded-User")),
        secure_cookies=None if secure is None else bool(secure),
        same_site=str(data.get("same_site", "Lax")),
        reports_dir=None if reports is None else Path(str(reports)),
        quotas=quotas,
        links={str(k): str(v) for k, v in _table(data, "links").items()},
    )
