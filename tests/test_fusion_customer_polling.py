"""Use case 5 from Fusion by polling: a customer renamed, moved or created by a person in Fusion
(the Trading Community SOAP services) shows in the CRM ``accounts`` view with a new
``LastUpdateDate``; the shared Fusion change poller hands it to use case 5, which updates the
Salesforce Account and the PayTrace vault profile once. Re-polling starts nothing, and
neither does paysync's own SOAP write to Fusion (the synced state recognises it). Wired
through the registry (``customer_sync``'s ``fusion_resources``) as ``paysync run`` wires it,
against the three emulators in-process, on SQLite and PostgreSQL ledgers; ``paysync run
--once`` over real ports picks the change up from a configuration file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from oracle_fusion_client import (
    AccountAddress,
    BasicAuth,
    Cond,
    CrmAccounts,
    CustomerAccounts,
    FusionClient,
    NewCustomerAccount,
    Query,
)
from oracle_fusion_client.emulator import running_emulator
from paysync_core import Engine, FlowRecord, FlowState, LedgerStore
from paysync_core.app import Ports, demo_salesforce_emulator, get_usecase
from paysync_core.cli import main
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.sources import FusionChangePoller
from paysync_core.usecases.customer_sync import FUSION_USE_CASE, USE_CASE, CustomerSync
from paysync_core.xref import CustomerXrefTable
from paytrace_client.emulator import EmulatorServer
from paytrace_client.models import CustomerRecord
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import serve

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory, StoreFactory

FUSION_URL = "https://fusion.emulator"
HARBOR = AccountAddress(
    address1="1 Harbor Way", city="Tacoma", state="WA", postal_code="98402", country="US"
)


@dataclass
class World:
    env: Emulated
    store: LedgerStore
    usecase: CustomerSync
    engine: Engine
    poller: FusionChangePoller
    clerk: CustomerAccounts
    """A person working in Fusion (``fin.clerk``, not paysync's ``casey.brown``)."""

    def flows(self, use_case: str | None = None) -> list[FlowRecord]:
        with self.store.transaction() as tx:
            return [f for f in tx.list_flows() if use_case is None or f.use_case == use_case]

    def new_account(self) -> str:
        created = self.env.bridge.create_many(
            "Account",
            [
                {
                    "Name": "Northwind Traders",
                    "BillingStreet": "500 Main St.",
                    "BillingCity": "Seattle",
                    "BillingState": "WA",
                    "BillingPostalCode": "98101",
                    "BillingCountry": "US",
                }
            ],
        )
        account_id = str(created[0].id)
        self.env.bridge.create_many(
            "Contact",
            [{"LastName": "Buyer", "Email": "buyer@northwind.example", "AccountId": account_id}],
        )
        return account_id

    def sync_salesforce(self, account_id: str) -> FlowRecord:
        """The Account's change (use case 5's Salesforce trigger), run to the end."""
        account = self.account(account_id)
        contacts = self.env.records(
            "SELECT Id, Email FROM Contact WHERE AccountId = {} ORDER BY CreatedDate LIMIT 1",
            account_id,
        )
        fields = ("Id", "Name", "AccountNumber", "BillingStreet", "BillingCity", "BillingState")
        fields += ("BillingPostalCode", "BillingCountry")
        row = {k: account.get(k) for k in fields}
        flow = self.usecase.submit_account(self.engine, row, next(iter(contacts), None))
        done = self.engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        return done

    def account(self, account_id: str) -> dict[str, Any]:
        [row] = self.env.records(
            "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
            "BillingPostalCode, BillingCountry, Fusion_Account_Number__c FROM Account "
            "WHERE Id = {}",
            account_id,
        )
        return row

    def profile(self, customer_id: str) -> CustomerRecord:
        [record] = [r for r in self.env.paytrace.customers.export() if r.customer_id == customer_id]
        return record

    def crm_account(self, number: str) -> dict[str, Any]:
        """The CRM account (party) of the customer account, as the REST view serves it."""
        details = self.usecase.fusion.customer_account_details(number)
        assert details is not None
        crm = CrmAccounts.from_client(self.env.fusion)
        [found] = crm.list(Query(q=Cond("PartyId", "=", details.party_id)))
        return found.to_dict()


@pytest.fixture
def world(emulated: EmulatedFactory, ledger_factory: StoreFactory) -> World:
    env = emulated.for_customer_sync()
    store = ledger_factory()
    token = env.protect_token()
    ports = Ports(
        store=store,
        paytrace=PayTracePort(env.paytrace, token_source=lambda _c: token),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
    )
    build = get_usecase("customer_sync").build(ports)
    usecase = build.instance
    assert isinstance(usecase, CustomerSync)
    assert [(r.name, r.key, r.api) for r in build.fusion_resources] == [
        ("accounts", "PartyNumber", "crmRestApi")
    ]
    engine = Engine(
        store, build.definitions, classifier=ClientErrorClassifier(), sleep=lambda _s: None
    )
    poller = FusionChangePoller(ports.need_fusion("customer_sync"), build.fusion_resources)
    clerk = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("fin.clerk", "pw"),
        session=env.fusion_emulator.session(FUSION_URL),
        sleep=lambda _: None,
    )
    return World(
        env, store, usecase, engine, poller, CustomerAccounts.from_client(clerk, bundled=True)
    )


def test_customer_renamed_and_moved_in_fusion_flows_once_without_echo(world: World) -> None:
    account_id = world.new_account()
    world.sync_salesforce(account_id)
    number = f"SF-{account_id}"
    assert world.crm_account(number)["LastUpdatedBy"] == "casey.brown"
    # paysync's own SOAP create is read back, and starts nothing
    count = len(world.flows())
    own = world.poller.poll(world.engine)
    assert own.read >= 1
    assert len(world.flows()) == count
    assert world.flows(FUSION_USE_CASE) == []

    # a Receivables user renames and moves the customer in Fusion
    world.clerk.update(number, party_name="Northwind Traders Ltd", address=HARBOR)
    assert world.crm_account(number)["LastUpdatedBy"] == "fin.clerk"
    report = world.poller.poll(world.engine)
    assert len(report.submitted) == 1
    [flow] = world.flows(FUSION_USE_CASE)
    assert flow.source_id == number
    assert world.engine.run_pending().succeeded == [flow.flow_id]
    account = world.account(account_id)
    assert account["Name"] == "Northwind Traders Ltd"
    assert (account["BillingStreet"], account["BillingCity"]) == ("1 Harbor Way", "Tacoma")
    billing = world.profile(f"sf-{account_id}").billing_address
    assert billing is not None
    assert (billing.name, billing.street_address) == ("Northwind Traders Ltd", "1 Harbor Way")

    # re-polling (the overlap window reads the change again) starts nothing
    count = len(world.flows())
    again = world.poller.poll(world.engine)
    assert again.submitted == []
    assert again.already_known >= 1
    assert len(world.flows()) == count


def test_paysyncs_own_fusion_update_starts_no_flow(world: World) -> None:
    account_id = world.new_account()
    world.sync_salesforce(account_id)
    number = f"SF-{account_id}"
    world.poller.poll(world.engine)  # paysync's create, read and passed over
    # renamed in Salesforce: paysync writes the name to Fusion over SOAP
    world.env.bridge.update_many("Account", [{"Id": account_id, "Name": "Northwind Foods"}])
    synced = world.sync_salesforce(account_id)
    crm = world.crm_account(number)
    assert (crm["OrganizationName"], crm["LastUpdatedBy"]) == ("Northwind Foods", "casey.brown")
    count = len(world.flows())

    report = world.poller.poll(world.engine)
    assert report.read >= 1  # the write is seen ...
    # ... and answered with the flow that made it (its synced state holds that content)
    assert report.submitted == [synced.flow_id]
    assert len(world.flows()) == count
    assert world.flows(FUSION_USE_CASE) == []
    assert [f.flow_id for f in world.flows(USE_CASE)][-1] == synced.flow_id


def test_customer_created_in_fusion_creates_the_salesforce_account_once(world: World) -> None:
    number = "FU-3001"
    world.clerk.create(
        NewCustomerAccount(
            party_name="Contoso Pharmaceuticals",
            account_number=number,
            address=AccountAddress(
                address1="77 Lake St.", city="Seattle", state="WA", postal_code="98109"
            ),
        )
    )
    report = world.poller.poll(world.engine)
    assert len(report.submitted) == 1
    [flow] = world.flows(FUSION_USE_CASE)
    assert world.engine.run_pending().succeeded == [flow.flow_id]
    accounts = world.env.records(
        "SELECT Id, Name, BillingStreet FROM Account WHERE Fusion_Account_Number__c = {}", number
    )
    assert [(a["Name"], a["BillingStreet"]) for a in accounts] == [
        ("Contoso Pharmaceuticals", "77 Lake St.")
    ]
    entry = CustomerXrefTable(world.store).by_fusion(number)
    assert entry is not None
    assert entry.salesforce_account_id == accounts[0]["Id"]

    count = len(world.flows())
    assert world.poller.poll(world.engine).submitted == []
    assert len(world.flows()) == count


def test_a_restarted_poller_resumes_from_its_durable_cursor(
    world: World, ledger_factory: StoreFactory
) -> None:
    account_id = world.new_account()
    world.sync_salesforce(account_id)
    number = f"SF-{account_id}"
    world.clerk.update(number, party_name="Northwind Marine")
    world.poller.poll(world.engine)
    [flow] = world.flows(FUSION_USE_CASE)
    cursor = world.poller.cursor(world.store, "accounts")
    assert cursor is not None
    # a new process on the same ledger: the cursor and the seen marks are durable
    store = ledger_factory()
    engine = Engine(
        store,
        world.usecase.definitions(),
        classifier=ClientErrorClassifier(),
        sleep=lambda _s: None,
    )
    restarted = FusionChangePoller(world.usecase.fusion, world.poller.resources)
    assert restarted.cursor(store, "accounts") == cursor
    report = restarted.poll(engine)
    assert report.submitted == []
    assert [f.flow_id for f in world.flows(FUSION_USE_CASE)] == [flow.flow_id]


# -- paysync run --once over real ports --------------------------------------------------------
CREDENTIALS = {
    "PT_USER": "demo123",
    "PT_PASSWORD": "demo123",
    "FU_USER": "casey.brown",
    "FU_PASSWORD": "pw",
    "SF_CLIENT_ID": "cid",
    "SF_CLIENT_SECRET": "cs",
    "SF_USER": "ops@example.com",
    "SF_PASSWORD": "pw",
}


def _passes(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_run_once_picks_up_a_customer_changed_in_fusion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    salesforce = serve(demo_salesforce_emulator(), port=0, tls_dir=tmp_path / "tls")
    assert salesforce.ca_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(salesforce.ca_path))
    try:
        with EmulatorServer() as paytrace_server, running_emulator() as (fusion_url, _fusion):
            config = tmp_path / "paysync.toml"
            config.write_text(
                f"""
[ledger]
url = "{tmp_path / "ledger.db"}"

[paytrace]
base_url = "{paytrace_server.base_url}"
username = "env:PT_USER"
password = "env:PT_PASSWORD"

[fusion]
base_url = "{fusion_url}"
auth = "basic"
username = "env:FU_USER"
password = "env:FU_PASSWORD"

[salesforce]
login_url = "{salesforce.url}"
auth = "password"
client_id = "env:SF_CLIENT_ID"
client_secret = "env:SF_CLIENT_SECRET"
username = "env:SF_USER"
password = "env:SF_PASSWORD"

[salesforce.events]
transport = "poll"

[polling]
fusion_interval_seconds = 120
""",
                encoding="utf-8",
            )
            clerk = FusionClient(base_url=fusion_url, auth=BasicAuth("fin.clerk", "pw"))
            soap = CustomerAccounts.from_client(clerk, bundled=True)
            soap.create(
                NewCustomerAccount(
                    party_name="Fabrikam Inc",
                    account_number="FU-4001",
                    address=AccountAddress(address1="9 Elm St.", city="Boise", state="ID"),
                )
            )
            grant = PasswordGrant(
                client_id="cid",
                client_secret="cs",
                username="ops@example.com",
                password="pw",
                login_url=salesforce.url,
            )
            bridge = SalesforceBridge(grant=grant)
            run = ["run", "--config", str(config), "--once", "--json"]

            assert main([*run, "--use-case", "customer_sync"]) == 0
            [report] = _passes(capsys.readouterr().out)
            polled = cast(dict[str, int], report["polled"])
            assert polled["fusion-changes"] == 1
            soql = "SELECT Id, Name FROM Account WHERE Fusion_Account_Number__c = {}"
            assert [r["Name"] for r in bridge.query(soql, "FU-4001")] == ["Fabrikam Inc"]

            # renamed in Fusion later: the next pass updates the same Account
            soap.update("FU-4001", party_name="Fabrikam Holdings")
            assert main([*run, "--use-case", "customer_sync"]) == 0
            [second] = _passes(capsys.readouterr().out)
            assert cast(dict[str, int], second["polled"])["fusion-changes"] == 1
            assert [r["Name"] for r in bridge.query(soql, "FU-4001")] == ["Fabrikam Holdings"]
            # the Account poll of that pass read Salesforce before the rename reached it: that
            # flow waits for the rename's flow and decides from Salesforce's new value, so
            # it cannot revert Fusion
            renamed = soap.details("FU-4001")
            assert renamed is not None
            assert renamed.party_name == "Fabrikam Holdings"

            # nothing changed since: nothing new
            assert main([*run, "--use-case", "customer_sync"]) == 0
            [third] = _passes(capsys.readouterr().out)
            assert cast(dict[str, int], third["polled"])["fusion-changes"] == 0
            assert [r["Name"] for r in bridge.query(soql, "FU-4001")] == ["Fabrikam Holdings"]
    finally:
        salesforce.stop()
