"""The rules themselves: pure functions and small typed tables, each explaining itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from datetime import timezone as _tz
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


#: The keys a GL rule can match on, in the order an explanation names them, with the words
#: it uses (the original three keep their field names: explanations already stored in the
#: ledger and shown by ``paysync plan`` read that way).
_GL_KEYS: tuple[tuple[str, str], ...] = (
    ("card_type", "card_type"),
    ("channel", "channel"),
    ("transaction_type", "transaction_type"),
    ("product_line", "product line"),
    ("business_unit", "business unit"),
)


class GlRule(BaseModel):
    """One row of the GL table; ``None`` (or ``"*"``) matches anything. The first matching row
    wins. Keys compare case-insensitively; a rule naming a product line or business unit never
    matches a transaction that has none."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    account: str = Field(min_length=1)
    """GL account combination the rule derives (e.g. ``01-000-4100-0000``)."""
    card_type: str | None = None
    """Card type to match (``VISA``, ``AMEX`` ...); unset or ``*``: any."""
    channel: str | None = None
    """Sales channel to match (``sales``, ``web``, ``refund`` ...); unset or ``*``: any."""
    transaction_type: str | None = None
    """Transaction type to match (``SALE``, ``REFUND``); unset or ``*``: any."""
    product_line: str | None = None
    """Product line to match; unset or ``*``: any."""
    business_unit: str | None = None
    """Business unit to match; unset or ``*``: any."""

    @field_validator(
        "card_type", "channel", "transaction_type", "product_line", "business_unit", mode="before"
    )
    @classmethod
    def _wildcard(cls, value: object) -> object:
        # "*" reads better than leaving a key out when a TOML row lists every column
        if isinstance(value, str) and value.strip() in ("", "*"):
            return None
        return value.strip() if isinstance(value, str) else value


class GlTable(BaseModel):
    """A configurable, ordered GL derivation table (validated like the TOML config will be)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    rules: tuple[GlRule, ...]
    """Ordered GL rules, one ``[[...rules]]`` table each; the first matching rule wins."""
    default: str = Field(min_length=1)
    """GL account used when no rule matches."""

    def derive(
        self,
        *,
        card_type: str | None,
        channel: str,
        transaction_type: str = "SALE",
        product_line: str | None = None,
        business_unit: str | None = None,
    ) -> Decision[str]:
        """The account of the first rule whose every key matches, explained as ``GL <account>
        because <each matched key and value>, rule <n>`` (or the default, with the facts)."""
        facts: dict[str, str | None] = {
            "card_type": (card_type or "").upper(),
            "channel": channel.lower(),
            "transaction_type": transaction_type.upper(),
            "product_line": product_line.strip() if product_line else None,
            "business_unit": business_unit.strip() if business_unit else None,
        }
        for number, rule in enumerate(self.rules, start=1):
            matched: list[str] = []
            for key, label in _GL_KEYS:
                wanted: str | None = getattr(rule, key)
                if wanted is None:
                    continue
                have = facts[key]
                if have is None or have.casefold() != wanted.casefold():
                    break
                matched.append(f"{label} {have}")
            else:
                return Decision(
                    rule.account,
                    f"GL {rule.account} because {', '.join(matched) or 'any transaction'}, "
                    f"rule {number}",
                )
        # product line / business unit are named only when the caller has them, so tables
        # without those keys explain themselves as before
        described = ", ".join(
            f"{label} {facts[key] or '-'}"
            for key, label in _GL_KEYS
            if key not in ("product_line", "business_unit") or facts[key] is not None
        )
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

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    paytrace: Mapping[str, str] = {}
    """Salesforce Account id -> PayTrace vault customer id."""
    fusion: Mapping[str, str] = {}
    """Salesforce Account id -> Fusion customer account number."""
    default_fusion_account: str | None = None
    """Fusion customer account for Accounts not listed in ``fusion`` (unset: such an Account is
    an error)."""
    paytrace_prefix: str = "sf-"
    """Prefix of the PayTrace customer id derived for Accounts not listed in ``paytrace``
    (``<prefix><AccountId>``)."""

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
