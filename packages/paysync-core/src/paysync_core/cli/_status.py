"""``paysync status``: flows by state, open dead letters, quota left, stream positions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paysync_core._model import utc_now
from paysync_core._quota import Quota
from paysync_core._status import collect_status
from paysync_core.app import paytrace_cursor_positions
from paysync_core.config import config_quotas
from paysync_core.sources import fusion_cursor_positions, salesforce_stream_positions

from ._common import (
    console,
    dump_json,
    json_errors,
    ledger_store,
    load_config_or_exit,
    print_table,
    write_line,
)

__all__ = ["status"]


@json_errors
def status(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="paysync.toml (for quota limits)", envvar="PAYSYNC_CONFIG"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Flows by use case and state, open dead letters, quota left, lag per stream."""
    quotas: dict[str, Quota] = {}
    if config is not None:
        quotas = config_quotas(load_config_or_exit(config))
    with ledger_store(ctx) as store:
        report = collect_status(
            store,
            quotas=quotas,
            now=utc_now(),
            reporters=[
                paytrace_cursor_positions,
                salesforce_stream_positions,
                fusion_cursor_positions,
            ],
        )
    if as_json:
        write_line(dump_json(report.as_json()))
        return
    rows = [
        (use_case, state, count)
        for use_case, states in report.flows.items()
        for state, count in states.items()
    ]
    if rows:
        print_table("Flows", ["use case", "state", "count"], rows)
    else:
        console.print("no flows yet")
    console.print(f"open dead letters: {report.open_dead_letters}")
    if report.quotas:
        print_table(
            "API quota",
            ["system", "window", "used", "limit", "left", "resets"],
            [
                (q.system, q.span, q.used, q.limit, q.remaining, q.resets_at.isoformat())
                for q in report.quotas
            ],
        )
    if report.streams:
        print_table(
            "Streams",
            ["kind", "name", "position", "updated", "lag (s)"],
            [
                (
                    s.kind,
                    s.name,
                    s.position,
                    s.updated_at.isoformat() if s.updated_at else "",
                    "" if s.lag_seconds is None else f"{s.lag_seconds:.0f}",
                )
                for s in report.streams
            ],
        )
