"""The Salesforce event source end to end against the emulators (mocked only at the wire).

Opportunity change events reaching Closed Won submit use case 1, Account changes use case 5,
over CometD (in process) and Pub/Sub (a real port). The replay checkpoint lives in the ledger:
a crash between the submission and the checkpoint, a restart and the redelivery of the same
event still leave exactly one flow; with a handler that forwards the engine's ``checkpoint``
hook, the flow and the checkpoint commit (or roll back) in one ledger transaction.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import (
    ConfigurationError,
    Engine,
    FlowRecord,
    LedgerStore,
    LedgerTransaction,
    PostgresLedger,
    SqliteLedger,
)
from paysync_core._engine import SubmitHook
from paysync_core._status import collect_status
from paysync_core.mapping import CustomerXref
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.sources import (
    ClosedWonOpportunities,
    CustomerAccounts,
    LedgerReplayStore,
    SalesforceEventSource,
)
from paysync_core.usecases import OrderToCash, OrderToCashConfig
from paysync_core.usecases.customer_sync import CustomerSync
from paysync_core.usecases.order_to_cash import USE_CASE as ORDER_TO_CASH
from paysync_core.xref import CustomerXrefTable
from paytrace_client import PayTraceClient, ProtectToken
from paytrace_client.emulator import PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ORG_ID,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)
from salesforce_bridge.emulator._pubsub import PubSubServer
from salesforce_bridge.events import (
    CometdSubscriber,
    EventSubscription,
    InMemoryReplayStore,
    SalesforceEvent,
    Transport,
    subscribe,
)
from salesforce_bridge.pubsub import PubSubClient, PubSubCredentials

OPPORTUNITIES = "/data/OpportunityChangeEvent"
ACCOUNTS = "/data/AccountChangeEvent"
ACCOUNT_SOQL = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry, LastModifiedDate, Vault_Customer_ID__c, "
    "Fusion_Account_Number__c, Payment_Method__c FROM Account WHERE Id = {}"
)
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator


@dataclass
class World:
    emulator: SalesforceEmulator
    bridge: SalesforceBridge
    salesforce: SalesforcePort
    order_to_cash: OrderToCash
    customer_sync: CustomerSync
    engine: Engine
    ledger: LedgerStore
    pubsub: PubSubClient

    def subscription(self, topic: str, transport: Transport = "cometd") -> EventSubscription:
        store = LedgerReplayStore(self.ledger)
        if transport == "pubsub":
            return subscribe(topic, pubsub=self.pubsub, store=store, replay="earliest")
        session = SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)
        cometd = CometdSubscriber(
            grant=StaticSessionGrant(session), http=emulator_session(self.emulator)
        )
        return subscribe(topic, transport="cometd", cometd=cometd, store=store, replay="earliest")

    def opportunity(self, stage: str) -> str:
        account = next(iter(self.bridge.query("SELECT Id FROM Account LIMIT 1")))
        created = self.bridge.create_many(
            "Opportunity",
            [
                {
                    "Name": "Acme expansion",
                    "StageName": stage,
                    "CloseDate": "2026-03-01",
                    "Amount": 149.99,
                    "AccountId": account["Id"],
                }
            ],
        )
        return str(created[0].id)

    def flows(self) -> list[FlowRecord]:
        with self.ledger.transaction() as tx:
            return tx.list_flows()


@pytest.fixture
def ledger_kind() -> str:
    return "sqlite"


@pytest.fixture
def ledger(ledger_kind: str, tmp_path: Path) -> Iterator[LedgerStore]:
    if ledger_kind == "sqlite":
        sqlite = SqliteLedger(str(tmp_path / "ledger.db"))
        yield sqlite
        sqlite.close()
        return
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", "")
    if not dsn:
        if os.environ.get("PAYSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PAYSYNC_TEST_POSTGRES_DSN is not set (and PAYSYNC_REQUIRE_POSTGRES=1)")
        pytest.skip("PAYSYNC_TEST_POSTGRES_DSN is not set")
    schema = f"pstest_sfev_{uuid.uuid4().hex[:10]}"
    postgres = PostgresLedger(dsn, schema=schema, max_size=4)
    yield postgres
    postgres.drop_schema()
    postgres.close()


LEDGERS = pytest.mark.parametrize(
    "ledger_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)


@pytest.fixture
def world(ledger: LedgerStore) -> Iterator[World]:
    pt_emulator = PayTraceEmulator()
    hpf, enc = pt_emulator.register_protect_card(CARD, 12, 2030)
    paytrace = PayTracePort(
        PayTraceClient(
            username="demo123",
            password="demo123",
            session=pt_emulator.session(),
            sleep=lambda _: None,
        ),
        token_source=lambda _c: ProtectToken(hpf, enc),
    )
    fusion_url = "https://fusion.emulator"
    fusion = FusionPort(
        FusionClient(
            base_url=fusion_url,
            auth=BasicAuth("casey.brown", "pw"),
            session=FusionEmulator().session(fusion_url),
            sleep=lambda _: None,
        )
    )
    base = SalesforceEmulator(seed=False)
    account = base.org.obj("Account").with_fields(
        FieldDef("BillingStreet", "textarea", length=255),
        FieldDef("BillingState", length=80),
        FieldDef("BillingPostalCode", length=20),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Fusion_Account_Number__c", length=30),
        FieldDef("Payment_Method__c", length=40),
    )
    emulator = SalesforceEmulator(objects=[account])
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(emulator))
    salesforce = SalesforcePort(bridge)
    order_to_cash = OrderToCash(
        paytrace=paytrace,
        fusion=fusion,
        salesforce=salesforce,
        config=OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008")),
    )
    customer_sync = CustomerSync(
        paytrace=paytrace, fusion=fusion, salesforce=salesforce, xref=CustomerXrefTable(ledger)
    )
    engine = Engine(
        ledger,
        [order_to_cash.definition(), customer_sync.definition()],
        classifier=ClientErrorClassifier(),
        sleep=lambda _: None,
    )

    def credentials(_refresh: bool) -> PubSubCredentials:
        return PubSubCredentials("00Dtoken", DEFAULT_BASE_URL, ORG_ID)

    with (
        PubSubServer(emulator, keepalive_interval=0.3) as server,
        PubSubClient(server.target, credentials=credentials, tls=False) as pubsub,
    ):
        yield World(
            emulator, bridge, salesforce, order_to_cash, customer_sync, engine, ledger, pubsub
        )


def drain(source: SalesforceEventSource, engine: Engine, polls: int = 6) -> int:
    return sum(source.poll(engine) for _ in range(polls))


@pytest.mark.parametrize("transport", ["cometd", "pubsub"])
def test_closed_won_opportunity_submits_exactly_one_flow(
    world: World, transport: Transport
) -> None:
    opportunity_id = world.opportunity("Prospecting")
    world.salesforce.update("Opportunity", opportunity_id, {"StageName": "Closed Won"})
    world.salesforce.update("Opportunity", opportunity_id, {"Amount": 150.0})  # no stage change
    sub = world.subscription(OPPORTUNITIES, transport)
    handler = ClosedWonOpportunities(world.order_to_cash, world.salesforce)
    source = SalesforceEventSource(sub, [handler], wait=0.2)
    try:
        assert drain(source, world.engine) == 1
    finally:
        source.close()
    (flow,) = world.flows()
    assert flow.use_case == ORDER_TO_CASH
    assert flow.source_id == opportunity_id
    # The checkpoint passed all three events (skipped ones are acknowledged too).
    latest = world.emulator.bus.latest_replay_id(OPPORTUNITIES)
    assert latest is not None
    assert LedgerReplayStore(world.ledger).load(OPPORTUNITIES) == latest.to_bytes(8, "big")


class FailingCheckpoint(LedgerReplayStore):
    """A ledger store whose next ``save_in`` fails: the process dies right there."""

    armed = True

    def save_in(self, connection: LedgerTransaction, channel: str, replay_id: bytes) -> None:
        if self.armed:
            self.armed = False
            raise RuntimeError("crash before the checkpoint")
        super().save_in(connection, channel, replay_id)


@LEDGERS
def test_failed_checkpoint_rolls_the_flow_back_and_redelivery_makes_one_flow(world: World) -> None:
    opportunity_id = world.opportunity("Closed Won")
    handler = ClosedWonOpportunities(world.order_to_cash, world.salesforce)
    session = SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)

    def cometd() -> CometdSubscriber:
        return CometdSubscriber(
            grant=StaticSessionGrant(session), http=emulator_session(world.emulator)
        )

    crashing = SalesforceEventSource(
        subscribe(
            OPPORTUNITIES,
            transport="cometd",
            cometd=cometd(),
            store=FailingCheckpoint(world.ledger),
            replay="earliest",
        ),
        [handler],
    )
    with pytest.raises(RuntimeError, match="crash before the checkpoint"):
        drain(crashing, world.engine)
    # The checkpoint commits with the flow: the failed write rolled the flow back too.
    assert world.flows() == []
    assert LedgerReplayStore(world.ledger).load(OPPORTUNITIES) is None
    crashing.close()
    # Restart: the event is delivered again and submitted, once.
    restarted = SalesforceEventSource(world.subscription(OPPORTUNITIES), [handler])
    try:
        assert drain(restarted, world.engine) == 1
        assert drain(restarted, world.engine) == 0
    finally:
        restarted.close()
    (flow,) = world.flows()
    assert flow.source_id == opportunity_id
    assert LedgerReplayStore(world.ledger).load(OPPORTUNITIES) is not None


class AtomicHandler:
    """Forwards the source's hook to ``Engine.submit``: flow and checkpoint in one transaction.
    With ``fail``, the submitting transaction dies after both were written."""

    def __init__(self) -> None:
        self.fail = True

    def __call__(
        self, engine: Engine, event: SalesforceEvent, /, *, checkpoint: SubmitHook
    ) -> Sequence[FlowRecord]:
        def hook(tx: LedgerTransaction, flow: FlowRecord) -> None:
            checkpoint(tx, flow)
            if self.fail:
                self.fail = False
                raise RuntimeError("crash inside the submitting transaction")

        record_id = event.payload.get("Name", "x")
        flow = engine.submit(
            ORDER_TO_CASH,
            source_system="test",
            source_id=str(record_id),
            version=1,
            input={"event": event.event_uuid},
            checkpoint=hook,
        )
        return [flow]


@LEDGERS
def test_checkpoint_commits_in_the_flow_transaction(world: World) -> None:
    world.opportunity("Closed Won")
    source = SalesforceEventSource(world.subscription(OPPORTUNITIES), [AtomicHandler()])
    try:
        with pytest.raises(RuntimeError, match="inside the submitting transaction"):
            drain(source, world.engine)
        assert world.flows() == []  # rolled back together ...
        assert LedgerReplayStore(world.ledger).load(OPPORTUNITIES) is None  # ... with this
        assert drain(source, world.engine) == 1  # the source rewound: the event came again
    finally:
        source.close()
    assert len(world.flows()) == 1
    latest = world.emulator.bus.latest_replay_id(OPPORTUNITIES)
    assert latest is not None
    assert LedgerReplayStore(world.ledger).load(OPPORTUNITIES) == latest.to_bytes(8, "big")


def test_account_changes_submit_customer_sync_and_status_reports_the_channel(
    world: World,
) -> None:
    created = world.bridge.create_many(
        "Account", [{"Name": "Northwind Traders", "BillingCity": "Seattle"}]
    )
    account_id = str(created[0].id)
    world.bridge.create_many(
        "Contact",
        [{"LastName": "Buyer", "Email": "buyer@northwind.example", "AccountId": account_id}],
    )
    handler = CustomerAccounts(world.customer_sync, world.salesforce, account_soql=ACCOUNT_SOQL)
    source = SalesforceEventSource(world.subscription(ACCOUNTS), [handler])
    try:
        assert drain(source, world.engine) >= 1
    finally:
        source.close()
    flows = [f for f in world.flows() if f.source_id == account_id]
    assert len(flows) == 1
    status = collect_status(world.ledger, now=datetime.now(timezone.utc))
    (stream,) = [s for s in status.streams if s.name == ACCOUNTS]
    assert stream.kind == "salesforce-events"
    latest = world.emulator.bus.latest_replay_id(ACCOUNTS)
    assert latest is not None
    assert stream.position == latest.to_bytes(8, "big").hex()
    assert stream.updated_at is not None


def test_source_requires_a_ledger_checkpoint_store(world: World) -> None:
    handler = ClosedWonOpportunities(world.order_to_cash, world.salesforce)
    sub = subscribe(OPPORTUNITIES, pubsub=world.pubsub, store=InMemoryReplayStore())
    with pytest.raises(ConfigurationError, match="LedgerReplayStore"):
        SalesforceEventSource(sub, [handler])
    with pytest.raises(ConfigurationError, match="handlers"):
        SalesforceEventSource(world.subscription(OPPORTUNITIES), [])
