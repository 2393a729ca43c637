"""Use case 5 end to end: Salesforce Account/Contact -> PayTrace vault profile -> Fusion
customer account (found over REST, created once over SOAP when missing), keyed by the
cross-reference table, against the three emulators.

Every request body sent to Salesforce and Fusion is captured at the wire (a response hook on
the clients' sessions) to prove that no card number ever leaves PayTrace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from oracle_fusion_client import AccountAddress, CustomerAccountDetails, NewCustomerAccount
from oracle_fusion_client.emulator import Fault
from paysync_core import Engine, FlowRecord, FlowState, StepState
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import PayTraceProfilePoller
from paysync_core.usecases.customer_sync import (
    FUSION_USE_CASE,
    PAYTRACE_USE_CASE,
    USE_CASE,
    CustomerSync,
    CustomerSyncConfig,
)
from paysync_core.xref import CustomerXrefTable
from paytrace_client import Address as PayTraceAddress
from paytrace_client import ProtectToken
from paytrace_client.emulator import FaultRule
from paytrace_client.models import CustomerRecord
from salesforce_bridge.emulator import Fault as SalesforceFault
from salesforce_bridge.emulator import _store as sf_store  # pyright: ignore[reportPrivateUsage]

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator
ACCOUNT_SOQL = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry, LastModifiedDate, Vault_Customer_ID__c, "
    "Fusion_Account_Number__c, Payment_Method__c FROM Account WHERE Id = {}"
)


@dataclass
class World:
    env: Emulated
    usecase: CustomerSync
    xref: CustomerXrefTable
    engine: Engine
    sent: list[str]

    def new_account(self, **fields: Any) -> str:
        created = self.env.bridge.create_many("Account", [fields])
        account_id = str(created[0].id)
        self.env.bridge.create_many(
            "Contact",
            [{"LastName": "Buyer", "Email": "Buyer@Northwind.Example", "AccountId": account_id}],
        )
        return account_id

    def sync(self, account_id: str) -> tuple[str, FlowState, str | None]:
        account = self.account(account_id)
        contacts = self.env.records(
            "SELECT Id, Email FROM Contact WHERE AccountId = {} ORDER BY CreatedDate LIMIT 1",
            account_id,
        )
        contact = next(iter(contacts), None)
        flow = self.usecase.submit_account(self.engine, account, contact)
        done = self.engine.run_flow(flow.flow_id)
        return done.flow_id, done.state, done.last_error

    def flow(self, flow_id: str) -> FlowRecord | None:
        with self.engine.store.transaction() as tx:
            return tx.get_flow(flow_id)

    def flow_count(self) -> int:
        with self.engine.store.transaction() as tx:
            return int(str(tx.execute("SELECT count(*) FROM flows")[0][0]))

    def fusion_details(self, number: str) -> CustomerAccountDetails:
        details = self.usecase.fusion.customer_account_details(number)
        assert details is not None
        return details

    def sync_fusion(self, number: str) -> tuple[str, FlowState, str | None]:
        flow = self.usecase.submit_fusion_account(self.engine, self.fusion_details(number))
        assert flow is not None
        done = self.engine.run_flow(flow.flow_id)
        return done.flow_id, done.state, done.last_error

    def poller(self) -> PayTraceProfilePoller:
        return PayTraceProfilePoller(self.usecase.paytrace, self.usecase.submit_paytrace_profile)

    def contact_email(self, account_id: str) -> str:
        rows = self.env.records("SELECT Email FROM Contact WHERE AccountId = {}", account_id)
        return str(rows[0]["Email"])

    def account(self, account_id: str) -> dict[str, Any]:
        return self.env.records(ACCOUNT_SOQL, account_id)[0]

    def profiles(self, customer_id: str) -> list[CustomerRecord]:
        return [r for r in self.env.paytrace.customers.export() if r.customer_id == customer_id]

    def fusion_location(self, number: str) -> dict[str, Any]:
        """The emulator's bill-to location of the account (Trading Community state)."""
        (account,) = self.fusion_accounts(number)
        tca = self.env.fusion_emulator.state.tca
        party = tca["parties"][str(account["PartyId"])]
        return tca["locations"][str(party["PartySite"][0]["LocationId"])]

    def fusion_accounts(self, number: str) -> list[dict[str, Any]]:
        """The emulator's customer accounts with this number (its state, not our client)."""
        accounts: list[dict[str, Any]] = self.env.fusion_emulator.state.ref["customerAccounts"]
        return [a for a in accounts if a["AccountNumber"] == number]


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    """Every body to and from Salesforce and Fusion is captured in ``World.sent``."""
    sent: list[str] = []
    env = emulated.for_customer_sync(capture=sent)
    xref = CustomerXrefTable(env.ledger)
    usecase = env.customer_sync(xref)
    return World(env, usecase, xref, env.engine(list(usecase.definitions())), sent)


def _northwind(world: World, **extra: Any) -> str:
    return world.new_account(
        Name="Northwind Traders",
        BillingStreet="500  Main street",
        BillingCity="SEATTLE",
        BillingState="Washington",
        BillingPostalCode="981011234",
        BillingCountry="USA",
        **extra,
    )


def test_new_account_flows_to_paytrace_and_fusion_and_fills_xref(world: World) -> None:
    account_id = _northwind(world, AccountNumber="1004")
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error

    vault_id = f"sf-{account_id}"
    profiles = world.profiles(vault_id)
    assert len(profiles) == 1
    address = profiles[0].billing_address
    assert address is not None
    assert (address.name, address.street_address, address.city) == (
        "Northwind Traders",
        "500 Main St.",
        "Seattle",
    )
    assert (address.state, address.zip) == ("WA", "98101-1234")
    assert profiles[0].email == "buyer@northwind.example"

    entry = world.xref.get(account_id)
    assert entry is not None
    assert entry.paytrace_customer_id == vault_id
    assert (entry.fusion_account_number, entry.fusion_party_id) == ("1004", "1004")
    assert world.xref.by_paytrace(vault_id) == entry

    account = world.account(account_id)
    assert account["Vault_Customer_ID__c"] == vault_id
    assert account["Fusion_Account_Number__c"] == "1004"
    assert str(account["Payment_Method__c"]).endswith("ending 5439")
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert steps["paytrace_profile"].external_ids["action"] == "created"

    # no card number anywhere but PayTrace: ledger rows (whole database file, xref included),
    # audit trail, every Salesforce and Fusion request and response
    assert CARD.encode() not in world.env.ledger_path.read_bytes()
    assert CARD not in world.env.audit_text()
    assert world.sent
    assert all(CARD not in body for body in world.sent)
    assert CARD[:6] + "******" not in "".join(world.sent)  # not even a BIN-revealing mask


def test_salesforce_update_flows_to_paytrace_salesforce_wins(world: World) -> None:
    account_id = _northwind(world, AccountNumber="1004")
    first, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error

    world.env.bridge.update_many("Account", [{"Id": account_id, "BillingStreet": "12 Pine Avenue"}])
    second, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    assert second != first  # a new Account version is a new flow

    profiles = world.profiles(f"sf-{account_id}")
    assert len(profiles) == 1
    assert profiles[0].billing_address is not None
    assert profiles[0].billing_address.street_address == "12 Pine Ave."
    action = next(s for s in world.engine.steps(second) if s.name == "paytrace_profile")
    assert action.external_ids["action"] == "updated street_address (Salesforce wins)"
    entry = world.xref.get(account_id)
    assert entry is not None
    assert entry.paytrace_customer_id == f"sf-{account_id}"

    # the same version again is the same flow: nothing runs
    again, _, _ = world.sync(account_id)
    assert again == second


def test_profile_create_timeout_after_commit_resolved_by_lookup(world: World) -> None:
    account_id = _northwind(world, AccountNumber="1008")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*customer/pt_protect_create")
    )
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error

    assert len(world.profiles(f"sf-{account_id}")) == 1  # created exactly once
    step = next(s for s in world.engine.steps(flow_id) if s.name == "paytrace_profile")
    assert step.state is StepState.SUCCEEDED
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "paytrace_profile"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events


def _step(world: World, flow_id: str, name: str) -> Any:
    return next(s for s in world.engine.steps(flow_id) if s.name == name)


def test_missing_fusion_account_is_created_once(world: World) -> None:
    account_id = _northwind(world)  # no AccountNumber, nothing in the cross-reference
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error

    number = f"SF-{account_id}"
    (created,) = world.fusion_accounts(number)
    assert created["OrigSystemReference"] == account_id
    assert created["CustomerName"] == "Northwind Traders"
    assert len(created["sites"]) == 1  # one BILL_TO site
    step = _step(world, flow_id, "fusion_account")
    assert step.external_ids["action"] == "created"
    assert step.external_ids["account_id"] == str(created["CustomerAccountId"])
    assert step.external_ids["site_use_id"] == str(created["sites"][0]["SiteUseId"])
    entry = world.xref.get(account_id)
    assert entry is not None
    assert (entry.fusion_account_number, entry.fusion_party_id) == (
        number,
        str(created["PartyId"]),
    )
    assert world.account(account_id)["Fusion_Account_Number__c"] == number
    # the SOAP envelopes went through the same capture: still no card number
    assert any("createCustomerAccount" in body for body in world.sent)
    assert all(CARD not in body for body in world.sent)

    # a later edit finds the account (by the number now in the cross-reference) and updates
    # its bill-to location (no second account)
    world.env.bridge.update_many("Account", [{"Id": account_id, "BillingCity": "Tacoma"}])
    second, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    step = _step(world, second, "fusion_account")
    assert step.external_ids["action"] == "updated billing_address (Salesforce wins)"
    assert len(world.fusion_accounts(number)) == 1
    assert world.fusion_location(number)["City"] == "Tacoma"


def test_account_number_unknown_to_fusion_is_created_with_that_number(world: World) -> None:
    account_id = _northwind(world, AccountNumber="NW-7001")
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    (created,) = world.fusion_accounts("NW-7001")
    assert created["OrigSystemReference"] == account_id
    assert _step(world, flow_id, "fusion_account").external_ids["action"] == "created"


def test_fusion_account_create_timeout_after_commit_resolved_by_lookup(world: World) -> None:
    account_id = _northwind(world)
    world.env.fusion_emulator.inject(
        Fault("timeout_after_commit", method="POST", path="/crmService/CustomerAccountService")
    )
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error

    assert len(world.fusion_accounts(f"SF-{account_id}")) == 1  # created exactly once
    step = _step(world, flow_id, "fusion_account")
    assert step.state is StepState.SUCCEEDED
    assert step.external_ids["action"] == "found"
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "fusion_account"
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events
    entry = world.xref.get(account_id)
    assert entry is not None
    assert entry.fusion_account_number == f"SF-{account_id}"


def test_missing_fusion_account_without_billing_street_needs_a_human(world: World) -> None:
    account_id = world.new_account(Name="Streetless Inc", BillingCity="Seattle")
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.DEAD
    assert "no billing street" in (error or "")
    assert world.fusion_accounts(f"SF-{account_id}") == []
    # what could be done was done: the vault profile exists and is cross-referenced
    assert len(world.profiles(f"sf-{account_id}")) == 1
    steps = {s.name: s.state for s in world.engine.steps(flow_id)}
    assert steps["paytrace_profile"] is StepState.SUCCEEDED


def test_write_back_and_unsynced_edits_start_no_flow_but_a_revert_does(world: World) -> None:
    account_id = _northwind(world, AccountNumber="1004")
    first, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    # paysync's own write-back (and any edit of a field that is not synced) moves
    # LastModifiedDate without changing what is synced: the latest flow is returned.
    world.env.bridge.update_many("Account", [{"Id": account_id, "Description": "VIP"}])
    again, _, _ = world.sync(account_id)
    assert again == first
    # A change, then its revert: both are synced.
    world.env.bridge.update_many("Account", [{"Id": account_id, "BillingStreet": "12 Pine Avenue"}])
    changed, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    world.env.bridge.update_many(
        "Account", [{"Id": account_id, "BillingStreet": "500  Main street"}]
    )
    reverted, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    assert len({first, changed, reverted}) == 3
    (profile,) = world.profiles(f"sf-{account_id}")
    assert profile.billing_address is not None
    assert profile.billing_address.street_address == "500 Main St."


# -- flow identity: the synced content, never LastModifiedDate ---------------------------------
def test_write_back_later_in_time_starts_no_flow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flaky case made deterministic: paysync's Account write-back (and any unsynced edit)
    lands in a later second, LastModifiedDate moves, the synced content does not."""
    account_id = _northwind(world, AccountNumber="1004")
    first, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    before = world.account(account_id)["LastModifiedDate"]

    # the emulator's clock an hour ahead: the write-back again (the same values) and an edit
    # of a field that is not synced both bump LastModifiedDate
    monkeypatch.setattr(sf_store, "_now", lambda: "2099-01-01T01:00:00.000+0000")
    world.env.bridge.update_many(
        "Account", [{"Id": account_id, "Payment_Method__c": "VISA ending 5439"}]
    )
    assert world.account(account_id)["LastModifiedDate"] != before
    count = world.flow_count()
    again, _, _ = world.sync(account_id)
    assert again == first
    assert world.flow_count() == count

    # the flow version never names a modification time
    flow = world.flow(first)
    assert flow is not None
    assert before[:10] not in flow.version
    assert "2099" not in flow.version


def test_the_same_content_read_twice_is_one_flow_whatever_its_timestamp(world: World) -> None:
    """An event and a poll of the same Account (different LastModifiedDate): one flow."""
    account_id = _northwind(world, AccountNumber="1004")
    account = world.account(account_id)
    contact = {"Email": "buyer@northwind.example"}
    first = world.usecase.submit_account(world.engine, account, contact)
    later = {**account, "LastModifiedDate": "2099-01-01T00:00:00.000+0000"}
    second = world.usecase.submit_account(world.engine, later, contact)
    assert second.flow_id == first.flow_id


# -- Salesforce -> Fusion: existing accounts are updated -------------------------------------
def test_salesforce_rename_and_move_update_the_fusion_account_once(world: World) -> None:
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    number = f"SF-{account_id}"
    world.env.bridge.update_many(
        "Account",
        [{"Id": account_id, "Name": "Northwind Foods", "BillingStreet": "12 Pine Avenue"}],
    )
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    step = _step(world, flow_id, "fusion_account")
    assert step.external_ids["action"] == "updated name, billing_address (Salesforce wins)"
    assert (
        "name: changed in salesforce, not in fusion: salesforce wins"
        in (step.external_ids["reasons"])
    )
    details = world.fusion_details(number)
    assert details.party_name == "Northwind Foods"
    assert details.address is not None
    assert details.address.address1 == "12 Pine Ave."
    (account,) = world.fusion_accounts(number)
    assert account["CustomerName"] == "Northwind Foods"  # what Receivables REST shows

    # no echo: Fusion's changed account, read back, is what was synced
    count = world.flow_count()
    echo = world.usecase.submit_fusion_account(world.engine, world.fusion_details(number))
    assert echo is not None
    assert echo.flow_id == flow_id
    assert world.poller().poll_report(world.engine).submitted == []
    assert world.flow_count() == count


def test_fusion_update_timeout_after_commit_resolved_by_lookup(world: World) -> None:
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    location = "/crmService/FoundationPartiesLocationService"
    # the step reads the location (getLocation) before it updates it: that first call passes
    # (a zero latency fault uses it up), the update commits and its answer is lost
    world.env.fusion_emulator.inject(Fault("latency", method="POST", path=location))
    world.env.fusion_emulator.inject(Fault("timeout_after_commit", method="POST", path=location))
    world.env.bridge.update_many("Account", [{"Id": account_id, "BillingCity": "Tacoma"}])
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    step = _step(world, flow_id, "fusion_account")
    assert step.external_ids["action"] == "found"  # the lookup saw the committed update
    assert world.fusion_location(f"SF-{account_id}")["City"] == "Tacoma"
    events = [
        (r["kind"], r["detail"].get("via"))
        for r in world.env.audit()
        if r["detail"].get("step") == "fusion_account" and r["flow_id"] == flow_id
    ]
    assert ("step.unknown", None) in events
    assert ("step.succeeded", "lookup") in events


# -- Fusion -> Salesforce and PayTrace ----------------------------------------------------------
def test_fusion_change_flows_to_salesforce_and_paytrace_once_without_echo(world: World) -> None:
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    number = f"SF-{account_id}"
    # a Receivables user renames and moves the customer in Fusion
    world.usecase.fusion.update_customer_account(
        number,
        party_name="Northwind Traders Ltd",
        address=AccountAddress(
            address1="1 Harbor Way", city="Tacoma", state="WA", postal_code="98402", country="US"
        ),
    )
    flow_id, state, error = world.sync_fusion(number)
    assert state is FlowState.SUCCEEDED, error
    flow = world.flow(flow_id)
    assert flow is not None
    assert flow.use_case == FUSION_USE_CASE

    account = world.account(account_id)
    assert account["Name"] == "Northwind Traders Ltd"
    assert (account["BillingStreet"], account["BillingCity"]) == ("1 Harbor Way", "Tacoma")
    (profile,) = world.profiles(f"sf-{account_id}")
    assert profile.billing_address is not None
    assert profile.billing_address.name == "Northwind Traders Ltd"
    assert profile.billing_address.street_address == "1 Harbor Way"
    assert profile.email == "buyer@northwind.example"  # Fusion holds no email: kept
    assert _step(world, flow_id, "paytrace_profile").external_ids["action"].startswith("updated")
    entry = world.xref.get(account_id)
    assert entry is not None
    assert (entry.paytrace_customer_id, entry.fusion_account_number) == (
        f"sf-{account_id}",
        number,
    )

    # re-run: the same Fusion content is the same flow; paysync's own writes start nothing
    count = world.flow_count()
    again, _, _ = world.sync_fusion(number)
    assert again == flow_id
    echo, state, _ = world.sync(account_id)  # the Account's change event / poll
    assert echo == flow_id
    report = world.poller().poll_report(world.engine)
    assert (report.submitted, report.echoes) == ([], 1)
    assert world.flow_count() == count
    assert CARD.encode() not in world.env.ledger_path.read_bytes()
    assert all(CARD not in body for body in world.sent)


def test_fusion_direction_profile_update_timeout_after_commit_is_harmless(world: World) -> None:
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    number = f"SF-{account_id}"
    world.usecase.fusion.update_customer_account(number, party_name="Northwind Holdings")
    world.env.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*customer/update")
    )
    flow_id, state, error = world.sync_fusion(number)
    assert state is FlowState.SUCCEEDED, error
    (profile,) = world.profiles(f"sf-{account_id}")
    assert profile.billing_address is not None
    assert profile.billing_address.name == "Northwind Holdings"
    assert world.account(account_id)["Name"] == "Northwind Holdings"
    step = _step(world, flow_id, "paytrace_profile")
    assert step.state is StepState.SUCCEEDED
    # the answer was lost after the commit; the repeat (a set-to-value update) found nothing
    # left to change
    assert step.external_ids["action"] == "unchanged"
    kinds = [
        r["kind"]
        for r in world.env.audit()
        if r["detail"].get("step") == "paytrace_profile" and r["flow_id"] == flow_id
    ]
    assert "step.unknown" in kinds


def test_fusion_account_without_salesforce_account_creates_it_once(world: World) -> None:
    number = "FU-2001"
    world.usecase.fusion.create_customer_account(
        NewCustomerAccount(
            party_name="Contoso Pharmaceuticals",
            account_number=number,
            address=AccountAddress(
                address1="77 Lake St.", city="Seattle", state="WA", postal_code="98109"
            ),
        )
    )
    world.env.salesforce_emulator.add_fault(
        SalesforceFault("timeout_after_commit", method="POST", path="composite/sobjects")
    )
    flow_id, state, error = world.sync_fusion(number)
    assert state is FlowState.SUCCEEDED, error

    accounts = world.env.records(
        "SELECT Id, Name, BillingStreet FROM Account WHERE Fusion_Account_Number__c = {}", number
    )
    assert len(accounts) == 1  # created exactly once: the lost answer was found by number
    (account,) = accounts
    assert (account["Name"], account["BillingStreet"]) == ("Contoso Pharmaceuticals", "77 Lake St.")
    entry = world.xref.by_fusion(number)
    assert entry is not None
    assert entry.salesforce_account_id == account["Id"]
    step = _step(world, flow_id, "salesforce_account")
    assert step.external_ids["action"] == "found"
    assert _step(world, flow_id, "paytrace_profile").external_ids["action"] == "no vault profile"

    # the new Account's own change event is paysync's write: no flow to PayTrace/Fusion
    count = world.flow_count()
    echo, _, _ = world.sync(str(account["Id"]))
    assert echo == flow_id
    again, _, _ = world.sync_fusion(number)
    assert again == flow_id
    assert world.flow_count() == count


# -- PayTrace -> Salesforce and Fusion ---------------------------------------------------------
def test_paytrace_profile_change_flows_to_salesforce_and_fusion_without_echo(
    world: World,
) -> None:
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    poller = world.poller()
    first = poller.poll_report(world.engine)
    assert first.submitted == []  # what the Salesforce flow wrote is no PayTrace change
    vault_id = f"sf-{account_id}"

    # a merchant user edits the profile in the PayTrace web portal
    world.env.paytrace.customers.update(
        vault_id,
        billing_address=PayTraceAddress(
            name="Northwind Traders",
            street_address="9 Elm Street",
            city="Seattle",
            state="WA",
            zip="98101",
        ),
        email="ap@northwind.example",
    )
    report = poller.poll_report(world.engine)
    assert (report.changed, len(report.submitted)) == (1, 1)
    (flow_id,) = report.submitted
    done = world.engine.run_flow(flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert done.use_case == PAYTRACE_USE_CASE

    account = world.account(account_id)
    assert (account["BillingStreet"], account["BillingPostalCode"]) == ("9 Elm St.", "98101")
    assert world.contact_email(account_id) == "ap@northwind.example"
    location = world.fusion_location(f"SF-{account_id}")
    assert (location["Address1"], location["PostalCode"]) == ("9 Elm St.", "98101")
    step = _step(world, flow_id, "salesforce_account")
    assert step.external_ids["action"] == "updated billing_address, email"

    # re-polls and the other directions' reads of paysync's writes start nothing
    count = world.flow_count()
    assert poller.poll_report(world.engine).changed == 0
    echo, _, _ = world.sync(account_id)
    assert echo == flow_id
    fusion_echo = world.usecase.submit_fusion_account(
        world.engine, world.fusion_details(f"SF-{account_id}")
    )
    assert fusion_echo is not None
    assert fusion_echo.flow_id == flow_id
    assert world.flow_count() == count
    assert CARD.encode() not in world.env.ledger_path.read_bytes()
    assert CARD not in world.env.audit_text()
    assert all(CARD not in body for body in world.sent)


def test_paytrace_direction_salesforce_timeout_after_commit_is_harmless(world: World) -> None:
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    poller = world.poller()
    poller.poll_report(world.engine)
    world.env.paytrace.customers.update(
        f"sf-{account_id}",
        billing_address=PayTraceAddress(
            name="Northwind Traders", street_address="9 Elm St.", city="Seattle", state="WA"
        ),
    )
    world.env.salesforce_emulator.add_fault(
        SalesforceFault("timeout_after_commit", method="PATCH", path="composite/sobjects")
    )
    (flow_id,) = poller.poll_report(world.engine).submitted
    done = world.engine.run_flow(flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert world.account(account_id)["BillingStreet"] == "9 Elm St."


def test_unlinked_paytrace_profile_is_ignored(world: World) -> None:
    world.poller().poll_report(world.engine)  # the emulator's own sample profiles
    world.env.paytrace.customers.create_protect(
        "walk-in-1",
        world.env.protect_token(),
        billing_address=PayTraceAddress(name="Walk In", street_address="1 Main St."),
    )
    report = world.poller().poll_report(world.engine)
    assert (report.changed, report.ignored, report.submitted) == (1, 1, [])
    assert world.poller().poll_report(world.engine).changed == 0  # remembered


def test_accounts_linked_before_the_synced_state_adopt_it_and_then_sync(world: World) -> None:
    """An upgrade: an Account linked by an older paysync has no synced state. The first read of
    its profile becomes the base (no flow overwriting Salesforce); the next change flows."""
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    with world.engine.store.transaction() as tx:
        tx.execute("DELETE FROM paysync_customer_synced")
    poller = world.poller()
    world.env.paytrace.customers.update(f"sf-{account_id}", email="old@northwind.example")
    report = poller.poll_report(world.engine)
    assert report.submitted == []
    assert world.contact_email(account_id) == "Buyer@Northwind.Example"  # not overwritten
    adopted = world.xref.synced(account_id)
    assert adopted is not None
    assert adopted.content["email"] == "old@northwind.example"

    # the next change in PayTrace: the street (equal in both at adoption) flows; the email,
    # which differed from Salesforce at adoption, counts as changed on both sides: the conflict
    # rule lets Salesforce keep its own
    world.env.paytrace.customers.update(
        f"sf-{account_id}",
        billing_address=PayTraceAddress(
            name="Northwind Traders", street_address="9 Elm St.", city="Seattle", state="WA"
        ),
        email="new@northwind.example",
    )
    (flow_id,) = poller.poll_report(world.engine).submitted
    done = world.engine.run_flow(flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert world.account(account_id)["BillingStreet"] == "9 Elm St."
    assert world.contact_email(account_id) == "Buyer@Northwind.Example"
    reasons = _step(world, flow_id, "salesforce_account").external_ids["reasons"]
    assert "email: changed in both paytrace and salesforce" in reasons


# -- the conflict rule ------------------------------------------------------------------------
def _both_changed(world: World) -> tuple[str, str]:
    """Synced, then the bill-to address changed in Fusion and in Salesforce before either
    direction ran."""
    account_id = _northwind(world)
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    number = f"SF-{account_id}"
    world.usecase.fusion.update_customer_account(
        number,
        address=AccountAddress(
            address1="1 Harbor Way", city="Tacoma", state="WA", postal_code="98402"
        ),
    )
    world.env.bridge.update_many("Account", [{"Id": account_id, "BillingStreet": "12 Pine Ave."}])
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    return account_id, flow_id


def test_conflict_default_salesforce_wins_the_address(world: World) -> None:
    account_id, flow_id = _both_changed(world)
    step = _step(world, flow_id, "fusion_account")
    assert step.external_ids["action"] == "updated billing_address (Salesforce wins)"
    assert (
        "billing_address: changed in both salesforce and fusion since the last sync: "
        "salesforce wins (conflict rule salesforce > fusion > paytrace)"
    ) in step.external_ids["reasons"]
    assert world.fusion_location(f"SF-{account_id}")["Address1"] == "12 Pine Ave."


def test_conflict_rule_fusion_first_keeps_fusion_and_flows_it_back(
    emulated: EmulatedFactory,
) -> None:
    sent: list[str] = []
    env = emulated.for_customer_sync(capture=sent)
    xref = CustomerXrefTable(env.ledger)
    config = CustomerSyncConfig.model_validate(
        {"conflict": {"billing_address": ["fusion", "salesforce", "paytrace"]}}
    )
    usecase = env.customer_sync(xref, config)
    world = World(env, usecase, xref, env.engine(list(usecase.definitions())), sent)
    account_id, flow_id = _both_changed(world)
    number = f"SF-{account_id}"
    step = _step(world, flow_id, "fusion_account")
    assert step.external_ids["action"] == "found"  # nothing written: Fusion kept its address
    assert (
        "fusion wins (conflict rule fusion > salesforce > paytrace)"
        in (step.external_ids["reasons"])
    )
    assert world.fusion_location(number)["Address1"] == "1 Harbor Way"
    # PayTrace had not changed: Salesforce's address went there
    (profile,) = world.profiles(f"sf-{account_id}")
    assert profile.billing_address is not None
    assert profile.billing_address.street_address == "12 Pine Ave."

    # Fusion's change, read by its poller, flows to Salesforce and PayTrace: all converge
    back, state, error = world.sync_fusion(number)
    assert state is FlowState.SUCCEEDED, error
    assert world.account(account_id)["BillingStreet"] == "1 Harbor Way"
    (profile,) = world.profiles(f"sf-{account_id}")
    assert profile.billing_address is not None
    assert profile.billing_address.street_address == "1 Harbor Way"
    count = world.flow_count()
    assert world.sync(account_id)[0] == back  # no ping-pong
    assert world.flow_count() == count
    flow = world.flow(flow_id)
    assert flow is not None
    assert flow.use_case == USE_CASE


def test_an_account_without_a_card_syncs_to_fusion_and_gets_its_profile_later(
    emulated: EmulatedFactory,
) -> None:
    env = emulated.for_customer_sync()
    tokens: dict[str, ProtectToken] = {}
    xref = CustomerXrefTable(env.ledger)
    usecase = CustomerSync(
        paytrace=PayTracePort(env.paytrace, token_source=tokens.get),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        xref=xref,
    )
    world = World(env, usecase, xref, env.engine(list(usecase.definitions())), [])
    account_id = _northwind(world)
    flow_id, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error  # no card yet is not a dead letter
    steps = {s.name: s for s in world.engine.steps(flow_id)}
    assert steps["paytrace_profile"].external_ids["action"] == "skipped"
    assert "no payment token yet" in steps["paytrace_profile"].external_ids["reasons"]
    account = world.account(account_id)
    assert account["Fusion_Account_Number__c"] == f"SF-{account_id}"
    assert account["Vault_Customer_ID__c"] is None
    assert world.profiles(f"sf-{account_id}") == []

    # the customer enters a card; the Account's next synced change creates the profile once
    tokens[f"sf-{account_id}"] = env.protect_token()
    env.bridge.update_many("Account", [{"Id": account_id, "BillingStreet": "12 Pine Avenue"}])
    _, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    assert len(world.profiles(f"sf-{account_id}")) == 1
    assert world.account(account_id)["Vault_Customer_ID__c"] == f"sf-{account_id}"
