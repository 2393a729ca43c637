"""``paysync reconcile``: reconcile the three systems (or exported record files), write a report.

    paysync reconcile --config paysync.toml --from 2026-03-01 --to 2026-03-31 \\
        [--workdir DIR] [--format html] [--output report.html] [--reports-dir DIR] \\
        [--anomalies [--anomaly-rules rules.toml]] [--engine auto] [--fix [--fix-output plan.json]]
    paysync reconcile --paytrace pt.csv --fusion fu.csv --salesforce sf.csv \\
        [--batches batches.csv] [--from ...] [--to ...] ...

With ``--config`` the loaders read PayTrace, Fusion and Salesforce through the configured
clients into record files in ``--workdir`` (a temporary directory, removed afterwards, when
not given); otherwise the three files are given. ``--reports-dir`` also writes
``<DIR>/<run day>/reconcile-<from>-<to>.html`` and ``.json`` for the dashboard.
``--anomalies`` runs anomaly detection on the same PayTrace, Fusion and batch files and adds
its flags to the reports. ``--fix`` writes the suggested fixes as a plan (a dry run).

``reconcile_app`` is a typer app whose callback is the command, so it mounts as
``app.add_typer(reconcile_app, name="reconcile")``; ``reconcile_command`` is the same
function for ``app.command("reconcile")``. Exit codes: 0 no discrepancy (and no anomaly),
1 discrepancies (or anomalies) found, 2 bad input. ``--json`` is ``--format json``, and then
a failure prints ``{"ok": false, "error": {"kind", "message", "key"}}`` on stdout (see
:mod:`paysync_core._cli_output`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from paysync_core._cli_output import error_json, json_errors

from ._api import reconcile
from ._apply import apply_from_config
from ._fixes import fix_plan
from ._model import DiscrepancyClass, ReconcileInputError, ReconcileResult, ReconcileRules
from ._pull import RecordFiles, clients_from_config, pull_records
from ._report import ReportFormat, render_report

__all__ = ["reconcile_app", "reconcile_command", "report_paths"]

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


@dataclass(frozen=True)
class _Given:
    paytrace: Path | None
    fusion: Path | None
    salesforce: Path | None
    batches: Path | None
    config: Path | None
    workdir: Path | None


@contextmanager
def _record_files(
    given: _Given, start: date | None, end: date | None
) -> Generator[RecordFiles, None, None]:
    """The record files to reconcile: loaded from the systems with ``--config``, else the
    files given (all three are then required)."""
    if given.config is not None:
        if start is None or end is None:
            raise ReconcileInputError("--from", "--config needs --from and --to")
        clients = clients_from_config(given.config)
        if given.workdir is not None:
            yield pull_records(clients, start, end, given.workdir)
            return
        with tempfile.TemporaryDirectory(prefix="paysync-reconcile-") as scratch:
            yield pull_records(clients, start, end, scratch)
        return
    for name in ("paytrace", "fusion", "salesforce"):
        if getattr(given, name) is None:
            raise ReconcileInputError(f"--{name}", "is required without --config")
    assert given.paytrace is not None  # checked above
    assert given.fusion is not None
    yield RecordFiles(given.paytrace, given.fusion, given.salesforce, given.batches)


def _ledger(ctx: typer.Context) -> tuple[str, str]:
    """The root ``--ledger`` / ``--schema`` options of ``paysync``."""
    root: Any = ctx.find_root().obj
    url = getattr(root, "ledger", None)
    if not isinstance(url, str) or not url:
        raise ReconcileInputError("--apply", "needs the ledger: paysync --ledger URL reconcile ...")
    schema = getattr(root, "schema", None)
    return url, schema if isinstance(schema, str) and schema else "paysync"


def report_paths(reports_dir: Path, start: date, end: date, today: date) -> tuple[Path, Path]:
    """``<reports_dir>/<today>/reconcile-<start>-<end>.html`` and ``.json``: the dashboard
    lists reports by the first day in their path, the run day's folder."""
    stem = reports_dir / today.isoformat() / f"reconcile-{start.isoformat()}-{end.isoformat()}"
    return stem.with_suffix(".html"), stem.with_suffix(".json")


def _anomalies(
    files: RecordFiles, rules_file: Path | None, config: Path | None, rules: ReconcileRules
) -> tuple[list[Any], str, list[dict[str, Any]]]:
    """Anomaly flags of the same files, as (flags, HTML section, JSON dicts)."""
    from paysync_core.anomaly import AnomalyRules, detect_anomalies, to_html_section
    from paysync_core.anomaly.cli import usable_receipts

    if rules_file is not None:
        chosen = AnomalyRules.from_toml(rules_file)
    elif config is not None:
        chosen = AnomalyRules.from_config(config)
    else:
        chosen = AnomalyRules()
    flags = detect_anomalies(
        files.paytrace,
        usable_receipts(files.fusion),
        files.batches,
        rules=chosen,
        start=rules.date_from,
        end=rules.date_to,
    )
    return flags, to_html_section(flags), [f.as_dict() for f in flags]


def _write_reports(
    result: ReconcileResult,
    reports_dir: Path,
    rules: ReconcileRules,
    sections: list[str],
    flags: list[dict[str, Any]] | None,
) -> Path:
    if rules.date_from is None or rules.date_to is None:
        raise ReconcileInputError("--reports-dir", "needs --from and --to (they name the report)")
    today = datetime.now(timezone.utc).date()
    html_path, json_path = report_paths(reports_dir, rules.date_from, rules.date_to, today)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_report(result, "html", html_sections=sections), encoding="utf-8")
    data = json.loads(render_report(result, "json"))
    if flags is not None:
        data["anomalies"] = flags
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return html_path


def _emit(text: str, output: Path | None, result: ReconcileResult | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    if result is not None:
        counts = ", ".join(f"{k.value} {v}" for k, v in result.counts.items() if v)
        typer.echo(f"{result.keys} keys: {counts}; report written to {output}", err=True)


@reconcile_app.callback(invoke_without_command=True)
@json_errors
def reconcile_command(
    ctx: typer.Context,
    *,
    paytrace: Annotated[
        Path | None, typer.Option(help="PayTrace record file (CSV or Parquet)")
    ] = None,
    fusion: Annotated[Path | None, typer.Option(help="Fusion record file")] = None,
    salesforce: Annotated[Path | None, typer.Option(help="Salesforce record file")] = None,
    batches: Annotated[Path | None, typer.Option(help="PayTrace batch totals (CSV)")] = None,
    config: Annotated[
        Path | None, typer.Option(help="paysync.toml: load from the three systems")
    ] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="where --config writes the record files (kept)")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")] = None,
    report_format: Annotated[str, typer.Option("--format", help="json, csv, md or html")] = "md",
    as_json: Annotated[
        bool, typer.Option("--json", help="same as --format json (errors too are JSON)")
    ] = False,
    output: Annotated[Path | None, typer.Option(help="report file (default: stdout)")] = None,
    reports_dir: Annotated[
        Path | None, typer.Option(help="dashboard reports folder: <DIR>/<day>/*.html, .json")
    ] = None,
    anomalies: Annotated[
        bool, typer.Option("--anomalies", help="also flag anomalies in the same files")
    ] = False,
    anomaly_rules: Annotated[
        Path | None, typer.Option(help="anomaly rules TOML (default: \\[anomalies] of --config)")
    ] = None,
    engine: Annotated[str, typer.Option(help="auto, polars or python")] = "auto",
    tolerance: Annotated[str, typer.Option(help="amount tolerance of exact pairs")] = "0.00",
    fuzzy_tolerance: Annotated[str, typer.Option(help="amount tolerance of fuzzy pairs")] = "0.00",
    window: Annotated[int, typer.Option(help="fuzzy date window in days")] = 3,
    fix: Annotated[bool, typer.Option("--fix", help="also write the fix plan (dry run)")] = False,
    fix_output: Annotated[Path | None, typer.Option(help="fix plan file (default: stdout)")] = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="with --fix: submit replay fixes as flows to the ledger"),
    ] = False,
) -> None:
    given = _Given(paytrace, fusion, salesforce, batches, config, workdir)
    if as_json:
        report_format = "json"
    flags: list[dict[str, Any]] | None = None
    sections: list[str] = []
    try:
        if report_format not in _FORMATS:
            raise ReconcileInputError("--format", f"{report_format!r} is not json, csv, md or html")
        if engine not in ("auto", "polars", "python"):
            raise ReconcileInputError("--engine", f"{engine!r} is not auto, polars or python")
        if apply and (not fix or config is None):
            raise ReconcileInputError("--apply", "needs --fix and --config")
        ledger = _ledger(ctx) if apply else None
        rules = ReconcileRules(
            amount_tolerance=_money(tolerance, "--tolerance"),
            fuzzy_amount_tolerance=_money(fuzzy_tolerance, "--fuzzy-tolerance"),
            date_window_days=window,
            date_from=_day(date_from, "--from"),
            date_to=_day(date_to, "--to"),
        )
        with _record_files(given, rules.date_from, rules.date_to) as files:
            if files.salesforce is None:  # pragma: no cover - both ways of loading set it
                raise ReconcileInputError("--salesforce", "no Salesforce record file")
            result = reconcile(
                paytrace=files.paytrace,
                fusion=files.fusion,
                salesforce=files.salesforce,
                batches=files.batches,
                rules=rules,
                engine=engine,
            )
            if anomalies:
                _, section, flags = _anomalies(files, anomaly_rules, config, rules)
                sections.append(section)
        written = (
            _write_reports(result, reports_dir, rules, sections, flags) if reports_dir else None
        )
        plan = fix_plan(result)
        if ledger is not None and config is not None:
            applied = apply_from_config(result, config, ledger[0], schema=ledger[1])
            plan = {**plan, **applied.as_json()}
    except ReconcileInputError as exc:  # AnomalyInputError is one too
        typer.echo(f"error: {exc}", err=True)
        raise error_json(str(exc), 2, key=exc.field, exc=exc) from exc
    _emit(render_report(result, report_format, html_sections=sections), output, result)
    if written is not None:
        typer.echo(f"dashboard report written to {written} (and .json)", err=True)
    if flags is not None:
        typer.echo(f"{len(flags)} anomalies", err=True)
    if fix:
        _emit(json.dumps(plan, indent=2) + "\n", fix_output, None)
    clean = result.counts[DiscrepancyClass.MATCHED] == result.keys and not result.batch_mismatches
    raise typer.Exit(0 if clean and not flags else 1)
