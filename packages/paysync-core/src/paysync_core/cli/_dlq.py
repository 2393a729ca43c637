"""``paysync dlq``: list, show, retry (optionally with edited input) and resolve dead letters."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from paysync_core._dlq import DeadLetterQueue
from paysync_core._model import DeadLetterStatus

from ._common import (
    console,
    dump_json,
    fail,
    json_errors,
    ledger_store,
    print_table,
    write_line,
)

__all__ = ["dlq_app"]

dlq_app = typer.Typer(help="Dead-letter queue: flows that need a human.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]


@dlq_app.command("list")
@json_errors
def list_entries(
    ctx: typer.Context,
    include_closed: Annotated[
        bool, typer.Option("--all", help="include retried and resolved entries")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List dead-letter entries (open ones unless --all)."""
    with ledger_store(ctx) as store:
        entries = DeadLetterQueue(store).list(None if include_closed else DeadLetterStatus.OPEN)
    if as_json:  # one JSON array, ``[]`` for an empty queue
        write_line(dump_json([asdict(entry) for entry in entries]))
        return
    if not entries:
        console.print("no dead letters")
        return
    print_table(
        "Dead letters",
        ["entry", "status", "count", "step", "reason", "last error"],
        [
            (e.entry_id, e.status.value, e.occurrences, e.step_name, e.reason, e.last_error)
            for e in entries
        ],
    )


@dlq_app.command("show")
def show(ctx: typer.Context, entry_id: str) -> None:
    """Show an entry with its evidence and the flow's steps (JSON)."""
    with ledger_store(ctx) as store:
        detail = DeadLetterQueue(store).show(entry_id)
    write_line(dump_json(asdict(detail), indent=2))


@dlq_app.command("retry")
@json_errors
def retry(
    ctx: typer.Context,
    entry_id: str,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="JSON file replacing the flow's input")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Re-queue the entry's flow; effects that already happened are not repeated."""
    new_input: dict[str, Any] | None = None
    if input_file is not None:
        try:
            loaded = json.loads(input_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise fail(f"--input {input_file}: not a readable JSON file ({exc})") from None
        if not isinstance(loaded, dict):
            raise fail(f"--input {input_file}: expected a JSON object")
        new_input = cast(dict[str, Any], loaded)
    with ledger_store(ctx) as store:
        flow = DeadLetterQueue(store).retry(entry_id, input=new_input)
    if as_json:
        write_line(dump_json({"flow_id": flow.flow_id, "state": flow.state.value}))
    else:
        console.print(f"flow {flow.flow_id} re-queued")


@dlq_app.command("resolve")
@json_errors
def resolve(
    ctx: typer.Context,
    entry_id: str,
    note: Annotated[str | None, typer.Option(help="why it is closed")] = None,
    as_json: JsonOption = False,
) -> None:
    """Close an entry without retrying it."""
    with ledger_store(ctx) as store:
        entry = DeadLetterQueue(store).resolve(entry_id, note=note)
    if as_json:
        write_line(dump_json({"entry_id": entry.entry_id, "status": entry.status.value}))
    else:
        console.print(f"entry {entry.entry_id} resolved")
