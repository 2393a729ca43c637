"""``paysync config check``: validate ``paysync.toml`` without running anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paysync_core.config import ConfigCheckError, load_config, resolve_secrets
from paysync_core.config._reference import config_reference

from ._common import console, dump_json, err_console, fail, json_errors, write_line

__all__ = ["config_app", "reference_markdown"]

config_app = typer.Typer(help="Configuration (paysync.toml).", no_args_is_help=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="configuration file", envvar="PAYSYNC_CONFIG")
]


@config_app.command("check")
@json_errors
def check(
    config: ConfigOption = Path("paysync.toml"),
    secrets: Annotated[
        bool, typer.Option("--secrets/--no-secrets", help="also resolve every secret reference")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Validate the file: every problem names the key, the value and what is expected."""
    try:
        loaded = load_config(config)
    except ConfigCheckError as exc:
        if as_json:
            write_line(dump_json({"ok": False, "issues": [vars(i) for i in exc.issues]}))
        else:
            err_console.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    except Exception as exc:
        raise fail(str(exc)) from None
    problems = resolve_secrets(loaded) if secrets else []
    if as_json:
        write_line(dump_json({"ok": not problems, "issues": [vars(p) for p in problems]}))
    elif problems:
        for problem in problems:
            err_console.print(f"{config}: {problem}", markup=False)
    else:
        console.print(f"{config}: OK")
    if problems:
        raise typer.Exit(1)


def reference_markdown() -> str:
    """``docs/configuration.md``: the core sections and every registered use case's options."""
    # Imported here: the registry pulls in every use case module, which ``check`` never needs.
    from paysync_core.app import registered

    return config_reference(registered()).rstrip("\n") + "\n"


@config_app.command("reference")
def reference(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="write to this file (docs/configuration.md)"),
    ] = None,
) -> None:
    """Print (or write) the configuration reference (Markdown) generated from the models."""
    text = reference_markdown()
    if output is None:
        write_line(text.rstrip("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{output}: cannot write: {exc.strerror}") from None
    console.print(f"{output}: written")
