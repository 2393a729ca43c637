"""Use case 5: customer and vault sync, Salesforce Account/Contact <-> PayTrace vault profile
<-> Fusion customer account, keyed by the cross-reference table (:mod:`paysync_core.xref`).

:meth:`CustomerSync.submit_account` turns an Account (+ its primary Contact) into a canonical
:class:`~paysync_core.canonical.Customer` (the flow input, with the mapping explanation); the
flow version is the Account's ``LastModifiedDate`` plus a digest of the synced fields, so each
edit syncs once and paysync's own write-back does not start another sync. Steps:

1. ``paytrace_profile``  the vault profile ``customer_id`` (from the cross-reference, else
   ``sf-<Account id>``): created from a Protect token (``customer/pt_protect_create``; the
   card goes from the browser to PayTrace, never through paysync) or updated
   (``customer/update``, contact fields only) where PayTrace differs from Salesforce.
   Lookup: ``customer/export`` and a field comparison;
2. ``fusion_account``  the Receivables customer account (number from the cross-reference,
   else ``Account.AccountNumber``, else derived from the Account id: ``SF-<Account id>``)
   read from Fusion; when it is missing it is created once over SOAP (location, organization
   party, customer account with ``OrigSystemReference`` = the Account id and a ``BILL_TO``
   site on the Account's billing address). Its ``AccountId`` and party id go into the
   cross-reference. Lookup (before any new attempt): the account by number over REST;
3. ``salesforce_account``  the Account upserted by ``Id`` with the vault id, the Fusion
   account number and the masked payment method (``VISA ending 5439``): what PayTrace and
   Fusion own flows back.

Which system wins per field is :data:`paysync_core.mapping.CUSTOMER_FIELD_OWNERS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from oracle_fusion_client import AccountAddress, CustomerAccountActivity, NewCustomerAccount
from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LookupResult,
    NeedsHumanError,
    Step,
    StepContext,
    SubmitHook,
)
from paysync_core.canonical import Customer
from paysync_core.mapping import (
    customer_from_account,
    customer_to_paytrace_address,
    paytrace_profile_differences,
)
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.xref import CustomerXrefTable, XrefEntry
from paytrace_client.models import CustomerRecord

from ._summaries import salesforce_upsert

__all__ = [
    "RAW_ACCOUNT_FIELDS",
    "USE_CASE",
    "AccountFields",
    "CustomerSync",
    "CustomerSyncConfig",
    "raw_account_input",
]

USE_CASE = "customer_vault_sync"
#: Trading Community's AccountNumber is VARCHAR2(30)
FUSION_ACCOUNT_NUMBER_MAX = 30


class AccountFields(BaseModel):
    """Account fields written back; ``None`` leaves one out (orgs differ)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vault_id: str | None = "Vault_Customer_ID__c"
    fusion_account: str | None = "Fusion_Account_Number__c"
    payment_method: str | None = "Payment_Method__c"


class CustomerSyncConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account_fields: AccountFields = AccountFields()
    paytrace_prefix: str = "sf-"
    fusion_account_prefix: str = "SF-"
    """A Fusion account number derived for an Account without one: prefix + Account id
    (at most 30 characters in all; Fusion's automatic account numbering must be off)."""
    fusion_orig_system: str | None = None
    """A Trading Community source system for ``OrigSystemReference`` (None: none sent)."""


#: The Account fields the mapping reads, kept raw in the flow input for ``paysync replay``.
#: ``AccountNumber`` is left out (the redactor treats account-number keys as secrets): when
#: the cross-reference gave no Fusion account, the canonical customer's account is it.
RAW_ACCOUNT_FIELDS = (
    "Id",
    "Name",
    "BillingStreet",
    "BillingCity",
    "BillingState",
    "BillingPostalCode",
    "BillingCountry",
)


def raw_account_input(
    account: Mapping[str, Any], contact: Mapping[str, Any] | None, entry: XrefEntry | None
) -> dict[str, Any]:
    """What :func:`customer_from_account` read: Account fields, Contact email, cross-reference."""
    return {
        "account": {k: account[k] for k in RAW_ACCOUNT_FIELDS if k in account},
        "contact_email": (contact or {}).get("Email"),
        "xref": {
            "vault": entry.paytrace_customer_id if entry else None,
            "fusion": entry.fusion_account_number if entry else None,
        },
    }


def _customer(ctx: StepContext) -> Customer:
    return Customer.model_validate(ctx.input["customer"])


def _account_id(ctx: StepContext) -> str:
    return _customer(ctx).salesforce_account_id or ""


def _masked_method(record: CustomerRecord) -> tuple[str, str]:
    card = record.credit_card
    if card is None:
        return "", ""
    digits = (card.masked_number or "")[-4:]
    return (card.type or ""), digits if digits.isdigit() else ""


def _digest(synced: object) -> str:
    content = json.dumps(synced, sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _latest_flow(engine: Engine, account_id: str) -> FlowRecord | None:
    with engine.store.transaction() as tx:
        rows = tx.execute(
            "SELECT flow_id FROM flows WHERE use_case = ? AND source_system = 'salesforce'"
            " AND source_id = ? ORDER BY seq DESC LIMIT 1",
            (USE_CASE, account_id),
        )
        return tx.get_flow(str(rows[0][0])) if rows else None


class CustomerSync:
    def __init__(
        self,
        *,
        paytrace: PayTracePort,
        fusion: FusionPort,
        salesforce: SalesforcePort,
        xref: CustomerXrefTable,
        config: CustomerSyncConfig | None = None,
    ) -> None:
        self.paytrace = paytrace
        self.fusion = fusion
        self.salesforce = salesforce
        self.xref = xref
        self.config = config or CustomerSyncConfig()

    # -- trigger ---------------------------------------------------------------------------
    def submit_account(
        self,
        engine: Engine,
        account: Mapping[str, Any],
        contact: Mapping[str, Any] | None,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord:
        """One flow per Account version (``LastModifiedDate``): a re-sent event is a no-op.

        ``checkpoint`` runs in the submitting transaction (an event stream's replay id).
        """
        account_id = str(account.get("Id") or "")
        entry = self.xref.get(account_id) if account_id else None
        customer = customer_from_account(
            account,
            contact,
            paytrace_customer_id=entry.paytrace_customer_id if entry else None,
            fusion_account_number=entry.fusion_account_number if entry else None,
            paytrace_prefix=self.config.paytrace_prefix,
        )
        # What is synced, as a digest. paysync's own write-back (or an edit of a field that is
        # not synced) moves LastModifiedDate but not the digest: when the latest flow of this
        # Account synced the same content there is nothing to do, and it is returned. The
        # version names the flow it follows, so a revert A -> B -> A is a new flow even
        # within the second that LastModifiedDate resolves.
        synced = customer.value.model_dump(mode="json")
        digest = _digest(synced)
        latest = _latest_flow(engine, account_id)
        if latest is not None and _digest(latest.input.get("customer")) == digest:
            if checkpoint is not None:
                with engine.store.transaction() as tx:
                    checkpoint(tx, latest)
            return latest
        modified = str(account.get("LastModifiedDate") or account.get("SystemModstamp") or "")
        after = latest.flow_id[:12] if latest is not None else "-"
        version = f"{modified}:{digest}:{after}"
        return engine.submit(
            USE_CASE,
            source_system="salesforce",
            source_id=account_id,
            version=version,
            input={
                "customer": customer.value.model_dump(mode="json"),
                "mapping": customer.reason,
                "raw": raw_account_input(account, contact, entry),
            },
            checkpoint=checkpoint,
        )

    def definition(self) -> FlowDefinition:
        return FlowDefinition(
            USE_CASE,
            [
                Step(
                    "paytrace_profile",
                    self._profile,
                    self._find_profile,
                    system="paytrace",
                    summarize=self._profile_summary,
                ),
                Step(
                    "fusion_account",
                    self._fusion_account,
                    self._find_fusion_account,
                    system="fusion",
                    summarize=self._fusion_account_summary,
                ),
                Step(
                    "salesforce_account",
                    self._write_back,
                    self._find_write_back,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._write_back_summary,
                ),
            ],
        )

    # 1. PayTrace vault profile
    def _profile_ids(self, ctx: StepContext, record: CustomerRecord, action: str) -> dict[str, str]:
        self.xref.link(_account_id(ctx), paytrace_customer_id=record.customer_id)
        card_type, last4 = _masked_method(record)
        return {
            "customer_id": record.customer_id,
            "action": action,
            "card_type": card_type,
            "last4": last4,
        }

    def _profile(self, ctx: StepContext) -> Mapping[str, str]:
        customer = _customer(ctx)
        customer_id = customer.paytrace_customer_id or ""
        address = customer_to_paytrace_address(customer)
        record = self.paytrace.find_profile_record(customer_id)
        if record is None:
            token = self.paytrace.token_for(customer_id)
            if token is None:
                raise NeedsHumanError(
                    f"Account {customer.salesforce_account_id}: no vault profile {customer_id} "
                    "and no payment token; the customer must enter a card (PayTrace Protect)"
                )
            self.paytrace.create_profile(
                customer_id, token, billing_address=address, email=customer.email
            )
            action = "created"
        else:
            changed = paytrace_profile_differences(customer, record)
            if changed:
                self.paytrace.update_profile(
                    customer_id, billing_address=address, email=customer.email
                )
                action = f"updated {', '.join(changed)} (Salesforce wins)"
            else:
                action = "unchanged"
        stored = self.paytrace.find_profile_record(customer_id)
        if stored is None:
            raise NeedsHumanError(f"vault profile {customer_id} not visible after {action}")
        return self._profile_ids(ctx, stored, action)

    def _find_profile(self, ctx: StepContext) -> LookupResult:
        customer = _customer(ctx)
        customer_id = customer.paytrace_customer_id or ""
        record = self.paytrace.find_profile_record(customer_id)
        if record is None:
            return LookupResult.absent(f"no vault profile {customer_id}")
        changed = paytrace_profile_differences(customer, record)
        if changed:
            # The write did not (fully) land; repeating the update cannot duplicate anything.
            return LookupResult.absent(f"vault profile {customer_id} differs: {changed}")
        ids = self._profile_ids(ctx, record, "found")
        return LookupResult.found(ids, f"vault profile {customer_id} matches Salesforce")

    # 2. Fusion customer account
    def _fusion_number(self, customer: Customer) -> str:
        number = customer.fusion_customer_account
        if number:
            return number
        derived = f"{self.config.fusion_account_prefix}{customer.salesforce_account_id or ''}"
        if len(derived) > FUSION_ACCOUNT_NUMBER_MAX:
            raise NeedsHumanError(
                f"Account {customer.salesforce_account_id}: derived Fusion account number "
                f"{derived!r} is longer than 30 characters; set Account.AccountNumber"
            )
        return derived

    def _link_account(
        self, ctx: StepContext, number: str, account: CustomerAccountActivity, action: str
    ) -> dict[str, str]:
        party = "" if account.CustomerId is None else str(account.CustomerId)
        self.xref.link(
            _account_id(ctx), fusion_account_number=number, fusion_party_id=party or None
        )
        return {
            "account_number": number,
            "account_id": "" if account.AccountId is None else str(account.AccountId),
            "party_id": party,
            "customer_name": account.CustomerName or "",
            "action": action,
        }

    def _new_fusion_account(self, customer: Customer, number: str) -> NewCustomerAccount:
        address = customer.billing_address
        if address is None or not address.street:
            raise NeedsHumanError(
                f"Account {customer.salesforce_account_id}: Fusion customer account {number} "
                "is missing and the Account has no billing street for its bill-to site"
            )
        return NewCustomerAccount(
            party_name=customer.name,
            account_number=number,
            orig_system_reference=customer.salesforce_account_id,
            orig_system=self.config.fusion_orig_system,
            address=AccountAddress(
                address1=address.street,
                address2=address.street2,
                city=address.city,
                state=address.region,
                postal_code=address.postal_code,
                country=address.country,
            ),
        )

    def _fusion_account(self, ctx: StepContext) -> Mapping[str, str]:
        customer = _customer(ctx)
        number = self._fusion_number(customer)
        account = self.fusion.find_customer_account(number)
        if account is not None:
            return self._link_account(ctx, number, account, "found")
        # Not idempotent: a lost answer is resolved by _find_fusion_account before any retry.
        created = self.fusion.create_customer_account(self._new_fusion_account(customer, number))
        found = self.fusion.find_customer_account(created.account_number)
        if found is None:
            raise NeedsHumanError(f"Fusion customer account {number} not visible after create")
        ids = self._link_account(ctx, number, found, "created")
        return {**ids, "site_use_id": str(created.site_use_id), "site_number": created.site_number}

    def _find_fusion_account(self, ctx: StepContext) -> LookupResult:
        number = self._fusion_number(_customer(ctx))
        account = self.fusion.find_customer_account(number)
        if account is None:
            return LookupResult.absent(f"no Fusion customer account {number}")
        ids = self._link_account(ctx, number, account, "found")
        return LookupResult.found(ids, f"Fusion customer account {number} exists")

    # 3. Salesforce Account write-back
    def _write_back_fields(self, ctx: StepContext) -> dict[str, str]:
        fields, profile = self.config.account_fields, ctx.results["paytrace_profile"]
        method = (
            f"{profile['card_type'] or 'card'} ending {profile['last4']}"
            if profile.get("last4")
            else None
        )
        candidates: dict[str | None, str | None] = {
            fields.vault_id: profile["customer_id"],
            fields.fusion_account: ctx.results["fusion_account"]["account_number"],
            fields.payment_method: method,
        }
        return {k: v for k, v in candidates.items() if k is not None and v is not None}

    def _write_back(self, ctx: StepContext) -> Mapping[str, str]:
        record = self._write_back_fields(ctx)
        account_id = self.salesforce.upsert("Account", "Id", _account_id(ctx), record)
        return {"account_id": account_id, **record}

    def _find_write_back(self, ctx: StepContext) -> LookupResult:
        wanted = self._write_back_fields(ctx)
        if not wanted:
            return LookupResult.found({"account_id": _account_id(ctx)})
        # field names come from the validated config, the id is quoted by format_soql
        soql = f"SELECT Id, {', '.join(wanted)} FROM Account WHERE Id = {{}}"  # noqa: S608
        rows = [r.fields for r in self.salesforce.bridge.query(soql, _account_id(ctx))]
        if rows and all(rows[0].get(k) == v for k, v in wanted.items()):
            return LookupResult.found({"account_id": _account_id(ctx), **wanted})
        return LookupResult.absent("Account not yet written back")

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _profile_summary(self, ctx: StepContext) -> Mapping[str, object]:
        customer = _customer(ctx)
        profile = {
            "customer_id": customer.paytrace_customer_id or "",
            "billing_address": to_jsonable_python(customer_to_paytrace_address(customer)),
            "email": customer.email,
        }
        # which one depends on the vault at run time; the card never passes through paysync
        return {
            "create": {
                "endpoint": "customer/pt_protect_create",
                **profile,
                "payment": "PayTrace Protect token (from the browser, never stored)",
            },
            "update": {"endpoint": "customer/update", **profile},
        }

    def _fusion_account_summary(self, ctx: StepContext) -> Mapping[str, object]:
        customer = _customer(ctx)
        try:
            number = self._fusion_number(customer)
            new = to_jsonable_python(self._new_fusion_account(customer, number))
        except NeedsHumanError as exc:
            return {"needs_a_human": str(exc)}
        return {
            "find": {"resource": "receivablesCustomerAccountActivities", "number": number},
            "create_if_missing": {
                "service": "createLocation, createOrganization, createCustomerAccount",
                "account": new,
            },
        }

    def _write_back_summary(self, ctx: StepContext) -> Mapping[str, object]:
        return salesforce_upsert("Account", "Id", _account_id(ctx), self._write_back_fields(ctx))
