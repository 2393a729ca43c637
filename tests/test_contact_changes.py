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

    def contact_id_of(self, account_id: str) -> str:
        [row] = self.env.records("SELECT Id FROM Contact WHERE AccountId = {}", account_id)
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
    emulated: EmulatedFactory,
    store: LedgerStore,
    config: CustomerSyncConfig | None = None,
    *,
    objects: tuple[str, ...] = (),
) -> World:
    env = emulated(
        {"Account": _ACCOUNT_FIELDS, "Contact": ("Billing_Contact__c",)}, objects=objects
    )
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


# -- the billing contact by AccountContactRole, deleted Contacts, cleared values ---------------
ROLE = CustomerSyncConfig.model_validate({"billing_contact": {"role": "Billing Contact"}})
PHONE_SOQL = ACCOUNT_SOQL.replace("BillingCountry FROM", "BillingCountry, Phone FROM")


def _build_source(world: World, name: str, config: CustomerSyncConfig) -> Any:
    """One of the registry build's sources (the clock a little ahead: the first poll's
    lookback covers what the test just wrote)."""
    ports = Ports(
        store=world.store,
        paytrace=world.usecase.paytrace,
        fusion=world.usecase.fusion,
        salesforce=world.usecase.salesforce,
        clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=5),
    )
    build = CUSTOMER_SYNC_ENTRY.build(ports, config)
    [source] = [s for s in build.sources if s.name == name]
    return source


def _role(world: World, account_id: str, email: str, role: str, *, primary: bool) -> None:
    [created] = world.env.bridge.create_many(
        "AccountContactRole",
        [
            {
                "AccountId": account_id,
                "ContactId": world.contact_id(email),
                "Role": role,
                "IsPrimary": primary,
            }
        ],
    )
    assert created.success, created.errors


def _delete_contact(world: World, email: str) -> None:
    # DELETE /sobjects/Contact/<id> (the bridge has no delete: paysync never deletes)
    sf: Any = world.env.bridge.simple_salesforce
    sf.Contact.delete(world.contact_id(email))


def _step(world: World, flow_id: str, name: str) -> dict[str, str]:
    step = next(s for s in world.engine.steps(flow_id) if s.name == name)
    return dict(step.external_ids)


def test_billing_contact_by_role_primary_first_then_oldest_and_role_changes_poll(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory(), ROLE, objects=("AccountContactRole",))
    account_id = world.account("a@northwind.example", "b@northwind.example", "c@northwind.example")
    world.sync(account_id)
    assert world.vault_email(account_id) == "a@northwind.example"  # no role: the oldest

    roles = _build_source(world, "salesforce-contact-roles", ROLE)
    # another role, and the billing role on the youngest Contact: the role holder wins
    _role(world, account_id, "b@northwind.example", "Decision Maker", primary=True)
    _role(world, account_id, "c@northwind.example", "Billing Contact", primary=False)
    before = world.flow_ids(account_id)
    roles.poll(world.engine)
    (second,) = world.flow_ids(account_id) - before
    world.run_all()
    assert world.vault_email(account_id) == "c@northwind.example"
    assert world.engine.flow(second).input["billing_contact"] == {
        "id": world.contact_id("c@northwind.example"),
        "rule": "billing contact: the Contact with role 'Billing Contact' (primary first, "
        "then the oldest), else the oldest",
    }

    # a primary billing role on an older Contact: the primary one wins
    _role(world, account_id, "b@northwind.example", "Billing Contact", primary=True)
    roles.poll(world.engine)
    world.run_all()
    assert world.vault_email(account_id) == "b@northwind.example"
    # polled again (the overlap reads the same rows): nothing new
    done = world.flow_ids(account_id)
    roles.poll(world.engine)
    assert world.flow_ids(account_id) == done

    # the primary role removed: the other role holder again (the recycle bin, queryAll)
    removed = _build_source(world, "salesforce-contact-role-deletes", ROLE)
    removed.poll(world.engine)
    assert world.flow_ids(account_id) == done
    [primary] = world.env.records(
        "SELECT Id FROM AccountContactRole WHERE IsPrimary = true AND Role = {}",
        "Billing Contact",
    )
    sf: Any = world.env.bridge.simple_salesforce
    sf.AccountContactRole.delete(primary["Id"])
    removed.poll(world.engine)
    world.run_all()
    assert world.vault_email(account_id) == "c@northwind.example"
    _role(world, account_id, "b@northwind.example", "Billing Contact", primary=True)
    assert world.usecase.billing_contact(account_id) == {
        "Id": world.contact_id("b@northwind.example"),
        "Email": "b@northwind.example",
        "CreatedDate": world.env.records(
            "SELECT CreatedDate FROM Contact WHERE Id = {}", world.contact_id("b@northwind.example")
        )[0]["CreatedDate"],
    }


def test_billing_contact_role_of_a_contact_of_another_account(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory(), ROLE, objects=("AccountContactRole",))
    account_id = world.account("buyer@northwind.example")
    agency = world.account("ap@agency.example")  # contact roles are many-to-many
    _role(world, account_id, "ap@agency.example", "Billing Contact", primary=True)
    world.sync(account_id)
    assert world.vault_email(account_id) == "ap@agency.example"
    assert world.usecase.billing_contact(agency) is not None


def test_role_and_flag_together_are_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match="role: set either flag_field or role, not both"):
        CustomerSyncConfig.model_validate(
            {"billing_contact": {"flag_field": "Billing_Contact__c", "role": "Billing Contact"}}
        )
    with pytest.raises(ValueError, match="role: ' ' is not a Role picklist value"):
        CustomerSyncConfig.model_validate({"billing_contact": {"role": " "}})


def test_deleted_billing_contact_resyncs_the_account_by_event_once(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("first@northwind.example", "second@northwind.example")
    other = world.account("keep@northwind.example", "extra@northwind.example")
    world.sync(account_id)
    world.sync(other)
    _delete_contact(world, "first@northwind.example")
    _delete_contact(world, "extra@northwind.example")  # not the billing contact: no change
    before = world.flow_ids(account_id) | world.flow_ids(other)
    source = world.contact_events()
    try:
        drain(source, world.engine)  # CREATEs (already synced) and the DELETEs
        new = (world.flow_ids(account_id) | world.flow_ids(other)) - before
        assert len(new) == 1
        world.run_all()
        assert world.vault_email(account_id) == "second@northwind.example"
        # redelivered after a restart: the same flow
        drain(world.contact_events(), world.engine)
        assert world.flow_ids(account_id) | world.flow_ids(other) == before | new
    finally:
        source.close()
    (flow_id,) = new
    billing: Any = world.engine.flow(flow_id).input["billing_contact"]
    assert billing["id"] == world.contact_id("second@northwind.example")


def test_deleted_billing_contact_found_by_polling_the_recycle_bin(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("first@northwind.example", "second@northwind.example")
    world.sync(account_id)
    deletes = _build_source(world, "salesforce-contact-deletes", CustomerSyncConfig())
    deletes.poll(world.engine)  # nothing deleted yet
    before = world.flow_ids(account_id)
    assert world.flow_ids(account_id) == before

    _delete_contact(world, "first@northwind.example")
    deletes.poll(world.engine)
    (new,) = world.flow_ids(account_id) - before
    assert world.engine.run_flow(new).state is FlowState.SUCCEEDED
    assert world.vault_email(account_id) == "second@northwind.example"
    deletes.poll(world.engine)  # the same delete read again (overlap): nothing new
    assert world.flow_ids(account_id) == before | {new}

    # the last Contact deleted: no e-mail; PayTrace cannot be told to blank it, and says so
    _delete_contact(world, "second@northwind.example")
    deletes.poll(world.engine)
    (last,) = world.flow_ids(account_id) - before - {new}
    assert world.engine.run_flow(last).state is FlowState.SUCCEEDED
    assert world.vault_email(account_id) == "second@northwind.example"
    reasons = _step(world, last, "paytrace_profile")["reasons"]
    assert "PayTrace keeps email: clearing a profile field is not supported by the API" in reasons


def test_values_cleared_in_salesforce_are_kept_in_paytrace_visibly_without_echo(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("buyer@northwind.example")
    world.env.bridge.update_many("Account", [{"Id": account_id, "Phone": "(206) 555-0100"}])
    [account] = world.env.records(PHONE_SOQL, account_id)
    flow = world.usecase.submit_account(
        world.engine, account, world.usecase.billing_contact(account_id)
    )
    assert world.engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED

    # both emptied in Salesforce
    world.env.bridge.update_many("Account", [{"Id": account_id, "Phone": None}])
    world.usecase.salesforce.update(
        "Contact", world.contact_id("buyer@northwind.example"), {"Email": None}
    )
    [account] = world.env.records(PHONE_SOQL, account_id)
    cleared = world.usecase.submit_account(
        world.engine, account, world.usecase.billing_contact(account_id)
    )
    assert cleared.flow_id != flow.flow_id
    assert world.engine.run_flow(cleared.flow_id).state is FlowState.SUCCEEDED
    ids = _step(world, cleared.flow_id, "paytrace_profile")
    assert ids["action"] == "unchanged"
    for field in ("email", "phone"):
        assert (
            f"PayTrace keeps {field}: clearing a profile field is not supported by the API"
            in ids["reasons"]
        )
    [profile] = world.env.paytrace.customers.export(f"sf-{account_id}")
    assert (profile.email, profile.phone) == ("buyer@northwind.example", "(206) 555-0100")
    # Fusion holds neither: its step has nothing to write
    assert _step(world, cleared.flow_id, "fusion_account")["action"] == "found"
    state = world.usecase.xref.synced(account_id)
    assert state is not None
    assert (state.content["email"], state.content["phone"]) == (None, None)

    # PayTrace's kept values are no change there: the poller starts nothing (no ping-pong)
    poller = PayTraceProfilePoller(world.usecase.paytrace, world.usecase.submit_paytrace_profile)
    poller.poll_report(world.engine)
    assert poller.poll_report(world.engine).submitted == []
    assert world.flow_ids(account_id) == {flow.flow_id, cleared.flow_id}
    # the same Account read again: the same flow
    assert world.usecase.submit_account(world.engine, account, None).flow_id == cleared.flow_id

    # a later edit in PayTrace (the phone) flows, and the e-mail PayTrace kept is not revived
    world.env.paytrace.customers.update(f"sf-{account_id}", phone="(425) 555-0123")
    (edited,) = poller.poll_report(world.engine).submitted
    assert world.engine.run_flow(edited).state is FlowState.SUCCEEDED
    [after] = world.env.records(PHONE_SOQL, account_id)
    assert after["Phone"] == "(425) 555-0123"
    [contact] = world.env.records("SELECT Email FROM Contact WHERE AccountId = {}", account_id)
    assert contact["Email"] is None
    assert poller.poll_report(world.engine).submitted == []
    # and an e-mail set in Salesforce again reaches PayTrace
    world.usecase.salesforce.update(
        "Contact", world.contact_id_of(account_id), {"Email": "ap@northwind.example"}
    )
    [account] = world.env.records(PHONE_SOQL, account_id)
    again = world.usecase.submit_account(
        world.engine, account, world.usecase.billing_contact(account_id)
    )
    assert world.engine.run_flow(again.flow_id).state is FlowState.SUCCEEDED
    assert world.vault_email(account_id) == "ap@northwind.example"
    assert poller.poll_report(world.engine).submitted == []


def test_values_cleared_in_paytrace_clear_salesforce_by_the_conflict_rule(
    emulated: EmulatedFactory, ledger_factory: StoreFactory
) -> None:
    world = _world(emulated, ledger_factory())
    account_id = world.account("buyer@northwind.example")
    world.env.bridge.update_many("Account", [{"Id": account_id, "Phone": "(206) 555-0100"}])
    [account] = world.env.records(PHONE_SOQL, account_id)
    synced = world.usecase.submit_account(
        world.engine, account, world.usecase.billing_contact(account_id)
    )
    assert world.engine.run_flow(synced.flow_id).state is FlowState.SUCCEEDED
    poller = PayTraceProfilePoller(world.usecase.paytrace, world.usecase.submit_paytrace_profile)
    assert poller.poll_report(world.engine).submitted == []

    # a merchant user empties both in the PayTrace portal (the API client never sends empties)
    stored = world.env.paytrace_emulator.state.customers[f"sf-{account_id}"]
    stored.email, stored.phone = "", ""
    (flow_id,) = poller.poll_report(world.engine).submitted
    assert world.engine.run_flow(flow_id).state is FlowState.SUCCEEDED
    [after] = world.env.records(PHONE_SOQL, account_id)
    assert after.get("Phone") is None
    [contact] = world.env.records("SELECT Email FROM Contact WHERE AccountId = {}", account_id)
    assert contact["Email"] is None
    reasons = _step(world, flow_id, "salesforce_account")["reasons"]
    assert "email: changed in paytrace, not in salesforce: paytrace wins" in reasons
    assert "phone: changed in paytrace, not in salesforce: paytrace wins" in reasons
    # Fusion holds neither email nor phone: nothing to write there
    assert _step(world, flow_id, "fusion_account")["action"] == "unchanged"
    # Salesforce's change coming back is paysync's own: the same flow
    assert (
        world.usecase.submit_account(
            world.engine, after, world.usecase.billing_contact(account_id)
        ).flow_id
        == flow_id
    )
