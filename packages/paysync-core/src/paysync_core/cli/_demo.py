"""``paysync demo``: every use case end to end against the in-process emulators."""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from paysync_core.app import DEMO_CREDENTIALS, DemoSummary, run_demo, serve_demo
from paysync_core.app._serve import wait_until_stopped

from ._common import console, dump_json, err_console, json_errors, print_table, write_line
from ._run import stop_on_signals

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


def _print(summary: DemoSummary, *, kept: bool) -> None:
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
    where = summary.ledger if kept else "temporary, deleted (--ledger FILE keeps it)"
    console.print(f"ledger: {where}   ({summary.elapsed_seconds:.1f} s)", markup=False)


def _serve(config_out: Path, ledger: Path, serve_for: float | None, as_json: bool) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="paysync-demo-tls-") as tls,
        serve_demo(Path(tls)) as served,
    ):
        config_out.write_text(served.config_toml(ledger.resolve()), encoding="utf-8")
        exports = {**DEMO_CREDENTIALS, "REQUESTS_CA_BUNDLE": str(served.ca_path)}
        ship = (
            f"curl -X POST {served.fusion_url}/__emulator__/orders/"
            f"PAYTRACE:{served.seeded['web_sale']}/ship"
        )
        if as_json:
            info = {
                "paytrace": served.paytrace_url,
                "fusion": served.fusion_url,
                "salesforce": served.salesforce_url,
                "ca": str(served.ca_path),
                "config": str(config_out),
                "environment": exports,
                "seeded": served.seeded,
                "ship": ship,
            }
            write_line(dump_json(info))
        else:
            console.print(f"paytrace   {served.paytrace_url}", markup=False)
            console.print(f"fusion     {served.fusion_url}", markup=False)
            console.print(
                f"salesforce {served.salesforce_url}  (CA {served.ca_path})", markup=False
            )
            console.print(f"config     {config_out}", markup=False)
            console.print("in another shell:", markup=False)
            for name, value in exports.items():
                console.print(f"  export {name}={value}", markup=False)
            console.print(f"  paysync run --config {config_out} --once", markup=False)
            console.print(f"ship the web order, then run again:\n  {ship}", markup=False)
            console.print("Ctrl-C stops the emulators.", markup=False)
        sys.stdout.flush()
        stop = threading.Event()
        if serve_for is not None:
            threading.Timer(serve_for, stop.set).start()
        with stop_on_signals(stop):
            wait_until_stopped(stop)


@json_errors
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="SQLite ledger file (default: a temporary directory)"),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="serve the seeded emulators on ports for `paysync run` instead (until Ctrl-C)",
        ),
    ] = False,
    config_out: Annotated[
        Path, typer.Option("--config-out", help="with --serve: where to write paysync.toml")
    ] = Path("paysync-demo.toml"),
    serve_for: Annotated[
        float | None, typer.Option("--serve-for", help="with --serve: stop after N seconds")
    ] = None,
) -> None:
    """Start the three emulators in-process and run every use case end to end."""
    if serve:
        _serve(config_out, ledger or Path("paysync-demo.db"), serve_for, as_json)
        return
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
            _print(summary, kept=ledger is not None)
    if not summary.all_succeeded:
        raise typer.Exit(1)
