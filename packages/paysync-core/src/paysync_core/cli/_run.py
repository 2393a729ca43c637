"""``paysync run``: poll the sources and run the flows, against configured endpoints."""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from paysync_core._dlq import DeadLetterQueue
from paysync_core._errors import PaysyncError
from paysync_core._ledger import LedgerStore
from paysync_core._open import open_ledger
from paysync_core.app import PassReport, Ports, Runner, ports_from_config, select_usecases

from ._common import (
    console,
    dump_json,
    err_console,
    fail,
    json_errors,
    load_config_or_exit,
    print_table,
    write_line,
)

__all__ = ["RUN_EXIT_CODES", "ConfigOption", "UseCaseOption", "load", "run", "stop_on_signals"]

RUN_EXIT_CODES = (
    "Exit codes (--once): 0 the pass ran (flows it dead-lettered are counted in `dead`: "
    "`paysync dlq list`); 1 a source or the engine failed, the configuration is wrong, or, "
    "with --fail-on-dead-letter, a flow was dead-lettered in this pass; 2 usage error. "
    "Without --once: 0 after SIGINT / SIGTERM."
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="configuration file", envvar="PAYSYNC_CONFIG")
]
UseCaseOption = Annotated[
    list[str] | None,
    typer.Option("--use-case", "-u", help="run only this use case (repeatable)"),
]


load = load_config_or_exit


@contextmanager
def stop_on_signals(stop: threading.Event) -> Generator[None, None, None]:
    """SIGINT / SIGTERM finish the current pass, then stop (no flow is cut mid-step)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled in the main thread (e.g. under a test runner)
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _show(report: PassReport, as_json: bool) -> None:
    if as_json:
        write_line(dump_json(report.as_json()))
        return
    rows = [
        (name, count, report.poll_errors.get(name, "")) for name, count in report.polled.items()
    ]
    rows += [(name, "-", error) for name, error in report.poll_errors.items()]
    if rows:
        print_table("Sources", ["source", "flows submitted or re-found", "error"], rows)
    run = report.run
    console.print(
        f"flows: {len(run.succeeded)} succeeded, {len(run.parked)} parked, "
        f"{len(run.dead)} dead-lettered, {len(run.errors)} engine errors"
    )


def _dead_letter_message(store: LedgerStore, dead: list[str]) -> str:
    """The flows dead-lettered in a pass, each with its dead-letter entry id."""
    entries = {e.flow_id: e.entry_id for e in DeadLetterQueue(store).list(None)}
    named = ", ".join(f"flow {flow} (entry {entries.get(flow, '?')})" for flow in dead)
    return f"{len(dead)} flow(s) dead-lettered in this pass: {named}; see `paysync dlq list`"


def _run_once(
    runner: Runner, store: LedgerStore, *, as_json: bool, fail_on_dead_letter: bool
) -> None:
    """One pass; ends with exit 1 on a failed source or engine error (see RUN_EXIT_CODES)."""
    report = runner.run_once()
    _show(report, as_json)
    if report.run.dead:
        # A dead letter is routine for a worker (a human takes it from the DLQ), so it fails
        # the pass only when asked; the message names the entries either way.
        message = _dead_letter_message(store, report.run.dead)
        if fail_on_dead_letter:
            raise fail(message)
        err_console.print(f"paysync: {message}", markup=False)
    if report.poll_errors or report.run.errors:
        raise typer.Exit(1)


@json_errors
def run(
    config: ConfigOption = Path("paysync.toml"),
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit (tests, cron)")] = False,
    use_case: UseCaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per pass")] = False,
    fail_on_dead_letter: Annotated[
        bool,
        typer.Option(
            "--fail-on-dead-letter",
            help="with --once: exit 1 when the pass dead-lettered a flow (for scripts)",
        ),
    ] = False,
) -> None:
    """Run the use cases against the configured systems until SIGINT / SIGTERM."""
    loaded = load(config)
    try:
        selection = select_usecases(loaded, use_case or ())
    except PaysyncError as exc:
        raise fail(str(exc)) from None
    if not selection.chosen:
        raise fail("no use case to run (each is disabled or lacks a system section)", kind="config")
    try:
        store = open_ledger(loaded.ledger.url, schema=loaded.ledger.db_schema)
    except PaysyncError as exc:
        raise fail(f"cannot open ledger: {exc}") from None
    runner: Runner | None = None
    ports: Ports | None = None
    try:
        try:
            ports = ports_from_config(loaded, store, events=True)
            runner = Runner.from_config(loaded, ports, selection.chosen)
        except PaysyncError as exc:
            if ports is not None and ports.events is not None:
                ports.events.close()  # the runner that would close them was not built
            raise fail(str(exc)) from None
        if not as_json:
            console.print(f"use cases: {', '.join(e.name for e in selection.chosen)}")
            for name, why in selection.skipped.items():
                console.print(f"skipped {name}: {why}")
        if once:
            _run_once(runner, store, as_json=as_json, fail_on_dead_letter=fail_on_dead_letter)
            return
        stop = threading.Event()
        with stop_on_signals(stop):
            runner.run_forever(stop, on_pass=lambda r: _show(r, as_json) if r.busy else None)
    finally:
        if runner is not None:
            runner.close()
        store.close()
