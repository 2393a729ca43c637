"""The configuration reference (``docs/configuration.md``), generated from the models.

Generating it from the pydantic models keeps the documentation and the validation the same
thing; a test fails when the committed file is stale.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ._models import (
    AlertRulesSection,
    AlertsSection,
    DashboardSection,
    DashboardUserSection,
    EmailSinkSection,
    EngineSection,
    ErrorRateRuleSection,
    EventsSection,
    FusionSection,
    LagRuleSection,
    LedgerSection,
    PayTraceSection,
    PollingSection,
    QuotaRuleSection,
    QuotaSection,
    SalesforceSection,
    WebhookSinkSection,
)

__all__ = ["config_reference"]

_SECTIONS: Sequence[tuple[str, type[BaseModel], str]] = (
    ("ledger", LedgerSection, "Where the durable ledger lives."),
    ("paytrace", PayTraceSection, "PayTrace API connection (omit to disable PayTrace)."),
    ("fusion", FusionSection, "Oracle Fusion Cloud ERP connection."),
    ("salesforce", SalesforceSection, "Salesforce connection."),
    ("salesforce.events", EventsSection, "Salesforce event subscription."),
    ("engine", EngineSection, "Workers, leases and retries."),
    ("polling", PollingSection, "Polling of systems without push (PayTrace, Fusion)."),
    ("quota.<system>", QuotaSection, "Shared API budget per system: paytrace, fusion, salesforce."),
    ("alerts", AlertsSection, "Alert evaluation (`paysync alerts check|watch`)."),
    ("alerts.rules", AlertRulesSection, "Which rules fire; a rule set to `false` is off."),
    ("alerts.rules.error_rate", ErrorRateRuleSection, "Failed flows over a share of recent ones."),
    ("alerts.rules.lag", LagRuleSection, "The oldest unfinished flow is too old."),
    ("alerts.rules.quota", QuotaRuleSection, "A quota window is nearly spent."),
    ("[[alerts.webhooks]]", WebhookSinkSection, "Slack/Teams-compatible webhook sinks (a list)."),
    ("alerts.email", EmailSinkSection, "An SMTP sink."),
    ("dashboard", DashboardSection, "The web dashboard (`paysync serve --config paysync.toml`)."),
    ("dashboard.users.<name>", DashboardUserSection, "A dashboard user (no plain passwords)."),
)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        return _validated_name(meta) or _type_name(base)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(parts) + " (optional)"
    if origin is typing.Literal:
        return " \\| ".join(f'`"{v}"`' for v in typing.get_args(annotation))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    return getattr(annotation, "__name__", str(annotation))


def _validated_name(metadata: Sequence[object]) -> str | None:
    """Our annotated string types are recognised by their validator function."""
    names = {getattr(getattr(m, "func", None), "__name__", "") for m in metadata}
    if "_secret_ref" in names:
        return "secret reference"
    if "_http_url" in names:
        return "URL"
    return None


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "**required**"
    if info.default_factory is not None:
        return "(section defaults)"
    value = info.default
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return "`" + ", ".join(str(v) for v in typing.cast(tuple[object, ...], value)) + "`"
    return f"`{value}`"


def _constraints(info: FieldInfo) -> str:
    found: list[str] = []
    for meta in info.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = getattr(meta, attr, None)
            if bound is not None:
                found.append(f"{sign} {bound}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            found.append(f"matches `{pattern}`")
    return ", ".join(found)


def _rows(model: type[BaseModel]) -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation: object = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            continue  # nested sections get their own table
        key = info.alias or name
        description = info.description or ""
        limits = _constraints(info)
        if limits:
            description = f"{description} ({limits})" if description else limits
        kind = _validated_name(info.metadata) or _type_name(annotation)
        yield f"| `{key}` | {kind} | {_default(info)} | {description} |"


def config_reference() -> str:
    lines = [
        "# Configuration reference (`paysync.toml`)",
        "",
        "Generated from the pydantic models in `paysync_core.config` "
        "(`paysync config reference > docs/configuration.md`); do not edit by hand.",
        "",
        "Credentials are never written in the file: a *secret reference* names where to read",
        "them, `env:NAME` (environment variable), `file:/path` (a file only its owner can read)",
        "or `keyring:service/name` (the OS keyring, extra `keyring`). Other providers plug in",
        "with `SecretResolver.register`. `paysync config check` validates a file, names every",
        "bad key with its value and what was expected, and resolves every secret reference.",
        "",
    ]
    for section, model, blurb in _SECTIONS:
        heading = section if section.startswith("[") else f"[{section}]"
        lines += [
            f"## `{heading}`",
            "",
            blurb,
            "",
            "| key | type | default | meaning |",
            "|---|---|---|---|",
            *_rows(model),
            "",
        ]
    lines += [
        "## `[usecases.<name>]`",
        "",
        "`enabled = true|false` plus the use case's own options, validated by its model",
        "(see `docs/usecases/`).",
        "",
    ]
    return "\n".join(lines)
