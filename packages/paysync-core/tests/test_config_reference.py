"""The generated configuration reference covers every use case option, with a description.

The expected tables and keys are computed here from the options models themselves (not
from the generator's own walk), so a model gaining a field, a nested table or a use case
that the reference misses or leaves undescribed fails these tests.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from paysync_core.app import UseCase, registered
from paysync_core.canonical import SubscriptionStatus
from paysync_core.cli import main
from paysync_core.cli._config import reference_markdown
from paysync_core.config import PaysyncConfig, parse_config, usecase_options
from paysync_core.config._reference import config_reference, toml_value, usecase_example

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

_loads = typing.cast("typing.Callable[[str], dict[str, Any]]", tomllib.loads)  # pyright: ignore[reportUnknownMemberType]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _shape(annotation: Any) -> str:
    """``table``, ``array`` (of tables) or ``map`` (table of tables) for a model field."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        shapes = {_shape(a) for a in typing.get_args(annotation) if a is not type(None)}
        return shapes.pop() if len(shapes) == 1 else "table"
    if origin in (tuple, list, Sequence):
        return "array"
    if origin in (dict, Mapping):
        return "map"
    return "table"


@dataclass(frozen=True)
class _Expected:
    heading: str
    model: type[BaseModel]


def _expected_tables(path: str, model: type[BaseModel], heading: str) -> Iterator[_Expected]:
    yield _Expected(heading, model)
    for name, info in model.model_fields.items():
        inner = _model_in(info.annotation)
        if inner is None:
            continue
        key = info.alias or name
        shape = _shape(info.annotation)
        if shape == "array":
            yield from _expected_tables(f"{path}.{key}", inner, f"[[{path}.{key}]]")
        elif shape == "map":
            child = f"{path}.{key}.<name>"
            yield from _expected_tables(child, inner, f"[{child}]")
        else:
            yield from _expected_tables(f"{path}.{key}", inner, f"[{path}.{key}]")


def _sections(reference: str) -> dict[str, str]:
    """Heading (``[usecases.x.gl]``) -> the Markdown under it, up to the next heading."""
    found: dict[str, str] = {}
    heading: str | None = None
    body: list[str] = []
    for line in reference.splitlines():
        if line.startswith("#") and line.rstrip().endswith("`") and " `" in line:
            if heading is not None:
                found[heading] = "\n".join(body)
            heading, body = line.split(" `", 1)[1].rstrip("`"), []
        else:
            body.append(line)
    if heading is not None:
        found[heading] = "\n".join(body)
    return found


def _problems(reference: str, entries: Sequence[Any]) -> list[str]:
    """Every use case table, key and description the reference lacks."""
    sections = _sections(reference)
    problems: list[str] = []
    for entry in entries:
        root = f"usecases.{entry.name}"
        for table in _expected_tables(root, entry.options, f"[{root}]"):
            body = sections.get(table.heading)
            if body is None:
                problems.append(f"{table.heading}: no section")
                continue
            keys = dict(table.model.model_fields)
            if table.heading == f"[{root}]":
                keys = {"enabled": None, **keys}
            for name, info in keys.items():
                key = name if info is None else (info.alias or name)
                rows = [ln for ln in body.splitlines() if ln.startswith(f"| `{key}` |")]
                if len(rows) != 1:
                    problems.append(f"{table.heading} {key}: {len(rows)} rows")
                if info is not None and not (info.description or "").strip():
                    where = f"{table.model.__module__}.{table.model.__qualname__}.{name}"
                    problems.append(f"{table.heading} {key}: no description ({where})")
    return problems


def test_every_registered_usecase_and_option_is_documented() -> None:
    entries = registered()
    assert len(entries) >= 7
    reference = config_reference(entries)
    assert _problems(reference, entries) == []


def test_every_core_section_and_option_is_in_the_reference() -> None:
    sections = _sections(config_reference())
    problems: list[str] = []
    for name, info in PaysyncConfig.model_fields.items():
        model = _model_in(info.annotation)
        assert model is not None, name
        if name == "usecases":
            continue
        # the one table of tables at the top level is documented as [quota.<system>]
        path = f"{name}.<system>" if _shape(info.annotation) == "map" else name
        for table in _expected_tables(path, model, f"[{path}]"):
            body = sections.get(table.heading)
            if body is None:
                problems.append(f"{table.heading}: no section")
                continue
            for field, field_info in table.model.model_fields.items():
                key = field_info.alias or field
                if sum(ln.startswith(f"| `{key}` |") for ln in body.splitlines()) != 1:
                    problems.append(f"{table.heading} {key}: not one row")
    assert problems == []
    # an HTML-looking placeholder outside code is escaped so Markdown does not swallow it
    assert "https://&lt;pod>.fa.&lt;dc>.oraclecloud.com" in sections["[fusion]"]


def test_the_check_catches_an_undocumented_option() -> None:
    class Nested(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

        documented: str = "x"
        """Has a description."""
        undocumented: int = 1

    class Options(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

        rows: tuple[Nested, ...] = ()
        """Rows."""

    entry = UseCase(99, "probe", "Probe", (), Options, lambda ports, options: None)  # pyright: ignore[reportArgumentType]
    reference = config_reference([entry])
    assert "## Use cases" in reference
    assert _problems(reference, [entry]) == [
        "[[usecases.probe.rows]] undocumented: no description "
        f"({Nested.__module__}.{Nested.__qualname__}.undocumented)"
    ]
    # the same model with a table the reference omits is caught too
    assert _problems(config_reference([]), [entry]) == [
        "[usecases.probe]: no section",
        "[[usecases.probe.rows]]: no section",
    ]


def test_usecase_sections_show_toml_types_defaults_and_constraints() -> None:
    sections = _sections(config_reference(registered()))
    o2c = sections["[usecases.order_to_cash]"]
    assert "| `enabled` | boolean | `true` |" in o2c
    assert '| `payment_mode` | `"sale"` \\| `"authorize_capture"` | `"sale"` |' in o2c
    assert '| `triggers` | array of `"opportunity"` \\| `"order"` | `["opportunity"]` |' in o2c
    assert "at most 4 characters" in o2c  # correlation_prefix max_length
    rules = sections["[[usecases.order_to_cash.gl.rules]]"]
    assert "| `account` | string | **required** |" in rules
    # the table's own default (not GlTable's, which has none) is shown when it is left out
    assert '"01-000-4999-0000"' in sections["[usecases.order_to_cash.gl]"]
    refunds = sections["[usecases.refunds]"]
    assert (
        '| `lookback` | duration (ISO 8601 such as `"P120D"`, or seconds) | `"P120D"` |' in refunds
    )
    assert "| `salesforce_requests` | table | unset |" in refunds
    dunning = sections["[usecases.recurring_billing.dunning]"]
    assert '`"Past Due"`' in dunning
    assert "| `retry_days` | array of integer | `[1, 3, 7]` |" in dunning
    fees = sections["[[usecases.settlement_gl.gl.fees]]"]
    assert "| `rate` | decimal" in fees
    assert "(>= 0, < 1)" in fees
    # recurring billing's Payment__c has no Opportunity lookup: the note says so
    payment = sections["[usecases.recurring_billing.payment_fields]"]
    assert "`opportunity` unset" in payment


@pytest.mark.parametrize("entry", registered(), ids=lambda e: e.name)
def test_usecase_example_loads_back_to_the_defaults(entry: UseCase) -> None:
    example = usecase_example(entry)
    assert f"```toml\n{example}\n```" in config_reference([entry])
    config = parse_config(_loads(example), source="example")
    assert config.usecases[entry.name].enabled is True
    assert usecase_options(config, entry.name, entry.options) == entry.options()
    written = set(_loads(example)["usecases"][entry.name]) - {"enabled"}
    plain = {
        info.alias or name
        for name, info in entry.options.model_fields.items()
        if _model_in(info.annotation) is None and info.get_default() is not None
    }
    assert written == plain  # every top-level option with a value is in the example


def test_toml_values_round_trip() -> None:
    class Sample(BaseModel):
        model_config = ConfigDict(frozen=True)

        text: str = 'quote " back \\ tab \t é'
        rate: Decimal = Decimal("0.029")
        status: SubscriptionStatus = SubscriptionStatus.PAST_DUE
        days: tuple[int, ...] = (1, 3, 7)
        ratio: float = 0.5
        flag: bool = False
        mapping: dict[str, str] = Field(default_factory=lambda: {"a.b": "x", "plain": "y"})
        unset: str | None = None

    dumped = Sample().model_dump(mode="json")
    loaded = _loads(f"value = {toml_value(dumped)}")["value"]
    assert "unset" not in loaded  # TOML has no null: the key is left out
    assert Sample.model_validate(loaded) == Sample()


def test_config_reference_cli_writes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "reference"]) == 0
    printed = capsys.readouterr().out
    assert printed == reference_markdown()
    target = tmp_path / "configuration.md"
    assert main(["config", "reference", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == printed
    first_lines = "\n".join(printed.splitlines()[:5])
    assert "paysync config reference --output docs/configuration.md" in first_lines
    assert main(["config", "reference", "--output", str(tmp_path / "missing" / "x.md")]) == 1
