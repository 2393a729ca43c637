"""Recurring billing rules: the calendar, the dunning cadence and the Salesforce translation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from paysync_core.canonical import BillingInterval, Subscription, SubscriptionStatus
from paysync_core.mapping import (
    DunningPolicy,
    SubscriptionFieldMap,
    next_charge_date,
    subscription_from_salesforce,
)

PERIOD = date(2026, 3, 1)


def _sub(failed: int = 0, status: SubscriptionStatus = SubscriptionStatus.ACTIVE) -> Subscription:
    return Subscription(
        source_system="salesforce",
        source_id="a0S000000000001AAA",
        amount=Decimal("20.00"),
        interval=BillingInterval.MONTHLY,
        next_charge_date=PERIOD,
        vault_customer_id="vault-1",
        status=status,
        failed_attempts=failed,
    )


@pytest.mark.parametrize(
    ("start", "interval", "expected"),
    [
        (date(2026, 1, 31), BillingInterval.MONTHLY, date(2026, 2, 28)),
        (date(2028, 1, 31), BillingInterval.MONTHLY, date(2028, 2, 29)),
        (date(2026, 12, 15), BillingInterval.MONTHLY, date(2027, 1, 15)),
        (date(2026, 11, 30), BillingInterval.QUARTERLY, date(2027, 2, 28)),
        (date(2028, 2, 29), BillingInterval.YEARLY, date(2029, 2, 28)),
        (date(2026, 12, 29), BillingInterval.WEEKLY, date(2027, 1, 5)),
    ],
)
def test_next_charge_date(start: date, interval: BillingInterval, expected: date) -> None:
    decision = next_charge_date(start, interval)
    assert decision.value == expected
    assert str(expected) in decision.reason


def test_cadence_day_1_3_7_then_past_due() -> None:
    policy = DunningPolicy()
    assert policy.due_attempt(_sub(), date(2026, 2, 28)).value is None
    assert policy.due_attempt(_sub(), PERIOD).value == 1
    assert policy.due_attempt(_sub(1), PERIOD).value is None
    due = policy.due_attempt(_sub(1), date(2026, 3, 2))
    assert due.value == 2
    assert "day 1" in due.reason
    assert policy.due_attempt(_sub(2), date(2026, 3, 3)).value is None
    assert policy.due_attempt(_sub(2), date(2026, 3, 4)).value == 3
    assert policy.due_attempt(_sub(3), date(2026, 3, 8)).value == 4
    assert policy.due_attempt(_sub(4), date(2026, 4, 1)).value is None
    paused = policy.due_attempt(_sub(status=SubscriptionStatus.PAST_DUE), date(2026, 5, 1))
    assert paused.value is None
    assert "Past Due" in paused.reason


def test_after_attempt() -> None:
    policy = DunningPolicy(final_status=SubscriptionStatus.CANCELLED)
    ok = policy.after_attempt(_sub(2), 3, approved=True, detail="")
    assert (ok.status, ok.next_charge_date, ok.failed_attempts) == (
        SubscriptionStatus.ACTIVE,
        date(2026, 4, 1),
        0,
    )
    retry = policy.after_attempt(_sub(), 1, approved=False, detail="code 102")
    assert (retry.status, retry.next_charge_date, retry.failed_attempts) == (
        SubscriptionStatus.ACTIVE,
        PERIOD,
        1,
    )
    assert "retry on 2026-03-02" in retry.reason
    final = policy.after_attempt(_sub(3), 4, approved=False, detail="code 102")
    assert final.status is SubscriptionStatus.CANCELLED
    assert "retries exhausted" in final.reason


def test_policy_validation() -> None:
    with pytest.raises(ValidationError, match="retry_days must be increasing"):
        DunningPolicy(retry_days=(3, 1))
    with pytest.raises(ValidationError, match="final_status"):
        DunningPolicy(final_status=SubscriptionStatus.ACTIVE)


def _record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "Id": "a0S000000000001AAA",
        "Amount__c": 20.0,
        "Interval__c": "Monthly",
        "Next_Charge_Date__c": "2026-03-01",
        "Vault_Customer_ID__c": "vault-1",
        "Status__c": "Active",
        "Failed_Attempts__c": 1.0,
        "Account__c": "001000000000001AAA",
    }
    record.update(changes)
    return record


def test_subscription_from_salesforce() -> None:
    decision = subscription_from_salesforce(_record(), SubscriptionFieldMap())
    sub = decision.value
    assert sub.amount == Decimal("20.00")
    assert sub.failed_attempts == 1
    assert sub.account_id == "001000000000001AAA"
    assert "Monthly 20.00, Active" in decision.reason


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Interval__c": "Daily"}, "Interval__c must be one of Weekly"),
        ({"Status__c": "Paused"}, "Status__c must be one of Active"),
        ({"Amount__c": "abc"}, "Amount__c is not an amount"),
        ({"Next_Charge_Date__c": "03/01/2026"}, "Next_Charge_Date__c is not a date"),
        ({"Vault_Customer_ID__c": None}, "vault_customer_id"),
        ({"Amount__c": -5}, "amount"),
    ],
)
def test_bad_subscription_fields_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        subscription_from_salesforce(_record(**changes), SubscriptionFieldMap())
