"""``paysync serve``: the web dashboard (needs the ``dashboard`` extra: Flask, Flask-WTF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._common import fail

__all__ = ["dashboard_app", "serve"]

dashboard_app = typer.Typer(help="Web dashboard helpers.", no_args_is_help=True)

_MISSING = "the dashboard needs the 'dashboard' extra: pip install 'paysync-core[dashboard]'"


def serve(
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            exists=True,
            dir_okay=False,
            help=escape("paysync.toml with a [dashboard] section, or a standalone dashboard TOML"),
        ),
    ],
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0 picks a free one)")] = 8050,
) -> None:
    """Start the web dashboard over the ledger the workers use."""
    try:
        from paysync_core.dashboard import load_config as load_dashboard_config
        from paysync_core.dashboard.cli import serve as run_server
    except ImportError:
        raise fail(_MISSING) from None
    run_server(load_dashboard_config(config), host=host, port=port)


@dashboard_app.command("hash-password")
def hash_password(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Print a scrypt hash for a user's ``password_hash`` in the dashboard config."""
    from werkzeug.security import generate_password_hash

    typer.echo(generate_password_hash(password, method="scrypt"))
