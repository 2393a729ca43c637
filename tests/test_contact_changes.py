"""Use case 5: a change made only on a Contact re-syncs its Account, end to end.

The Contact's e-mail reaches the PayTrace vault profile when it is edited alone (no Account
change), announced by ``/data/ContactChangeEvent`` (CometD against the Salesforce emulator)
or found by polling Contacts by ``LastModifiedDate`` (the registry's SOQL fallback). The
billing contact is chosen deterministically (the oldest Contact, or the oldest one flagged
``Billing_Contact__c``), and paysync's own e-mail write-back starts no flow. Both ledger
stores (SQLite, PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState, LedgerStore
from paysync_core.app import CUSTOMER_SYNC as CUSTOMER_SYNC_ENTRY
from paysync_core.app import Ports
from paysync_core.ports import ClientErrorClassifier
from paysync_core.sources import BillingContacts, LedgerReplayStore, SalesforceEventSource
from paysync_core.usecases import PayTraceProfilePoller
from paysync_core.usecases.customer_sync import CustomerSync, CustomerSyncConfig
from paysync_core.xref import CustomerXrefTable
from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import DEFAULT_BASE_URL, emulator_session
from salesforce_bridge.events import CometdSubscriber, subscribe

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory, StoreFactory

CONTACTS = "/data/ContactChangeEvent"
ACCOUNT_SOQL = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry FROM Account WHERE Id = {}"
)


@dataclass
class World:
    env: Emulated
    store: LedgerStore
    usecase: CustomerSync
    engine: Engine

    def account(self, *emails: str, flagged: int | None = None) -> str:
        """A new Account with one Contact per e-mail (created in that order); ``flagged``:
        the index of the Contact marked ``Billing_Contact__c``."""
        [created] = self.env.bridge.create_many(
            "Account",
            [
                {
                    "Name": "Northwind Traders",
                    "BillingStreet": "500 Main Street",
                    "BillingCity": "Seattle",
                    "BillingState": "WA",
                    "BillingPostalCode": "98101",
                    "BillingCountry": "USA",
                }
            ],
        )
        account_id = str(created.id)
        for index, email in enumerate(emails):
            row: dict[str, Any] = {"LastName": f"C{index}", "Email": email}
            if flagged is not None:
                row["Billing_Contact__c"] = index == flagged
            self.env.bridge.create_many("Contact", [{**row, "AccountId": account_id}])
        return account_id

    def contact_id(self, email: str) -> str:
        [row] = self.env.records("SELECT Id FROM Contact WHERE Email = {}", email)
        return str(row["Id"])

    def sync(self, account_id: str) -> str:
        """The Account synced as the Account trigger does (its billing contact)."""
        [account] = self.env.records(ACCOUNT_SOQL, account_id)
        flow = self.usecase.submit_account(
            self.engine, account, self.usecase.billing_contact(account_id)
        )
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return flow.flow_id

    def vault_email(self, account_id: str) -> str | None:
        [profile] = [
            r for r in self.env.paytrace.customers.export() if r.customer_id == f"sf-{account_id}"
        ]
        return profile.email

    def flow_ids(self, account_id: str) -> set[str]:
        """The flows of the Account (a first poll also syncs the seed org's Accounts)."""
        with self.store.transaction() as tx:
            return {f.flow_id for f in tx.list_flows() if f.source_id == account_id}

    def contact_events(self) -> SalesforceEventSource:
        session = SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)
        cometd = CometdSubscriber(
            grant=StaticSessionGrant(session), http=emulator_session(self.env.salesforce_emulator)
        )
        subscription = subscribe(
            CONTACTS,
            transport="cometd",
            cometd=cometd,
            store=LedgerReplayStore(self.store),
            replay="earliest",
        )
        handler = BillingContacts(self.usecase, self.usecase.salesforce, account_soql=ACCOUNT_SOQL)
        return SalesforceEventSource(subscription, [handler], wait=0.2)

    def run_all(self) -> None:
        report = self.engine.run_pending(max_workers=1)
        assert not report.dead, report


def _world(
    emulated: EmulatedFactory, store: LedgerStore, config: CustomerSyncConfig | None = None
) -> World:
    env = emulated({"Account": _ACCOUNT_FIELDS, "Contact": ("Billing_Contact__c",)})
    usecase = env.customer_sync(CustomerXrefTable(store), config)
    engine = Engine(
        store,
        list(usecase.definitions()),
        classifier=ClientErrorClassifier(),
        sleep=lambda _: None,
    )
    return World(env, store, usecase, engine)


_ACCOUNT_FIELDS = (
    "BillingStreet",
    "BillingState",
    "BillingPostalCode",
    "Vault_Customer_ID__c",
    "Fusion_Account_Number__c",
    "Payment_Method__c",
)


def drain(source: SalesforceEventSource, engine: Engine, polls: int = 4) -> int:
    return sum(source.poll(engine) for _ in range(polls))


def test_contact_email_edited_alone_reaches_the_vault_by_event_once(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("buyer@northwind.example")
    first = world.sync(account_id)
    assert world.vault_email(account_id) == "buyer@northwind.example"

    world.usecase.salesforce.update(
        "Contact", world.contact_id("buyer@northwind.example"), {"Email": "AP@Northwind.Example"}
    )
    source = world.contact_events()
    try:
        drain(source, world.engine)  # the Contact's CREATE (already synced) and its UPDATE
        new = world.flow_ids(account_id) - {first}
        assert len(new) == 1
        world.run_all()
        assert world.vault_email(account_id) == "ap@northwind.example"
        # the events again (redelivery after a restart): the same flow, nothing new
        before = world.flow_ids(account_id)
        drain(world.contact_events(), world.engine)
        assert world.flow_ids(account_id) == before
    finally:
        source.close()
    (flow_id,) = new
    flow = world.engine.flow(flow_id)
    assert flow.input["billing_contact"] == {
        "id": world.contact_id("ap@northwind.example"),
        "rule": "billing contact: the Account's oldest Contact (CreatedDate, then Id)",
    }


def test_own_contact_write_back_starts_no_flow(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("buyer@northwind.example")
    world.sync(account_id)
    # the e-mail edited in PayTrace flows to the Salesforce Contact (paysync's write)
    world.env.paytrace.customers.update(f"sf-{account_id}", email="billing@northwind.example")
    poller = PayTraceProfilePoller(world.usecase.paytrace, world.usecase.submit_paytrace_profile)
    poller.poll_report(world.engine)
    world.run_all()
    [contact] = world.env.records("SELECT Email FROM Contact WHERE AccountId = {}", account_id)
    assert contact["Email"] == "billing@northwind.example"

    before = world.flow_ids(account_id)
    source = world.contact_events()
    try:
        drain(source, world.engine)  # the write-back's ContactChangeEvent
    finally:
        source.close()
    assert world.flow_ids(account_id) == before
    # and the Contact poller reading the same write-back
    build = CUSTOMER_SYNC_ENTRY.build(
        Ports(
            store=world.store,
            paytrace=world.usecase.paytrace,
            fusion=world.usecase.fusion,
            salesforce=world.usecase.salesforce,
        ),
        CustomerSyncConfig(),
    )
    [contacts] = [s for s in build.sources if s.name == "salesforce-contacts"]
    contacts.poll(world.engine)
    assert world.flow_ids(account_id) == before


def test_contact_poller_resyncs_the_account_of_an_edited_contact(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("buyer@northwind.example")
    world.sync(account_id)
    ports = Ports(
        store=world.store,
        paytrace=world.usecase.paytrace,
        fusion=world.usecase.fusion,
        salesforce=world.usecase.salesforce,
        clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=5),
    )
    build = CUSTOMER_SYNC_ENTRY.build(ports, CustomerSyncConfig())
    [contacts] = [s for s in build.sources if s.name == "salesforce-contacts"]
    before = world.flow_ids(account_id)
    world.usecase.salesforce.update(
        "Contact", world.contact_id("buyer@northwind.example"), {"LastName": "Renamed"}
    )
    contacts.poll(world.engine)  # a Contact edit that changes nothing synced
    assert world.flow_ids(account_id) == before

    world.usecase.salesforce.update(
        "Contact", world.contact_id("buyer@northwind.example"), {"Email": "ap@northwind.example"}
    )
    contacts.poll(world.engine)
    (new,) = world.flow_ids(account_id) - before
    # (the first pass also submitted the seed org's Accounts: only this one is run)
    assert world.engine.run_flow(new).state is FlowState.SUCCEEDED
    assert world.vault_email(account_id) == "ap@northwind.example"


def test_billing_contact_is_the_oldest_or_the_flagged_one(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    store = ledger_factory()
    oldest = _world(emulated, store)
    account_id = oldest.account("first@northwind.example", "second@northwind.example")
    oldest.sync(account_id)
    assert oldest.vault_email(account_id) == "first@northwind.example"

    flagged = _world(
        emulated,
        store,
        CustomerSyncConfig.model_validate(
            {"billing_contact": {"flag_field": "Billing_Contact__c"}}
        ),
    )
    other = flagged.account("first@northwind.example", "billing@northwind.example", flagged=1)
    flagged.sync(other)
    assert flagged.vault_email(other) == "billing@northwind.example"
    # the second Contact's edit is the billing contact's: it flows; the first's does not
    before = flagged.flow_ids(other)
    flagged.usecase.salesforce.update(
        "Contact",
        flagged.contact_id("billing@northwind.example"),
        {"Email": "ap@northwind.example"},
    )
    first = flagged.env.records(
        "SELECT Id FROM Contact WHERE AccountId = {} AND Email = {}",
        other,
        "first@northwind.example",
    )
    flagged.usecase.salesforce.update("Contact", str(first[0]["Id"]), {"Email": "x@n.example"})
    source = flagged.contact_events()
    try:
        drain(source, flagged.engine)
    finally:
        source.close()
    assert len(flagged.flow_ids(other) - before) == 1
    flagged.run_all()
    assert flagged.vault_email(other) == "ap@northwind.example"


def test_bad_billing_contact_flag_names_the_key() -> None:
    with pytest.raises(ValueError, match=r"flag_field: 'Billing Contact' is not a Salesforce"):
        CustomerSyncConfig.model_validate({"billing_contact": {"flag_field": "Billing Contact"}})
