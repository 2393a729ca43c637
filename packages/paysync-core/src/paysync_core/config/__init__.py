"""``paysync.toml``: typed configuration, loading with precise errors, and secret providers."""

from ._load import (
    ConfigCheckError,
    ConfigIssue,
    load_config,
    parse_config,
    register_usecase_options,
    resolve_secrets,
    usecase_options,
)
from ._models import (
    EngineSection,
    EventsSection,
    FusionSection,
    LedgerSection,
    PaysyncConfig,
    PayTraceSection,
    PollingSection,
    QuotaSection,
    SalesforceSection,
    SecretRef,
    UseCaseSection,
)
from ._secrets import (
    EnvSecretProvider,
    FileSecretProvider,
    KeyringSecretProvider,
    SecretProvider,
    SecretResolver,
    parse_secret_ref,
)

__all__ = [
    "ConfigCheckError",
    "ConfigIssue",
    "EngineSection",
    "EnvSecretProvider",
    "EventsSection",
    "FileSecretProvider",
    "FusionSection",
    "KeyringSecretProvider",
    "LedgerSection",
    "PayTraceSection",
    "PaysyncConfig",
    "PollingSection",
    "QuotaSection",
    "SalesforceSection",
    "SecretProvider",
    "SecretRef",
    "SecretResolver",
    "UseCaseSection",
    "load_config",
    "parse_config",
    "parse_secret_ref",
    "register_usecase_options",
    "resolve_secrets",
    "usecase_options",
]
