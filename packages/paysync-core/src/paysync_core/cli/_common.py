"""What every ``paysync`` verb shares: the ledger option, JSON output, error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from paysync_core._errors import PaysyncError
from paysync_core._ledger import LedgerStore
from paysync_core._open import open_ledger
from paysync_core.config import PaysyncConfig, load_config

__all__ = [
    "CliState",
    "dump_json",
    "fail",
    "ledger_store",
    "load_config_or_exit",
    "print_table",
    "state",
]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class CliState:
    ledger: str
    schema: str


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):  # pragma: no cover - the root callback sets it
        raise RuntimeError("paysync CLI state missing")
    return root.obj


def _json_default(value: object) -> object:
    # ISO 8601 with "T" like every other timestamp paysync prints (str() would use a space)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def dump_json(value: object, *, indent: int | None = None) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True, indent=indent)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr and return the exit to raise."""
    err_console.print(f"paysync: {message}", markup=False)
    return typer.Exit(code)


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


def write_line(text: str) -> None:
    """Plain stdout line (JSON lines must not pass through rich's wrapping)."""
    sys.stdout.write(text + "\n")
