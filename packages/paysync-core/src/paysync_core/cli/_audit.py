"""``paysync audit``: verify the hash chain, export it as JSON lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from paysync_core._audit import AuditTrail
from paysync_core._errors import AuditVerificationError

from ._common import (
    console,
    dump_json,
    err_console,
    error_json,
    json_errors,
    ledger_store,
    write_line,
)

__all__ = ["audit_app"]

audit_app = typer.Typer(help="Hash-chained audit trail.", no_args_is_help=True)


@audit_app.command("verify")
@json_errors
def verify(
    ctx: typer.Context,
    expected_head: Annotated[
        str | None, typer.Option(help="head hash recorded earlier (detects tail truncation)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Verify the chain; exit 1 on any edit, deletion or reordering."""
    with ledger_store(ctx) as store:
        try:
            report = AuditTrail(store).verify(expected_head=expected_head)
        except AuditVerificationError as exc:
            err_console.print(f"audit trail INVALID: {exc}", markup=False)
            raise error_json(str(exc), kind="audit", exc=exc) from None
    if as_json:
        write_line(dump_json({"ok": True, "count": report.count, "head": report.head}))
    else:
        console.print(f"audit trail OK: {report.count} records, head {report.head}")


@audit_app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option(help="file (default: stdout)")] = None,
) -> None:
    """Export every audit record as JSON lines."""
    with ledger_store(ctx) as store:
        trail = AuditTrail(store)
        if output is None:
            trail.export_jsonl(sys.stdout)
            return
        with output.open("w", encoding="utf-8") as handle:
            count = trail.export_jsonl(handle)
    err_console.print(f"{count} records written to {output}", markup=False)
