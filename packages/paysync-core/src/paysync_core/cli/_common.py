"""What every ``paysync`` verb shares: the ledger option, JSON output, error handling.

Every verb with ``--json`` is wrapped in :func:`json_errors` (see
:mod:`paysync_core._cli_output` for the error object it prints when the verb fails);
:func:`fail` prints the message on stderr and classifies the failure for it.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from paysync_core._cli_output import (
    ERROR_KINDS,
    CommandFailed,
    dump_json,
    err_console,
    error_json,
    json_errors,
    write_line,
)
from paysync_core._errors import PaysyncError
from paysync_core._ledger import LedgerStore
from paysync_core._open import open_ledger
from paysync_core.config import PaysyncConfig, load_config

__all__ = [
    "ERROR_KINDS",
    "CliState",
    "CommandFailed",
    "console",
    "dump_json",
    "err_console",
    "error_json",
    "fail",
    "json_errors",
    "ledger_store",
    "load_config_or_exit",
    "print_table",
    "state",
    "write_line",
]

console = Console(highlight=False, soft_wrap=True)


@dataclass
class CliState:
    ledger: str
    schema: str


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):  # pragma: no cover - the root callback sets it
        raise RuntimeError("paysync CLI state missing")
    return root.obj


def fail(message: str, code: int = 1, *, kind: str | None = None) -> CommandFailed:
    """Print ``message`` on stderr and return the exit to raise.

    Called inside an ``except`` block, the exception being handled classifies the failure
    for ``--json`` (so call sites need not repeat it); ``kind`` overrides.
    """
    err_console.print(f"paysync: {message}", markup=False)
    return error_json(message, code, kind=kind, exc=sys.exc_info()[1])


def load_config_or_exit(path: Path) -> PaysyncConfig:
    """``paysync.toml`` validated; any configuration problem ends the command with exit 1."""
    try:
        return load_config(path)
    except PaysyncError as exc:
        raise fail(str(exc)) from None


@contextmanager
def ledger_store(ctx: typer.Context) -> Generator[LedgerStore, None, None]:
    """Open the ledger named by ``--ledger``; engine errors become exit code 1."""
    cli = state(ctx)
    try:
        store = open_ledger(cli.ledger, schema=cli.schema)
    except PaysyncError as exc:
        raise fail(f"cannot open ledger: {exc}") from None
    try:
        yield store
    except PaysyncError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()


#: Width for tables written to a file or a pipe: wide enough that no cell is cut.
_UNBOUNDED_WIDTH = 100_000


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A rich table; on a terminal long cells wrap (``fold``), elsewhere nothing is cut.

    Rich assumes 80 columns when stdout is not a terminal, which would cut payloads with
    an ellipsis in ``paysync plan > plan.txt`` or under a pipe.
    """
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    if console.is_terminal:
        console.print(table)
    else:  # ``print(width=...)`` cannot exceed the console's own width: a wide console
        Console(file=console.file, highlight=False, width=_UNBOUNDED_WIDTH).print(table)
