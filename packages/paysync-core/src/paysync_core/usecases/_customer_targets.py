"""Use case 5, writing one system's customer fields from another's (every direction).

Each target is read first, :func:`~paysync_core.mapping.decide_group` decides per field group
(name, billing address, email, phone) whether the source's value goes, and only the winners are
sent, as set-to-value updates (``customer/update``, Fusion ``updateOrganization`` /
``updateLocation``, a Salesforce update by Id). Repeating a write is therefore harmless, and
the lookup of a write whose answer was lost is the same reading: nothing left to write means
it landed. No card data is read or written here: PayTrace's billing fields only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oracle_fusion_client import CustomerAccountDetails
from paysync_core.canonical import Address, Customer
from paysync_core.mapping import (
    CUSTOMER_FIELD_GROUPS,
    CustomerConflictRule,
    CustomerSystem,
    customer_from_account,
    customer_groups,
    decide_group,
    fusion_address_from_group,
    groups_from_fusion,
    groups_from_paytrace,
    paytrace_address_from_groups,
    paytrace_profile_differences,
    salesforce_fields_from_groups,
)
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paytrace_client.models import CustomerRecord

__all__ = ["ACCOUNT_FIELDS_SOQL", "CONTACT_SOQL", "CustomerTargets", "GroupPlan"]

ACCOUNT_FIELDS_SOQL = (
    "SELECT Id, Name, BillingStreet, BillingCity, BillingState, BillingPostalCode, "
    "BillingCountry, Phone FROM Account WHERE Id = {}"
)
CONTACT_SOQL = "SELECT Id, Email FROM Contact WHERE AccountId = {} ORDER BY CreatedDate LIMIT 1"
#: Profile fields PayTrace cannot be told to blank (see :meth:`CustomerTargets.paytrace_plan`)
_NOT_CLEARABLE = ("email", "phone")


@dataclass
class GroupPlan:
    """The groups to write to one target (group -> value) and the reason for every group."""

    writes: dict[str, Any] = field(default_factory=dict[str, Any])
    reasons: list[str] = field(default_factory=list[str])
    fusion: CustomerAccountDetails | None = None
    """The Fusion account as read for the plan (its update does not read it again)."""

    def reason(self) -> str:
        return "; ".join(self.reasons)


def plan(
    *,
    source: CustomerSystem,
    target: CustomerSystem,
    incoming: Mapping[str, Any],
    current: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    rule: CustomerConflictRule,
) -> GroupPlan:
    result = GroupPlan()
    for group in CUSTOMER_FIELD_GROUPS:
        decision = decide_group(
            group,
            source=source,
            target=target,
            incoming=incoming,
            current=current,
            base=base,
            rule=rule,
        )
        if decision.value:
            result.writes[group] = incoming[group]
        if group in incoming:
            result.reasons.append(decision.reason)
    return result


def _as_customer(customer_id: str, groups: Mapping[str, Any]) -> Customer:
    address: Mapping[str, Any] = groups.get("billing_address") or {}
    return Customer(
        customer_id=customer_id,
        name=str(groups.get("name") or ""),
        billing_address=Address(**{k: v for k, v in address.items() if v is not None}),
        email=groups.get("email"),
    )


class CustomerTargets:
    """Reads and writes the synced fields of each system."""

    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        fusion: FusionPort,
        salesforce: SalesforcePort,
        rule: CustomerConflictRule,
    ) -> None:
        self.paytrace = paytrace
        self.fusion = fusion
        self.salesforce = salesforce
        self.rule = rule
        #: The Account's billing contact (use case 5 sets its configured rule; by default
        #: the oldest Contact)
        self.contact_of: Callable[[str], Mapping[str, Any] | None] = self._first_contact

    def _first_contact(self, account_id: str) -> Mapping[str, Any] | None:
        contacts = self.salesforce.records(CONTACT_SOQL, account_id)
        return contacts[0] if contacts else None

    # -- PayTrace vault profile (billing fields only) --------------------------------------
    def paytrace_plan(
        self,
        record: CustomerRecord,
        source: CustomerSystem,
        incoming: Mapping[str, Any],
        base: Mapping[str, Any] | None,
    ) -> GroupPlan:
        current = groups_from_paytrace(record).value
        found = plan(
            source=source,
            target="paytrace",
            incoming=incoming,
            current=current,
            base=base,
            rule=self.rule,
        )
        for group in _NOT_CLEARABLE:
            if group in found.writes and found.writes[group] is None:
                # The API reference documents no way to blank a profile field (customer/update
                # takes the fields to set; an empty one is left out): said, not silently kept.
                del found.writes[group]
                found.reasons.append(
                    f"PayTrace keeps {group}: clearing a profile field is not supported by the API"
                )
        return found

    def write_paytrace(
        self, record: CustomerRecord, source: CustomerSystem, to_write: GroupPlan
    ) -> list[str]:
        """``customer/update`` with the profile's billing fields, the winners replacing
        PayTrace's own; returns the PayTrace fields that changed (none: nothing sent)."""
        merged = {**groups_from_paytrace(record).value, **to_write.writes}
        changed = paytrace_profile_differences(_as_customer(record.customer_id, merged), record)
        phone = merged.get("phone")
        if phone is not None and phone != (" ".join((record.phone or "").split()) or None):
            changed.append("phone")  # like email, an empty phone is never sent (not cleared)
        if changed:
            self.paytrace.update_profile(
                record.customer_id,
                billing_address=paytrace_address_from_groups(merged),
                email=merged.get("email"),
                phone=phone,
            )
        return changed

    # -- Fusion customer account (organization name, bill-to location) ---------------------
    def fusion_plan(
        self,
        number: str,
        source: CustomerSystem,
        incoming: Mapping[str, Any],
        base: Mapping[str, Any] | None,
    ) -> GroupPlan | None:
        """``None`` when Fusion has no such account."""
        details = self.fusion.customer_account_details(number)
        if details is None:
            return None
        found = plan(
            source=source,
            target="fusion",
            # Fusion holds no email or phone (no contact points in the services used)
            incoming={k: v for k, v in incoming.items() if k not in ("email", "phone")},
            current=groups_from_fusion(details).value,
            base=base,
            rule=self.rule,
        )
        found.fusion = details
        address = found.writes.get("billing_address")
        if "billing_address" in found.writes and details.location_id is None:
            del found.writes["billing_address"]
            found.reasons.append("billing_address not written: the party has no site in Fusion")
        elif address is not None and fusion_address_from_group(address) is None:
            del found.writes["billing_address"]
            found.reasons.append("billing_address not written: no street for Fusion's Address1")
        return found

    def write_fusion(self, number: str, to_write: GroupPlan) -> None:
        writes = to_write.writes
        if not writes:
            return
        name = writes.get("name")
        self.fusion.update_customer_account(
            number,
            party_name=None if name is None else str(name),
            address=fusion_address_from_group(writes.get("billing_address")),
            current=to_write.fusion,
        )

    # -- Salesforce Account and its primary Contact ----------------------------------------
    def salesforce_current(
        self, account_id: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """The Account's synced fields and its primary Contact (``None``: no such Account)."""
        rows = self.salesforce.records(ACCOUNT_FIELDS_SOQL, account_id)
        if not rows:
            return None
        contact = self.contact_of(account_id)
        return rows[0], (None if contact is None else dict(contact))

    def salesforce_plan(
        self,
        account_id: str,
        source: CustomerSystem,
        incoming: Mapping[str, Any],
        base: Mapping[str, Any] | None,
    ) -> GroupPlan | None:
        current = self.salesforce_current(account_id)
        if current is None:
            return None
        account, contact = current
        customer = customer_from_account(
            account, contact, paytrace_customer_id="-", fusion_account_number=None
        ).value
        found = plan(
            source=source,
            target="salesforce",
            incoming=incoming,
            current=customer_groups(customer, account),
            base=base,
            rule=self.rule,
        )
        if "email" in found.writes and contact is None:
            del found.writes["email"]
            found.reasons.append("email not written: the Account has no Contact")
        return found

    def write_salesforce(self, account_id: str, to_write: GroupPlan) -> None:
        fields = salesforce_fields_from_groups(to_write.writes)
        if fields:
            self.salesforce.update("Account", account_id, fields)
        if "email" in to_write.writes:
            contact = self.contact_of(account_id)
            if contact is not None:
                self.salesforce.update(
                    "Contact", str(contact["Id"]), {"Email": to_write.writes["email"]}
                )
