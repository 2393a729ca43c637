"""The configuration reference (``docs/configuration.md``), generated from the models.

Generating it from the pydantic models keeps the documentation and the validation the same
thing; a test fails when the committed file is stale. The core sections and every use case's
``[usecases.<name>]`` options go through the same table renderer, and every description is
the field's ``FieldInfo.description`` (``Field(description=...)``, or the attribute
docstring of models declaring ``use_attribute_docstrings``).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ._models import (
    AlertsSection,
    DashboardSection,
    EngineSection,
    FusionSection,
    LedgerSection,
    PayTraceSection,
    PollingSection,
    QuotaSection,
    SalesforceSection,
    UseCaseSection,
)

__all__ = [
    "REGENERATE_COMMAND",
    "OptionTable",
    "UseCaseOptions",
    "config_reference",
    "option_tables",
    "toml_value",
    "usecase_example",
]

#: The one command that rewrites ``docs/configuration.md`` (run from the repository root).
REGENERATE_COMMAND = "uv run paysync config reference --output docs/configuration.md"

#: The top-level sections; the tables nested in them are found from their models.
_SECTIONS: Sequence[tuple[str, type[BaseModel], str]] = (
    ("ledger", LedgerSection, "Where the durable ledger lives."),
    ("paytrace", PayTraceSection, "PayTrace API connection (omit to disable PayTrace)."),
    ("fusion", FusionSection, "Oracle Fusion Cloud ERP connection."),
    ("salesforce", SalesforceSection, "Salesforce connection."),
    ("engine", EngineSection, "Workers, leases and retries."),
    ("polling", PollingSection, "Polling of systems without push (PayTrace, Fusion)."),
    ("quota.<system>", QuotaSection, "Shared API budget per system: paytrace, fusion, salesforce."),
    ("alerts", AlertsSection, "Alert evaluation (`paysync alerts check|watch`)."),
    ("dashboard", DashboardSection, "The web dashboard (`paysync serve --config paysync.toml`)."),
)

#: Introductions of nested core tables (otherwise their field's description is used).
_BLURBS: Mapping[str, str] = {
    "salesforce.events": "Salesforce event subscription.",
    "alerts.rules": "Which rules fire; a rule set to `false` is off.",
    "alerts.rules.error_rate": "Failed flows over a share of recent ones.",
    "alerts.rules.lag": "The oldest unfinished flow is too old.",
    "alerts.rules.quota": "A quota window is nearly spent.",
    "alerts.webhooks": "Slack/Teams-compatible webhook sinks (a list).",
    "alerts.email": "An SMTP sink.",
    "dashboard.users.<name>": "A dashboard user (no plain passwords).",
}


class UseCaseOptions(Protocol):
    """What the reference needs of a use case (``paysync_core.app.UseCase`` fits)."""

    @property
    def number(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def options(self) -> type[BaseModel]: ...


# -- TOML types --------------------------------------------------------------------------------
def _type_name(annotation: Any) -> str:
    """The type as a TOML author sees it (``string``, ``array of integer``, ``table`` ...)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        return _validated_name(meta) or _type_name(base)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        # ``None`` is not written (TOML has no null): the default column says "unset".
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return " \\| ".join(f"`{toml_value(v)}`" for v in typing.get_args(annotation))
    if origin in (tuple, list, set, frozenset, Sequence):
        item = typing.get_args(annotation)[0] if typing.get_args(annotation) else Any
        return "array of tables" if _model_of(item) else f"array of {_type_name(item)}"
    if origin in (dict, Mapping):
        value = typing.get_args(annotation)[1] if typing.get_args(annotation) else Any
        return "table of tables" if _model_of(value) else f"table of {_type_name(value)}"
    return _scalar_name(annotation)


def _scalar_name(annotation: Any) -> str:
    if not isinstance(annotation, type):
        return "any"
    if issubclass(annotation, BaseModel):
        return "table"
    if issubclass(annotation, enum.Enum):
        members = typing.cast("Iterable[enum.Enum]", annotation)
        return " \\| ".join(f"`{toml_value(m.value)}`" for m in members)
    names: Sequence[tuple[type, str]] = (
        (bool, "boolean"),  # before int: bool is an int
        (int, "integer"),
        (float, "float"),
        (str, "string"),
        (Decimal, 'decimal (a string such as `"0.029"`)'),
        (dt.timedelta, 'duration (ISO 8601 such as `"P120D"`, or seconds)'),
        (dt.datetime, "offset date-time"),
        (dt.date, "date"),
    )
    for kind, name in names:
        if issubclass(annotation, kind):
            return name
    return annotation.__name__


def _validated_name(metadata: Sequence[object]) -> str | None:
    """Our annotated string types are recognised by their validator function."""
    names = {getattr(getattr(m, "func", None), "__name__", "") for m in metadata}
    if "_secret_ref" in names:
        return "secret reference"
    if "_http_url" in names:
        return "URL"
    return None


_WRAPPERS = (typing.Union, types.UnionType, typing.Annotated)
_T = TypeVar("_T")


def _first_member(annotation: Any, find: Callable[[Any], _T | None]) -> _T | None:
    """What ``find`` answers for the first member of a union (or ``Annotated``) it knows."""
    for arg in typing.get_args(annotation):
        found = find(arg)
        if found is not None:
            return found
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly, optionally, or as array items / table values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in _WRAPPERS:
        return _first_member(annotation, _model_of)
    return None


def _container_of(annotation: Any) -> str | None:
    """``"array"`` / ``"table"`` when the field holds several models, else ``None``."""
    origin = typing.get_origin(annotation)
    if origin in _WRAPPERS:
        return _first_member(annotation, _container_of)
    args = typing.get_args(annotation)
    if origin in (tuple, list, Sequence) and args and _model_of(args[0]):
        return "array"
    if origin in (dict, Mapping) and len(args) == 2 and _model_of(args[1]):
        return "table"
    return None


# -- TOML values -------------------------------------------------------------------------------
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def toml_value(value: object) -> str:
    """A JSON-mode value (``model_dump(mode="json")``) written as TOML; ``None`` entries of
    tables are left out (TOML has no null: an absent key takes the model's default)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string literal is a valid TOML basic string (same escapes).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        items = typing.cast("Iterable[object]", value)
        return "[" + ", ".join(toml_value(v) for v in items) + "]"
    if isinstance(value, dict):
        entries = typing.cast("dict[object, object]", value)
        pairs = [
            f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in entries.items() if v is not None
        ]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _json_default(info: FieldInfo) -> object:
    """The field's default in JSON mode (enums as values, durations as ISO strings ...)."""
    value = info.get_default(call_default_factory=True)
    annotation: Any = info.annotation
    return TypeAdapter[Any](annotation).dump_python(value, mode="json")


def _required(info: FieldInfo) -> bool:
    return info.default is PydanticUndefined and info.default_factory is None


# -- tables ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionTable:
    """One TOML table of the reference: its dotted path, model and what it is for."""

    path: str
    model: type[BaseModel]
    blurb: str
    array: bool = False
    omitted: object = None
    """The table's value when it is left out (JSON mode), ``None`` when there is none."""
    depth: int = 0

    @property
    def heading(self) -> str:
        return f"[[{self.path}]]" if self.array else f"[{self.path}]"


def _child_path(path: str, key: str, container: str | None) -> str:
    return f"{path}.{key}.<name>" if container == "table" else f"{path}.{key}"


def option_tables(table: OptionTable) -> Iterator[OptionTable]:
    """``table`` and, depth first, every table nested in it (models, arrays of models)."""
    yield table
    for name, info in table.model.model_fields.items():
        model = _inner_model(info.annotation)
        if model is None:
            continue
        container = _container_of(info.annotation)
        yield from option_tables(
            OptionTable(
                path=_child_path(table.path, info.alias or name, container),
                model=model,
                blurb=_describe(info),
                array=container == "array",
                omitted=None if _required(info) else _json_default(info),
                depth=table.depth + 1,
            )
        )


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: directly, optionally, as array items or as table values."""
    found = _model_of(annotation)
    if found is not None:
        return found
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe(info: FieldInfo) -> str:
    """The field's description on one line, reST ``code`` as Markdown `code`, no final
    period (table cells append constraints and links)."""
    text = " ".join((info.description or "").split())
    return text.replace("``", "`").removesuffix(".")


def _default(info: FieldInfo, child: str | None) -> str:
    if _required(info):
        return "**required**"
    value = _json_default(info)
    if value is None:
        return "unset"
    if child is not None and value:
        return "table below"
    return f"`{toml_value(value)}`".replace("|", "\\|")


def _constraints(info: FieldInfo) -> str:
    found: list[str] = []
    for meta in info.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = getattr(meta, attr, None)
            if bound is not None:
                found.append(f"{sign} {bound}")
        for attr, word in (("min_length", "at least"), ("max_length", "at most")):
            bound = getattr(meta, attr, None)
            if bound is not None:
                found.append(f"{word} {bound} {_units(info.annotation, bound)}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            found.append(f"matches `{pattern}`")
    return ", ".join(found)


def _units(annotation: Any, count: int) -> str:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    strings = annotation is str or (union and str in typing.get_args(annotation))
    unit = "character" if strings else "item"
    return unit if count == 1 else unit + "s"


def _rows(table: OptionTable) -> Iterator[str]:
    for name, info in table.model.model_fields.items():
        key = info.alias or name
        container = _container_of(info.annotation)
        child = _child_path(table.path, key, container) if _inner_model(info.annotation) else None
        description = _describe(info)
        limits = _constraints(info)
        if limits:
            description = f"{description} ({limits})" if description else limits
        if child is not None:
            shown = f"[[{child}]]" if container == "array" else f"[{child}]"
            description = f"{description}; see `{shown}`" if description else f"see `{shown}`"
        kind = _validated_name(info.metadata) or _type_name(info.annotation)
        cell = _cell(description)
        yield f"| `{key}` | {kind} | {_default(info, child)} | {cell} |"


def _cell(text: str) -> str:
    """Text for a table cell: ``|`` escaped, and ``<`` outside code spans so that
    ``https://<pod>...`` is not read as an HTML tag."""
    parts = text.replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else _TAG_START.sub("&lt;", p) for i, p in enumerate(parts))


def _omitted_note(table: OptionTable) -> list[str]:
    """When leaving the table out does not give the defaults listed in its rows, say what it
    gives: writing the table replaces that value as a whole."""
    omitted: object = table.omitted
    if not omitted or table.path.endswith(".<name>"):
        return []
    if table.array:
        return [f"Left out: `{table.path.rsplit('.', 1)[-1]} = {toml_value(omitted)}`."]
    try:
        own: object = table.model().model_dump(mode="json")
    except ValidationError:
        own = None
    if own == omitted:
        return []
    if not isinstance(own, dict) or not isinstance(omitted, dict):
        return [
            f"Left out: `{toml_value(omitted)}`.",
            "Written, it replaces that value as a whole.",
        ]
    mine = typing.cast("dict[str, object]", own)
    given = typing.cast("dict[str, object]", omitted)
    changed = [
        f"`{k}` unset" if given.get(k) is None else f"`{k} = {toml_value(given.get(k))}`"
        for k in mine
        if given.get(k) != mine[k]
    ]
    return [
        "Left out, the table differs from the defaults below: " + ", ".join(changed) + ".",
        "Written, it replaces that value as a whole: keys left out take the defaults below.",
    ]


def _table_lines(table: OptionTable, level: int, leading: Sequence[str] = ()) -> list[str]:
    lines = [f"{'#' * level} `{table.heading}`", ""]
    if table.blurb:
        lines += [table.blurb.removesuffix(".") + ".", ""]
    note = _omitted_note(table)
    if note:
        lines += [*note, ""]
    rows = [*leading, *_rows(table)]
    if rows:
        lines += ["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""]
    return lines


# -- use cases ---------------------------------------------------------------------------------
def _usecase_root(entry: UseCaseOptions) -> OptionTable:
    return OptionTable(
        path=f"usecases.{entry.name}",
        model=entry.options,
        blurb=(
            f"Use case {entry.number}: {entry.title}. Options model "
            f"`{entry.options.__module__}.{entry.options.__qualname__}`."
        ),
    )


def usecase_example(entry: UseCaseOptions) -> str:
    """A short ``[usecases.<name>]`` table: ``enabled`` and the top-level options (not the
    nested tables) at their defaults; it loads back through ``parse_config`` unchanged."""
    lines = [f"[usecases.{entry.name}]", "enabled = true"]
    nested: list[str] = []
    for name, info in entry.options.model_fields.items():
        key = info.alias or name
        if _model_of(info.annotation) or _container_of(info.annotation):
            nested.append(key)
            continue
        if _required(info):
            lines.append(f"# {key} = ...  (required)")
            continue
        value = _json_default(info)
        if value is not None:
            lines.append(f"{_toml_key(key)} = {toml_value(value)}")
    if nested:
        lines.append(f"# tables: {', '.join(nested)} (below)")
    return "\n".join(lines)


def _usecase_lines(usecases: Iterable[UseCaseOptions]) -> list[str]:
    lines = [
        "## Use cases",
        "",
        "One `[usecases.<name>]` table per use case: `enabled` plus that use case's options.",
        "A use case without a table runs with the defaults below when its systems are",
        "configured. Unknown use case names and unknown keys are errors of `paysync config",
        'check`. Nested tables can also be written inline (`gl = { default = "..." }`).',
        "",
    ]
    enabled_rows = list(_rows(OptionTable("usecases.<name>", UseCaseSection, "")))
    for entry in sorted(usecases, key=lambda e: (e.number, e.name)):
        root = _usecase_root(entry)
        for table in option_tables(root):
            if table is root:
                # ``enabled`` belongs to every use case table (UseCaseSection), not the model.
                lines += _table_lines(table, 3, leading=enabled_rows)
                example = usecase_example(entry)
                lines += ["Example (the defaults):", "", "```toml", example, "```", ""]
            else:
                lines += _table_lines(table, 4)
    return lines


def config_reference(usecases: Iterable[UseCaseOptions] = ()) -> str:
    """The Markdown reference: the core sections, then ``[usecases.<name>]`` of each of
    ``usecases`` (the CLI passes every registered use case)."""
    lines = [
        "# Configuration reference (`paysync.toml`)",
        "",
        "Generated from the pydantic models in `paysync_core.config` and the use cases' options",
        "models; do not edit by hand. Regenerate it from the repository root with",
        f"`{REGENERATE_COMMAND}`.",
        "",
        "Credentials are never written in the file: a *secret reference* names where to read",
        "them, `env:NAME` (environment variable), `file:/path` (a file only its owner can read)",
        "or `keyring:service/name` (the OS keyring, extra `keyring`). Other providers plug in",
        "with `SecretResolver.register`. `paysync config check` validates a file, names every",
        "bad key with its value and what was expected, and resolves every secret reference.",
        "",
    ]
    for path, model, blurb in _SECTIONS:
        for table in option_tables(OptionTable(path, model, blurb)):
            lines += _table_lines(replace(table, blurb=_BLURBS.get(table.path, table.blurb)), 2)
    lines += _usecase_lines(usecases)
    return "\n".join(lines)
