"""Use case 1 consults the Fusion status map for its Fusion steps: the invoice, receipt and
application are posted only when the map's action for the charge's canonical status is
``receipt``; the decision and its reason are in the step summaries and in the plan. Also the
plan's view of the currency conversion of the invoice and receipt.

The three emulators run in-process (mocked only at the wire); the ledger is SQLite (as the
other use case 1 tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState, PlannedWrite
from paysync_core.mapping import CurrencyConversionConfig, FusionStatusMap
from paysync_core.usecases import OrderToCash
from paysync_core.usecases.order_to_cash import USE_CASE

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

FUSION_STEPS = ("fusion_invoice", "fusion_receipt", "fusion_apply")
DEFAULT_CAPTURED = (
    "payment captured -> create the invoice and standard receipt, receipt Status Confirmed "
    "expected (default Fusion status map)"
)


@dataclass
class World:
    env: Emulated
    usecase: OrderToCash
    engine: Engine

    def run(self, name: str, amount: str) -> tuple[dict[str, Any], str]:
        opp = self.env.closed_won(name, amount, self.env.account_id())
        flow = self.usecase.submit_opportunity(self.engine, opp)
        assert flow is not None
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return opp, flow.flow_id

    def plan(self, name: str, amount: str) -> dict[str, PlannedWrite]:
        """The dry run of a submitted (not run) flow."""
        opp = self.env.closed_won(name, amount, self.env.account_id())
        flow = self.usecase.submit_opportunity(self.engine, opp)
        assert flow is not None
        writes = self.engine.plan(
            USE_CASE, source_system="salesforce", source_id=opp["Id"], version=1, input=flow.input
        )
        return {w.step: w for w in writes}


@pytest.fixture
def env(emulated: EmulatedFactory) -> Emulated:
    return emulated.for_order_to_cash()


def _world(env: Emulated, **options: Any) -> World:
    usecase = env.order_to_cash(**options)
    return World(env, usecase, env.engine([usecase.definition()]))


def test_default_map_posts_an_approved_charge_and_records_why(env: Emulated) -> None:
    world = _world(env)
    opp, flow_id = world.run("Acme default map", "42.00")
    assert env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is not None
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    for name in FUSION_STEPS:
        assert steps[name].request_summary["fusion_status"] == DEFAULT_CAPTURED
        assert "skipped" not in steps[name].external_ids


def test_default_map_posts_nothing_for_a_decline_and_says_so(env: Emulated) -> None:
    world = _world(env)
    opp, flow_id = world.run("Acme declined", "0.29")  # the emulator declines 0.29 with 102
    assert env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    for name in FUSION_STEPS:
        skipped = steps[name].external_ids["skipped"]
        assert "payment declined -> post nothing to Fusion (default Fusion status map)" in skipped
        assert skipped.endswith("not posted to Fusion")
        assert steps[name].request_summary["fusion_status"] == (
            "payment declined -> post nothing to Fusion (default Fusion status map)"
        )


def test_configured_map_keeps_approved_charges_out_of_fusion(env: Emulated) -> None:
    """``captured -> none`` (a merchant who receipts from the settlement journal only): the
    charge and ``Payment__c`` happen, Fusion gets nothing, and each step says why."""
    world = _world(
        env, fusion_status=FusionStatusMap.model_validate({"captured": {"action": "none"}})
    )
    opp, flow_id = world.run("Acme no Fusion", "55.00")
    [payment] = env.records("SELECT Status__c FROM Payment__c WHERE Opportunity__c = {}", opp["Id"])
    assert payment["Status__c"] == "Captured"
    assert env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert (
        env.fusion.standard_receipts.find_by_number(
            f"PT-{steps['charge'].external_ids['transaction_id']}"
        )
        is None
    )
    for name in FUSION_STEPS:
        skipped = steps[name].external_ids["skipped"]
        assert skipped.startswith("payment captured: ")
        assert "payment captured -> post nothing to Fusion (configured Fusion status map)" in (
            skipped
        )
        assert steps[name].request_summary["fusion_status"] == (
            "payment captured -> post nothing to Fusion (configured Fusion status map)"
        )


def test_configured_receipt_status_is_recorded_in_the_summary(env: Emulated) -> None:
    status_map = FusionStatusMap.model_validate(
        {"captured": {"action": "receipt", "receipt_status": "Remitted"}}
    )
    world = _world(env, fusion_status=status_map)
    opp, flow_id = world.run("Acme remitted", "18.00")
    assert env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is not None
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert steps["fusion_receipt"].request_summary["fusion_status"] == (
        "payment captured -> create the invoice and standard receipt, receipt Status Remitted "
        "expected (configured Fusion status map)"
    )


def test_plan_shows_the_decision_is_made_by_the_charge(env: Emulated) -> None:
    world = _world(
        env, fusion_status=FusionStatusMap.model_validate({"captured": {"action": "none"}})
    )
    writes = world.plan("Acme plan", "12.00")
    for name in FUSION_STEPS:
        decided = str(writes[name].payload["fusion_status"])
        assert decided.startswith("decided by the charge's status when the step runs")
        assert "payment captured -> post nothing to Fusion (configured" in decided
    # the payloads are shown in full: the charge's status is not known in a dry run
    assert writes["fusion_invoice"].payload["resource"] == "receivablesInvoices"
    assert "currency_conversion" not in writes["fusion_invoice"].payload  # a USD ledger


def test_plan_shows_the_currency_conversion_of_invoice_and_receipt(env: Emulated) -> None:
    world = _world(env, currency=CurrencyConversionConfig(ledger_currency="EUR"))
    writes = world.plan("Acme EUR plan", "12.00")
    for name in ("fusion_invoice", "fusion_receipt"):
        explained = str(writes[name].payload["currency_conversion"])
        assert explained.startswith("USD -> ledger EUR: Corporate rate of the document date")
        assert "read from Fusion currencyRates when the step runs" in explained
        assert "sent as rate type User" in explained
