"""``paysync serve``: run the dashboard (the main CLI wires :data:`app` or :func:`serve` in).

    paysync serve --config dashboard.toml [--host 127.0.0.1] [--port 8050]
    python -m paysync_core.dashboard.cli hash-password   # prints a hash for the config file

The server is werkzeug's threaded WSGI server, enough for a handful of operators; put it
behind a TLS-terminating reverse proxy (cookies are ``Secure`` unless bound to localhost).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from ._app import create_app
from ._config import DashboardConfig, load_config

__all__ = ["app", "serve"]

app = typer.Typer(help="The paysync web dashboard.", no_args_is_help=True)


def serve(config: DashboardConfig, *, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Serve the dashboard until interrupted."""
    server = make_server(host, port, create_app(config, host=host), threaded=True)
    typer.echo(f"paysync dashboard on http://{host}:{server.server_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        pass
    finally:
        server.server_close()


@app.command("serve")
def serve_command(
    config: Annotated[
        Path, typer.Option("--config", exists=True, dir_okay=False, help="TOML file")
    ],
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0 picks a free one)")] = 8050,
) -> None:
    """Start the web dashboard over the ledger named in the config file."""
    serve(load_config(config), host=host, port=port)


@app.command("hash-password")
def hash_password(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Print a scrypt hash for a user's ``password_hash`` in the config file."""
    typer.echo(generate_password_hash(password, method="scrypt"))


if __name__ == "__main__":  # pragma: no cover
    app()
