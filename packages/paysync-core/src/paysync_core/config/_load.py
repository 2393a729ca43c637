"""Loading ``paysync.toml``: TOML parse, pydantic validation, errors that name the key.

Every problem is reported at once as a :class:`ConfigIssue` (dotted key, the value unless it is
a secret, what was expected) so ``paysync config check`` can list them all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from paysync_core._errors import ConfigurationError

from ._models import PaysyncConfig, UseCaseSection
from ._secrets import SecretResolver

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

# Typed once here: on Python 3.10 the checker cannot see tomli's annotations.
_toml_loads = cast("Callable[[str], dict[str, Any]]", tomllib.loads)  # pyright: ignore[reportUnknownMemberType]
_TomlError = cast("type[ValueError]", tomllib.TOMLDecodeError)  # pyright: ignore[reportUnknownMemberType]

__all__ = [
    "ConfigCheckError",
    "ConfigIssue",
    "load_config",
    "parse_config",
    "register_usecase_options",
    "resolve_secrets",
    "usecase_options",
]

#: Keys whose values are secret references; their values are never echoed.
_SECRET_KEYS = frozenset(
    {
        "username",
        "password",
        "private_key",
        "client_id",
        "client_secret",
        "integrator_id",
        "url",
        "secret_key",
        "password_hash",
    }
)
_USECASE_MODELS: dict[str, type[BaseModel]] = {}


@dataclass(frozen=True)
class ConfigIssue:
    key: str
    value: str
    expected: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value}: {self.expected}"


class ConfigCheckError(ConfigurationError):
    """The configuration is invalid; ``issues`` lists every problem."""

    def __init__(self, source: str, issues: Iterable[ConfigIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{source}: {len(self.issues)} configuration problem(s)\n{lines}")


def register_usecase_options(name: str, model: type[BaseModel]) -> None:
    """Declare the options model of ``[usecases.<name>]`` (use case modules call this)."""
    _USECASE_MODELS[name] = model


def usecase_options(config: PaysyncConfig, name: str, model: type[BaseModel]) -> BaseModel:
    """The validated options of one use case (defaults when the section is absent)."""
    section = config.usecases.get(name)
    return model.model_validate(section.options() if section else {})


def _shown(key: str, value: object) -> str:
    if key.rsplit(".", 1)[-1] in _SECRET_KEYS:
        return "<hidden>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _issues(error: ValidationError, prefix: str = "") -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for item in error.errors(include_url=False):
        key = prefix + ".".join(str(part) for part in item["loc"])
        value = "<missing>" if item["type"] == "missing" else _shown(key, item.get("input"))
        issues.append(ConfigIssue(key or "<root>", value, str(item["msg"])))
    return issues


def _usecase_issues(usecases: object) -> list[ConfigIssue]:
    """Problems in the ``[usecases.*]`` tables, from the raw TOML (so they are reported with
    the core sections' problems, in one round)."""
    if not isinstance(usecases, Mapping):
        return []  # the core model reports a ``usecases`` that is not a table
    issues: list[ConfigIssue] = []
    for name, raw in cast(Mapping[str, object], usecases).items():
        if not isinstance(raw, Mapping):
            continue  # reported by the core model (``usecases.<name>`` must be a table)
        model = _USECASE_MODELS.get(name)
        if model is None:
            if _USECASE_MODELS:
                known = ", ".join(sorted(_USECASE_MODELS))
                issues.append(
                    ConfigIssue(f"usecases.{name}", "{...}", f"unknown use case; known: {known}")
                )
            continue
        try:
            section = UseCaseSection.model_validate(raw)
        except ValidationError:
            continue  # ``enabled`` of the wrong type: reported by the core model
        try:
            model.model_validate(section.options())
        except ValidationError as exc:
            issues.extend(_issues(exc, prefix=f"usecases.{name}."))
    return issues


def parse_config(data: Mapping[str, Any], *, source: str = "<config>") -> PaysyncConfig:
    """Validate an already-parsed mapping (TOML tables) into :class:`PaysyncConfig`.

    The core sections and every use case's options are validated together: one
    :class:`ConfigCheckError` lists every problem, so the user fixes them in one round.
    """
    issues: list[ConfigIssue] = []
    config: PaysyncConfig | None = None
    try:
        config = PaysyncConfig.model_validate(dict(data))
    except ValidationError as exc:
        issues += _issues(exc)
    issues += _usecase_issues(data.get("usecases", {}))
    if issues or config is None:
        raise ConfigCheckError(source, issues)
    return config


def load_config(path: str | Path) -> PaysyncConfig:
    """Read and validate a ``paysync.toml`` file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{file}: cannot read configuration: {exc.strerror}") from None
    try:
        data = _toml_loads(text)
    except _TomlError as exc:
        raise ConfigCheckError(str(file), [ConfigIssue("<file>", "<toml>", str(exc))]) from None
    return parse_config(data, source=str(file))


def resolve_secrets(
    config: PaysyncConfig, resolver: SecretResolver | None = None
) -> list[ConfigIssue]:
    """Try every secret reference; return the ones that cannot be resolved (values hidden)."""
    resolver = resolver or SecretResolver()
    problems: list[ConfigIssue] = []
    for section_name in ("paytrace", "fusion", "salesforce"):
        section: BaseModel | None = getattr(config, section_name)
        if section is None:
            continue
        for field_name in type(section).model_fields:
            ref = getattr(section, field_name)
            if field_name in _SECRET_KEYS and isinstance(ref, str):
                try:
                    resolver.resolve(ref)
                except ConfigurationError as exc:
                    problems.append(ConfigIssue(f"{section_name}.{field_name}", ref, str(exc)))
    refs = [(f"alerts.webhooks.{i}.url", hook.url) for i, hook in enumerate(config.alerts.webhooks)]
    if config.alerts.email is not None:
        refs += [
            (f"alerts.email.{name}", ref)
            for name, ref in (
                ("username", config.alerts.email.username),
                ("password", config.alerts.email.password),
            )
            if ref is not None
        ]
    if config.dashboard is not None and config.dashboard.secret_key is not None:
        refs.append(("dashboard.secret_key", config.dashboard.secret_key))
    for key, ref in refs:
        try:
            resolver.resolve(ref)
        except ConfigurationError as exc:
            problems.append(ConfigIssue(key, ref, str(exc)))
    return problems
