"""Use case 6: a settled PayTrace batch -> one GL journal in Fusion through FBDI.

The trigger reads the batch (``batches/export_one`` + ``batches/transaction_list``), turns it
into canonical entities and a balanced canonical :class:`~paysync_core.canonical.Journal`
(each line explaining its GL account), and stores them as the flow's input; the flow key is
the batch number, so a batch is journaled once however often it is submitted. Steps:

1. ``journal_import``    ``GlInterface.csv`` zipped and uploaded with ``importBulkData``
   (JournalImportLauncher), the batch name ``PT-BATCH-<number>`` in ``REFERENCE1``; lookup =
   the journal batches of that name;
2. ``journal_completed`` the ESS job followed on a bounded poll schedule: ``SUCCEEDED`` and the
   journal found with the expected totals, or the job's log kept as the dead letter's evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from oracle_fusion_client import FusionJobTimeoutError, GlInterfaceLine
from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LookupResult,
    NeedsHumanError,
    Step,
    StepContext,
)
from paysync_core.canonical import Journal
from paysync_core.mapping import (
    CurrencyConversion,
    CurrencyConversionConfig,
    SettlementGlConfig,
    check_balanced,
    convert_gl_lines,
    fusion_date,
    settlement_from_paytrace,
    settlement_journal,
)
from paysync_core.ports import FusionPort, PayTracePort

__all__ = [
    "USE_CASE",
    "JournalImportFailedError",
    "SettlementToGl",
    "SettlementToGlConfig",
]

USE_CASE = "paytrace_settlement_to_gl"
_REFERENCE_LENGTH = 240  # GL_INTERFACE REFERENCE columns hold at most 240 characters


class SettlementToGlConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    gl: SettlementGlConfig = SettlementGlConfig()
    """Accounts and names of the settlement journal."""
    ledger_timezone: str = "America/Los_Angeles"
    """IANA time zone whose calendar day is the journal's accounting date."""
    currency: CurrencyConversionConfig = CurrencyConversionConfig()
    """The ledger's currency; other than USD, lines carry the Fusion daily rate of the
    accounting date and accounted amounts (see ``mapping/_currency.py``)."""
    poll_schedule: tuple[float, ...] = Field(
        default=(2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0), min_length=1
    )
    """Seconds to wait before each ESS status poll after the first; when spent, the step's
    outcome is unknown and the engine's retry policy takes over. Keep the sum below the
    engine's ``lease_ttl``: the polls run inside one step."""


class JournalImportFailedError(NeedsHumanError):
    """The Journal Import ended other than ``SUCCEEDED``; the message carries the ESS log."""

    def __init__(self, request_id: str, status: str, log: str) -> None:
        super().__init__(f"Journal Import ESS request {request_id} ended {status}; log: {log}")
        self.request_id = request_id
        self.status = status
        self.log = log


def _journal(ctx: StepContext) -> Journal:
    return Journal.model_validate(ctx.input["journal"])


def _batch_name(ctx: StepContext) -> str:
    return str(ctx.input["batch_name"])


def _group_id(ctx: StepContext) -> int:
    """The batch number: the import's ``GROUP_ID`` (numeric in PayTrace and in GL_INTERFACE)."""
    return int(str(ctx.input["batch_number"]))


def _totals(journal: Journal) -> tuple[Decimal, Decimal]:
    debits = sum((line.debit for line in journal.lines), Decimal("0.00"))
    credits = sum((line.credit for line in journal.lines), Decimal("0.00"))
    return debits, credits


class SettlementToGl:
    """Builds the flow from the ports; ``submit_batch`` / ``submit_settled`` are the triggers.

    ``sleep`` waits between ESS polls (injectable for tests).
    """

    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        fusion: FusionPort,
        config: SettlementToGlConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.paytrace = paytrace
        self.fusion = fusion
        self.config = config or SettlementToGlConfig()
        self._sleep = sleep

    # -- triggers --------------------------------------------------------------------------
    def submit_batch(
        self, engine: Engine, batch_number: int | None = None, *, version: int = 1
    ) -> FlowRecord | None:
        """Submit the flow of one batch (the latest when ``batch_number`` is None); ``None``
        when PayTrace has no such batch. Submitting a batch again returns its existing flow;
        after fixing the cause of a failed import, submit it with ``version=2`` (a new flow,
        which uploads only if no journal of the batch's name exists).

        Raises :class:`~paysync_core.mapping.UnbalancedJournalError` (nothing is submitted)
        when the journal would not balance, and ``ValueError`` for an inconsistent batch.
        """
        batch = self.paytrace.settlement_batch(batch_number)
        if batch is None or batch.number is None:
            return None
        records = self.paytrace.batch_transactions(batch.number)
        settled = settlement_from_paytrace(
            batch,
            records,
            product_lines=self.config.gl.product_lines,
            business_unit=self.config.gl.business_unit,
        )
        canonical, transactions = settled.value
        day = fusion_date(canonical.settled_at, ledger_zone=ZoneInfo(self.config.ledger_timezone))
        journal = settlement_journal(
            canonical, transactions, self.config.gl, accounting_date=day.value
        )
        return engine.submit(
            USE_CASE,
            source_system="paytrace",
            source_id=canonical.batch_number,
            version=version,
            input={
                "batch": canonical.model_dump(mode="json"),
                "transactions": [t.model_dump(mode="json") for t in transactions],
                "journal": journal.value.model_dump(mode="json"),
                "batch_name": self.config.gl.batch_name(canonical.batch_number),
                "batch_number": canonical.batch_number,
                "mapping": f"{settled.reason}; {journal.reason}; date {day.reason}",
            },
        )

    def submit_settled(self, engine: Engine, start: date, end: date) -> list[FlowRecord]:
        """Submit every batch settled from ``start`` to ``end`` (the daily run)."""
        flows: list[FlowRecord] = []
        for batch in self.paytrace.settlement_batches(start, end):
            flow = self.submit_batch(engine, batch.number) if batch.number else None
            if flow is not None:
                flows.append(flow)
        return flows

    # -- the flow --------------------------------------------------------------------------
    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            USE_CASE,
            [
                Step(
                    "journal_import",
                    self._import,
                    self._find_import,
                    system="fusion",
                    summarize=self._import_summary,
                ),
                Step(
                    "journal_completed",
                    self._await,
                    self._find_completed,
                    safe_to_retry=True,  # polling and reading only
                    system="fusion",
                    summarize=lambda ctx: {
                        "waits_for": "ESS request "
                        + ctx.results["journal_import"]["request_id"]
                        + " and journal batch "
                        + _batch_name(ctx)
                    },
                ),
            ],
        )

    # 1. upload + Journal Import
    def _interface_lines(self, ctx: StepContext) -> list[GlInterfaceLine]:
        journal, name = _journal(ctx), _batch_name(ctx)
        check_balanced(journal, name)  # again, right before the upload
        group_id = _group_id(ctx)
        description = f"PayTrace settlement batch {group_id}"
        lines: list[GlInterfaceLine] = []
        for line in journal.lines:
            references = (name, description, None, name, description)
            lines.append(
                GlInterfaceLine(
                    ledger_id=self.config.gl.ledger_id,
                    accounting_date=journal.accounting_date,
                    source=journal.source,
                    category=journal.category,
                    currency=journal.currency,
                    segments=line.account.split("-"),
                    entered_dr=line.debit if line.debit else None,
                    entered_cr=line.credit if line.credit else None,
                    group_id=group_id,
                    references=(
                        *(r or "" for r in references),
                        "",
                        "",
                        "",
                        "",
                        line.description[:_REFERENCE_LENGTH],
                    ),
                )
            )
        return lines

    def _import_summary(self, ctx: StepContext) -> Mapping[str, object]:
        journal = _journal(ctx)
        debits, credits = _totals(journal)
        return {
            "batch_name": _batch_name(ctx),
            "lines": len(journal.lines),
            "debits": str(debits),
            "credits": str(credits),
            "upload": "GlInterface.csv (zip) -> importBulkData, JournalImportLauncher",
            "ledger_id": self.config.gl.ledger_id,
            "group_id": _group_id(ctx),
            "source": journal.source,
            "category": journal.category,
            "currency": journal.currency,
            "accounting_date": journal.accounting_date.isoformat(),
            **self._conversion_summary(journal),
            "journal_lines": [
                {
                    "account": line.account,
                    "debit": str(line.debit),
                    "credit": str(line.credit),
                    "reference10": line.description[:_REFERENCE_LENGTH],
                }
                for line in journal.lines
            ],
        }

    def _conversion_summary(self, journal: Journal) -> dict[str, str]:
        currency = self.config.currency
        if journal.currency == currency.ledger_currency:
            return {}
        return {
            "currency_conversion": f"{journal.currency} -> ledger {currency.ledger_currency}: "
            f"{currency.conversion_type} rate of {journal.accounting_date.isoformat()} read "
            "from Fusion currencyRates when the step runs; accounted amounts rounded half-even"
        }

    def _import(self, ctx: StepContext) -> Mapping[str, str]:
        lines = self._interface_lines(ctx)
        # a batch resubmitted under a new version (after a failed import) must not be
        # journaled twice: an existing journal of the same name is this flow's effect
        existing = self.fusion.find_journal_batches(_batch_name(ctx))
        if len(existing) == 1:
            return {"request_id": existing[0].request_id, "batch_name": _batch_name(ctx)}
        if existing:
            raise NeedsHumanError(
                f"journal batch {_batch_name(ctx)} was imported {len(existing)} times"
            )
        journal = _journal(ctx)
        group_id = _group_id(ctx)
        # a non-USD ledger: the rate is read when the step runs (a missing one is retryable)
        conversion = CurrencyConversion(self.config.currency).decide(
            journal.currency, journal.accounting_date, self.fusion.conversion_rate
        )
        converted = convert_gl_lines(lines, journal, conversion.value)
        request_id = self.fusion.import_journal(
            converted.value,
            source=journal.source,
            ledger_id=self.config.gl.ledger_id,
            group_id=group_id,
        )
        done = {"request_id": request_id, "batch_name": _batch_name(ctx)}
        if conversion.value.rate is not None:
            done["currency_conversion"] = f"{conversion.reason}; {converted.reason}"
        return done

    def _find_import(self, ctx: StepContext) -> LookupResult:
        name = _batch_name(ctx)
        found = self.fusion.find_journal_batches(name)
        if not found:
            # Fusion runs an uploaded import on its own schedule, and ESS requests cannot be
            # searched by file or batch name: "not there yet" is never proof of absence, so an
            # unknown upload is re-checked and, if still missing, left to a person (never
            # uploaded twice).
            return LookupResult.pending(f"no journal batch {name} yet")
        if len(found) > 1:
            ids = ", ".join(str(b.batch_id) for b in found)
            raise NeedsHumanError(f"journal batch {name} was imported {len(found)} times: {ids}")
        return LookupResult.found(
            {"request_id": found[0].request_id, "batch_name": name},
            f"journal batch {name} found (ESS request {found[0].request_id})",
        )

    # 2. the ESS job, to completion
    def _poll(self, request_id: str) -> str:
        status = self.fusion.job_status(request_id)
        waited = 0.0
        for delay in self.config.poll_schedule:
            if status in _TERMINAL:
                return status
            self._sleep(delay)
            waited += delay
            status = self.fusion.job_status(request_id)
        if status in _TERMINAL:
            return status
        raise FusionJobTimeoutError(request_id, status, waited)

    def _completed(self, ctx: StepContext, request_id: str) -> Mapping[str, str] | None:
        name = _batch_name(ctx)
        found = self.fusion.find_journal_batches(name)
        if not found:
            return None
        if len(found) > 1:
            raise NeedsHumanError(f"journal batch {name} was imported {len(found)} times")
        batch = found[0]
        debits, credits = _totals(_journal(ctx))
        if (batch.total_dr, batch.total_cr) != (debits, credits):
            raise NeedsHumanError(
                f"journal batch {name} holds debits {batch.total_dr} / credits "
                f"{batch.total_cr}, expected {debits} / {credits}"
            )
        return {
            "request_id": request_id,
            "journal_batch_id": str(batch.batch_id),
            "batch_name": name,
            "status": batch.status,
            "lines": str(batch.line_count),
            "total": str(debits),
        }

    def _await(self, ctx: StepContext) -> Mapping[str, str]:
        request_id = ctx.results["journal_import"]["request_id"]
        status = self._poll(request_id)
        if status == "SUCCEEDED":
            done = self._completed(ctx, request_id)
            if done is None:
                raise NeedsHumanError(
                    f"ESS request {request_id} SUCCEEDED but journal batch "
                    f"{_batch_name(ctx)} is not in the ledger"
                )
            return done
        raise JournalImportFailedError(request_id, status, self.fusion.job_log(request_id))

    def _find_completed(self, ctx: StepContext) -> LookupResult:
        request_id = ctx.results["journal_import"]["request_id"]
        done = self._completed(ctx, request_id)
        if done is None:
            return LookupResult.absent(f"journal batch {_batch_name(ctx)} not imported yet")
        return LookupResult.found(done)


_TERMINAL = frozenset({"SUCCEEDED", "ERROR", "WARNING", "CANCELLED", "EXPIRED"})
