"""``paysync replay``: re-derive recorded mapping decisions with the current configuration."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from paysync_core._errors import PaysyncError
from paysync_core.app import get_usecase, registered, replay_flows
from paysync_core.config import usecase_options

from ._common import (
    console,
    dump_json,
    fail,
    json_errors,
    ledger_store,
    print_table,
    write_line,
)
from ._run import load

__all__ = ["replay"]


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--since {text!r}: expected an ISO date or date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@json_errors
def replay(
    ctx: typer.Context,
    *,
    flow: Annotated[list[str] | None, typer.Option("--flow", help="flow id (repeatable)")] = None,
    use_case: Annotated[
        str | None, typer.Option("--use-case", "-u", help="every flow of this use case")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="only flows created since (ISO date)")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="paysync.toml with the options to replay with"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Replay recorded inputs offline; show every mapping decision that would now differ.

    Exit code 1 when a decision differs (so a configuration change can be checked in CI).
    """
    if not flow and not use_case:
        raise fail("give --flow ID or --use-case NAME", code=2)
    loaded = load(config) if config is not None else None
    options: dict[str, BaseModel] = {
        e.name: (usecase_options(loaded, e.name, e.options) if loaded else e.options())
        for e in registered()
    }
    names: list[str] = []
    if use_case:
        try:
            names = list(get_usecase(use_case).flows)
        except PaysyncError as exc:
            raise fail(str(exc), kind="not_found") from None
    with ledger_store(ctx) as store:
        report = replay_flows(
            store, options, flow_ids=flow or (), use_cases=names, since=_since(since)
        )
    if as_json:
        write_line(dump_json(report.as_json()))
    else:
        console.print(
            f"{report.flows} flow(s) replayed, {len(report.decisions)} decision(s), "
            f"{len(report.changed)} would change"
        )
        if report.changed:
            print_table(
                "Decisions that would change",
                ["flow", "step", "recorded", "now"],
                [(d.flow_id, d.step, d.recorded, d.replayed) for d in report.changed],
            )
        for name, count in report.not_replayable.items():
            console.print(f"{name}: {count} flow(s) record no per-step mapping decision")
    if report.changed:
        raise typer.Exit(1)
