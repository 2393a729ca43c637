"""The shape of ``paysync.toml``: typed, validated sections with sensible defaults.

Credentials are *references* to a secret provider (``env:NAME``, ``file:/path``,
``keyring:service/name``); a literal credential in the file is rejected.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from paysync_core._retry import RetryPolicy

__all__ = [
    "AlertRulesSection",
    "AlertsSection",
    "DashboardSection",
    "DashboardUserSection",
    "EmailSinkSection",
    "EngineSection",
    "ErrorRateRuleSection",
    "EventsSection",
    "FusionSection",
    "LagRuleSection",
    "LedgerSection",
    "PayTraceSection",
    "PaysyncConfig",
    "PollingSection",
    "QuotaRuleSection",
    "QuotaSection",
    "SalesforceSection",
    "SecretRef",
    "UseCaseSection",
    "WebhookSinkSection",
]

_SCHEMES = ("env", "file", "keyring")


def _secret_ref(value: str) -> str:
    scheme, sep, name = value.partition(":")
    # The message never repeats the value: a misplaced literal password must not be echoed.
    if not sep or not scheme or not name or not scheme.isidentifier():
        raise ValueError(
            "must be a secret reference like 'env:NAME', 'file:/path' or "
            "'keyring:service/name' (credentials never go in the config file; value hidden)"
        )
    return value


#: A reference to a secret, resolved at start-up by :class:`~paysync_core.config.SecretResolver`.
SecretRef = Annotated[str, AfterValidator(_secret_ref)]


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class LedgerSection(_Section):
    url: str = Field(default="paysync.db", description="SQLite file path or postgresql:// URL")
    db_schema: str = Field(
        default="paysync", alias="schema", description="PostgreSQL schema holding the ledger"
    )


class PayTraceSection(_Section):
    base_url: HttpUrl = Field(default="https://api.paytrace.com", description="API base URL")
    username: SecretRef = Field(description="API user name (secret reference)")
    password: SecretRef = Field(description="API password (secret reference)")
    integrator_id: SecretRef | None = Field(
        default=None, description="integrator id (secret reference)"
    )
    export_timezone: str = Field(
        default="America/Los_Angeles", description="time zone PayTrace uses in exports"
    )

    @field_validator("export_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)


class FusionSection(_Section):
    base_url: HttpUrl = Field(description="https://<pod>.fa.<dc>.oraclecloud.com")
    auth: Literal["basic", "jwt", "oauth"] = Field(
        default="basic", description="authentication scheme"
    )
    username: SecretRef | None = Field(default=None, description="user (basic, jwt subject)")
    password: SecretRef | None = Field(default=None, description="password (basic)")
    private_key: SecretRef | None = Field(default=None, description="PEM private key (jwt)")
    key_id: str | None = Field(default=None, description="certificate alias / kid (jwt)")
    issuer: str | None = Field(default=None, description="JWT issuer (jwt)")
    client_id: SecretRef | None = Field(default=None, description="IDCS client id (oauth)")
    client_secret: SecretRef | None = Field(default=None, description="IDCS client secret (oauth)")
    token_url: HttpUrl | None = Field(default=None, description="IDCS token endpoint (oauth)")
    scope: str | None = Field(default=None, description="IDCS scope (oauth)")


class EventsSection(_Section):
    transport: Literal["pubsub", "cometd", "poll"] = Field(
        default="pubsub",
        description="event transport (poll: SOQL every [polling] salesforce_interval_seconds)",
    )
    pubsub_endpoint: str = Field(
        default="api.pubsub.salesforce.com:7443", description="Pub/Sub API host:port"
    )
    channels: tuple[str, ...] = Field(
        default=("/data/OpportunityChangeEvent", "/data/AccountChangeEvent"),
        description="topics to subscribe to (use case 1: Opportunity, 5: Account; a use case "
        "whose topic is not listed polls)",
    )
    initial_replay: Literal["latest", "earliest"] = Field(
        default="latest", description="where a channel without a stored checkpoint starts"
    )
    on_invalid_replay: Literal["fail", "earliest", "latest"] = Field(
        default="fail", description="policy when the stored replay id is no longer valid"
    )


class SalesforceSection(_Section):
    login_url: HttpUrl = Field(default="https://login.salesforce.com", description="OAuth host")
    auth: Literal["password", "jwt", "client_credentials"] = Field(
        default="jwt", description="OAuth flow"
    )
    client_id: SecretRef = Field(description="connected app consumer key")
    client_secret: SecretRef | None = Field(default=None, description="consumer secret")
    username: SecretRef | None = Field(default=None, description="user (password, jwt)")
    password: SecretRef | None = Field(default=None, description="password + security token")
    private_key: SecretRef | None = Field(default=None, description="PEM private key (jwt)")
    api_version: str = Field(default="62.0", pattern=r"^\d+\.\d$", description="REST API version")
    events: EventsSection = Field(default_factory=EventsSection)


class EngineSection(_Section):
    workers: int = Field(default=8, ge=1, le=512, description="flows in flight at once")
    lease_ttl_seconds: float = Field(default=300, gt=0, description="a dead worker's lease expiry")
    max_attempts: int = Field(
        default=12, ge=1, le=100, description="attempts before dead-lettering"
    )
    retry_base_seconds: float = Field(
        default=1.0, ge=0, description="first retry's wait; each next one doubles (jittered)"
    )
    retry_max_delay_seconds: float = Field(
        default=300, ge=0, description="longest wait between two attempts"
    )
    idle_sleep_seconds: float = Field(
        default=1.0, gt=0, description="pause when nothing is pending"
    )

    def retry_policy(self, *, park_after: float) -> RetryPolicy:
        """The engine's retry policy. The defaults ride out an outage of about 20 minutes
        (waits 1, 2, 4 ... 256 s, then 300 s) before a flow is dead-lettered; waits longer than
        ``park_after`` park the flow instead of holding a worker thread."""
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=self.retry_base_seconds,
            max_delay=self.retry_max_delay_seconds,
            park_after=park_after,
        )


class QuotaSection(_Section):
    daily: int | None = Field(default=None, ge=1, description="calls per day")
    per_minute: int | None = Field(default=None, ge=1, description="calls per minute")


class PollingSection(_Section):
    paytrace_interval_seconds: float = Field(
        default=60, gt=0, description="PayTrace export polling"
    )
    paytrace_overlap_minutes: int = Field(
        default=15, ge=0, le=1440, description="re-read window for export lag"
    )
    fusion_interval_seconds: float = Field(default=300, gt=0, description="Fusion polling")
    salesforce_interval_seconds: float = Field(
        default=60, gt=0, description='Salesforce SOQL polling (events transport = "poll")'
    )


class ErrorRateRuleSection(_Section):
    threshold: float = Field(default=0.1, gt=0, le=1, description="failed share that fires")
    window_minutes: int = Field(default=15, ge=1, description="look-back window")
    min_flows: int = Field(default=10, ge=1, description="flows needed before judging")


class LagRuleSection(_Section):
    max_lag_minutes: int = Field(default=15, ge=1, description="oldest unfinished flow age")


class QuotaRuleSection(_Section):
    threshold: float = Field(default=0.9, gt=0, le=1, description="share of a quota spent")


class AlertRulesSection(_Section):
    dead_letter: bool = Field(default=True, description="a flow was dead-lettered")
    audit: bool = Field(default=True, description="audit chain verification fails")
    error_rate: ErrorRateRuleSection | None = Field(
        default_factory=ErrorRateRuleSection, description="error rate over a threshold"
    )
    lag: LagRuleSection | None = Field(
        default_factory=LagRuleSection, description="backlog lag over a threshold"
    )
    quota: QuotaRuleSection | None = Field(
        default_factory=QuotaRuleSection, description="quota nearly spent"
    )


class WebhookSinkSection(_Section):
    url: SecretRef = Field(description="webhook URL (a secret: it carries the token)")
    style: Literal["slack", "teams", "generic"] = Field(default="slack", description="payload")


class EmailSinkSection(_Section):
    host: str = Field(description="SMTP server")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port")
    sender: str = Field(description="From address")
    recipients: tuple[str, ...] = Field(min_length=1, description="To addresses")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="transport security"
    )
    username: SecretRef | None = Field(default=None, description="SMTP user (secret reference)")
    password: SecretRef | None = Field(default=None, description="SMTP password (secret reference)")


class AlertsSection(_Section):
    interval_seconds: float = Field(default=60, gt=0, description="evaluation period")
    rules: AlertRulesSection = Field(default_factory=AlertRulesSection)
    webhooks: tuple[WebhookSinkSection, ...] = Field(default=(), description="webhook sinks")
    email: EmailSinkSection | None = Field(default=None, description="email sink")


def _password_hash(value: str) -> str:
    # The message never repeats the value: a password typed here by mistake must not be echoed.
    if not value.startswith(("scrypt:", "pbkdf2:")):
        raise ValueError(
            "must be a werkzeug scrypt/pbkdf2 hash from `paysync dashboard hash-password` "
            "(never a password; value hidden)"
        )
    return value


class DashboardUserSection(_Section):
    password_hash: Annotated[str, AfterValidator(_password_hash)] = Field(
        description="werkzeug scrypt/pbkdf2 hash (`paysync dashboard hash-password`)"
    )
    role: Literal["viewer", "operator"] = Field(
        default="viewer", description="`operator` may also retry and resolve dead letters"
    )


class DashboardSection(_Section):
    secret_key: SecretRef | None = Field(
        default=None,
        description="session signing key (secret reference); random per process if unset",
    )
    auth_mode: Literal["password", "proxy"] = Field(
        default="password", description="login form, or a reverse proxy names the user"
    )
    proxy_user_header: str = Field(
        default="X-Forwarded-User", description="header naming the user (proxy mode)"
    )
    secure_cookies: bool | None = Field(
        default=None, description="`Secure` cookies; unset: on unless bound to localhost"
    )
    same_site: Literal["Lax", "Strict"] = Field(default="Lax", description="cookie SameSite")
    reports_dir: str | None = Field(
        default=None, description="folder of `paysync reconcile --reports-dir` reports"
    )
    poll_seconds: float = Field(default=2.0, gt=0, description="live page refresh period")
    users: dict[str, DashboardUserSection] = Field(
        default_factory=dict[str, DashboardUserSection],
        description="one `[dashboard.users.<name>]` table per user",
    )
    links: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="system -> URL template with `{id}` linking external ids",
    )


class UseCaseSection(BaseModel):
    """``[usecases.<name>]``: ``enabled`` plus the use case's own options (validated by it)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    enabled: bool = Field(default=True, description="`false`: `paysync run` skips this use case")

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PaysyncConfig(_Section):
    ledger: LedgerSection = Field(default_factory=LedgerSection)
    paytrace: PayTraceSection | None = None
    fusion: FusionSection | None = None
    salesforce: SalesforceSection | None = None
    engine: EngineSection = Field(default_factory=EngineSection)
    polling: PollingSection = Field(default_factory=PollingSection)
    quota: dict[Literal["paytrace", "fusion", "salesforce"], QuotaSection] = Field(
        default_factory=dict[Literal["paytrace", "fusion", "salesforce"], QuotaSection]
    )
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    usecases: dict[str, UseCaseSection] = Field(default_factory=dict[str, UseCaseSection])
    dashboard: DashboardSection | None = None


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as 'America/Los_Angeles'") from None
    return value
