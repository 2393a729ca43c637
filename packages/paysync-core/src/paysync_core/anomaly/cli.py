"""``paysync anomalies``: flag anomalies in a directory of exported record files.

    paysync anomalies --input DIR [--from 2026-03-01] [--to 2026-03-31] [--format json|md] \\
        [--rules anomalies.toml] [--output FILE] [--engine auto] [--as-of 2026-04-01T00:00:00Z]

``DIR`` holds the reconciliation files: ``paytrace.csv`` (or ``.parquet``; required),
``fusion.csv`` / ``.parquet`` (receipts; used when it has an ``unapplied_cents`` column) and
``batches.csv``. ``anomalies_command`` is a plain typer command function: mount it with
``app.command("anomalies")(anomalies_command)``. Exit codes: 0 no flag, 1 flags found,
2 bad input.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._api import detect_anomalies
from ._model import AnomalyInputError
from ._report import render_anomalies
from ._rules import AnomalyRules
from ._schema import epoch_us, us_to_datetime

__all__ = ["anomalies_command", "find_inputs"]


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


def find_inputs(directory: Path) -> tuple[Path, Path | None, Path | None]:
    """The transactions, receipts and batch files of an input directory."""
    if not directory.is_dir():
        raise AnomalyInputError("--input", f"{directory} is not a directory")
    transactions = _first(directory, "paytrace", (".csv", ".parquet"))
    if transactions is None:
        raise AnomalyInputError("--input", f"no paytrace.csv or paytrace.parquet in {directory}")
    receipts = _first(directory, "fusion", (".csv", ".parquet"))
    if receipts is not None and not _csv_has(receipts, "unapplied_cents"):
        typer.echo(f"note: {receipts.name} has no unapplied_cents column; skipped", err=True)
        receipts = None
    return transactions, receipts, _first(directory, "batches", (".csv",))


def anomalies_command(
    *,
    input_dir: Annotated[Path, typer.Option("--input", help="directory of record files")],
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="last day, YYYY-MM-DD")] = None,  # noqa: UP045
    report_format: Annotated[str, typer.Option("--format", help="json (lines) or md")] = "md",
    rules_file: Annotated[Optional[Path], typer.Option("--rules", help="rules TOML file")] = None,  # noqa: UP045
    output: Annotated[Optional[Path], typer.Option(help="report file (default: stdout)")] = None,  # noqa: UP045
    engine: Annotated[str, typer.Option(help="auto, polars or python")] = "auto",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="'now' for receipt ages, ISO-8601 with offset")
    ] = None,
) -> None:
    """Flag duplicate charges, amount outliers, decline/refund spikes, batch drift and
    long-unapplied receipts, each with the statistic that tripped it."""
    try:
        if report_format not in ("json", "md"):
            raise AnomalyInputError("--format", f"{report_format!r} is not json or md")
        if engine not in ("auto", "polars", "python"):
            raise AnomalyInputError("--engine", f"{engine!r} is not auto, polars or python")
        rules = AnomalyRules.from_toml(rules_file) if rules_file else AnomalyRules()
        now = us_to_datetime(epoch_us(as_of, "--as-of")) if as_of else None
        transactions, receipts, batches = find_inputs(input_dir)
        flags = detect_anomalies(
            transactions,
            receipts,
            batches,
            rules=rules,
            engine=engine,  # checked above
            now=now,
            start=_day(date_from, "--from"),
            end=_day(date_to, "--to"),
        )
    except AnomalyInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    text = render_anomalies(flags, report_format)  # checked above
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{len(flags)} anomalies; report written to {output}", err=True)
    raise typer.Exit(1 if flags else 0)
