"""``paysync plan``: the writes a use case would make for one input (nothing is written)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from paysync_core import Engine, LedgerStore, PlannedWrite, SqliteLedger
from paysync_core._errors import PaysyncError
from paysync_core.app import Ports, get_usecase, offline_ports, ports_from_config
from paysync_core.config import PaysyncConfig, usecase_options

from ._common import console, dump_json, fail, json_errors, print_table, write_line
from ._run import load

__all__ = ["plan"]


def _input(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: cannot read input: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise fail(f"{path}: the input must be a JSON object")
    return cast(dict[str, Any], data)


def _ports(config: PaysyncConfig | None, store: LedgerStore) -> Ports:
    """The configured systems (a trigger may read them), offline stand-ins for the others."""
    offline = offline_ports(store)
    if config is None:
        return offline
    configured = ports_from_config(config, store)
    return replace(
        offline,
        paytrace=configured.paytrace or offline.paytrace,
        fusion=configured.fusion or offline.fusion,
        salesforce=configured.salesforce or offline.salesforce,
    )


def _skipped(write: PlannedWrite) -> str | None:
    """Why the step will make no write (its summary is only ``{"skipped": reason}``)."""
    reason = write.payload.get("skipped")
    return str(reason) if reason is not None and len(write.payload) == 1 else None


def _write_json(write: PlannedWrite) -> dict[str, object]:
    return {
        "use_case": write.use_case,
        "step": write.step,
        "system": write.system,
        "idempotency_key": write.idempotency_key,
        "payload": dict(write.payload),
        "skipped": _skipped(write),
    }


def _payload_cell(write: PlannedWrite) -> str:
    reason = _skipped(write)
    return f"skipped: {reason}" if reason is not None else dump_json(dict(write.payload))


@json_errors
def plan(
    use_case: Annotated[str, typer.Option("--use-case", "-u", help="registry name, e.g. refunds")],
    input_file: Annotated[Path, typer.Option("--input", "-i", help="the trigger's input (JSON)")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="paysync.toml: options, and the systems a trigger reads (never writes)",
            envvar="PAYSYNC_CONFIG",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Dry run: every write per system with its payload; no write endpoint is called.

    Flows are submitted to a throw-away in-memory ledger; without --config the options are
    the defaults and no system can be reached.
    """
    try:
        entry = get_usecase(use_case)
    except PaysyncError as exc:
        raise fail(str(exc), kind="not_found") from None
    data = _input(input_file)
    scratch = SqliteLedger(":memory:")
    try:
        loaded = load(config) if config is not None else None
        ports = _ports(loaded, scratch)
        options = usecase_options(loaded, entry.name, entry.options) if loaded else None
        build = entry.build(ports, options)
        if build.submit_json is None:  # pragma: no cover - every registered use case has one
            raise fail(f"use case {entry.name!r} takes no JSON input")
        engine = Engine(scratch, build.definitions)
        try:
            flows = build.submit_json(engine, data)
        except (ValueError, LookupError, TypeError) as exc:
            raise fail(f"{input_file}: {exc} (expected {entry.input_hint})") from None
        except PaysyncError:
            raise
        except Exception as exc:  # a client error: this trigger reads its source system
            raise fail(
                f"use case {entry.name!r} reads its source to plan this input and could not: "
                f"{type(exc).__name__}: {exc} (give --config with the system's section)"
            ) from None
        writes = [
            w
            for flow in flows
            for w in engine.plan(
                flow.use_case,
                source_system=flow.source_system,
                source_id=flow.source_id,
                version=flow.version,
                input=flow.input,
                idempotency_key=flow.flow_key,
            )
        ]
    except PaysyncError as exc:
        raise fail(str(exc)) from None
    finally:
        scratch.close()
    inputs = [
        {"use_case": f.use_case, "source_id": f.source_id, "input": dict(f.input)} for f in flows
    ]
    if as_json:
        write_line(
            dump_json(
                {
                    "use_case": entry.name,
                    "flows": inputs,
                    "writes": [_write_json(w) for w in writes],
                }
            )
        )
        return
    if not writes:
        console.print("nothing to do for this input (the trigger submits no flow)")
        return
    for flow in flows:
        mapping = flow.input.get("mapping") or ""
        console.print(f"{flow.use_case} {flow.source_id}: {mapping}", markup=False)
    print_table(
        f"Plan: {entry.title}",
        ["#", "flow", "step", "system", "payload"],
        [(i + 1, w.use_case, w.step, w.system, _payload_cell(w)) for i, w in enumerate(writes)],
    )
