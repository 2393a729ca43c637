"""Customer mapping rules (use case 5): a Salesforce Account (+ its primary Contact) into the
canonical :class:`~paysync_core.canonical.Customer`, out to a PayTrace vault profile, and the
conflict rule deciding which system wins for each field.

Conflict rule (:data:`CUSTOMER_FIELD_OWNERS`):

* name, billing address, email: **Salesforce wins** (the CRM is where people edit them); a
  PayTrace profile that differs is updated;
* payment method (card type, last 4, expiry): **PayTrace wins**, always: the card exists only
  in the PayTrace vault; Salesforce receives masked data only, never a PAN or CSC;
* Fusion customer account number and party id: **Fusion wins** (Fusion owns the billing
  account); Salesforce receives the number;
* cross-reference ids: the first link wins; a later different id is refused (needs a human).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paysync_core.canonical import Address, Customer
from paysync_core.mapping._rules import Decision, normalize_address
from paytrace_client import Address as PayTraceAddress
from paytrace_client.models import CustomerRecord

__all__ = [
    "CUSTOMER_FIELD_OWNERS",
    "customer_from_account",
    "customer_to_paytrace_address",
    "paytrace_profile_differences",
]

CUSTOMER_FIELD_OWNERS: Mapping[str, str] = {
    "name": "salesforce",
    "billing_address": "salesforce",
    "email": "salesforce",
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
