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

from oracle_fusion_client.emulator import Fault
from paysync_core import Engine, FlowState, StepState
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases.customer_sync import CustomerSync
from paysync_core.xref import CustomerXrefTable
from paytrace_client.emulator import FaultRule
from paytrace_client.models import CustomerRecord

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

    def account(self, account_id: str) -> dict[str, Any]:
        return self.env.records(ACCOUNT_SOQL, account_id)[0]

    def profiles(self, customer_id: str) -> list[CustomerRecord]:
        return [r for r in self.env.paytrace.customers.export() if r.customer_id == customer_id]

    def fusion_accounts(self, number: str) -> list[dict[str, Any]]:
        """The emulator's customer accounts with this number (its state, not our client)."""
        accounts: list[dict[str, Any]] = self.env.fusion_emulator.state.ref["customerAccounts"]
        return [a for a in accounts if a["AccountNumber"] == number]


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    """Every body to and from Salesforce and Fusion is captured in ``World.sent``."""
    sent: list[str] = []
    env = emulated(
        {
            "Account": (
                "BillingStreet",
                "BillingState",
                "BillingPostalCode",
                "Vault_Customer_ID__c",
                "Fusion_Account_Number__c",
                "Payment_Method__c",
            )
        },
        capture=sent,
    )
    token = env.protect_token()
    xref = CustomerXrefTable(env.ledger)
    usecase = CustomerSync(
        paytrace=PayTracePort(env.paytrace, token_source=lambda _c: token),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        xref=xref,
    )
    return World(env, usecase, xref, env.engine([usecase.definition()]), sent)


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

    # a later edit finds the account (by the number now in the cross-reference)
    world.env.bridge.update_many("Account", [{"Id": account_id, "BillingCity": "Tacoma"}])
    second, state, error = world.sync(account_id)
    assert state is FlowState.SUCCEEDED, error
    assert _step(world, second, "fusion_account").external_ids["action"] == "found"
    assert len(world.fusion_accounts(number)) == 1


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
