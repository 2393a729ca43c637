"""Use case 7 paid by ACH: a subscription debited from the bank account its vault profile holds
(``checks/sale/by_customer``), with the same dunning cadence as cards; an ACH decline (125)
counts as a failed attempt, and a lost answer is resolved through the check export.

Both emulators run in-process (mocked only at the wire); the ledger is SQLite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine
from paysync_core.mapping import DunningPolicy
from paysync_core.ports import PayTracePort, SalesforcePort
from paysync_core.usecases import RecurringBilling, RecurringBillingConfig
from paytrace_client import Check
from paytrace_client.emulator import FaultRule
from paytrace_client.models import ExportedCheckTransaction

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

ACCOUNT_NUMBER = "4099999992"  # a made-up account, only ever given to the emulator
PERIOD = date(2026, 3, 1)


@dataclass
class World:
    env: Emulated
    usecase: RecurringBilling
    engine: Engine
    now: list[datetime]

    def subscription(self, amount: str, *, vault: str = "ach-vault-1") -> str:
        bank = Check(account_number=ACCOUNT_NUMBER, routing_number="325070760")
        self.env.paytrace.customers.create(vault, check=bank)
        account = next(iter(self.env.bridge.query("SELECT Id FROM Account LIMIT 1")))
        [created] = self.env.bridge.create_many(
            "Subscription__c",
            [
                {
                    "Amount__c": float(amount),
                    "Interval__c": "Monthly",
                    "Next_Charge_Date__c": PERIOD.isoformat(),
                    "Vault_Customer_ID__c": vault,
                    "Status__c": "Active",
                    "Failed_Attempts__c": 0,
                    "Account__c": account["Id"],
                }
            ],
        )
        assert created.id is not None
        return created.id

    def day(self, offset: int) -> None:
        self.now[0] = datetime(2026, 3, 1, 18, tzinfo=timezone.utc) + timedelta(days=offset)

    def run(self) -> int:
        flows = self.usecase.submit_due(self.engine)
        report = self.engine.run_pending(max_workers=1)
        assert not report.dead, [self.engine.flow(f).last_error for f in report.dead]
        return len(flows)

    def state(self, subscription_id: str) -> dict[str, Any]:
        return self.env.records(
            "SELECT Status__c, Next_Charge_Date__c, Failed_Attempts__c FROM Subscription__c "
            "WHERE Id = {}",
            subscription_id,
        )[0]

    def payments(self, subscription_id: str) -> list[dict[str, Any]]:
        return self.env.records(
            "SELECT Payment_ID__c, Status__c, Amount__c, Status_Reason__c, Card_Type__c "
            "FROM Payment__c "
            "WHERE Subscription__c = {} ORDER BY Payment_ID__c",
            subscription_id,
        )

    def debits(self, subscription_id: str) -> list[ExportedCheckTransaction]:
        today = datetime.now(timezone.utc).date()
        records = self.env.paytrace.checks.export(
            today - timedelta(days=2), today + timedelta(days=2)
        )
        return [r for r in records if (r.invoice_id or "").startswith(f"SUB-{subscription_id}")]


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    env = emulated(
        {
            "Payment__c": (
                "Subscription__c",
                "Vault_Customer_ID__c",
                "Status_Reason__c",
                "Card_Type__c",  # reads ACH for a bank debit
            )
        },
        objects=("Subscription__c",),
    )
    now = [datetime(2026, 2, 27, 18, tzinfo=timezone.utc)]
    usecase = RecurringBilling(
        paytrace=PayTracePort(env.paytrace),
        salesforce=SalesforcePort(env.bridge),
        config=RecurringBillingConfig(
            dunning=DunningPolicy(retry_days=(1, 3, 7)), payment_method="ach"
        ),
        clock=lambda: now[0],
    )
    return World(env, usecase, env.engine([usecase.definition()]), now)


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
