"""Use case 6 end to end: a settled PayTrace batch -> one GL journal in Fusion (FBDI).

Both emulators run in-process (mocked only at the wire); the ledger is SQLite. Batches are
settled through the PayTrace emulator's control endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from oracle_fusion_client import GlJournalBatches
from oracle_fusion_client.emulator import Fault
from paysync_core import DeadLetterQueue, Engine, FlowState, StepState
from paysync_core.mapping import (
    FeeRule,
    GlRule,
    GlTable,
    ProductLineMapping,
    ProductLineRule,
    SettlementGlConfig,
)
from paysync_core.ports import FusionPort, PayTracePort
from paysync_core.usecases import SettlementToGl, SettlementToGlConfig
from paytrace_client import CreditCard

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

FUSION_URL = "https://fusion.emulator"
PAYTRACE_CONTROL = "http://paytrace-emulator.invalid/__emulator__"
VISA = "4012000098765439"  # PayTrace's public sandbox cards; only ever given to the emulator
MASTERCARD = "5499740000000057"

GL = SettlementGlConfig(
    ledger_id=1,
    gl=GlTable(
        rules=(
            GlRule(account="01-000-1215-0000", card_type="VISA", transaction_type="SALE"),
            GlRule(account="01-000-1216-0000", transaction_type="SALE"),
            GlRule(account="01-000-4150-0000", transaction_type="REFUND"),
        ),
        default="01-000-1299-0000",
    ),
    fees=(
        FeeRule(card_type="VISA", rate=Decimal("0.029"), fixed=Decimal("0.30")),
        FeeRule(rate=Decimal("0.035"), fixed=Decimal("0.30")),
    ),
)


@dataclass
class World:
    env: Emulated
    usecase: SettlementToGl
    engine: Engine
    sleeps: list[float]

    def sale(self, number: str, amount: str, invoice: str) -> int:
        card = CreditCard(number=number, expiration_month=12, expiration_year=2030, csc="999")
        result = self.env.paytrace.transactions.sale_keyed(
            Decimal(amount), card, invoice_id=invoice
        )
        assert result.transaction_id is not None
        return result.transaction_id

    def settle(self) -> int:
        reply = self.env.paytrace_emulator.session().post(f"{PAYTRACE_CONTROL}/settle", json={})
        number = reply.json()["batch_number"]
        assert isinstance(number, int)
        return number

    def journal_lines(self) -> list[list[str]]:
        state: dict[str, Any] = self.env.fusion.http.session.get(
            f"{FUSION_URL}/__emulator__/state"
        ).json()
        return state["glJournalLines"]

    def batches(self, name: str) -> int:
        return len(GlJournalBatches(self.env.fusion.http).find_by_name(name))


def _world(env: Emulated, *, ledger_id: int = 1, fusion_runs_jobs: bool = False) -> World:
    env.fusion_emulator.state.ref["ledgers"] = [{"LedgerId": 1, "Name": "US Primary Ledger"}]
    sleeps: list[float] = []
    usecase = SettlementToGl(
        paytrace=PayTracePort(env.paytrace),
        fusion=FusionPort(env.fusion),
        config=SettlementToGlConfig(gl=GL.model_copy(update={"ledger_id": ledger_id})),
        sleep=sleeps.append,
    )

    def engine_sleep(_seconds: float) -> None:
        # time passing: Fusion's scheduler runs the uploaded imports (the emulator advances a
        # job one state per status poll)
        if fusion_runs_jobs:
            for request_id in list(env.fusion_emulator.state.jobs):
                env.fusion.erp_integrations.wait_for_job(request_id, sleep=lambda _: None)

    return World(env, usecase, env.engine([usecase.definition()], sleep=engine_sleep), sleeps)


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    return _world(emulated())


def _amounts(rows: list[list[str]]) -> tuple[Decimal, Decimal]:
    debits = sum((Decimal(r[38] or 0) for r in rows), Decimal(0))
    credits = sum((Decimal(r[39] or 0) for r in rows), Decimal(0))
    return debits, credits


def test_batch_becomes_one_balanced_journal_with_explained_lines(world: World) -> None:
    world.sale(VISA, "100.00", "INV-1")
    world.sale(VISA, "50.00", "INV-2")
    world.sale(MASTERCARD, "20.00", "INV-3")
    number = world.settle()

    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    rows = world.journal_lines()
    by_account = {"-".join(r[8:12]): (r[38], r[39]) for r in rows}
    # fees: VISA 2.9% + 0.30 -> 3.20 + 1.75; MC 3.5% + 0.30 -> 1.00
    assert by_account == {
        "01-000-1215-0000": ("", "150.00"),
        "01-000-1216-0000": ("", "20.00"),
        "01-000-6150-0000": ("5.95", ""),
        "01-000-1110-0000": ("164.05", ""),
    }
    assert _amounts(rows) == (Decimal("170.00"), Decimal("170.00"))
    name = f"PT-BATCH-{number}"
    assert {r[42] for r in rows} == {name}  # REFERENCE1: the correlation
    assert {r[66] for r in rows} == {str(number)}  # GROUP_ID
    explanations = {r[51] for r in rows}  # REFERENCE10: why this account
    assert (
        "GL 01-000-1215-0000 because card_type VISA, transaction_type SALE, rule 1: "
        in (next(e for e in explanations if e.startswith("GL 01-000-1215"))[:80])
    )
    assert any(e.startswith("GL 01-000-6150-0000 because processing fees") for e in explanations)

    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["journal_completed"].external_ids["batch_name"] == name
    assert steps["journal_completed"].external_ids["total"] == "170.00"
    assert world.batches(name) == 1
    assert world.sleeps  # the ESS job was followed: WAIT, RUNNING, SUCCEEDED
    assert len(world.sleeps) <= len(SettlementToGlConfig().poll_schedule)
    audit = world.env.audit_text()
    assert VISA not in audit
    assert MASTERCARD not in audit


def test_revenue_split_by_product_line_and_business_unit(emulated: EmulatedFactory) -> None:
    """Invoice-number prefixes name the product line; the business unit is the use case's
    default unless the product-line rule sets one; the journal splits and balances."""
    world = _world(emulated())
    config = GL.model_copy(
        update={
            "gl": GlTable(
                rules=(
                    GlRule(
                        account="01-100-4100-0200", product_line="Hardware", business_unit="East"
                    ),
                    GlRule(
                        account="01-200-4100-0200", product_line="Hardware", business_unit="West"
                    ),
                    GlRule(account="01-000-4200-0000", product_line="Services"),
                    GlRule(account="01-000-1216-0000", transaction_type="SALE"),
                ),
                default="01-000-1299-0000",
            ),
            "fees": (),
            "business_unit": "East",
            "product_lines": ProductLineMapping(
                rules=(
                    ProductLineRule(prefix="HW-W", product_line="Hardware", business_unit="West"),
                    ProductLineRule(prefix="HW-", product_line="Hardware"),
                    ProductLineRule(prefix="SV-", product_line="Services"),
                )
            ),
        }
    )
    world.usecase = SettlementToGl(
        paytrace=world.usecase.paytrace,
        fusion=world.usecase.fusion,
        config=SettlementToGlConfig(gl=config),
        sleep=world.sleeps.append,
    )
    world.engine = world.env.engine([world.usecase.definition()])
    world.sale(VISA, "100.00", "HW-1001")
    world.sale(MASTERCARD, "40.00", "HW-W-1002")
    world.sale(VISA, "25.00", "SV-1003")
    world.sale(VISA, "5.00", "MISC-1004")
    number = world.settle()

    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    rows = world.journal_lines()
    assert {"-".join(r[8:12]): (r[38], r[39]) for r in rows} == {
        "01-100-4100-0200": ("", "100.00"),
        "01-200-4100-0200": ("", "40.00"),
        "01-000-4200-0000": ("", "25.00"),
        "01-000-1216-0000": ("", "5.00"),
        "01-000-1110-0000": ("170.00", ""),
    }
    assert _amounts(rows) == (Decimal("170.00"), Decimal("170.00"))
    explanations = {"-".join(r[8:12]): r[51] for r in rows}  # REFERENCE10
    assert explanations["01-200-4100-0200"] == (
        "GL 01-200-4100-0200 because product line Hardware, business unit West, rule 2: "
        "1 sales 40.00"
    )
    assert explanations["01-000-4200-0000"].startswith(
        "GL 01-000-4200-0000 because product line Services, rule 3"
    )
    mapping = str(world.engine.flow(flow.flow_id).input["mapping"])
    assert "product lines: Hardware / business unit East: 1" in mapping
    assert "none / business unit East: 1" in mapping


def test_refund_batch_debits_refunds_and_credits_cash(world: World) -> None:
    sale = world.sale(VISA, "80.00", "INV-R")
    world.settle()
    world.env.paytrace.transactions.refund_transaction(sale, Decimal("30.00"), invoice_id="RF-1")
    number = world.settle()

    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    assert world.engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    rows = [r for r in world.journal_lines() if r[42] == f"PT-BATCH-{number}"]
    assert {"-".join(r[8:12]): (r[38], r[39]) for r in rows} == {
        "01-000-4150-0000": ("30.00", ""),
        "01-000-1110-0000": ("", "30.00"),
    }


def test_rerun_creates_no_second_journal(world: World) -> None:
    world.sale(VISA, "10.00", "INV-X")
    number = world.settle()
    first = world.usecase.submit_batch(world.engine, number)
    assert first is not None
    world.engine.run_flow(first.flow_id)
    lines = len(world.journal_lines())

    again = world.usecase.submit_batch(world.engine, number)
    assert again is not None
    assert again.flow_id == first.flow_id
    assert world.engine.run_pending(max_workers=1).processed == 0
    flows = world.usecase.submit_settled(world.engine, *_today_range())
    assert [f.flow_id for f in flows] == [first.flow_id]
    assert world.engine.run_pending(max_workers=1).processed == 0
    assert len(world.journal_lines()) == lines
    assert world.batches(f"PT-BATCH-{number}") == 1


def test_lost_upload_answer_resolved_by_journal_lookup(emulated: EmulatedFactory) -> None:
    """The upload commits but its answer is lost: the lookup waits for Fusion to run the
    import and finds the journal by name; nothing is uploaded twice."""
    world = _world(emulated(), fusion_runs_jobs=True)
    world.sale(VISA, "42.00", "INV-T")
    number = world.settle()
    world.env.fusion_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="/erpintegrations")
    )
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    assert len(world.env.fusion_emulator.state.jobs) == 1  # uploaded once
    assert world.batches(f"PT-BATCH-{number}") == 1
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "journal_import"
    ]
    assert ("step.unknown", None) in events
    assert ("step.lookup_pending", None) in events  # not there until Fusion ran the job
    assert ("step.succeeded", "lookup") in events


def _today_range() -> tuple[Any, Any]:
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).date()
    return today - timedelta(days=2), today + timedelta(days=2)


def test_ess_failure_dead_letters_with_the_log(emulated: EmulatedFactory) -> None:
    world = _world(emulated(), ledger_id=999)  # a ledger Fusion does not know
    world.sale(VISA, "15.00", "INV-F")
    number = world.settle()
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.DEAD
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["journal_import"].state is StepState.SUCCEEDED
    assert steps["journal_completed"].state is StepState.DEAD
    [entry] = DeadLetterQueue(world.env.ledger).list()
    assert entry.step_name == "journal_completed"
    error = entry.last_error or ""
    assert "ended ERROR" in error
    assert "the ledger 999 doesn't exist" in error  # the ESS log is the evidence
    assert world.batches(f"PT-BATCH-{number}") == 0

    # the ledger id is fixed; the batch is submitted again as version 2: one journal
    fixed = SettlementToGl(
        paytrace=world.usecase.paytrace,
        fusion=world.usecase.fusion,
        config=SettlementToGlConfig(gl=GL),
        sleep=lambda _: None,
    )
    engine = world.env.engine([fixed.definition()])
    second = fixed.submit_batch(engine, number, version=2)
    assert second is not None
    assert engine.run_flow(second.flow_id).state is FlowState.SUCCEEDED
    assert world.batches(f"PT-BATCH-{number}") == 1
    jobs = len(world.env.fusion_emulator.state.jobs)
    third = fixed.submit_batch(engine, number, version=3)  # by mistake: no second journal
    assert third is not None
    assert engine.run_flow(third.flow_id).state is FlowState.SUCCEEDED
    assert len(world.env.fusion_emulator.state.jobs) == jobs
    assert world.batches(f"PT-BATCH-{number}") == 1
