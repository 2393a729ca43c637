"""Use case 5: customer and vault sync, Salesforce Account/Contact <-> PayTrace vault profile
<-> Fusion customer account, keyed by the cross-reference table (:mod:`paysync_core.xref`),
in every direction; no card data ever leaves PayTrace.

Three triggers, three flow definitions:

* :meth:`CustomerSync.submit_account` (``customer_vault_sync``): a Salesforce Account (+ its
  primary Contact) to PayTrace and Fusion, steps below;
* :meth:`CustomerSync.submit_fusion_account` (``customer_vault_sync_fusion``): a Fusion
  customer account created or changed in Fusion to the Salesforce Account (created when the
  cross-reference has none, found again by ``Fusion_Account_Number__c``) and to the vault
  profile's billing fields;
* :meth:`CustomerSync.submit_paytrace_profile` (``customer_vault_sync_paytrace``): a vault
  profile changed in PayTrace (found by :class:`~paysync_core.usecases.PayTraceProfilePoller`)
  to the Salesforce Account/Contact and the Fusion account.

Each trigger compares what its system holds (name, billing address, email) with the synced
state, the content paysync last made consistent (:class:`paysync_core.xref.SyncedState`):
equal means no change there, or paysync's own write coming back, and the flow that set it is
returned (no ping-pong); different means a new flow, and the state moves to the new content in
the transaction submitting it. The flow identity is a digest of that content plus the flow it
follows, never a modification time: a write-back that moves ``LastModifiedDate`` and nothing
else makes no flow, a revert A -> B -> A does. Per target and field group the conflict rule
(:func:`paysync_core.mapping.decide_group`, :class:`~paysync_core.mapping.CustomerConflictRule`)
decides what is written, with the reason in the step's ``reasons``.

Steps of ``customer_vault_sync``:

1. ``paytrace_profile``  the vault profile ``customer_id`` (from the cross-reference, else
   ``sf-<Account id>``): created from a Protect token (``customer/pt_protect_create``; the
   card goes from the browser to PayTrace, never through paysync) or updated
   (``customer/update``, billing fields only) where the conflict rule lets Salesforce's values
   through. Lookup: ``customer/export`` and a field comparison;
2. ``fusion_account``  the Receivables customer account (number from the cross-reference,
   else ``Account.AccountNumber``, else derived from the Account id: ``SF-<Account id>``)
   read from Fusion; when it is missing it is created once over SOAP (location, organization
   party, customer account with ``OrigSystemReference`` = the Account id and a ``BILL_TO``
   site on the Account's billing address); an existing one gets Salesforce's name and address
   (SOAP ``updateOrganization`` / ``updateLocation``, only what differs). Its ``AccountId`` and
   party id go into the cross-reference. Lookup (before any new attempt): the account by
   number over REST, then nothing left to update;
3. ``salesforce_account``  the Account upserted by ``Id`` with the vault id, the Fusion
   account number and the masked payment method (``VISA ending 5439``): what PayTrace and
   Fusion own flows back.

Which system owns which field is :data:`paysync_core.mapping.CUSTOMER_FIELD_OWNERS`.

PayTrace cannot be told to blank a profile's e-mail or phone (no documented way; the step's
``reasons`` say ``PayTrace keeps email: ...``). The synced state then records, besides the
empty value, the value PayTrace keeps (``paytrace_kept``): read back from the vault it is no
change made in PayTrace, so it never flows back to Salesforce.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from oracle_fusion_client import (
    AccountAddress,
    CustomerAccountActivity,
    CustomerAccountDetails,
    NewCustomerAccount,
)
from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    FlowState,
    LedgerTransaction,
    LookupResult,
    NeedsHumanError,
    RetryableError,
    Step,
    StepContext,
    SubmitHook,
)
from paysync_core.canonical import Customer
from paysync_core.mapping import (
    CustomerConflictRule,
    CustomerSystem,
    customer_from_account,
    customer_groups,
    customer_to_paytrace_address,
    groups_from_fusion,
    groups_from_paytrace,
    salesforce_fields_from_groups,
)
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.xref import CustomerXrefTable, SyncedState, XrefEntry
from paytrace_client.models import CustomerRecord

from ._billing_contact import BillingContactRule
from ._customer_targets import ACCOUNT_FIELDS_SOQL, CustomerTargets, GroupPlan
from ._query_all import QueryAllPort
from ._summaries import salesforce_upsert

__all__ = [
    "FUSION_USE_CASE",
    "PAYTRACE_USE_CASE",
    "RAW_ACCOUNT_FIELDS",
    "USE_CASE",
    "AccountFields",
    "CustomerSync",
    "CustomerSyncConfig",
    "QueryAllPort",
    "raw_account_input",
]

USE_CASE = "customer_vault_sync"
FUSION_USE_CASE = "customer_vault_sync_fusion"
PAYTRACE_USE_CASE = "customer_vault_sync_paytrace"
#: A deleted Contact's Account (``queryAll``: the recycle bin keeps its field values).
DELETED_CONTACTS_SOQL = "SELECT Id, AccountId FROM Contact WHERE Id IN {} AND IsDeleted = true"
#: Trading Community's AccountNumber is VARCHAR2(30)
FUSION_ACCOUNT_NUMBER_MAX = 30


class AccountFields(BaseModel):
    """Account fields written back; ``None`` leaves one out (orgs differ)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    vault_id: str | None = "Vault_Customer_ID__c"
    """Account field given the PayTrace vault customer id."""
    fusion_account: str | None = "Fusion_Account_Number__c"
    """Account field given the Fusion customer account number."""
    payment_method: str | None = "Payment_Method__c"
    """Account field given the card on file (``VISA ending 1111``)."""


class CustomerSyncConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    account_fields: AccountFields = AccountFields()
    """Account fields written back after the sync."""
    paytrace_prefix: str = "sf-"
    """Prefix of the PayTrace vault customer id derived for an Account (``<prefix><AccountId>``)."""
    fusion_account_prefix: str = "SF-"
    """A Fusion account number derived for an Account without one: prefix + Account id
    (at most 30 characters in all; Fusion's automatic account numbering must be off)."""
    fusion_orig_system: str | None = None
    """A Trading Community source system for ``OrigSystemReference`` (None: none sent)."""
    conflict: CustomerConflictRule = Field(default=CustomerConflictRule())
    """Which system wins a field group changed on both sides since the last sync."""
    billing_contact: BillingContactRule = Field(default=BillingContactRule())
    """Which Contact of an Account is its billing contact (the e-mail synced both ways):
    the oldest Contact by default, the oldest one with ``flag_field`` set, or the one holding
    the ``AccountContactRole`` ``role`` (primary first)."""


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
    "Phone",
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


#: Groups added after synced states were recorded: absent from a state means never synced, so
#: an empty value there is no change (else every Account would sync again after the upgrade).
_LATER_GROUPS = frozenset({"phone"})


#: Synced-state key: the values PayTrace keeps because it cannot be told to blank a profile
#: field (group -> value), so that reading them back there is no change (no resurrection).
_KEPT = "paytrace_kept"
_NOT_CLEARABLE = ("email", "phone")


def _kept(state: SyncedState | None) -> dict[str, Any]:
    kept = state.content.get(_KEPT) if state is not None else None
    return dict(cast(Mapping[str, Any], kept)) if isinstance(kept, Mapping) else {}


def _kept_after_salesforce(state: SyncedState | None, groups: Mapping[str, Any]) -> dict[str, Any]:
    """What PayTrace keeps once Salesforce's ``groups`` are synced: a value emptied in
    Salesforce stays in the profile (the last synced one, or the one already kept)."""
    before = _kept(state)
    kept: dict[str, Any] = {}
    for group in _NOT_CLEARABLE:
        if group not in groups or groups[group] is not None:
            continue
        previous = state.content.get(group) if state is not None else None
        value = previous if previous is not None else before.get(group)
        if value is not None:
            kept[group] = value
    return kept


def _masked(groups: Mapping[str, Any], kept: Mapping[str, Any]) -> dict[str, Any]:
    """PayTrace's groups with a value it keeps (could not blank) read as the empty one."""
    return {g: (None if g in kept and kept[g] == v else v) for g, v in groups.items()}


def _unchanged(state: SyncedState | None, groups: Mapping[str, Any]) -> bool:
    """Every group the source holds equals the synced state."""
    if state is None:
        return False
    return all(
        state.content[g] == v if g in state.content else (g in _LATER_GROUPS and v is None)
        for g, v in groups.items()
    )


def _groups(ctx: StepContext) -> dict[str, Any]:
    return dict(cast(Mapping[str, Any], ctx.input["groups"]))


def _base(ctx: StepContext) -> Mapping[str, Any] | None:
    base = ctx.input.get("base")
    return cast(Mapping[str, Any], base) if isinstance(base, Mapping) else None


def _source(ctx: StepContext) -> CustomerSystem:
    return cast(CustomerSystem, ctx.input.get("source") or "salesforce")


def _incoming(ctx: StepContext) -> dict[str, Any]:
    """What the source holds (flows recorded before the field groups: from the customer)."""
    if isinstance(ctx.input.get("groups"), Mapping):
        return _groups(ctx)
    return customer_groups(_customer(ctx))


def _plan_ids(action: str, to_write: GroupPlan) -> dict[str, str]:
    return {"action": action, "reasons": to_write.reason()}


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
        self.targets = CustomerTargets(
            paytrace=paytrace, fusion=fusion, salesforce=salesforce, rule=self.config.conflict
        )
        # every read and the e-mail write-back use the same billing contact
        self.targets.contact_of = self.billing_contact

    # -- the billing contact ---------------------------------------------------------------
    def billing_contact(self, account_id: str) -> Mapping[str, Any] | None:
        """The Account's billing contact by the configured rule (``None``: no Contact)."""
        rule = self.config.billing_contact
        contacts = self.salesforce.records(rule.soql(), account_id)
        if rule.role is None:
            return rule.choose(contacts)
        roles = self.salesforce.records(rule.role_soql(), account_id, rule.role)
        # a role may name a Contact of another Account (contact roles are many-to-many)
        known = {str(c.get("Id")) for c in contacts}
        others = sorted({str(r["ContactId"]) for r in roles if r.get("ContactId")} - known)
        if others:
            contacts = [*contacts, *self.salesforce.records(rule.contacts_soql(), others)]
        return rule.choose(contacts, roles)

    def deleted_contact_accounts(self, contact_ids: list[str]) -> list[str]:
        """The Accounts of deleted Contacts (read through ``queryAll``: a delete event carries
        the Contact ids only). A Contact no longer in the recycle bin names none."""
        if not contact_ids:
            return []
        deleted = QueryAllPort(self.salesforce.bridge).records(DELETED_CONTACTS_SOQL, contact_ids)
        return [str(row["AccountId"]) for row in deleted if row.get("AccountId")]

    def submit_contact_accounts(
        self,
        engine: Engine,
        account_ids: list[str],
        *,
        account_soql: str = ACCOUNT_FIELDS_SOQL,
        checkpoint: SubmitHook | None = None,
    ) -> list[FlowRecord]:
        """A Contact changed (its e-mail, or which Contact is the billing one): each Account
        it belongs to is synced again with its billing contact. The flow is keyed by the
        synced content, so a Contact change that does not alter what is synced (another
        Contact's edit, paysync's own e-mail write-back) returns the flow that synced it and
        starts nothing. ``checkpoint`` goes with the last submission."""
        pairs: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = []
        for account_id in dict.fromkeys(a for a in account_ids if a):
            for account in self.salesforce.records(account_soql, account_id):
                pairs.append((account, self.billing_contact(account_id)))
        flows: list[FlowRecord] = []
        for index, (account, contact) in enumerate(pairs):
            last = index == len(pairs) - 1
            flows.append(
                self.submit_account(
                    engine, account, contact, checkpoint=checkpoint if last else None
                )
            )
        return flows

    # -- triggers --------------------------------------------------------------------------
    def submit_account(
        self,
        engine: Engine,
        account: Mapping[str, Any],
        contact: Mapping[str, Any] | None,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord:
        """One flow per synced content of the Account: a re-sent event, paysync's own
        write-back and an edit of a field that is not synced return the flow that synced it.

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
        groups = customer_groups(customer.value, account)
        state = self.xref.synced(account_id) if account_id else None
        if state is None:
            # Flows recorded before the synced state existed: the latest flow of this Account
            # with the same content is the one.
            latest = _latest_flow(engine, account_id)
            if latest is not None and _digest(latest.input.get("customer")) == _digest(
                customer.value.model_dump(mode="json")
            ):
                return self._existing(engine, latest, checkpoint)
        elif _unchanged(state, groups):
            found = self._flow(engine, state)
            if found is not None:
                return self._existing(engine, found, checkpoint)
        kept = _kept_after_salesforce(state, groups)
        return self._submit(
            engine,
            USE_CASE,
            source="salesforce",
            source_id=account_id,
            account_id=account_id,
            state=state,
            groups=groups,
            # the phone joins the content only when there is one: other Accounts keep theirs
            content=customer.value.model_dump(mode="json")
            | ({"phone": groups["phone"]} if groups.get("phone") else {}),
            kept=kept if kept or _kept(state) else None,
            payload={
                "customer": customer.value.model_dump(mode="json"),
                "mapping": customer.reason,
                "raw": raw_account_input(account, contact, entry),
                "billing_contact": {
                    "id": None if contact is None else contact.get("Id"),
                    "rule": self.config.billing_contact.reason(),
                },
            },
            checkpoint=checkpoint,
        )

    def submit_fusion_account(
        self,
        engine: Engine,
        account: CustomerAccountDetails,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """A Fusion customer account as read from Fusion (``FusionPort.customer_account_details``)
        to its Salesforce Account and vault profile. Nothing changed since the last sync (or
        paysync's own update coming back): the flow that synced it is returned. ``None``: an
        account linked before paysync kept a synced state; its content became the base."""
        number = account.account_number
        if not number.strip():
            raise ValueError("CustomerAccountDetails.account_number: must not be empty")
        entry = self.xref.by_fusion(number)
        account_id = entry.salesforce_account_id if entry else None
        mapped = groups_from_fusion(account)
        state = self.xref.synced(account_id) if account_id else None
        if account_id and state is None:
            return self._adopt(account_id, mapped.value)
        if _unchanged(state, mapped.value) and state is not None:
            found = self._flow(engine, state)
            if found is not None:
                return self._existing(engine, found, checkpoint)
        return self._submit(
            engine,
            FUSION_USE_CASE,
            source="fusion",
            source_id=number,
            account_id=account_id,
            state=state,
            groups=mapped.value,
            content=mapped.value,
            payload={
                # an "account_number" key is redacted as bank data: the account's own name
                "fusion": {
                    "customer_account": number,
                    "account_id": "" if account.account_id is None else str(account.account_id),
                    "party_id": str(account.party_id),
                },
                "mapping": mapped.reason,
            },
            checkpoint=checkpoint,
        )

    def submit_fusion_account_number(
        self, engine: Engine, account_number: str, *, checkpoint: SubmitHook | None = None
    ) -> FlowRecord | None:
        """For a change poller that sees only the number: read the account (name, bill-to
        address) and :meth:`submit_fusion_account`; ``None`` when Fusion has no such account."""
        details = self.fusion.customer_account_details(account_number)
        if details is None:
            return None
        return self.submit_fusion_account(engine, details, checkpoint=checkpoint)

    def submit_paytrace_profile(
        self,
        engine: Engine,
        record: CustomerRecord,
        *,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord | None:
        """A vault profile as ``customer/export`` gives it (billing fields only are read) to
        its Salesforce Account/Contact and Fusion account. ``None`` for a profile the
        cross-reference does not know (not paysync's business) or linked before paysync kept
        a synced state (its content becomes the base); unchanged since the last sync (or
        paysync's own update coming back): the flow that synced it."""
        entry = self.xref.by_paytrace(record.customer_id)
        if entry is None:
            return None
        mapped = groups_from_paytrace(record)
        state = self.xref.synced(entry.salesforce_account_id)
        if state is None:
            return self._adopt(entry.salesforce_account_id, mapped.value)
        # a value emptied in Salesforce that PayTrace keeps is no change made in PayTrace
        kept = _kept(state)
        groups = _masked(mapped.value, kept)
        if _unchanged(state, groups):
            found = self._flow(engine, state)
            if found is not None:
                return self._existing(engine, found, checkpoint)
        return self._submit(
            engine,
            PAYTRACE_USE_CASE,
            source="paytrace",
            source_id=record.customer_id,
            account_id=entry.salesforce_account_id,
            state=state,
            groups=groups,
            content=groups,
            kept={g: v for g, v in kept.items() if mapped.value.get(g) == v} if kept else None,
            payload={"paytrace": {"customer_id": record.customer_id}, "mapping": mapped.reason},
            checkpoint=checkpoint,
        )

    def _adopt(self, account_id: str, groups: Mapping[str, Any]) -> None:
        """An Account linked before the synced state existed (an upgrade): what this system
        holds becomes the base and nothing flows. Without a base, a first read would look like
        a change and overwrite the other systems wholesale."""
        self.xref.record_synced(account_id, groups, flow_id=None)

    @staticmethod
    def _flow(engine: Engine, state: SyncedState) -> FlowRecord | None:
        if state.flow_id is None:
            return None
        with engine.store.transaction() as tx:
            return tx.get_flow(state.flow_id)

    @staticmethod
    def _existing(engine: Engine, flow: FlowRecord, checkpoint: SubmitHook | None) -> FlowRecord:
        if checkpoint is not None:
            with engine.store.transaction() as tx:
                checkpoint(tx, flow)
        return flow

    def _submit(
        self,
        engine: Engine,
        use_case: str,
        *,
        source: CustomerSystem,
        source_id: str,
        account_id: str | None,
        state: SyncedState | None,
        groups: Mapping[str, Any],
        content: object,
        payload: Mapping[str, Any],
        checkpoint: SubmitHook | None,
        kept: Mapping[str, Any] | None = None,
    ) -> FlowRecord:
        # The version names the content and the flow it follows (not a modification time):
        # the same content read twice (an event and a poll, a write-back) is the same flow,
        # a revert A -> B -> A is a new one.
        after = state.flow_id[:12] if state is not None and state.flow_id else "-"
        version = f"{_digest(content)}:{after}"

        def hook(tx: LedgerTransaction, flow: FlowRecord) -> None:
            if account_id:
                # kept: what PayTrace holds for a group emptied elsewhere (None: unchanged)
                recorded = {**groups, **({} if kept is None else {_KEPT: dict(kept)})}
                self.xref.record_synced(account_id, recorded, flow_id=flow.flow_id, tx=tx)
            if checkpoint is not None:
                checkpoint(tx, flow)

        return engine.submit(
            use_case,
            source_system=source,
            source_id=source_id,
            version=version,
            input={
                **payload,
                "source": source,
                "salesforce_account_id": account_id,
                "groups": dict(groups),
                "base": dict(state.content) if state is not None else None,
                "base_flow": state.flow_id if state is not None else None,
            },
            checkpoint=hook,
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

    def fusion_definition(self) -> FlowDefinition:
        """Fusion -> Salesforce Account (created when none is linked) -> vault profile."""
        return FlowDefinition(
            FUSION_USE_CASE,
            [
                Step(
                    "salesforce_account",
                    self._salesforce_from_fusion,
                    self._find_salesforce_from_fusion,
                    system="salesforce",
                    summarize=self._reverse_summary,
                ),
                Step(
                    "paytrace_profile",
                    self._paytrace_from_other,
                    self._find_paytrace_from_other,
                    safe_to_retry=True,
                    system="paytrace",
                    summarize=self._reverse_summary,
                ),
            ],
        )

    def paytrace_definition(self) -> FlowDefinition:
        """PayTrace vault profile -> Salesforce Account/Contact -> Fusion account."""
        return FlowDefinition(
            PAYTRACE_USE_CASE,
            [
                Step(
                    "salesforce_account",
                    self._salesforce_from_other,
                    self._find_salesforce_from_other,
                    safe_to_retry=True,
                    system="salesforce",
                    summarize=self._reverse_summary,
                ),
                Step(
                    "fusion_account",
                    self._fusion_from_other,
                    self._find_fusion_from_other,
                    safe_to_retry=True,
                    system="fusion",
                    summarize=self._reverse_summary,
                ),
            ],
        )

    def definitions(self) -> tuple[FlowDefinition, ...]:
        """The three directions' flow definitions."""
        return (self.definition(), self.fusion_definition(), self.paytrace_definition())

    # -- what a step decides from ---------------------------------------------------------
    def _view(self, ctx: StepContext) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
        """The source's values and the synced base a step decides with.

        A flow's input is what its source held when it was read. When that read followed
        another sync of the Account that had not run yet (``base_flow``), the source may not
        have had that sync's writes: deciding from the snapshot would revert them. So such a
        flow waits for that sync to finish and then reads its source again."""
        incoming, base = _incoming(ctx), _base(ctx)
        after = ctx.input.get("base_flow")
        if not isinstance(after, str) or not after or after == ctx.flow_id:
            return incoming, base
        state = self.xref.flow_state(after)
        if state is not None and state not in (FlowState.SUCCEEDED, FlowState.DEAD):
            raise RetryableError(
                f"the earlier sync {after} of this customer has not finished: decided after it",
                retry_after=5.0,
            )
        fresh = self._source_groups(ctx)
        return (incoming if fresh is None else fresh), base

    def _source_groups(self, ctx: StepContext) -> dict[str, Any] | None:
        """What the flow's source holds now (``None``: no longer there)."""
        source = _source(ctx)
        if source == "salesforce":
            current = self.targets.salesforce_current(_account_id(ctx))
            if current is None:
                return None
            account, contact = current
            customer = customer_from_account(
                account, contact, paytrace_customer_id="-", fusion_account_number=None
            )
            return customer_groups(customer.value, account)
        if source == "fusion":
            fusion = cast(Mapping[str, Any], ctx.input.get("fusion") or {})
            details = self.fusion.customer_account_details(str(fusion.get("customer_account")))
            return None if details is None else groups_from_fusion(details).value
        paytrace = cast(Mapping[str, Any], ctx.input.get("paytrace") or {})
        record = self.paytrace.find_profile_record(str(paytrace.get("customer_id")))
        if record is None:
            return None
        state = self.xref.synced(str(ctx.input.get("salesforce_account_id") or ""))
        return _masked(groups_from_paytrace(record).value, _kept(state))

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
        reasons = ""
        if record is None:
            token = self.paytrace.token_for(customer_id)
            if token is None:
                # Most Accounts never pay by card: not an error. The profile is created by the
                # sync that follows the customer entering a card (PayTrace Protect token).
                return {
                    "customer_id": "",
                    "action": "skipped",
                    "card_type": "",
                    "last4": "",
                    "reasons": f"no vault profile {customer_id} and no payment token yet: "
                    "created once the customer enters a card (PayTrace Protect)",
                }
            self.paytrace.create_profile(
                customer_id,
                token,
                billing_address=address,
                email=customer.email,
                phone=_incoming(ctx).get("phone"),
            )
            action = "created"
        else:
            to_write = self.targets.paytrace_plan(record, "salesforce", *self._view(ctx))
            changed = self.targets.write_paytrace(record, "salesforce", to_write)
            action = f"updated {', '.join(changed)} (Salesforce wins)" if changed else "unchanged"
            reasons = to_write.reason()
        stored = self.paytrace.find_profile_record(customer_id)
        if stored is None:
            raise NeedsHumanError(f"vault profile {customer_id} not visible after {action}")
        return {**self._profile_ids(ctx, stored, action), "reasons": reasons}

    def _find_profile(self, ctx: StepContext) -> LookupResult:
        customer = _customer(ctx)
        customer_id = customer.paytrace_customer_id or ""
        record = self.paytrace.find_profile_record(customer_id)
        if record is None:
            return LookupResult.absent(f"no vault profile {customer_id}")
        to_write = self.targets.paytrace_plan(record, "salesforce", *self._view(ctx))
        if to_write.writes:
            # The write did not (fully) land; repeating the update cannot duplicate anything.
            return LookupResult.absent(f"vault profile {customer_id}: {to_write.reason()}")
        ids = self._profile_ids(ctx, record, "found")
        return LookupResult.found(ids, f"vault profile {customer_id} holds what Salesforce sent")

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
            # An existing account takes Salesforce's name and address where the rule says so.
            to_write = self.targets.fusion_plan(number, "salesforce", *self._view(ctx))
            if to_write is None:
                raise NeedsHumanError(f"Fusion customer account {number} vanished while read")
            self.targets.write_fusion(number, to_write)
            action = (
                f"updated {', '.join(to_write.writes)} (Salesforce wins)"
                if to_write.writes
                else "found"
            )
            ids = self._link_account(ctx, number, account, action)
            return {**ids, "reasons": to_write.reason()}
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
        to_write = self.targets.fusion_plan(number, "salesforce", *self._view(ctx))
        if to_write is not None and to_write.writes:
            # an update that did not land: sending it again is harmless (set-to-value)
            return LookupResult.absent(f"Fusion customer account {number}: {to_write.reason()}")
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
            fields.vault_id: profile["customer_id"] or None,
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

    # -- Fusion / PayTrace -> the other systems --------------------------------------------
    def _linked_account(self, ctx: StepContext) -> str | None:
        linked = ctx.input.get("salesforce_account_id")
        if isinstance(linked, str) and linked:
            return linked
        fusion = cast(Mapping[str, Any], ctx.input.get("fusion") or {})
        entry = self.xref.by_fusion(str(fusion.get("customer_account") or ""))
        return entry.salesforce_account_id if entry else None

    def _apply_salesforce(self, ctx: StepContext, account_id: str) -> dict[str, str]:
        to_write = self.targets.salesforce_plan(account_id, _source(ctx), *self._view(ctx))
        if to_write is None:
            raise NeedsHumanError(f"Account {account_id} (cross-reference) is not in Salesforce")
        self.targets.write_salesforce(account_id, to_write)
        action = f"updated {', '.join(to_write.writes)}" if to_write.writes else "unchanged"
        return {"account_id": account_id, **_plan_ids(action, to_write)}

    def _found_salesforce(self, ctx: StepContext, account_id: str) -> LookupResult:
        to_write = self.targets.salesforce_plan(account_id, _source(ctx), *self._view(ctx))
        if to_write is None or to_write.writes:
            return LookupResult.absent(f"Account {account_id} not written yet")
        ids = {"account_id": account_id, **_plan_ids("found", to_write)}
        return LookupResult.found(ids, f"Account {account_id} holds it")

    def _salesforce_from_other(self, ctx: StepContext) -> Mapping[str, str]:
        account_id = self._linked_account(ctx)
        if account_id is None:
            raise NeedsHumanError("no Salesforce Account in the cross-reference")
        return self._apply_salesforce(ctx, account_id)

    def _find_salesforce_from_other(self, ctx: StepContext) -> LookupResult:
        account_id = self._linked_account(ctx)
        if account_id is None:
            return LookupResult.absent("no Salesforce Account in the cross-reference")
        return self._found_salesforce(ctx, account_id)

    def _fusion_ids(self, ctx: StepContext) -> tuple[str, str]:
        fusion = cast(Mapping[str, Any], ctx.input["fusion"])
        return str(fusion["customer_account"]), str(fusion.get("party_id") or "")

    def _created_account(self, ctx: StepContext, account_id: str, action: str) -> dict[str, str]:
        """Link a Salesforce Account made from a Fusion account; its synced state is what
        Salesforce now holds, so the Account's own change event starts no flow back."""
        number, party = self._fusion_ids(ctx)
        self.xref.link(account_id, fusion_account_number=number, fusion_party_id=party or None)
        current = self.targets.salesforce_current(account_id)
        if current is not None:
            customer = customer_from_account(
                current[0], current[1], paytrace_customer_id="-", fusion_account_number=number
            ).value
            groups = customer_groups(customer, current[0])
            self.xref.record_synced(account_id, groups, flow_id=ctx.flow_id)
        return {"account_id": account_id, "action": action, "reasons": ""}

    def _salesforce_from_fusion(self, ctx: StepContext) -> Mapping[str, str]:
        account_id = self._linked_account(ctx)
        if account_id is not None:
            return self._apply_salesforce(ctx, account_id)
        number, _ = self._fusion_ids(ctx)
        key = self.config.account_fields.fusion_account
        groups = _groups(ctx)
        if key is None or "name" not in groups:
            raise NeedsHumanError(
                f"Fusion customer account {number} has no Salesforce Account and none can be "
                "created (no Account field for the Fusion account number, or no name)"
            )
        fields = {**salesforce_fields_from_groups(groups), key: number}
        # Not idempotent: a lost answer is resolved by the lookup (by the account number).
        [result] = self.salesforce.bridge.create_many("Account", [fields])
        if not result.success or not result.id:
            errors = "; ".join(f"{e.code}: {e.message}" for e in result.errors)
            raise NeedsHumanError(f"Account for Fusion account {number} not created: {errors}")
        return self._created_account(ctx, str(result.id), "created")

    def _find_salesforce_from_fusion(self, ctx: StepContext) -> LookupResult:
        account_id = self._linked_account(ctx)
        if account_id is not None:
            return self._found_salesforce(ctx, account_id)
        number, _ = self._fusion_ids(ctx)
        key = self.config.account_fields.fusion_account
        found = self.salesforce.find_id("Account", key, number) if key else None
        if found is None:
            return LookupResult.absent(f"no Account with {key} = {number}")
        ids = self._created_account(ctx, found, "found")
        return LookupResult.found(ids, f"Account {found} has {key} = {number}")

    def _vault_record(self, ctx: StepContext) -> CustomerRecord | None:
        account_id = ctx.results.get("salesforce_account", {}).get("account_id")
        entry = self.xref.get(account_id) if account_id else None
        if entry is None or entry.paytrace_customer_id is None:
            return None
        return self.paytrace.find_profile_record(entry.paytrace_customer_id)

    def _paytrace_from_other(self, ctx: StepContext) -> Mapping[str, str]:
        record = self._vault_record(ctx)
        if record is None:
            # a profile needs a card, which only the customer enters (PayTrace Protect)
            return {"customer_id": "", "action": "no vault profile", "reasons": ""}
        to_write = self.targets.paytrace_plan(record, _source(ctx), *self._view(ctx))
        changed = self.targets.write_paytrace(record, _source(ctx), to_write)
        action = f"updated {', '.join(changed)}" if changed else "unchanged"
        return {"customer_id": record.customer_id, **_plan_ids(action, to_write)}

    def _find_paytrace_from_other(self, ctx: StepContext) -> LookupResult:
        record = self._vault_record(ctx)
        if record is None:
            return LookupResult.absent("no vault profile")
        to_write = self.targets.paytrace_plan(record, _source(ctx), *self._view(ctx))
        if to_write.writes:
            return LookupResult.absent(f"vault profile {record.customer_id} not written yet")
        ids = {"customer_id": record.customer_id, **_plan_ids("found", to_write)}
        return LookupResult.found(ids, f"vault profile {record.customer_id} holds it")

    def _linked_number(self, ctx: StepContext) -> str | None:
        account_id = self._linked_account(ctx)
        entry = self.xref.get(account_id) if account_id else None
        return entry.fusion_account_number if entry else None

    def _fusion_from_other(self, ctx: StepContext) -> Mapping[str, str]:
        number = self._linked_number(ctx)
        to_write = (
            self.targets.fusion_plan(number, _source(ctx), *self._view(ctx)) if number else None
        )
        if number is None or to_write is None:
            return {"customer_account": number or "", "action": "no Fusion account", "reasons": ""}
        self.targets.write_fusion(number, to_write)
        action = f"updated {', '.join(to_write.writes)}" if to_write.writes else "unchanged"
        return {"customer_account": number, **_plan_ids(action, to_write)}

    def _find_fusion_from_other(self, ctx: StepContext) -> LookupResult:
        number = self._linked_number(ctx)
        if number is None:
            return LookupResult.absent("no Fusion account in the cross-reference")
        to_write = self.targets.fusion_plan(number, _source(ctx), *self._view(ctx))
        if to_write is None or to_write.writes:
            return LookupResult.absent(f"Fusion customer account {number} not written yet")
        ids = {"customer_account": number, **_plan_ids("found", to_write)}
        return LookupResult.found(ids, f"Fusion customer account {number} holds it")

    # -- summaries (paysync plan, request_summary) -----------------------------------------
    def _reverse_summary(self, ctx: StepContext) -> Mapping[str, object]:
        groups = _groups(ctx)
        return {
            "source": _source(ctx),
            "fields": to_jsonable_python(groups),
            "rule": "per field group: decide_group with the conflict rule "
            + json.dumps(self.config.conflict.model_dump(mode="json"), sort_keys=True),
        }

    def _profile_summary(self, ctx: StepContext) -> Mapping[str, object]:
        customer = _customer(ctx)
        profile = {
            "customer_id": customer.paytrace_customer_id or "",
            "billing_address": to_jsonable_python(customer_to_paytrace_address(customer)),
            "email": customer.email,
            **({"phone": _incoming(ctx)["phone"]} if _incoming(ctx).get("phone") else {}),
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
