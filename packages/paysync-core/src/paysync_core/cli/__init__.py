"""The ``paysync`` command line (typer + rich).

    paysync --version
    paysync [--ledger URL] [--schema NAME] dlq list|show|retry|resolve ...
    paysync [--ledger URL] audit verify|export ...
    paysync config check [--config paysync.toml]
    paysync [--ledger URL] status [--config paysync.toml] [--json]
    paysync mapping check|suggest ...
    paysync demo [--json] [--ledger FILE]
    paysync run --config paysync.toml [--once] [--use-case NAME ...] [--json]
    paysync plan --use-case NAME --input FILE.json [--config paysync.toml] [--json]
    paysync [--ledger URL] replay --flow ID | --use-case NAME [--since DATE] [--json]
    paysync import disputes FILE.csv --config paysync.toml [--no-run] [--json]
    paysync refund --payment-id ID --amount 10.00 --config paysync.toml [--json]

The ledger defaults to ``$PAYSYNC_LEDGER`` or ``paysync.db`` in the current directory.
Exit codes: 0 success, 1 verification failure or operator error (and, for ``refund``,
``import disputes`` and ``run --once --fail-on-dead-letter``, a dead-lettered flow), 2 usage
error, 3 (``refund``, ``import disputes``) a flow not finished yet, (``alerts check``) an
alert firing; each verb's ``--help`` lists its own.

With ``--json`` a verb that fails before printing its result writes one JSON object on
stdout (same exit code; the message also goes to stderr)::

    {"ok": false, "error": {"kind": "config", "message": "...", "key": "ledger.url"}}

``kind``: ``config``, ``secret``, ``connection``, ``ledger``, ``not_found``, ``input``,
``audit`` or ``error``; ``key``: the configuration key (or option) concerned, else ``null``.
Messages never carry a secret value. Every verb with ``--json`` is wrapped in
:func:`paysync_core._cli_output.json_errors`, the one place this is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import click
import typer

from paysync_core.anomaly.cli import anomalies_command
from paysync_core.reconcile.cli import reconcile_app

from ._alerts import alerts_app
from ._audit import audit_app
from ._common import CliState
from ._config import config_app
from ._demo import demo
from ._dlq import dlq_app
from ._mapping import mapping_app
from ._plan import plan
from ._replay import replay
from ._run import RUN_EXIT_CODES, run
from ._serve import dashboard_app, serve
from ._status import status
from ._triggers import EXIT_CODES, import_app, refund

__all__ = ["app", "main"]


def _version() -> str:
    try:
        return version("paysync-core")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"paysync {_version()}")
        raise typer.Exit(0)


app = typer.Typer(
    name="paysync",
    help="paysync: exactly-once sync between PayTrace, Oracle Fusion and Salesforce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    ledger: Annotated[
        str,
        typer.Option(envvar="PAYSYNC_LEDGER", help="ledger: a SQLite path or a postgresql:// URL"),
    ] = "paysync.db",
    schema: Annotated[str, typer.Option(help="PostgreSQL schema of the ledger")] = "paysync",
    _version_flag: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    ctx.obj = CliState(ledger=ledger, schema=schema)


app.add_typer(dlq_app, name="dlq")
app.add_typer(audit_app, name="audit")
app.add_typer(alerts_app, name="alerts")
app.add_typer(config_app, name="config")
app.add_typer(mapping_app, name="mapping")
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(dashboard_app, name="dashboard")
app.command("serve")(serve)
app.command("status")(status)
app.command("demo")(demo)
app.command("run", epilog=RUN_EXIT_CODES)(run)
app.command("plan")(plan)
app.command("replay")(replay)
app.command("anomalies")(anomalies_command)
app.add_typer(import_app, name="import")
app.command("refund", epilog=EXIT_CODES)(refund)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting (for tests and embedding)."""
    try:
        result = app(
            args=list(argv) if argv is not None else None,
            prog_name="paysync",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return result if isinstance(result, int) else 0
