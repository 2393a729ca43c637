"""Recurring billing rules (use case 7): Salesforce subscription records <-> canonical, the
billing calendar and the dunning cadence, each decision with its reason."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from paysync_core.canonical import BillingInterval, Subscription, SubscriptionStatus
from paysync_core.mapping._rules import Decision

__all__ = [
    "DunningPolicy",
    "SubscriptionFieldMap",
    "SubscriptionOutcome",
    "next_charge_date",
    "subscription_from_salesforce",
]


class SubscriptionFieldMap(BaseModel):
    """``Subscription__c`` field names (replaceable per org); ``account`` may be ``None``."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Subscription__c"
    """Salesforce object of subscriptions."""
    amount: str = "Amount__c"
    """Amount charged each period."""
    interval: str = "Interval__c"
    """Billing interval field (Weekly, Monthly, Quarterly or Yearly)."""
    next_charge_date: str = "Next_Charge_Date__c"
    """Date of the next charge."""
    vault_id: str = "Vault_Customer_ID__c"
    """PayTrace vault customer id charged."""
    status: str = "Status__c"
    """Status field (Active, Past Due, Cancelled)."""
    failed_attempts: str = "Failed_Attempts__c"
    """Count of failed attempts for the current period."""
    account: str | None = "Account__c"
    """Lookup to the customer's Account."""
    payment_lookup: str | None = "Subscription__c"
    """The ``Payment__c`` field pointing back at the subscription (``None``: not set)."""

    def soql_fields(self) -> list[str]:
        names = [
            "Id",
            self.amount,
            self.interval,
            self.next_charge_date,
            self.vault_id,
            self.status,
            self.failed_attempts,
        ]
        return [*names, self.account] if self.account else names


def subscription_from_salesforce(
    record: Mapping[str, Any], fields: SubscriptionFieldMap
) -> Decision[Subscription]:
    """A ``Subscription__c`` row -> canonical subscription; a bad value raises ``ValueError``
    naming the record and the field."""
    record_id = str(record.get("Id") or "")
    if not record_id:
        raise ValueError(f"{fields.sobject} record has no Id")

    def bad(field: str, problem: str) -> ValueError:
        return ValueError(f"{fields.sobject} {record_id}: {field} {problem}")

    try:
        amount = Decimal(str(record.get(fields.amount))).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise bad(fields.amount, f"is not an amount ({record.get(fields.amount)!r})") from None
    try:
        interval = BillingInterval(str(record.get(fields.interval)))
    except ValueError:
        allowed = ", ".join(i.value for i in BillingInterval)
        raise bad(fields.interval, f"must be one of {allowed}") from None
    try:
        status = SubscriptionStatus(str(record.get(fields.status)))
    except ValueError:
        allowed = ", ".join(s.value for s in SubscriptionStatus)
        raise bad(fields.status, f"must be one of {allowed}") from None
    raw_date = record.get(fields.next_charge_date)
    try:
        next_date = date.fromisoformat(str(raw_date))
    except ValueError:
        raise bad(fields.next_charge_date, f"is not a date ({raw_date!r})") from None
    failed = record.get(fields.failed_attempts)
    account = record.get(fields.account) if fields.account else None
    try:
        subscription = Subscription(
            source_system="salesforce",
            source_id=record_id,
            account_id=str(account) if account else None,
            amount=amount,
            interval=interval,
            next_charge_date=next_date,
            vault_customer_id=str(record.get(fields.vault_id) or ""),
            status=status,
            failed_attempts=int(failed or 0),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise bad("record", f"is invalid ({problems})") from None
    reason = f"{fields.sobject} {record_id}: {interval.value} {amount}, {status.value}"
    return Decision(subscription, reason)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_charge_date(current: date, interval: BillingInterval) -> Decision[date]:
    """The next period's date; month ends are clamped (Jan 31 -> Feb 28/29)."""
    if interval is BillingInterval.WEEKLY:
        value = current + timedelta(days=7)
    elif interval is BillingInterval.MONTHLY:
        value = _add_months(current, 1)
    elif interval is BillingInterval.QUARTERLY:
        value = _add_months(current, 3)
    else:
        value = _add_months(current, 12)
    return Decision(value, f"{current} + 1 {interval.value.lower()} period = {value}")


class SubscriptionOutcome(BaseModel):
    """What an attempt changes on the subscription."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: SubscriptionStatus
    next_charge_date: date
    failed_attempts: int
    reason: str


class DunningPolicy(BaseModel):
    """Retry cadence after a failed charge: ``retry_days`` counted from the period's charge
    date (day 1, 3, 7 by default); after the last retry fails the subscription becomes
    ``final_status`` (Past Due, or Cancelled)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    retry_days: tuple[int, ...] = Field(default=(1, 3, 7))
    """Days after the period's charge date to retry a failed charge (increasing, at least 1)."""
    final_status: SubscriptionStatus = SubscriptionStatus.PAST_DUE
    """Subscription status once the last retry fails (not Active)."""

    @model_validator(mode="after")
    def _check(self) -> DunningPolicy:
        days = list(self.retry_days)
        if any(d < 1 for d in days) or days != sorted(set(days)):
            raise ValueError("retry_days must be increasing whole days of at least 1")
        if self.final_status is SubscriptionStatus.ACTIVE:
            raise ValueError("final_status must be Past Due or Cancelled")
        return self

    def due_attempt(self, subscription: Subscription, today: date) -> Decision[int | None]:
        """The attempt number due ``today`` for the current period (1 = first charge), or
        ``None`` with the reason nothing is due."""
        period = subscription.next_charge_date
        if subscription.status is not SubscriptionStatus.ACTIVE:
            return Decision(None, f"status {subscription.status.value}: not billed")
        failed = subscription.failed_attempts
        if failed == 0:
            if today >= period:
                return Decision(1, f"period {period} due on {period}")
            return Decision(None, f"period {period} not due before {period}")
        if failed > len(self.retry_days):
            return Decision(None, f"{failed} failed attempts: dunning finished")
        retry_on = period + timedelta(days=self.retry_days[failed - 1])
        if today >= retry_on:
            return Decision(
                failed + 1,
                f"retry {failed} of period {period} due on day {self.retry_days[failed - 1]} "
                f"({retry_on})",
            )
        return Decision(None, f"retry {failed} of period {period} not due before {retry_on}")

    def after_attempt(
        self, subscription: Subscription, attempt: int, *, approved: bool, detail: str
    ) -> SubscriptionOutcome:
        """The subscription after ``attempt`` of its current period."""
        period = subscription.next_charge_date
        if approved:
            following = next_charge_date(period, subscription.interval)
            return SubscriptionOutcome(
                status=SubscriptionStatus.ACTIVE,
                next_charge_date=following.value,
                failed_attempts=0,
                reason=f"attempt {attempt} approved; next charge {following.reason}",
            )
        if attempt > len(self.retry_days):
            return SubscriptionOutcome(
                status=self.final_status,
                next_charge_date=period,
                failed_attempts=attempt,
                reason=f"attempt {attempt} failed ({detail}); retries exhausted -> "
                f"{self.final_status.value}",
            )
        retry_on = period + timedelta(days=self.retry_days[attempt - 1])
        return SubscriptionOutcome(
            status=SubscriptionStatus.ACTIVE,
            next_charge_date=period,
            failed_attempts=attempt,
            reason=f"attempt {attempt} failed ({detail}); retry on {retry_on}",
        )
