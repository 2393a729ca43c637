"""Use case 5, the ``phone`` field group end to end against the emulators: Salesforce
``Account.Phone`` <-> the PayTrace vault profile's ``phone`` (Fusion holds no phone), once
each way, no echo, and Accounts synced before the group existed not synced again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import Engine, FlowState
from paysync_core.mapping import CustomerConflictRule, decide_group
from paysync_core.usecases import PayTraceProfilePoller
from paysync_core.usecases.customer_sync import PAYTRACE_USE_CASE, CustomerSync
from paysync_core.xref import CustomerXrefTable

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

ACCOUNT_SOQL = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry, Phone FROM Account WHERE Id = {}"
)
RULE = CustomerConflictRule()
#: how the use case was queried before the phone group (no ``Phone`` in the record)
OLD_SOQL = ACCOUNT_SOQL.replace(", Phone", "")


class World:
    def __init__(self, env: Emulated) -> None:
        self.env = env
        self.xref = CustomerXrefTable(env.ledger)
        self.usecase: CustomerSync = env.customer_sync(self.xref)
        self.engine: Engine = env.engine(list(self.usecase.definitions()))

    def new_account(self, **fields: Any) -> str:
        created = self.env.bridge.create_many(
            "Account",
            [
                {
                    "Name": "Northwind Traders",
                    "BillingStreet": "500 Main Street",
                    "BillingCity": "Seattle",
                    "BillingState": "WA",
                    "BillingPostalCode": "98101",
                    "BillingCountry": "US",
                    **fields,
                }
            ],
        )
        account_id = str(created[0].id)
        self.env.bridge.create_many(
            "Contact",
            [{"LastName": "Buyer", "Email": "buyer@northwind.example", "AccountId": account_id}],
        )
        return account_id

    def submit(self, account_id: str, soql: str = ACCOUNT_SOQL) -> str:
        [account] = self.env.records(soql, account_id)
        contacts = self.env.records(
            "SELECT Id, Email FROM Contact WHERE AccountId = {} ORDER BY CreatedDate LIMIT 1",
            account_id,
        )
        return self.usecase.submit_account(self.engine, account, next(iter(contacts), None)).flow_id

    def sync(self, account_id: str, soql: str = ACCOUNT_SOQL) -> str:
        flow_id = self.submit(account_id, soql)
        done = self.engine.run_flow(flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return flow_id

    def phone_in_paytrace(self, account_id: str) -> str | None:
        [record] = self.env.paytrace.customers.export(f"sf-{account_id}")
        return record.phone or None

    def phone_in_salesforce(self, account_id: str) -> str | None:
        [account] = self.env.records(ACCOUNT_SOQL, account_id)
        return account.get("Phone")

    def flow_count(self) -> int:
        with self.engine.store.transaction() as tx:
            return int(str(tx.execute("SELECT count(*) FROM flows")[0][0]))

    def step_ids(self, flow_id: str, name: str) -> dict[str, str]:
        step = next(s for s in self.engine.steps(flow_id) if s.name == name)
        return dict(step.external_ids)


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    return World(emulated.for_customer_sync())


def test_phone_edited_in_salesforce_reaches_paytrace_once_without_echo(world: World) -> None:
    account_id = world.new_account(Phone="(206) 555-0100")
    world.sync(account_id)
    assert world.phone_in_paytrace(account_id) == "(206) 555-0100"  # created with it

    world.env.bridge.update_many("Account", [{"Id": account_id, "Phone": "(206) 555-0199"}])
    flow_id = world.sync(account_id)
    assert world.phone_in_paytrace(account_id) == "(206) 555-0199"
    ids = world.step_ids(flow_id, "paytrace_profile")
    assert ids["action"] == "updated phone (Salesforce wins)"
    assert "phone: changed in salesforce, not in paytrace: salesforce wins" in ids["reasons"]

    # the same content again, and PayTrace's copy read back by the poller: nothing new
    count = world.flow_count()
    assert world.submit(account_id) == flow_id
    poller = PayTraceProfilePoller(world.usecase.paytrace, world.usecase.submit_paytrace_profile)
    assert poller.poll_report(world.engine).submitted == []
    assert world.flow_count() == count


def test_phone_edited_in_paytrace_reaches_salesforce_once_without_echo(world: World) -> None:
    account_id = world.new_account(Phone="(206) 555-0100")
    world.sync(account_id)
    poller = PayTraceProfilePoller(world.usecase.paytrace, world.usecase.submit_paytrace_profile)
    assert poller.poll_report(world.engine).submitted == []

    # a merchant user edits the phone in the PayTrace web portal
    world.env.paytrace.customers.update(f"sf-{account_id}", phone="(425) 555-0123")
    report = poller.poll_report(world.engine)
    (flow_id,) = report.submitted
    done = world.engine.run_flow(flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert done.use_case == PAYTRACE_USE_CASE
    assert world.phone_in_salesforce(account_id) == "(425) 555-0123"
    assert world.step_ids(flow_id, "salesforce_account")["action"] == "updated phone"

    # the Account's change coming back, and another poll, start nothing
    count = world.flow_count()
    assert world.submit(account_id) == flow_id
    assert poller.poll_report(world.engine).changed == 0
    assert world.flow_count() == count


def test_accounts_synced_before_the_phone_group_do_not_sync_again(world: World) -> None:
    bare = world.new_account()  # no phone
    phoned = world.new_account(Name="Contoso", Phone="(206) 555-0142")
    # synced the way it was before: the Account read without Phone, no phone group stored
    first_bare = world.sync(bare, OLD_SOQL)
    first_phoned = world.sync(phoned, OLD_SOQL)
    state = world.xref.synced(bare)
    assert state is not None
    assert "phone" not in state.content
    assert world.phone_in_paytrace(phoned) is None

    # read with Phone now: no phone is no change (same flow); a phone is new content, once
    assert world.submit(bare) == first_bare
    second = world.sync(phoned)
    assert second != first_phoned
    assert world.phone_in_paytrace(phoned) == "(206) 555-0142"
    assert world.submit(phoned) == second
    # a record read without Phone says nothing about it: no change either
    assert world.submit(phoned, OLD_SOQL) == second


def test_phone_changed_on_both_sides_follows_the_conflict_rule() -> None:
    both = {
        "incoming": {"phone": "1"},
        "current": {"phone": "2"},
        "base": {"phone": "0"},
    }
    default = decide_group("phone", source="paytrace", target="salesforce", **both, rule=RULE)
    assert default.value is False
    assert "salesforce wins (conflict rule salesforce > paytrace > fusion)" in default.reason
    paytrace_first = CustomerConflictRule(phone=("paytrace", "salesforce", "fusion"))
    chosen = decide_group(
        "phone", source="paytrace", target="salesforce", **both, rule=paytrace_first
    )
    assert chosen.value is True
    with pytest.raises(ValueError, match="phone"):
        CustomerConflictRule.model_validate({"phone": ["salesforce"]})
