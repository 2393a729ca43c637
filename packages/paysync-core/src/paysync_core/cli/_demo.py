"""``paysync demo``: every use case end to end against the in-process emulators."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from paysync_core.app import DemoSummary, run_demo

from ._common import console, dump_json, err_console, print_table, write_line

__all__ = ["demo"]


@contextmanager
def _quiet_logs() -> Generator[None, None, None]:
    """The demo's faults are on purpose: their warnings would drown the progress display."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(previous)


def _print(summary: DemoSummary) -> None:
    for system, counts in (
        ("PayTrace", summary.paytrace),
        ("Salesforce", summary.salesforce),
        ("Oracle Fusion", summary.fusion),
    ):
        print_table(f"{system}: new records", ["what", "count"], list(counts.items()))
    print_table(
        "Flows",
        ["use case", "state", "count"],
        [(uc, st, n) for uc, states in summary.flows.items() for st, n in states.items()],
    )
    print_table(
        "Injected faults",
        ["system", "fault", "outcome"],
        [(f["system"], f["fault"], f["outcome"]) for f in summary.faults],
    )
    console.print(f"ledger: {summary.ledger}   ({summary.elapsed_seconds:.1f} s)")


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="SQLite ledger file (default: a temporary directory)"),
    ] = None,
) -> None:
    """Start the three emulators in-process and run every use case end to end."""
    with tempfile.TemporaryDirectory(prefix="paysync-demo-") as scratch:
        path = ledger if ledger is not None else Path(scratch) / "paysync-demo.db"
        with _quiet_logs():
            if as_json:
                result = run_demo(path)
            else:
                with Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TimeElapsedColumn(),
                    console=err_console,
                    transient=False,
                ) as progress:
                    current: list[TaskID] = []

                    def step(text: str) -> None:
                        if current:
                            progress.update(current[0], completed=1)
                        current[:] = [progress.add_task(text, total=1)]

                    result = run_demo(path, progress=step)
                    if current:
                        progress.update(current[0], completed=1)
        try:
            summary = result.summary
        finally:
            result.close()
        if as_json:
            write_line(dump_json(summary.as_json()))
        else:
            _print(summary)
    if not summary.all_succeeded:
        raise typer.Exit(1)
