"""Use case 7 paid by ACH: a subscription debited from the bank account its vault profile holds
(``checks/sale/by_customer``), with the same dunning cadence as cards; an ACH decline (125)
counts as a failed attempt, and a lost answer is resolved through the check export.

Both emulators run in-process (mocked only at the wire); the ledger is SQLite.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from paysync_core.mapping import DunningPolicy
from paysync_core.usecases import RecurringBillingConfig
from paytrace_client import Check
from paytrace_client.emulator import FaultRule

if TYPE_CHECKING:
    from conftest import Emulated, SubscriptionsFactory
    from conftest import Subscriptions as World

ACCOUNT_NUMBER = "4099999992"  # a made-up account, only ever given to the emulator


def _bank_vault(env: Emulated, vault: str) -> None:
    bank = Check(account_number=ACCOUNT_NUMBER, routing_number="325070760")
    env.paytrace.customers.create(vault, check=bank)


@pytest.fixture
def world(subscriptions: SubscriptionsFactory) -> World:
    return subscriptions(
        (
            "Subscription__c",
            "Vault_Customer_ID__c",
            "Status_Reason__c",
            "Card_Type__c",  # reads ACH for a bank debit
        ),
        RecurringBillingConfig(dunning=DunningPolicy(retry_days=(1, 3, 7)), payment_method="ach"),
        open_vault=_bank_vault,
        default_vault="ach-vault-1",
        payments_soql="SELECT Payment_ID__c, Status__c, Amount__c, Status_Reason__c, Card_Type__c "
        "FROM Payment__c "
        "WHERE Subscription__c = {} ORDER BY Payment_ID__c",
    )


def test_ach_subscription_debited_once_per_period(world: World) -> None:
    sub = world.subscription("49.00")
    world.day(0)
    assert world.run() == 1
    assert world.run() == 0  # the period is paid: nothing more is due

    [debit] = world.debits(sub)
    assert debit.invoice_id == f"SUB-{sub}-20260301-1"
    assert (debit.transaction_type, debit.amount, debit.status_message) == (
        "SALE",
        Decimal("49.00"),
        "Processed",
    )
    assert world.env.exported(f"SUB-{sub}") == []  # no card transaction
    [payment] = world.payments(sub)
    assert payment["Payment_ID__c"] == f"ACH-{debit.check_transaction_id}"
    assert (payment["Status__c"], payment["Card_Type__c"]) == ("Captured", "ACH")
    state = world.state(sub)
    assert (state["Status__c"], state["Next_Charge_Date__c"]) == ("Active", "2026-04-01")
    assert ACCOUNT_NUMBER not in world.env.audit_text()


def test_ach_decline_counts_as_a_failed_attempt(world: World) -> None:
    sub = world.subscription("0.29")  # the emulator declines 0.29 with 125
    world.day(0)
    assert world.run() == 1
    [payment] = world.payments(sub)
    assert payment["Status__c"] == "Failed"
    assert "125" in payment["Status_Reason__c"]
    state = world.state(sub)
    assert (state["Status__c"], state["Failed_Attempts__c"]) == ("Active", 1)
    world.day(1)  # the retry cadence: attempt 2 a day later
    assert world.run() == 1
    assert [d.invoice_id for d in world.debits(sub)] == [
        f"SUB-{sub}-20260301-1",
        f"SUB-{sub}-20260301-2",
    ]


def test_ach_timeout_after_commit_resolved_by_lookup_never_debited_twice(world: World) -> None:
    sub = world.subscription("25.00")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*checks/sale/by_customer")
    )
    world.day(0)
    assert world.run() == 1
    [debit] = world.debits(sub)
    [payment] = world.payments(sub)
    assert payment["Payment_ID__c"] == f"ACH-{debit.check_transaction_id}"
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in map(json.loads, world.env.audit_text().splitlines())
        if r["detail"].get("step") == "charge"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
