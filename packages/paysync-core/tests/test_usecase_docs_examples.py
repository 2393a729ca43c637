"""The TOML examples of ``docs/usecases/1-*.md``, ``2-*.md`` and ``3-*.md`` load through the
configuration parser (as ``paysync config check`` reads a file) into their use case's options,
and each of these pages shows the ``fusion_status``, ``currency`` and (use cases 2 and 3)
``product_lines`` options it documents, with the values the example sets."""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path
from typing import Any

from paysync_core.app import registered
from paysync_core.config import parse_config, usecase_options
from paysync_core.mapping import FusionStatusMap, ProductLineMapping
from paysync_core.usecases import EcommerceConfig, OrderToCashConfig, RefundsConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

_loads = typing.cast("typing.Callable[[str], dict[str, Any]]", tomllib.loads)  # pyright: ignore[reportUnknownMemberType]

DOCS = Path(__file__).resolve().parents[3] / "docs" / "usecases"
_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def _examples(prefix: str) -> list[str]:
    [page] = DOCS.glob(f"{prefix}-*.md")
    return _BLOCK.findall(page.read_text(encoding="utf-8"))


def _options(prefix: str, name: str) -> list[Any]:
    """Every example of the page, parsed and validated into the use case's options."""
    models = {entry.name: entry.options for entry in registered()}
    loaded: list[Any] = []
    for number, text in enumerate(_examples(prefix), start=1):
        config = parse_config(_loads(text), source=f"docs/usecases/{prefix}-*.md example {number}")
        assert set(config.usecases) == {name}, f"example {number} configures {set(config.usecases)}"
        loaded.append(usecase_options(config, name, models[name]))
    return loaded


def test_order_to_cash_examples_load_and_show_status_map_and_currency() -> None:
    loaded = typing.cast("list[OrderToCashConfig]", _options("1", "order_to_cash"))
    assert any(o.fusion_status.captured.action == "none" for o in loaded)
    assert any(o.currency.ledger_currency == "EUR" for o in loaded)
    # product lines from the Opportunity's line items, and business-unit keyed rules
    lines = [o for o in loaded if o.product_lines is not None]
    assert lines
    assert lines[0].product_lines is not None
    assert lines[0].product_lines.several == "largest"
    assert [r.product_line for r in lines[0].gl.rules][:2] == ["Hardware", "Services"]
    assert any(any(r.business_unit for r in o.gl.rules) for o in loaded)


def test_ecommerce_examples_load_and_show_status_map_product_lines_and_currency() -> None:
    loaded = typing.cast("list[EcommerceConfig]", _options("2", "ecommerce"))
    maps = [o.fusion_status for o in loaded if o.fusion_status != FusionStatusMap()]
    assert maps
    assert maps[0].settled.order_status == "DRAFT"
    assert maps[0].captured.action == "none"
    lines = [o.product_lines for o in loaded if o.product_lines is not None]
    assert lines
    assert isinstance(lines[0], ProductLineMapping)
    assert [r.product_line for r in lines[0].rules] == ["Hardware", "Services"]
    assert any(o.currency.ledger_currency == "EUR" for o in loaded)


def test_refunds_examples_load_and_show_status_map_product_lines_and_currency() -> None:
    loaded = typing.cast("list[RefundsConfig]", _options("3", "refunds"))
    assert any(o.fusion_status.voided.action == "credit_memo" for o in loaded)
    assert any(o.currency.ledger_currency == "EUR" for o in loaded)
    lines = [o.product_lines for o in loaded if o.product_lines is not None]
    assert lines
    assert [r.product_line for r in lines[0].rules] == ["Hardware"]
