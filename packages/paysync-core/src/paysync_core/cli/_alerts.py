"""``paysync alerts``: evaluate the alert rules once (``check``) or on a schedule (``watch``)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from paysync_core._alert_loop import run_alert_loop
from paysync_core._alerts import AlertReport
from paysync_core._errors import ConfigurationError
from paysync_core.config._alerts import build_alert_manager

from ._common import (
    console,
    dump_json,
    fail,
    json_errors,
    ledger_store,
    load_config_or_exit,
    write_line,
)

__all__ = ["alerts_app"]

alerts_app = typer.Typer(help=escape("Alert rules and sinks from [alerts]."), no_args_is_help=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="configuration file", envvar="PAYSYNC_CONFIG")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]


def _show(report: AlertReport, as_json: bool) -> None:
    if as_json:
        write_line(
            dump_json(
                {
                    "firing": [
                        {"rule": a.rule, "key": a.key, "severity": a.severity, "summary": a.summary}
                        for a in report.firing
                    ],
                    "delivered": [{"sink": d.sink, "rule": d.alert.rule} for d in report.delivered],
                    "failed": [
                        {"sink": d.sink, "rule": d.alert.rule, "error": d.error}
                        for d in report.failed
                    ],
                    "rule_errors": report.rule_errors,
                }
            )
        )
        return
    if not report.firing:
        console.print("no alert firing")
    for alert in report.firing:
        console.print(f"[{alert.severity}] {alert.rule}: {alert.summary}", markup=False)
    for delivery in report.failed:
        console.print(f"delivery to {delivery.sink} failed: {delivery.error}", markup=False)
    for rule, error in report.rule_errors.items():
        console.print(f"rule {rule} failed: {error}", markup=False)


@alerts_app.command("check")
@json_errors
def check(ctx: typer.Context, config: ConfigOption, as_json: JsonOption = False) -> None:
    """Evaluate every rule once; new incidents are delivered (one alert per incident).

    Exit code 3 when an alert is firing (for cron and monitoring wrappers).
    """
    loaded = load_config_or_exit(config)
    with ledger_store(ctx) as store:
        try:
            manager = build_alert_manager(loaded, store)
        except ConfigurationError as exc:
            raise fail(str(exc)) from None
        report = manager.evaluate()
    _show(report, as_json)
    if report.firing:
        raise typer.Exit(3)


@alerts_app.command("watch")
@json_errors
def watch(
    ctx: typer.Context,
    config: ConfigOption,
    rounds: Annotated[
        int | None, typer.Option(min=1, help="stop after this many evaluations")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate on the \\[alerts] interval until interrupted (SIGINT/SIGTERM)."""
    loaded = load_config_or_exit(config)
    stop = threading.Event()

    def _terminate(_signum: int, _frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with ledger_store(ctx) as store:
            manager = build_alert_manager(loaded, store)
            run_alert_loop(
                manager,
                interval=loaded.alerts.interval_seconds,
                stop=stop,
                max_rounds=rounds,
                on_report=lambda report: _show(report, as_json),
            )
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        stop.set()
    finally:
        signal.signal(signal.SIGTERM, previous)
