"""The rules themselves: pure functions and small typed tables, each explaining itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from datetime import timezone as _tz
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from paysync_core.canonical import Address, PaymentStatus

__all__ = [
    "PAYTRACE_APPROVED_CODES",
    "PAYTRACE_DECLINE_CODES",
    "CustomerXref",
    "Decision",
    "GlRule",
    "GlTable",
    "fusion_date",
    "normalize_address",
    "paytrace_currency",
    "paytrace_status",
    "salesforce_status",
    "to_utc",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Decision(Generic[T]):
    """A mapped value and why it was chosen."""

    value: T
    reason: str


# -- payment status ------------------------------------------------------------------------

#: PayTrace response codes meaning "approved" (sale 101, auth 101/106 ...).
PAYTRACE_APPROVED_CODES: Mapping[int, str] = {
    101: "approved",
    106: "approved (capture / refund / void accepted)",
    120: "ACH sale accepted",
    122: "ACH refund accepted",
}
#: PayTrace response codes meaning "not approved" (paytrace_client's PayTraceDeclinedError).
PAYTRACE_DECLINE_CODES: Mapping[int, str] = {
    102: "declined by the issuer",
    103: "approved then auto-voided by AVS/CSC rules",
    107: "declined (partial/other)",
    110: "declined (processor)",
    113: "declined (refund)",
    125: "ACH declined",
}


def paytrace_status(
    response_code: int, *, transaction_type: str = "SALE", message: str = ""
) -> Decision[PaymentStatus]:
    """PayTrace ``response_code`` (+ the transaction type) -> canonical payment status."""
    detail = f" ({message.strip()})" if message.strip() else ""
    kind = transaction_type.upper()
    if response_code in PAYTRACE_DECLINE_CODES:
        status = PaymentStatus.VOIDED if response_code == 103 else PaymentStatus.DECLINED
        return Decision(
            status,
            f"PayTrace code {response_code}: {PAYTRACE_DECLINE_CODES[response_code]}{detail}",
        )
    if response_code in PAYTRACE_APPROVED_CODES:
        status = PaymentStatus.AUTHORIZED if "AUTH" in kind else PaymentStatus.CAPTURED
        return Decision(
            status,
            f"PayTrace code {response_code} on a {kind}: "
            f"{PAYTRACE_APPROVED_CODES[response_code]}{detail}",
        )
    return Decision(
        PaymentStatus.ERROR, f"PayTrace code {response_code} is not a known outcome{detail}"
    )


_SALESFORCE_PICKLIST: Mapping[PaymentStatus, str] = {
    PaymentStatus.AUTHORIZED: "Authorized",
    PaymentStatus.CAPTURED: "Captured",
    PaymentStatus.SETTLED: "Settled",
    PaymentStatus.REFUNDED: "Refunded",
    PaymentStatus.VOIDED: "Voided",
    PaymentStatus.DECLINED: "Failed",
    PaymentStatus.ERROR: "Failed",
}


def salesforce_status(
    status: PaymentStatus, picklist: Mapping[PaymentStatus, str] | None = None
) -> Decision[str]:
    """Canonical status -> the ``Payment__c.Status__c`` picklist value."""
    table = picklist or _SALESFORCE_PICKLIST
    value = table[status]
    source = "configured" if picklist else "default"
    return Decision(value, f"canonical status {status.value!r} -> {value!r} ({source} picklist)")


# -- GL account derivation -------------------------------------------------------------------


class GlRule(BaseModel):
    """One row of the GL table; ``None`` matches anything. The first matching row wins."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str
    card_type: str | None = None
    channel: str | None = None
    transaction_type: str | None = None


class GlTable(BaseModel):
    """A configurable, ordered GL derivation table (validated like the TOML config will be)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[GlRule, ...]
    default: str

    def derive(
        self, *, card_type: str | None, channel: str, transaction_type: str = "SALE"
    ) -> Decision[str]:
        facts = {
            "card_type": (card_type or "").upper(),
            "channel": channel.lower(),
            "transaction_type": transaction_type.upper(),
        }
        for number, rule in enumerate(self.rules, start=1):
            wanted = {
                "card_type": rule.card_type.upper() if rule.card_type else None,
                "channel": rule.channel.lower() if rule.channel else None,
                "transaction_type": rule.transaction_type.upper()
                if rule.transaction_type
                else None,
            }
            if all(v is None or facts[k] == v for k, v in wanted.items()):
                matched = ", ".join(f"{k} {facts[k]}" for k, v in wanted.items() if v is not None)
                return Decision(
                    rule.account,
                    f"GL {rule.account} because {matched or 'any transaction'}, rule {number}",
                )
        described = ", ".join(f"{k} {v or '-'}" for k, v in facts.items())
        return Decision(self.default, f"GL {self.default}: no rule matched ({described}), default")


# -- dates, currency, addresses --------------------------------------------------------------

PAYTRACE_ZONE = ZoneInfo("America/Los_Angeles")


def to_utc(value: datetime, *, assume: tzinfo | None = None) -> Decision[datetime]:
    """Any timestamp -> aware UTC. A naive value needs ``assume`` (the source's zone)."""
    if value.tzinfo is None:
        if assume is None:
            raise ValueError("naive timestamp without a source time zone")
        aware = value.replace(tzinfo=assume)
        return Decision(aware.astimezone(_tz.utc), f"naive time read in {assume}, then UTC")
    return Decision(value.astimezone(_tz.utc), f"converted from {value.tzinfo} to UTC")


def fusion_date(value: datetime, *, ledger_zone: tzinfo) -> Decision[date]:
    """An instant -> the accounting date in the ledger's time zone."""
    if value.tzinfo is None:
        raise ValueError("fusion_date needs an aware datetime")
    local = value.astimezone(ledger_zone)
    return Decision(local.date(), f"{value.isoformat()} is {local.date()} in {ledger_zone}")


def paytrace_currency(currency: str) -> Decision[str]:
    """PayTrace only processes USD; anything else is refused with the reason."""
    code = currency.strip().upper()
    if code != "USD":
        raise ValueError(f"PayTrace processes USD only; the order is in {code}")
    return Decision("USD", "PayTrace processes USD only; order currency is USD")


_US_STATES = {"WASHINGTON": "WA", "CALIFORNIA": "CA", "OREGON": "OR", "NEW YORK": "NY"}
_STREET_ABBREVIATIONS = {
    "STREET": "St.",
    "ST": "St.",
    "AVENUE": "Ave.",
    "AVE": "Ave.",
    "ROAD": "Rd.",
    "RD": "Rd.",
}


def normalize_address(
    *,
    name: str | None = None,
    street: str | None = None,
    city: str | None = None,
    region: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
) -> Decision[Address]:
    """Trim and case fields, abbreviate street types and US states, keep ZIP5 / ZIP+4."""
    notes: list[str] = []

    def clean(text: str | None) -> str | None:
        return " ".join(text.split()) if text and text.strip() else None

    street_c = clean(street)
    if street_c:
        words = street_c.split(" ")
        last = words[-1].upper().rstrip(".")
        if last in _STREET_ABBREVIATIONS and words[-1] != _STREET_ABBREVIATIONS[last]:
            words[-1] = _STREET_ABBREVIATIONS[last]
            notes.append(f"street type {last} -> {words[-1]}")
        street_c = " ".join(words)
    region_c = clean(region)
    if region_c and region_c.upper() in _US_STATES:
        notes.append(f"state {region_c} -> {_US_STATES[region_c.upper()]}")
        region_c = _US_STATES[region_c.upper()]
    elif region_c:
        region_c = region_c.upper() if len(region_c) == 2 else region_c
    country_c = (clean(country) or "US").upper()
    if country_c in {"USA", "UNITED STATES"}:
        notes.append(f"country {country_c} -> US")
        country_c = "US"
    postal_c = clean(postal_code)
    if postal_c and country_c == "US":
        digits = re.sub(r"[^0-9]", "", postal_c)
        if len(digits) == 9:
            postal_c = f"{digits[:5]}-{digits[5:]}"
        elif len(digits) == 5:
            postal_c = digits
        else:
            notes.append(f"postal code {postal_c!r} is not a US ZIP; kept as given")
    city_c = clean(city)
    address = Address(
        name=clean(name),
        street=street_c,
        city=city_c.title() if city_c and city_c.isupper() else city_c,
        region=region_c,
        postal_code=postal_c,
        country=country_c,
    )
    return Decision(address, "; ".join(notes) or "already normalized")


# -- customer id cross-reference -------------------------------------------------------------


class CustomerXref(BaseModel):
    """The customer id cross-reference: Salesforce Account id -> PayTrace vault id and Fusion
    customer account number. Unlisted accounts get a derived PayTrace id (``sf-<AccountId>``)
    and the configured default Fusion account."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paytrace: Mapping[str, str] = {}
    fusion: Mapping[str, str] = {}
    default_fusion_account: str | None = None
    paytrace_prefix: str = "sf-"

    def paytrace_customer(self, account_id: str) -> Decision[str]:
        if account_id in self.paytrace:
            value = self.paytrace[account_id]
            return Decision(value, f"Account {account_id} -> vault {value} (cross-reference)")
        value = f"{self.paytrace_prefix}{account_id}"
        return Decision(value, f"Account {account_id} not in cross-reference; derived {value}")

    def fusion_account(self, account_id: str) -> Decision[str]:
        if account_id in self.fusion:
            value = self.fusion[account_id]
            return Decision(value, f"Account {account_id} -> Fusion {value} (cross-reference)")
        if self.default_fusion_account is None:
            raise LookupError(f"Account {account_id} has no Fusion customer account mapped")
        value = self.default_fusion_account
        return Decision(value, f"Account {account_id} not in cross-reference; default {value}")
