"""``paysync reconcile``: reconcile exported record files and write a report.

    paysync reconcile --paytrace pt.csv --fusion fu.csv --salesforce sf.csv \\
        [--batches batches.csv] [--from 2026-03-01] [--to 2026-03-31] \\
        [--format html] [--output report.html] [--engine auto] [--fix [--fix-output plan.json]]

``reconcile_app`` is a typer app whose callback is the command, so it mounts as
``app.add_typer(reconcile_app, name="reconcile")``; ``reconcile_command`` is the same
function for ``app.command("reconcile")``. ``--fix`` writes the suggested fixes as a plan for
the engine; it is a dry run (nothing is replayed here). Exit codes: 0 no discrepancy,
1 discrepancies found, 2 bad input.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from ._api import reconcile
from ._fixes import fix_plan
from ._model import DiscrepancyClass, ReconcileInputError, ReconcileRules
from ._report import ReportFormat, render_report

__all__ = ["reconcile_app", "reconcile_command"]

reconcile_app = typer.Typer(add_completion=False, help="Three-way reconciliation.")

_FORMATS: tuple[ReportFormat, ...] = ("json", "csv", "md", "html")


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day
    except ValueError as exc:
        raise ReconcileInputError(name, f"{value!r} is not YYYY-MM-DD") from exc


def _money(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ReconcileInputError(name, f"{value!r} is not an amount") from exc


@reconcile_app.callback(invoke_without_command=True)
def reconcile_command(
    *,
    paytrace: Annotated[Path, typer.Option(help="PayTrace record file (CSV or Parquet)")],
    fusion: Annotated[Path, typer.Option(help="Fusion record file")],
    salesforce: Annotated[Path, typer.Option(help="Salesforce record file")],
    batches: Annotated[Path | None, typer.Option(help="PayTrace batch totals (CSV)")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")] = None,
    report_format: Annotated[str, typer.Option("--format", help="json, csv, md or html")] = "md",
    output: Annotated[Path | None, typer.Option(help="report file (default: stdout)")] = None,
    engine: Annotated[str, typer.Option(help="auto, polars or python")] = "auto",
    tolerance: Annotated[str, typer.Option(help="amount tolerance of exact pairs")] = "0.00",
    fuzzy_tolerance: Annotated[str, typer.Option(help="amount tolerance of fuzzy pairs")] = "0.00",
    window: Annotated[int, typer.Option(help="fuzzy date window in days")] = 3,
    fix: Annotated[bool, typer.Option("--fix", help="also write the fix plan (dry run)")] = False,
    fix_output: Annotated[Path | None, typer.Option(help="fix plan file (default: stdout)")] = None,
) -> None:
    try:
        if report_format not in _FORMATS:
            raise ReconcileInputError("--format", f"{report_format!r} is not json, csv, md or html")
        if engine not in ("auto", "polars", "python"):
            raise ReconcileInputError("--engine", f"{engine!r} is not auto, polars or python")
        rules = ReconcileRules(
            amount_tolerance=_money(tolerance, "--tolerance"),
            fuzzy_amount_tolerance=_money(fuzzy_tolerance, "--fuzzy-tolerance"),
            date_window_days=window,
            date_from=_day(date_from, "--from"),
            date_to=_day(date_to, "--to"),
        )
        result = reconcile(
            paytrace=paytrace,
            fusion=fusion,
            salesforce=salesforce,
            batches=batches,
            rules=rules,
            engine=engine,
        )
    except ReconcileInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    text = render_report(result, report_format)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        counts = ", ".join(f"{k.value} {v}" for k, v in result.counts.items() if v)
        typer.echo(f"{result.keys} keys: {counts}; report written to {output}", err=True)
    if fix:
        plan = json.dumps(fix_plan(result), indent=2) + "\n"
        if fix_output is None:
            typer.echo(plan, nl=False)
        else:
            fix_output.write_text(plan, encoding="utf-8")
    clean = result.counts[DiscrepancyClass.MATCHED] == result.keys and not result.batch_mismatches
    raise typer.Exit(0 if clean else 1)
