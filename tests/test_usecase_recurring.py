"""Use case 7 end to end: subscriptions on Salesforce charged from the PayTrace vault, with
the dunning cadence; an injectable clock drives the schedule.

Both emulators run in-process (mocked only at the wire); the ledger is SQLite.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from paysync_core import FlowState, Quota, StepRecord
from paysync_core.mapping import DunningPolicy
from paysync_core.usecases import RecurringBillingConfig
from paytrace_client import CreditCard
from paytrace_client.emulator import FaultRule

if TYPE_CHECKING:
    from conftest import Emulated, SubscriptionsFactory
    from conftest import Subscriptions as World

CARD = "4012000098765439"  # PayTrace's public sandbox Visa; only ever given to the emulator


def _card_vault(env: Emulated, vault: str) -> None:
    card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
    env.paytrace.customers.create(vault, credit_card=card)


@pytest.fixture
def world(subscriptions: SubscriptionsFactory) -> World:
    """The seed org plus ``Subscription__c`` and the ``Payment__c`` fields this use case
    writes (an org adds them as custom fields)."""
    return subscriptions(
        ("Subscription__c", "Vault_Customer_ID__c", "Status_Reason__c"),
        RecurringBillingConfig(dunning=DunningPolicy(retry_days=(1, 3, 7))),
        open_vault=_card_vault,
        default_vault="vault-1",
        payments_soql="SELECT Payment_ID__c, Status__c, Amount__c, Status_Reason__c "
        "FROM Payment__c WHERE Subscription__c = {}",
    )


def test_charged_once_per_period_even_when_run_twice(world: World) -> None:
    sub = world.subscription("49.00")
    assert world.run() == 0  # not due before its date
    world.day(0)
    assert world.run() == 1
    assert world.run() == 0  # the same day again: nothing left to do
    sales = world.sales(sub)
    assert len(sales) == 1
    assert sales[0].amount == Decimal("49.00")
    assert sales[0].invoice_id == f"SUB-{sub}-20260301-1"
    state = world.state(sub)
    assert state["Status__c"] == "Active"
    assert state["Next_Charge_Date__c"] == "2026-04-01"
    assert state["Failed_Attempts__c"] == 0
    [payment] = world.payments(sub)
    assert payment["Status__c"] == "Captured"
    assert payment["Payment_ID__c"] == str(sales[0].transaction_id)

    world.day(31)  # April 1st: the next period
    assert world.run() == 1
    assert len(world.sales(sub)) == 2
    assert world.state(sub)["Next_Charge_Date__c"] == "2026-05-01"


def test_resubmitting_the_same_period_is_a_noop(world: World) -> None:
    sub = world.subscription("10.00")
    world.day(0)
    [first] = world.usecase.submit_due(world.engine)
    [again] = world.usecase.submit_due(world.engine)  # Salesforce not updated yet: same key
    assert again.flow_id == first.flow_id
    world.engine.run_pending(max_workers=1)
    assert world.usecase.submit_due(world.engine) == []
    assert len(world.sales(sub)) == 1


def test_unknown_outcome_resolved_by_lookup_never_charged_twice(world: World) -> None:
    sub = world.subscription("75.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*transactions/sale/by_customer")
    )
    world.day(0)
    assert world.run() == 1
    assert world.run() == 0
    assert len(world.sales(sub)) == 1
    assert world.state(sub)["Next_Charge_Date__c"] == "2026-04-01"
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "charge"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events


class _Crash(BaseException):
    """The worker dies (not an error any handler may catch)."""


def test_crash_after_the_charge_resumes_without_charging_again(world: World) -> None:
    sub = world.subscription("30.00")
    world.day(0)

    def crash_when_charge_recorded(_tx: object, _flow: object, step: StepRecord) -> None:
        if step.name == "charge":
            raise _Crash  # the sale went through; the ledger's record of it is lost

    crashing = world.env.engine(
        [world.usecase.definition()],
        on_step_committed=crash_when_charge_recorded,
    )
    [flow] = world.usecase.submit_due(crashing)
    with pytest.raises(_Crash):
        crashing.run_flow(flow.flow_id)
    assert len(world.sales(sub)) == 1
    assert world.state(sub)["Failed_Attempts__c"] == 0  # Salesforce not updated

    later = datetime.now(timezone.utc) + timedelta(minutes=10)  # the dead worker's lease ran out
    world.engine = world.env.engine(
        [world.usecase.definition()],
        clock=lambda: later,
    )
    [again] = world.usecase.submit_due(world.engine)
    assert again.flow_id == flow.flow_id
    assert world.engine.run_pending(max_workers=1).succeeded == [flow.flow_id]
    assert world.engine.flow(flow.flow_id).state is FlowState.SUCCEEDED
    assert len(world.sales(sub)) == 1  # found by lookup, not charged again
    assert world.state(sub)["Next_Charge_Date__c"] == "2026-04-01"
    assert len(world.payments(sub)) == 1


def test_decline_then_retry_cadence_then_success(world: World) -> None:
    sub = world.subscription("0.29")  # the emulator's processor declines $0.29
    world.day(0)
    assert world.run() == 1
    state = world.state(sub)
    assert (state["Status__c"], state["Failed_Attempts__c"]) == ("Active", 1)
    assert state["Next_Charge_Date__c"] == "2026-03-01"  # still the same period
    [declined] = world.payments(sub)
    assert declined["Status__c"] == "Failed"
    assert "102" in declined["Status_Reason__c"]

    assert world.run() == 0  # retry 1 is due on day 1, not today
    world.day(1)
    # the customer fixed the card: the processor approves from now on
    world.env.paytrace_emulator.config = dataclasses.replace(
        world.env.paytrace_emulator.config, decline_amounts=frozenset()
    )
    assert world.run() == 1
    state = world.state(sub)
    assert (state["Status__c"], state["Failed_Attempts__c"]) == ("Active", 0)
    assert state["Next_Charge_Date__c"] == "2026-04-01"
    statuses = sorted(p["Status__c"] for p in world.payments(sub))
    assert statuses == ["Captured", "Failed"]
    invoices = sorted(s.invoice_id or "" for s in world.sales(sub))
    assert invoices == [f"SUB-{sub}-20260301-1", f"SUB-{sub}-20260301-2"]
    world.day(5)
    assert world.run() == 0  # approved: no more retries for March


def test_declines_through_the_cadence_end_past_due(world: World) -> None:
    sub = world.subscription("0.29")
    attempts: list[int] = []
    for offset in range(9):  # day 0 .. day 8: attempts on days 0, 1, 3 and 7
        world.day(offset)
        if world.run():
            attempts.append(offset)
    assert attempts == [0, 1, 3, 7]
    state = world.state(sub)
    assert state["Status__c"] == "Past Due"
    assert state["Failed_Attempts__c"] == 4
    assert len(world.payments(sub)) == 4
    assert len(world.sales(sub)) == 4
    world.day(40)
    assert world.run() == 0  # past due subscriptions are not billed


def test_paytrace_quota_parks_the_excess_until_the_next_window(world: World) -> None:
    subs = [world.subscription("5.00", vault=f"vault-{i}") for i in range(3)]
    world.day(0)
    engine_now = [datetime.now(timezone.utc)]
    world.engine = world.env.engine(
        [world.usecase.definition()],
        clock=lambda: engine_now[0],
        quotas={"paytrace": Quota(per_minute=2)},
    )
    assert len(world.usecase.submit_due(world.engine)) == 3
    report = world.engine.run_pending(max_workers=1)
    assert (len(report.succeeded), len(report.parked)) == (2, 1)
    assert sum(len(world.sales(s)) for s in subs) == 2
    engine_now[0] += timedelta(minutes=1)  # the next minute's budget
    assert len(world.engine.run_pending(max_workers=1).succeeded) == 1
    assert [len(world.sales(s)) for s in subs] == [1, 1, 1]
