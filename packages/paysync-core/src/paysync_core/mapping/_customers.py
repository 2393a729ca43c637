"""Customer mapping rules (use case 5): a Salesforce Account (+ its primary Contact) into the
canonical :class:`~paysync_core.canonical.Customer`, out to a PayTrace vault profile, and the
conflict rule deciding which system wins for each field.

Conflict rule (:data:`CUSTOMER_FIELD_OWNERS`):

* name, billing address, email, phone: **Salesforce wins** (the CRM is where people edit them); a
  PayTrace profile that differs is updated;
* payment method (card type, last 4, expiry): **PayTrace wins**, always: the card exists only
  in the PayTrace vault; Salesforce receives masked data only, never a PAN or CSC;
* Fusion customer account number and party id: **Fusion wins** (Fusion owns the billing
  account); Salesforce receives the number;
* cross-reference ids: the first link wins; a later different id is refused (needs a human).

Sync in every direction (Salesforce -> PayTrace/Fusion, Fusion -> Salesforce/PayTrace,
PayTrace -> Salesforce/Fusion) works on four field groups, each a canonical value
(:func:`customer_groups`, :func:`groups_from_paytrace`, :func:`groups_from_fusion`): ``name``,
``billing_address``, ``email`` and ``phone`` (Salesforce ``Account.Phone``, the PayTrace
profile's ``phone``; Fusion holds neither email nor phone here: the SOAP organization and
location services paysync uses carry no contact points). A flow carries what its source
holds and the *base*, the content paysync last made consistent
(:class:`paysync_core.xref.SyncedState`). :func:`decide_group` decides, per target and
group, with a readable reason:

* the source did not change the group (incoming = base): the target keeps its value (a change
  made there travels in its own direction);
* the target still holds the base (or there is no base yet): the source's value goes;
* both changed since the last sync: :class:`CustomerConflictRule` decides; by default
  **Salesforce wins** every group (the CRM is the customer master, as in
  :data:`CUSTOMER_FIELD_OWNERS`), then Fusion for name and billing address (the bill-to site
  invoices are addressed to), then PayTrace (its billing fields are a copy for AVS); for email
  and phone PayTrace comes before Fusion (Fusion holds none). An organisation whose bill-to
  addresses are kept by Receivables sets ``billing_address = ["fusion", "salesforce",
  "paytrace"]``.

A group missing from the synced state (``phone`` for Accounts synced before it was added) is
"never synced": an empty value does not flow, a value flows once; a group the source does not
read (an Account record queried without ``Phone``) is not part of its content at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracle_fusion_client import AccountAddress, CustomerAccountDetails
from paysync_core.canonical import Address, Customer
from paysync_core.mapping._rules import Decision, normalize_address
from paytrace_client import Address as PayTraceAddress
from paytrace_client.models import CustomerRecord

__all__ = [
    "CUSTOMER_FIELD_GROUPS",
    "CUSTOMER_FIELD_OWNERS",
    "CustomerConflictRule",
    "CustomerSystem",
    "customer_from_account",
    "customer_groups",
    "customer_to_paytrace_address",
    "decide_group",
    "fusion_address_from_group",
    "groups_from_fusion",
    "groups_from_paytrace",
    "paytrace_address_from_groups",
    "paytrace_profile_differences",
    "salesforce_fields_from_groups",
]

CustomerSystem = Literal["salesforce", "paytrace", "fusion"]
#: The field groups synced in every direction (card data is never one of them).
CUSTOMER_FIELD_GROUPS = ("name", "billing_address", "email", "phone")
_SYSTEMS: frozenset[str] = frozenset({"salesforce", "paytrace", "fusion"})

CUSTOMER_FIELD_OWNERS: Mapping[str, str] = {
    "name": "salesforce",
    "billing_address": "salesforce",
    "email": "salesforce",
    "phone": "salesforce",
    "payment_method": "paytrace",
    "fusion_account": "fusion",
}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _text(value: object) -> str | None:
    return " ".join(str(value).split()) if value is not None and str(value).strip() else None


def customer_from_account(
    account: Mapping[str, Any],
    contact: Mapping[str, Any] | None,
    *,
    paytrace_customer_id: str | None,
    fusion_account_number: str | None,
    paytrace_prefix: str = "sf-",
) -> Decision[Customer]:
    """Account fields (``Name``, ``Billing*``, ``AccountNumber``) + the primary Contact's
    ``Email`` -> canonical customer; ids already in the cross-reference win over derived
    ones."""
    account_id = _text(account.get("Id"))
    if account_id is None:
        raise ValueError("Account.Id: missing")
    name = _text(account.get("Name"))
    if name is None:
        raise ValueError(f"Account {account_id}: Name is empty")
    notes: list[str] = []
    address = normalize_address(
        name=name,
        street=_text(account.get("BillingStreet")),
        city=_text(account.get("BillingCity")),
        region=_text(account.get("BillingState")),
        postal_code=_text(account.get("BillingPostalCode")),
        country=_text(account.get("BillingCountry")),
    )
    notes.append(f"address: {address.reason}")
    email = _text((contact or {}).get("Email"))
    if email is not None:
        if not _EMAIL.fullmatch(email):
            raise ValueError(f"Contact.Email of Account {account_id}: {email!r} is not an email")
        email = email.lower()
        notes.append("email from the primary Contact, lower-cased")
    else:
        notes.append("no Contact email")
    if paytrace_customer_id is None:
        paytrace_customer_id = f"{paytrace_prefix}{account_id}"
        notes.append(f"vault id derived: {paytrace_customer_id}")
    else:
        notes.append(f"vault id {paytrace_customer_id} from the cross-reference")
    if fusion_account_number is None:
        fusion_account_number = _text(account.get("AccountNumber"))
        if fusion_account_number is not None:
            notes.append(f"Fusion account {fusion_account_number} from Account.AccountNumber")
    else:
        notes.append(f"Fusion account {fusion_account_number} from the cross-reference")
    customer = Customer(
        customer_id=f"sf:{account_id}",
        name=name,
        salesforce_account_id=account_id,
        paytrace_customer_id=paytrace_customer_id,
        fusion_customer_account=fusion_account_number,
        billing_address=address.value,
        email=email,
    )
    return Decision(customer, "; ".join(notes))


def customer_to_paytrace_address(customer: Customer) -> PayTraceAddress:
    address = customer.billing_address or Address()
    return PayTraceAddress(
        name=customer.name,
        street_address=address.street,
        street_address2=address.street2,
        city=address.city,
        state=address.region,
        zip=address.postal_code,
        country=address.country,
    )


def paytrace_profile_differences(customer: Customer, record: CustomerRecord) -> list[str]:
    """The Salesforce-owned fields where the PayTrace profile differs (Salesforce wins).

    Only fields PayTrace returns are compared: an export without ``country`` is not a
    difference."""
    wanted = customer_to_paytrace_address(customer)
    have = record.billing_address
    pairs: dict[str, tuple[str | None, str | None]] = {
        "name": (wanted.name, have.name if have else None),
        "street_address": (wanted.street_address, have.street_address if have else None),
        "city": (wanted.city, have.city if have else None),
        "state": (wanted.state, have.state if have else None),
        "zip": (wanted.zip, have.zip if have else None),
        "email": (customer.email, record.email),
    }
    return [
        name
        for name, (want, got) in pairs.items()
        if (want or None) != (_text(got) if got is not None else None)
        and not (name == "email" and want is None)
    ]


# -- field groups and the conflict rule (sync in every direction) -----------------------------
class CustomerConflictRule(BaseModel):
    """Per field group, the systems in the order they win when both the source and the target
    changed it since the last sync (``[usecases.customer_sync.conflict]`` in the configuration)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: tuple[CustomerSystem, ...] = Field(default=("salesforce", "fusion", "paytrace"))
    """Winning order of the systems for the customer name."""
    billing_address: tuple[CustomerSystem, ...] = Field(
        default=("salesforce", "fusion", "paytrace")
    )
    """Winning order of the systems for the billing address."""
    email: tuple[CustomerSystem, ...] = Field(default=("salesforce", "paytrace", "fusion"))
    """Winning order of the systems for the email address."""
    phone: tuple[CustomerSystem, ...] = Field(default=("salesforce", "paytrace", "fusion"))
    """Winning order of the systems for the phone number (Salesforce ``Account.Phone``)."""

    @field_validator("name", "billing_address", "email", "phone")
    @classmethod
    def _all_three(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) != len(_SYSTEMS) or frozenset(value) != _SYSTEMS:
            raise ValueError(
                f"must list salesforce, paytrace and fusion once each, in winning order; "
                f"got {list(value)}"
            )
        return value

    def order(self, group: str) -> tuple[CustomerSystem, ...]:
        return getattr(self, group)  # one of CUSTOMER_FIELD_GROUPS (code constants)


def _address_group(address: Address | None) -> dict[str, str | None] | None:
    if address is None:
        return None
    return {
        "street": address.street,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def customer_groups(customer: Customer, account: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The synced content of a canonical customer (from a Salesforce Account); ``phone`` only
    when ``account`` (the Account record read) carries ``Phone``: a query without it says
    nothing about the phone, and content recorded before the phone group stays the same."""
    groups: dict[str, Any] = {
        "name": customer.name,
        "billing_address": _address_group(customer.billing_address),
        "email": customer.email,
    }
    if account is not None and "Phone" in account:
        groups["phone"] = _text(account.get("Phone"))
    return groups


def groups_from_paytrace(record: CustomerRecord) -> Decision[dict[str, Any]]:
    """A vault profile's billing name, billing address and email (never its card)."""
    have = record.billing_address
    groups: dict[str, Any] = {}
    notes: list[str] = []
    name = _text(have.name) if have else None
    if name is not None:
        groups["name"] = name
    if have is not None and _text(have.street_address):
        address = normalize_address(
            street=_text(have.street_address),
            city=_text(have.city),
            region=_text(have.state),
            postal_code=_text(have.zip),
            country=_text(have.country),
        )
        groups["billing_address"] = _address_group(address.value)
        notes.append(f"address: {address.reason}")
    else:
        notes.append("no billing street: address not synced")
    email = _text(record.email)
    groups["email"] = email.lower() if email else None
    groups["phone"] = _text(record.phone)
    return Decision(groups, "; ".join(notes) or "billing fields of the vault profile")


def groups_from_fusion(account: CustomerAccountDetails) -> Decision[dict[str, Any]]:
    """A Fusion account's organization name and bill-to address; Fusion holds no email and no
    phone (the SOAP organization / location services used carry no contact points)."""
    groups: dict[str, Any] = {}
    notes = ["no email in Fusion", "no phone in Fusion"]
    if _text(account.party_name):
        groups["name"] = _text(account.party_name)
    if account.address is not None:
        address = normalize_address(
            street=_text(account.address.address1),
            city=_text(account.address.city),
            region=_text(account.address.state),
            postal_code=_text(account.address.postal_code),
            country=_text(account.address.country),
        )
        groups["billing_address"] = _address_group(address.value)
        notes.append(f"address: {address.reason}")
    else:
        notes.append("no party site: address not synced")
    return Decision(groups, "; ".join(notes))


def decide_group(
    group: str,
    *,
    source: CustomerSystem,
    target: CustomerSystem,
    incoming: Mapping[str, Any],
    current: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    rule: CustomerConflictRule,
) -> Decision[bool]:
    """Whether ``source``'s value of ``group`` is written to ``target``, and why."""
    if group not in incoming:
        return Decision(False, f"{group}: {source} does not hold it")
    value = incoming[group]
    if current.get(group) == value:
        return Decision(False, f"{group}: {target} already has it")
    has_base = base is not None and group in base
    if value is None and not has_base:
        # an empty field never erases a value the other system holds unless a sync saw it set
        return Decision(
            False, f"{group}: {source} holds none and no sync has seen it set: {target}'s kept"
        )
    if has_base and base is not None and base[group] == value:
        return Decision(
            False,
            f"{group}: unchanged in {source}; {target}'s own change is kept (it syncs "
            f"from {target})",
        )
    if not has_base or (base is not None and current.get(group) == base[group]):
        return Decision(True, f"{group}: changed in {source}, not in {target}: {source} wins")
    order = rule.order(group)
    winner = source if order.index(source) < order.index(target) else target
    return Decision(
        winner == source,
        f"{group}: changed in both {source} and {target} since the last sync: {winner} wins "
        f"(conflict rule {' > '.join(order)})",
    )


def paytrace_address_from_groups(groups: Mapping[str, Any]) -> PayTraceAddress:
    address: Mapping[str, Any] = groups.get("billing_address") or {}
    return PayTraceAddress(
        name=groups.get("name"),
        street_address=address.get("street"),
        city=address.get("city"),
        state=address.get("region"),
        zip=address.get("postal_code"),
        country=address.get("country"),
    )


def fusion_address_from_group(address: Mapping[str, Any] | None) -> AccountAddress | None:
    """``None`` when there is no street (a Fusion location needs ``Address1``)."""
    if not address or not address.get("street"):
        return None
    return AccountAddress(
        address1=str(address["street"]),
        country=str(address.get("country") or "US"),
        city=address.get("city"),
        state=address.get("region"),
        postal_code=address.get("postal_code"),
    )


def salesforce_fields_from_groups(groups: Mapping[str, Any]) -> dict[str, Any]:
    """Account fields for the groups given (``email`` goes to the Contact, not here)."""
    fields: dict[str, Any] = {}
    if "name" in groups:
        fields["Name"] = groups["name"]
    if "phone" in groups:
        fields["Phone"] = groups["phone"]
    if "billing_address" in groups:
        address: Mapping[str, Any] = groups["billing_address"] or {}
        fields.update(
            BillingStreet=address.get("street"),
            BillingCity=address.get("city"),
            BillingState=address.get("region"),
            BillingPostalCode=address.get("postal_code"),
            BillingCountry=address.get("country"),
        )
    return fields
