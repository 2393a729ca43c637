"""``paysync mapping``: check the configured mappings for drift; suggest one for a new object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from paysync_core.config import (
    PaysyncConfig,
    build_salesforce,
)
from paysync_core.config._secrets import SecretResolver
from paysync_core.mapping._check import check_sobject_mapping, payment_field_kinds
from paysync_core.mapping._records import PaymentFieldMap
from paysync_core.mapping._suggest import (
    PAYMENT_TARGETS,
    SourceField,
    suggest_mapping,
    suggestions_to_toml,
)
from salesforce_bridge import SalesforceBridge, SObjectDescribe

from ._common import console, dump_json, err_console, fail, load_config_or_exit, write_line

__all__ = ["mapping_app"]

mapping_app = typer.Typer(help="Mapping rules: drift check and suggestions.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="paysync.toml (Salesforce connection, mappings)"),
]
DescribeOption = Annotated[
    Path | None,
    typer.Option(
        "--describe-file", help="a saved `sobjects/<Obj>/describe` JSON instead of the live org"
    ),
]


def _config(path: Path | None) -> PaysyncConfig | None:
    return None if path is None else load_config_or_exit(path)


def _bridge(config: PaysyncConfig | None) -> SalesforceBridge:
    if config is None or config.salesforce is None:
        raise fail("give --describe-file, or --config with a [salesforce] section")
    return build_salesforce(config.salesforce, SecretResolver())


def _describe(
    sobject: str, describe_file: Path | None, config: PaysyncConfig | None
) -> SObjectDescribe:
    if describe_file is not None:
        try:
            return SObjectDescribe.model_validate(json.loads(describe_file.read_text("utf-8")))
        except (OSError, ValueError) as exc:
            raise fail(f"--describe-file {describe_file}: {exc}") from None
    return _bridge(config).describe(sobject)


def _payment_fields(config: PaysyncConfig | None) -> PaymentFieldMap:
    section = config.usecases.get("order_to_cash") if config else None
    raw = cast(dict[str, Any], section.options().get("payment_fields", {})) if section else {}
    return PaymentFieldMap.model_validate(raw)


@mapping_app.command("check")
def check(
    *,
    config: ConfigOption = None,
    describe_file: DescribeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Compare the payment mapping with the org's describe; exit 1 when anything drifted."""
    loaded = _config(config)
    fields = _payment_fields(loaded)
    describe = _describe(fields.sobject, describe_file, loaded)
    slots = fields.model_dump(exclude={"sobject"})
    drift = check_sobject_mapping(describe, slots, kinds=payment_field_kinds())
    if as_json:
        write_line(dump_json({"ok": not drift, "drift": [vars(d) for d in drift]}))
    elif drift:
        for item in drift:
            err_console.print(str(item), markup=False)
    else:
        console.print(f"{describe.name}: mapping matches the org ({len(slots)} slots checked)")
    if drift:
        raise typer.Exit(1)


@mapping_app.command("suggest")
def suggest(
    *,
    sobject: Annotated[str, typer.Option("--object", help="Salesforce object to map")],
    config: ConfigOption = None,
    describe_file: DescribeOption = None,
    samples: Annotated[int, typer.Option(min=0, max=200, help="sample records to read")] = 20,
    table: Annotated[
        str, typer.Option(help="TOML table the snippet is written for")
    ] = "usecases.order_to_cash.payment_fields",
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Propose a payment mapping for an unmapped object; prints a snippet, applies nothing."""
    loaded = _config(config)
    describe = _describe(sobject, describe_file, loaded)
    values: dict[str, list[str]] = {}
    if samples and describe_file is None:
        names = [f.name for f in describe.fields]
        soql = f"SELECT {', '.join(names)} FROM {describe.name} LIMIT {samples}"  # noqa: S608
        for row in _bridge(loaded).query(soql):
            for name in names:
                value = row.fields.get(name)
                if value is not None:
                    values.setdefault(name, []).append(str(value))
    fields = [
        SourceField(f.name, f.type, f.label, tuple(values.get(f.name, ()))) for f in describe.fields
    ]
    suggestions = suggest_mapping(PAYMENT_TARGETS, fields)
    if as_json:
        write_line(dump_json([vars(s) | {"reason": s.reason} for s in suggestions]))
        return
    write_line(suggestions_to_toml(table, suggestions, title=f"{describe.name}").rstrip("\n"))
