"""``paysync anomalies``: flag anomalies in the systems or in exported record files.

    paysync anomalies --config paysync.toml --from 2026-03-01 --to 2026-03-31 [--workdir DIR]
    paysync anomalies --input DIR [--from 2026-03-01] [--to 2026-03-31]
        [--format json|md] [--rules anomalies.toml] [--output FILE] [--engine auto]
        [--as-of 2026-04-01T00:00:00Z]

With ``--config`` the reconciliation loaders read PayTrace (transactions, batches) and Fusion
(receipts) through the configured clients into ``--workdir`` (a temporary directory when not
given), and the rules default to the ``[anomalies]`` table of that file.

``DIR`` holds the reconciliation files: ``paytrace.csv`` (or ``.parquet``; required),
``fusion.csv`` / ``.parquet`` (receipts; used when it has an ``unapplied_cents`` column) and
``batches.csv``. ``anomalies_command`` is a plain typer command function: mount it with
``app.command("anomalies")(anomalies_command)``. Exit codes: 0 no flag, 1 flags found,
2 bad input. ``--json`` is ``--format json``, and then a failure prints
``{"ok": false, "error": {"kind", "message", "key"}}`` on stdout (see
:mod:`paysync_core._cli_output`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from paysync_core._cli_output import error_json, json_errors
from paysync_core.reconcile import ReconcileInputError, clients_from_config, pull_records

from ._api import detect_anomalies
from ._model import AnomalyInputError
from ._report import render_anomalies
from ._rules import AnomalyRules
from ._schema import epoch_us, us_to_datetime

__all__ = ["anomalies_command", "find_inputs", "usable_receipts"]


def _day(value: Optional[str], name: str) -> Optional[date]:  # noqa: UP045 - typer reads it
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day
    except ValueError as exc:
        raise AnomalyInputError(name, f"{value!r} is not YYYY-MM-DD") from exc


def _first(directory: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    for suffix in suffixes:
        path = directory / f"{stem}{suffix}"
        if path.is_file():
            return path
    return None


def _csv_has(path: Path, column: str) -> bool:
    if path.suffix.lower() != ".csv":
        return True  # Parquet: the engine checks the schema itself
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    return column in header


def usable_receipts(path: Path | None) -> Path | None:
    """``path`` when it can serve as receipts (it has ``unapplied_cents``), else ``None``."""
    if path is None or not path.is_file():
        return None
    if not _csv_has(path, "unapplied_cents"):
        typer.echo(f"note: {path.name} has no unapplied_cents column; skipped", err=True)
        return None
    return path


def find_inputs(directory: Path) -> tuple[Path, Path | None, Path | None]:
    """The transactions, receipts and batch files of an input directory."""
    if not directory.is_dir():
        raise AnomalyInputError("--input", f"{directory} is not a directory")
    transactions = _first(directory, "paytrace", (".csv", ".parquet"))
    if transactions is None:
        raise AnomalyInputError("--input", f"no paytrace.csv or paytrace.parquet in {directory}")
    receipts = usable_receipts(_first(directory, "fusion", (".csv", ".parquet")))
    return transactions, receipts, _first(directory, "batches", (".csv",))


@contextmanager
def _input_dir(
    input_dir: Path | None,
    config: Path | None,
    workdir: Path | None,
    start: date | None,
    end: date | None,
) -> Generator[Path, None, None]:
    """The directory of record files: ``--input``, or loaded from the systems (``--config``)."""
    if config is None:
        if input_dir is None:
            raise AnomalyInputError("--input", "give --input DIR or --config paysync.toml")
        yield input_dir
        return
    if input_dir is not None:
        raise AnomalyInputError("--input", "give --input or --config, not both")
    if start is None or end is None:
        raise AnomalyInputError("--from", "--config needs --from and --to")
    clients = clients_from_config(config)
    if workdir is not None:
        pull_records(clients, start, end, workdir, salesforce=False)
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="paysync-anomalies-") as scratch:
        pull_records(clients, start, end, scratch, salesforce=False)
        yield Path(scratch)


@json_errors
def anomalies_command(
    *,
    input_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--input", help="directory of record files"),
    ] = None,
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="paysync.toml: load from PayTrace and Fusion"),
    ] = None,
    workdir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="where --config writes the record files (kept)"),
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="last day, YYYY-MM-DD")] = None,  # noqa: UP045
    report_format: Annotated[str, typer.Option("--format", help="json (lines) or md")] = "md",
    as_json: Annotated[
        bool, typer.Option("--json", help="same as --format json (errors too are JSON)")
    ] = False,
    rules_file: Annotated[Optional[Path], typer.Option("--rules", help="rules TOML file")] = None,  # noqa: UP045
    output: Annotated[Optional[Path], typer.Option(help="report file (default: stdout)")] = None,  # noqa: UP045
    engine: Annotated[str, typer.Option(help="auto, polars or python")] = "auto",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="'now' for receipt ages, ISO-8601 with offset")
    ] = None,
) -> None:
    """Flag duplicate charges, amount outliers, decline/refund spikes, batch drift and
    long-unapplied receipts, each with the statistic that tripped it."""
    if as_json:
        report_format = "json"
    try:
        if report_format not in ("json", "md"):
            raise AnomalyInputError("--format", f"{report_format!r} is not json or md")
        if engine not in ("auto", "polars", "python"):
            raise AnomalyInputError("--engine", f"{engine!r} is not auto, polars or python")
        if rules_file:
            rules = AnomalyRules.from_toml(rules_file)
        else:
            rules = AnomalyRules.from_config(config) if config else AnomalyRules()
        now = us_to_datetime(epoch_us(as_of, "--as-of")) if as_of else None
        start, end = _day(date_from, "--from"), _day(date_to, "--to")
        with _input_dir(input_dir, config, workdir, start, end) as directory:
            transactions, receipts, batches = find_inputs(directory)
            flags = detect_anomalies(
                transactions,
                receipts,
                batches,
                rules=rules,
                engine=engine,  # checked above
                now=now,
                start=start,
                end=end,
            )
    except ReconcileInputError as exc:  # AnomalyInputError, and the loaders' errors
        typer.echo(f"error: {exc}", err=True)
        # the rules of --config: a file that cannot be read is a configuration problem
        if config is not None and exc.field == str(config):
            raise error_json(str(exc), 2, kind="config", key="--config", exc=exc) from exc
        raise error_json(str(exc), 2, key=exc.field, exc=exc) from exc
    text = render_anomalies(flags, report_format)  # checked above
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{len(flags)} anomalies; report written to {output}", err=True)
    raise typer.Exit(1 if flags else 0)
