"""Triggers an operator starts by hand: ``paysync import disputes`` (use case 4) and
``paysync refund`` (use case 3).

Each submits flows through the use case's own trigger (idempotent: the same dispute case or
refund request returns its existing flow) into the configured ledger, then runs them now
(``--no-run`` leaves them to ``paysync run``).

The exit code tells a script how the flows ended (:data:`EXIT_CODES`): a dead-lettered flow
is a failure (exit 1, with its dead-letter entry id), a flow left waiting for a retry is
exit 3, so neither passes for a success.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from paysync_core import FlowRecord, FlowState, PaysyncError
from paysync_core._dlq import DeadLetterQueue
from paysync_core._open import open_ledger
from paysync_core.app import Runner, get_usecase, ports_from_config
from paysync_core.chargebacks import DisputeFileError
from paysync_core.usecases import DeclinesChargebacks, Refunds

from ._common import console, dump_json, fail, json_errors, print_table, write_line
from ._run import ConfigOption, load

__all__ = ["EXIT_CODES", "EXIT_NOT_FINISHED", "import_app", "refund"]

#: A submitted flow is still pending after the run (waiting for a retry, or busy).
EXIT_NOT_FINISHED = 3
EXIT_CODES = (
    "Exit codes: 0 every flow succeeded (or was submitted, with --no-run); "
    "1 a flow was dead-lettered (the message names its dead-letter entry), or the input or "
    "configuration is wrong; 2 usage error; "
    f"{EXIT_NOT_FINISHED} a flow is not finished yet (`paysync run` resumes it)."
)

import_app = typer.Typer(help="Import inputs that arrive as files.", no_args_is_help=True)

NoRunOption = Annotated[
    bool, typer.Option("--no-run", help="only submit; `paysync run` runs the flows")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]


@contextmanager
def _runner(config: Path, name: str) -> Generator[Runner, None, None]:
    """The use case ``name`` on the configured systems and ledger (no event streams)."""
    loaded = load(config)
    entry = get_usecase(name)
    try:
        store = open_ledger(loaded.ledger.url, schema=loaded.ledger.db_schema)
    except PaysyncError as exc:
        raise fail(f"cannot open ledger: {exc}") from None
    try:
        try:
            runner = Runner.from_config(loaded, ports_from_config(loaded, store), [entry])
        except PaysyncError as exc:
            raise fail(str(exc)) from None
        yield runner
    finally:
        store.close()


def _run(runner: Runner, flows: Sequence[FlowRecord], run: bool) -> list[FlowRecord]:
    """Run the submitted flows that are not finished; the ledger's view of each after."""
    done: list[FlowRecord] = []
    for submitted in flows:
        current = submitted
        if run and submitted.state is FlowState.PENDING:
            try:
                current = runner.engine.run_flow(submitted.flow_id)
            except PaysyncError:  # busy (another worker, an earlier flow of the entity)
                current = runner.engine.flow(submitted.flow_id) or submitted
        done.append(current)
    return done


def _dead_letters(runner: Runner, flows: Sequence[FlowRecord]) -> dict[str, str]:
    """Flow id -> its (latest) dead-letter entry id, for the flows that ended dead."""
    dead = {f.flow_id for f in flows if f.state is FlowState.DEAD}
    if not dead:
        return {}
    entries = DeadLetterQueue(runner.ports.store).list(None)  # oldest first: latest wins
    return {e.flow_id: e.entry_id for e in entries if e.flow_id in dead}


def _flow_json(flow: FlowRecord, started: datetime, entry: str | None) -> dict[str, object]:
    return {
        "flow_id": flow.flow_id,
        "use_case": flow.use_case,
        "source_id": flow.source_id,
        "state": flow.state.value,
        "new": flow.created_at >= started,
        "last_error": flow.last_error,
        "dead_letter": entry,
    }


def _outcome(flows: Sequence[FlowRecord], ran: bool) -> str:
    if any(f.state is FlowState.DEAD for f in flows):
        return "failed"
    if any(f.state is not FlowState.SUCCEEDED for f in flows):
        return "not_finished" if ran else "submitted"
    return "ok"


def _show(
    title: str,
    runner: Runner,
    flows: Sequence[FlowRecord],
    started: datetime,
    *,
    ran: bool,
    as_json: bool,
) -> None:
    """Print the flows, then end with the exit code their states call for (``EXIT_CODES``)."""
    entries = _dead_letters(runner, flows)
    rows = [_flow_json(f, started, entries.get(f.flow_id)) for f in flows]
    outcome = _outcome(flows, ran)
    if as_json:
        write_line(dump_json({"flows": rows, "outcome": outcome}))
    else:
        _print_rows(title, rows)
    dead = [f for f in flows if f.state is FlowState.DEAD]
    if dead:
        raise fail(
            "; ".join(
                f"flow {f.flow_id} ({f.source_id}) was dead-lettered: {f.last_error or 'no error'}"
                f" (dead-letter entry {entries.get(f.flow_id, '?')}: `paysync dlq show "
                f"{entries.get(f.flow_id, '<entry>')}`)"
                for f in dead
            )
        )
    if outcome == "not_finished":
        waiting = ", ".join(f.flow_id for f in flows if f.state is not FlowState.SUCCEEDED)
        raise fail(
            f"not finished yet: {waiting} (waiting for a retry; `paysync run` resumes it)",
            EXIT_NOT_FINISHED,
        )


def _print_rows(title: str, rows: Sequence[dict[str, object]]) -> None:
    new = sum(1 for r in rows if r["new"])
    console.print(f"{len(rows)} flow(s), {new} new, {len(rows) - new} already known")
    print_table(
        title,
        ["source", "flow", "state", "dead letter", "error"],
        [
            (
                r["source_id"],
                r["flow_id"],
                r["state"],
                r["dead_letter"] or "",
                r["last_error"] or "",
            )
            for r in rows
        ],
    )


@import_app.command("disputes", epilog=EXIT_CODES)
@json_errors
def import_disputes(
    file: Annotated[Path, typer.Argument(help="dispute CSV (case_number,transaction_id,...)")],
    config: ConfigOption = Path("paysync.toml"),
    no_run: NoRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Use case 4: one chargeback flow per dispute case (re-importing creates nothing).

    Every row is checked first; a bad row imports nothing and each problem is listed.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{file}: cannot read: {exc.strerror}") from None
    with _runner(config, "declines_chargebacks") as runner:
        usecase = runner.builds["declines_chargebacks"].instance
        assert isinstance(usecase, DeclinesChargebacks)
        started = datetime.now(timezone.utc)
        try:
            flows = usecase.import_dispute_file(runner.engine, text)
        except DisputeFileError as exc:
            if as_json:
                write_line(dump_json({"errors": [str(e) for e in exc.errors]}))
            raise fail(f"{file}: {exc}") from None
        done = _run(runner, flows, not no_run)
        _show("Disputes", runner, done, started, ran=not no_run, as_json=as_json)


def _payment(runner: Runner, refunds: Refunds, payment_id: str) -> dict[str, object]:
    """The ``Payment__c`` record of the PayTrace sale ``payment_id`` (its Account)."""
    fields = refunds.config.payment_fields
    names = [n for n in ("Id", fields.external_id, fields.account, fields.transaction_id) if n]
    soql = (
        f"SELECT {', '.join(dict.fromkeys(names))} FROM {fields.sobject} "  # noqa: S608 - config
        f"WHERE {fields.external_id} = {{}} LIMIT 2"
    )
    salesforce = runner.ports.need_salesforce("refunds")
    rows = salesforce.records(soql, payment_id)
    if len(rows) != 1:
        found = "no" if not rows else "several"
        raise fail(
            f"--payment-id {payment_id}: {found} {fields.sobject} with that {fields.external_id}"
        )
    return dict(rows[0])


@contextmanager
def _refunds(config: Path) -> Generator[tuple[Runner, Refunds], None, None]:
    with _runner(config, "refunds") as runner:
        usecase = runner.builds["refunds"].instance
        assert isinstance(usecase, Refunds)
        yield runner, usecase


@json_errors
def refund(
    *,
    payment_id: Annotated[
        str, typer.Option("--payment-id", help="the sale's PayTrace transaction id (Payment_ID__c)")
    ],
    amount: Annotated[str, typer.Option("--amount", help="amount to give back, e.g. 10.00")],
    request_id: Annotated[
        str | None,
        typer.Option(
            "--request-id",
            help="identifies the request; the same id again is the same refund "
            "(default: cli-<payment id>-<amount in cents>; give one for a second equal refund)",
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="shown on the credit memo")] = (
        "customer refund"
    ),
    config: ConfigOption = Path("paysync.toml"),
    no_run: NoRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Use case 3: refund (or void, before settlement) a sale, as if asked in Salesforce."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise fail(f"--amount {amount!r}: not a decimal amount") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise fail(f"--amount {amount!r}: must be positive with at most two decimals")
    key = request_id or f"cli-{payment_id}-{int(value * 100)}"  # cents: ids allow no "."
    with _refunds(config) as (runner, usecase):
        payment = _payment(runner, usecase, payment_id)
        started = datetime.now(timezone.utc)
        try:
            flow = usecase.submit_request(
                runner.engine, payment, request_id=key, amount=value, reason=reason
            )
        except ValueError as exc:  # pydantic names the field and the problem
            raise fail(" ".join(str(exc).split())) from None
        done = _run(runner, [flow], not no_run)
        _show("Refund", runner, done, started, ran=not no_run, as_json=as_json)
