"""``paysync mapping``: check the configured mappings for drift; suggest one for a new object.

Offline with saved describes (``--salesforce-describe``, ``--fusion-describe``; a system with
saved describes is not called), else live against the configured endpoints.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from oracle_fusion_client import FusionClient, FusionError, Query, ResourceDescribe, parse_describe
from paysync_core._errors import PaysyncError
from paysync_core.config import PaysyncConfig, build_salesforce
from paysync_core.config._build import build_clients
from paysync_core.config._load import usecase_options
from paysync_core.config._secrets import SecretResolver
from paysync_core.mapping._check import (
    Drift,
    check_fusion_write,
    check_salesforce_map,
    salesforce_field_maps,
)
from paysync_core.mapping._fusion_meta import fusion_writes
from paysync_core.mapping._suggest import (
    SourceField,
    Suggestion,
    fit,
    suggest_mapping,
    suggestions_to_toml,
    target_sets,
)
from salesforce_bridge import (
    SalesforceBridge,
    SalesforceBridgeError,
    SalesforceNotFoundError,
    SObjectDescribe,
)

from ._common import (
    console,
    dump_json,
    err_console,
    fail,
    json_errors,
    load_config_or_exit,
    write_line,
)

__all__ = ["mapping_app"]

mapping_app = typer.Typer(help="Mapping rules: drift check and suggestions.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="paysync.toml (connections, use case mappings)"),
]
SalesforceDescribes = Annotated[
    list[Path] | None,
    typer.Option(
        "--salesforce-describe",
        "--describe-file",
        help="a saved `sobjects/<Obj>/describe` JSON (repeatable) instead of the live org",
    ),
]
FusionDescribes = Annotated[
    list[Path] | None,
    typer.Option(
        "--fusion-describe",
        help="a saved `<resource>/describe` JSON (repeatable) instead of the live pod",
    ),
]


def _config(path: Path | None) -> PaysyncConfig | None:
    return None if path is None else load_config_or_exit(path)


def _one_line(exc: Exception) -> str:
    """A client error on one line (status errors carry the response's messages)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _bridge(config: PaysyncConfig | None) -> SalesforceBridge:
    if config is None or config.salesforce is None:
        raise fail("give --salesforce-describe, or --config with a [salesforce] section")
    try:
        return build_salesforce(config.salesforce, SecretResolver())
    except PaysyncError as exc:  # an unresolvable secret names its key
        raise fail(str(exc)) from None


def _fusion(config: PaysyncConfig | None) -> FusionClient:
    try:
        client = build_clients(config).fusion if config is not None and config.fusion else None
    except PaysyncError as exc:
        raise fail(str(exc)) from None
    if client is None:
        raise fail("give --fusion-describe, or --config with a [fusion] section")
    return client


def _sf_describe(bridge: SalesforceBridge, sobject: str) -> SObjectDescribe:
    """The live describe; an unknown sObject or an unreachable org ends the command."""
    try:
        return bridge.describe(sobject)
    except SalesforceNotFoundError as exc:
        raise fail(f"describe {sobject}: no such object in this org ({_one_line(exc)})") from None
    except SalesforceBridgeError as exc:
        raise fail(f"describe {sobject}: {_one_line(exc)}") from None


def _fusion_describe(client: FusionClient, resource: str) -> ResourceDescribe:
    """The live describe; an unknown resource or an unreachable pod ends the command."""
    try:
        return client.describe(resource)
    except FusionError as exc:
        raise fail(f"describe {resource}: {_one_line(exc)}") from None


def _read_json(path: Path, option: str) -> dict[str, Any]:
    try:
        value: object = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"{option} {path}: {exc}") from None
    if not isinstance(value, dict):
        raise fail(f"{option} {path}: not a JSON object")
    return cast(dict[str, Any], value)


def _sf_files(paths: list[Path]) -> dict[str, SObjectDescribe]:
    found: dict[str, SObjectDescribe] = {}
    for path in paths:
        try:
            describe = SObjectDescribe.model_validate(_read_json(path, "--salesforce-describe"))
        except ValueError as exc:
            raise fail(f"--salesforce-describe {path}: {exc}") from None
        found[describe.name.lower()] = describe
    return found


def _fusion_files(paths: list[Path]) -> dict[str, ResourceDescribe]:
    found: dict[str, ResourceDescribe] = {}
    for path in paths:
        data = _read_json(path, "--fusion-describe")
        resources = data.get("Resources")
        names = list(cast(dict[str, Any], resources)) if isinstance(resources, dict) else [None]
        for name in names:
            try:
                describe = parse_describe(data, name)
            except FusionError as exc:
                raise fail(f"--fusion-describe {path}: {exc}") from None
            found[describe.name] = describe
    return found


def _options(config: PaysyncConfig | None) -> dict[str, object]:
    """Use case name -> validated options: every use case ``paysync run`` would run from this
    config (its own table or its defaults, unless ``enabled = false``), or the
    ``order_to_cash`` defaults when no config is given."""
    # Imported here: the registry imports every use case module.
    from paysync_core.app._registry import enabled_usecases, get_usecase

    if config is None:
        entry = get_usecase("order_to_cash")
        return {entry.name: entry.options()}
    return {
        entry.name: usecase_options(config, entry.name, entry.options)
        for entry in enabled_usecases(config)
    }


def _drift_json(item: Drift) -> dict[str, Any]:
    return vars(item).copy()


class _Run:
    """What one check saw: drift, and the objects checked or skipped per system."""

    def __init__(self) -> None:
        self.drift: list[Drift] = []
        self.checked: dict[str, set[str]] = {"salesforce": set(), "fusion": set()}
        self.skipped: dict[str, set[str]] = {"salesforce": set(), "fusion": set()}

    def systems(self) -> dict[str, dict[str, list[str]]]:
        return {
            name: {
                "checked": sorted(self.checked[name]),
                "skipped": sorted(self.skipped[name] - self.checked[name]),
            }
            for name in self.checked
        }

    def print_text(self) -> None:
        for system in ("salesforce", "fusion"):
            items = [d for d in self.drift if d.system == system]
            for item in items:
                out = err_console if item.severity == "error" else console
                out.print(str(item), markup=False)
            for name in sorted(self.checked[system]):
                if not any(d.object.split(".")[0] == name for d in items):
                    console.print(f"{system} {name}: mapping matches", markup=False)
            for name in sorted(self.skipped[system] - self.checked[system]):
                console.print(f"{system} {name}: not checked (no describe)", markup=False)


def _check_salesforce(
    run: _Run,
    options: dict[str, object],
    saved: dict[str, SObjectDescribe],
    live: bool,
    config: PaysyncConfig | None,
) -> None:
    bridge = _bridge(config) if live else None
    for spec in salesforce_field_maps(options):
        describe = saved.get(spec.sobject.lower())
        if describe is None and bridge is not None:
            describe = _sf_describe(bridge, spec.sobject)
            saved[spec.sobject.lower()] = describe
        if describe is None:
            run.skipped["salesforce"].add(spec.sobject)
            continue
        run.checked["salesforce"].add(describe.name)
        run.drift += check_salesforce_map(describe, spec)


def _check_fusion(
    run: _Run,
    options: dict[str, object],
    saved: dict[str, ResourceDescribe],
    live: bool,
    config: PaysyncConfig | None,
) -> None:
    fusion = _fusion(config) if live else None
    for write in fusion_writes(options):
        resource = saved.get(write.resource)
        if resource is None and fusion is not None:
            resource = _fusion_describe(fusion, write.resource)
            saved[write.resource] = resource
        if resource is None:
            run.skipped["fusion"].add(write.resource)
            continue
        run.checked["fusion"].add(resource.name)
        run.drift += check_fusion_write(resource, write)


@mapping_app.command("check")
@json_errors
def check(
    *,
    config: ConfigOption = None,
    salesforce_describe: SalesforceDescribes = None,
    fusion_describe: FusionDescribes = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            help="drop drift matching `system:Object.field` (glob, repeatable), e.g. "
            "`fusion:standardReceipts.ReceiptDate` for a mandatory attribute the pod defaults",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Compare every configured field map with its target's metadata; exit 1 on errors."""
    loaded = _config(config)
    options = _options(loaded)
    sf_saved = _sf_files(salesforce_describe or [])
    fu_saved = _fusion_files(fusion_describe or [])
    run = _Run()
    # A system with saved describes is checked offline only; otherwise live when configured.
    sf_live = not sf_saved and loaded is not None and loaded.salesforce is not None
    fu_live = not fu_saved and loaded is not None and loaded.fusion is not None
    _check_salesforce(run, options, sf_saved, sf_live, loaded)
    _check_fusion(run, options, fu_saved, fu_live, loaded)
    if not run.checked["salesforce"] and not run.checked["fusion"]:
        raise fail(
            "nothing to check against: give --salesforce-describe / --fusion-describe, or "
            "--config with a [salesforce] or [fusion] section",
            2,
        )
    run.drift = [
        d
        for d in dict.fromkeys(run.drift)  # a map shared by use cases is reported once
        if not any(fnmatchcase(f"{d.system}:{d.object}.{d.field}", p) for p in ignore or ())
    ]
    errors = [d for d in run.drift if d.severity == "error"]
    if as_json:
        drift = [_drift_json(d) for d in run.drift]
        write_line(dump_json({"ok": not errors, "drift": drift, "systems": run.systems()}))
    else:
        run.print_text()
    if errors:
        raise typer.Exit(1)


def _sf_sources(
    describe: SObjectDescribe, samples: int, live: bool, config: PaysyncConfig | None
) -> list[SourceField]:
    values: dict[str, list[str]] = {}
    if samples and live:
        names = [f.name for f in describe.fields]
        soql = f"SELECT {', '.join(names)} FROM {describe.name} LIMIT {samples}"  # noqa: S608
        try:
            rows = list(_bridge(config).query(soql))
        except SalesforceBridgeError as exc:
            raise fail(f"sample {describe.name}: {_one_line(exc)}") from None
        for row in rows:
            for name in names:
                value = row.fields.get(name)
                if value is not None:
                    values.setdefault(name, []).append(str(value))
    return [
        SourceField(f.name, f.type, f.label, tuple(values.get(f.name, ()))) for f in describe.fields
    ]


def _fusion_sources(
    describe: ResourceDescribe, samples: int, client: FusionClient | None
) -> list[SourceField]:
    values: dict[str, list[str]] = {}
    if samples and client is not None:
        try:
            page = client.http.page(describe.name, Query(limit=min(samples, 5)))
        except FusionError as exc:
            raise fail(f"sample {describe.name}: {_one_line(exc)}") from None
        for row in page.items:
            for name, value in row.items():
                if value is not None and not isinstance(value, (list, dict)):
                    values.setdefault(name, []).append(str(value))
    return [
        SourceField(a.name, a.type, a.title, tuple(values.get(a.name, ())))
        for a in describe.attributes
    ]


@mapping_app.command("suggest")
@json_errors
def suggest(
    *,
    sobject: Annotated[
        str | None, typer.Option("--object", help="Salesforce object to map")
    ] = None,
    fusion_resource: Annotated[
        str | None, typer.Option("--fusion-resource", help="Fusion REST resource to map")
    ] = None,
    config: ConfigOption = None,
    describe_file: Annotated[
        Path | None,
        typer.Option(
            "--describe-file",
            "--salesforce-describe",
            "--fusion-describe",
            help="a saved describe JSON instead of the live system",
        ),
    ] = None,
    target: Annotated[
        str, typer.Option(help="target mapping (payment, order, ..., receipt, ...) or all")
    ] = "all",
    samples: Annotated[int, typer.Option(min=0, max=200, help="sample records to read")] = 20,
    table: Annotated[
        str | None, typer.Option(help="TOML table the snippet is written for (one target)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Propose mappings for an unmapped object or resource; prints snippets, applies nothing."""
    if (sobject is None) == (fusion_resource is None):
        raise fail("give exactly one of --object and --fusion-resource")
    loaded = _config(config)
    system = "salesforce" if sobject else "fusion"
    try:
        sets = target_sets(system, target)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if sobject is not None:
        if describe_file is not None:
            sf = _sf_files([describe_file]).get(sobject.lower())
            if sf is None:
                raise fail(f"--describe-file {describe_file}: not the describe of {sobject}")
        else:
            sf = _sf_describe(_bridge(loaded), sobject)
        label = sf.name
        fields = _sf_sources(sf, samples, describe_file is None, loaded)
    else:
        name = cast(str, fusion_resource)
        client = None if describe_file is not None else _fusion(loaded)
        if describe_file is not None:
            fu = _fusion_files([describe_file]).get(name)
            if fu is None:
                raise fail(f"--describe-file {describe_file}: not the describe of {name}")
        else:
            fu = _fusion_describe(cast(FusionClient, client), name)
        label = fu.name
        fields = _fusion_sources(fu, samples, client)
    results: list[tuple[float, str, str, list[Suggestion]]] = []
    for target_set in sets:
        found = suggest_mapping(target_set.targets, fields)
        chosen_table = table if table and len(sets) == 1 else target_set.table
        results.append((fit(target_set, found), target_set.name, chosen_table, found))
    results.sort(key=lambda r: r[0], reverse=True)
    if as_json:
        payload = [
            {
                "target": name,
                "fit": score,
                "table": tbl,
                "suggestions": [vars(s) | {"reason": s.reason} for s in found],
            }
            for score, name, tbl, found in results
        ]
        write_line(dump_json(payload[0]["suggestions"] if len(payload) == 1 else payload))
        return
    snippets = [
        suggestions_to_toml(tbl, found, title=f"{label} -> {name} (fit {score:.2f})")
        for score, name, tbl, found in results
    ]
    write_line("\n".join(snippets).rstrip("\n"))
