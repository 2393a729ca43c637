"""Use case 1 triggered by a created Salesforce Order, end to end against the emulators.

The Order arrives by Change Data Capture (``/data/OrderChangeEvent``) and by the
``Order_Event__e`` platform event, over CometD (in process) and Pub/Sub (a real port); the
three emulators are mocked only at the wire and the ledger is SQLite. One Order makes one
flow, one PayTrace sale, one ``Payment__c`` linked to the Order, its Opportunity and Account,
and one Fusion invoice paid by one receipt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import Engine, FlowRecord, FlowState, SqliteLedger
from paysync_core.app import ORDER_TO_CASH as ORDER_TO_CASH_ENTRY
from paysync_core.app import Ports
from paysync_core.mapping import CustomerXref
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.sources import LedgerReplayStore, OrderCreated, SalesforceEventSource
from paysync_core.usecases import OrderToCash, OrderToCashConfig
from paysync_core.usecases.order_to_cash import USE_CASE as ORDER_TO_CASH
from paytrace_client import PayTraceClient, ProtectToken
from paytrace_client.emulator import PayTraceEmulator
from paytrace_client.models import ExportedTransaction
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
    Transport,
    subscribe,
)
from salesforce_bridge.pubsub import PubSubClient, PubSubCredentials

ORDERS = "/data/OrderChangeEvent"
ORDER_EVENTS = "/event/Order_Event__e"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator
FUSION_URL = "https://fusion.emulator"


@dataclass
class World:
    emulator: SalesforceEmulator
    bridge: SalesforceBridge
    paytrace: PayTraceClient
    fusion: FusionClient
    usecase: OrderToCash
    engine: Engine
    ledger: SqliteLedger
    pubsub: PubSubClient
    paytrace_bodies: list[str]

    def subscription(self, topic: str, transport: Transport) -> EventSubscription:
        store = LedgerReplayStore(self.ledger)
        if transport == "pubsub":
            return subscribe(topic, pubsub=self.pubsub, store=store, replay="earliest")
        session = SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)
        cometd = CometdSubscriber(
            grant=StaticSessionGrant(session), http=emulator_session(self.emulator)
        )
        return subscribe(topic, transport="cometd", cometd=cometd, store=store, replay="earliest")

    def source(self, topic: str, transport: Transport) -> SalesforceEventSource:
        handler = OrderCreated(self.usecase, SalesforcePort(self.bridge))
        return SalesforceEventSource(self.subscription(topic, transport), [handler], wait=0.2)

    def account_id(self) -> str:
        return str(next(iter(self.bridge.query("SELECT Id FROM Account LIMIT 1")))["Id"])

    def order(self, amount: str) -> tuple[str, str]:
        """A new Order (with its Opportunity) -> (Order id, Opportunity id)."""
        account = self.account_id()
        (opportunity,) = self.bridge.create_many(
            "Opportunity",
            [
                {
                    "Name": "Acme order",
                    "StageName": "Prospecting",
                    "CloseDate": "2026-03-01",
                    "AccountId": account,
                }
            ],
        )
        (order,) = self.bridge.create_many(
            "Order",
            [
                {
                    "AccountId": account,
                    "OpportunityId": opportunity.id,
                    "EffectiveDate": "2026-03-02",
                    "Status": "Draft",
                    "TotalAmount": float(amount),
                }
            ],
        )
        return str(order.id), str(opportunity.id)

    def flows(self) -> list[FlowRecord]:
        with self.ledger.transaction() as tx:
            return tx.list_flows()

    def sales(self, invoice_id: str) -> list[ExportedTransaction]:
        exported = self.paytrace.exports.transactions(*_days_around_today())
        return [r for r in exported if r.invoice_id == invoice_id]

    def payments(self, order_id: str) -> list[dict[str, Any]]:
        return [
            r.fields
            for r in self.bridge.query(
                "SELECT Id, Payment_ID__c, Status__c, Amount__c, Order__c, Opportunity__c, "
                "Account__c FROM Payment__c WHERE Order__c = {}",
                order_id,
            )
        ]


def _days_around_today() -> tuple[date, date]:
    today = datetime.now(timezone.utc).date()
    return today - timedelta(days=2), today + timedelta(days=2)


@pytest.fixture
def usecase_config(request: pytest.FixtureRequest) -> OrderToCashConfig:
    """The use case's options; a test passes its own with ``indirect`` parametrization."""
    options: dict[str, Any] = getattr(request, "param", {})
    return OrderToCashConfig.model_validate(
        {"xref": CustomerXref(default_fusion_account="1008"), **options}
    )


@pytest.fixture
def world(tmp_path: Path, usecase_config: OrderToCashConfig) -> Iterator[World]:
    pt_emulator = PayTraceEmulator()
    hpf, enc = pt_emulator.register_protect_card(CARD, 12, 2030)
    pt_session = pt_emulator.session()
    paytrace_bodies: list[str] = []

    def record(response: requests.Response, *_args: object, **_kwargs: object) -> None:
        body = response.request.body
        if body:
            paytrace_bodies.append(body.decode() if isinstance(body, bytes) else str(body))

    pt_session.hooks["response"].append(record)
    paytrace_client = PayTraceClient(
        username="demo123", password="demo123", session=pt_session, sleep=lambda _: None
    )
    paytrace = PayTracePort(paytrace_client, token_source=lambda _c: ProtectToken(hpf, enc))
    fusion_client = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("casey.brown", "pw"),
        session=FusionEmulator().session(FUSION_URL),
        sleep=lambda _: None,
    )
    base = SalesforceEmulator(seed=False)
    # A real org rolls TotalAmount up from the Order's products; the emulator has no
    # OrderItem, so the test writes it directly.
    order = base.org.obj("Order").with_fields(
        FieldDef("OpportunityId", "reference", reference_to=("Opportunity",)),
        FieldDef("TotalAmount", "currency"),
        FieldDef("Campaign_Source__c", length=80),
        FieldDef("SalesRepID__c", length=20),
    )
    payment = base.org.obj("Payment__c").with_fields(
        FieldDef("Opportunity__c", "reference", reference_to=("Opportunity",)),
        FieldDef("Card_Type__c", length=40),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Status_Reason__c", "textarea", length=255),
        FieldDef("Approval_Code__c", length=20),
        FieldDef("AVS_Result__c", length=40),
    )
    emulator = SalesforceEmulator(objects=[order, payment])
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(emulator))
    usecase = OrderToCash(
        paytrace=paytrace,
        fusion=FusionPort(fusion_client),
        salesforce=SalesforcePort(bridge),
        config=usecase_config,
    )
    ledger = SqliteLedger(str(tmp_path / "ledger.db"))
    engine = Engine(
        ledger, [usecase.definition()], classifier=ClientErrorClassifier(), sleep=lambda _: None
    )

    def credentials(_refresh: bool) -> PubSubCredentials:
        return PubSubCredentials("00Dtoken", DEFAULT_BASE_URL, ORG_ID)

    with (
        PubSubServer(emulator, keepalive_interval=0.3) as server,
        PubSubClient(server.target, credentials=credentials, tls=False) as pubsub,
    ):
        yield World(
            emulator,
            bridge,
            paytrace_client,
            fusion_client,
            usecase,
            engine,
            ledger,
            pubsub,
            paytrace_bodies,
        )
    ledger.close()


def drain(source: SalesforceEventSource, engine: Engine, polls: int = 4) -> int:
    try:
        return sum(source.poll(engine) for _ in range(polls))
    finally:
        source.close()


@pytest.mark.parametrize("transport", ["cometd", "pubsub"])
def test_created_order_makes_one_sale_linked_payment_and_fusion_cash(
    world: World, transport: Transport
) -> None:
    order_id, opportunity_id = world.order("212.50")
    SalesforcePort(world.bridge).update(
        "Order", order_id, {"Status": "Activated"}
    )  # not a creation: ignored

    assert drain(world.source(ORDERS, transport), world.engine) == 1
    (flow,) = world.flows()
    assert (flow.use_case, flow.source_id) == (ORDER_TO_CASH, order_id)
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    invoice_id = f"SF-{order_id}"
    (sale,) = world.sales(invoice_id)
    assert sale.amount == Decimal("212.50")
    assert f"Salesforce Order {order_id}" in (sale.description or "")
    (payment,) = world.payments(order_id)
    assert payment["Payment_ID__c"] == str(sale.transaction_id)
    assert payment["Status__c"] == "Captured"
    assert payment["Opportunity__c"] == opportunity_id
    assert payment["Account__c"] == world.account_id()
    invoice = world.fusion.receivables_invoices.find_by_number(invoice_id)
    assert invoice is not None
    assert invoice.InvoiceBalanceAmount == Decimal("0.00")
    receipt = world.fusion.standard_receipts.find_by_number(f"PT-{sale.transaction_id}")
    assert receipt is not None
    assert receipt.Amount == Decimal("212.50")
    assert receipt.UnappliedAmount == Decimal("0.00")
    assert "amount = Order.TotalAmount 212.50" in str(flow.input["mapping"])


@pytest.mark.parametrize("transport", ["cometd", "pubsub"])
def test_same_order_by_cdc_and_platform_event_is_one_flow(
    world: World, transport: Transport
) -> None:
    order_id, _ = world.order("99.00")
    world.bridge.publish_event("Order_Event__e", {"Order_ID__c": order_id, "Status__c": "New"})

    drain(world.source(ORDERS, transport), world.engine)
    drain(world.source(ORDER_EVENTS, transport), world.engine)
    (flow,) = world.flows()
    assert flow.source_id == order_id
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert len(world.sales(f"SF-{order_id}")) == 1
    assert len(world.payments(order_id)) == 1
    # both channels moved past the Order's announcements
    for channel in (ORDERS, ORDER_EVENTS):
        assert LedgerReplayStore(world.ledger).load(channel) is not None


def test_platform_event_alone_submits_the_order(world: World) -> None:
    order_id, _ = world.order("10.00")
    world.bridge.publish_event("Order_Event__e", {"Order_ID__c": order_id})
    assert drain(world.source(ORDER_EVENTS, "cometd"), world.engine) == 1
    (flow,) = world.flows()
    assert flow.source_id == order_id


def test_order_without_a_total_waits_and_a_bad_total_names_the_field(world: World) -> None:
    account = world.account_id()
    order = {"Id": "801000000000001AAA", "AccountId": account, "EffectiveDate": "2026-03-02"}
    for empty in (None, 0):  # created before its products: nothing to charge yet
        assert world.usecase.submit_order(world.engine, {**order, "TotalAmount": empty}) is None
    with pytest.raises(ValueError, match=r"TotalAmount: 'ten' is not an amount"):
        world.usecase.submit_order(world.engine, {**order, "TotalAmount": "ten"})
    with pytest.raises(ValueError, match=r"TotalAmount: -5.00 is not a positive amount"):
        world.usecase.submit_order(world.engine, {**order, "TotalAmount": -5})
    assert world.flows() == []


CUSTOM = {
    "custom_fields": {
        "Campaign_Source__c": "description",
        "SalesRepID__c": "discretionary_data.SalesRepID",
        "OrderNumber": "customer_reference_id",
    },
    "payment_custom_fields": {"approval_code": "Approval_Code__c", "avs_response": "AVS_Result__c"},
}
CUSTOM_SOQL = (
    "SELECT Id, AccountId, OpportunityId, OrderNumber, Status, EffectiveDate, TotalAmount, "
    "Campaign_Source__c, SalesRepID__c FROM Order WHERE Id = {}"
)


@pytest.mark.parametrize("usecase_config", [CUSTOM], indirect=True)
def test_custom_fields_flow_both_ways_with_explanations(world: World) -> None:
    order_id, _ = world.order("45.00")
    SalesforcePort(world.bridge).update(
        "Order", order_id, {"Campaign_Source__c": "Spring webinar", "SalesRepID__c": "REP-42"}
    )
    (record,) = SalesforcePort(world.bridge).records(CUSTOM_SOQL, order_id)
    flow = world.usecase.submit_order(world.engine, record)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    # Salesforce -> PayTrace: the description is stored by PayTrace (and exported); the
    # customer reference and discretionary data are checked on the wire.
    (sale,) = world.sales(f"SF-{order_id}")
    assert sale.description == f"Salesforce Order {order_id}; Spring webinar"
    (charge_body,) = [b for b in world.paytrace_bodies if "invoice_id" in b and "amount" in b]
    sent = json.loads(charge_body)
    assert sent["customer_reference_id"] == record["OrderNumber"]
    assert sent["discretionary_data"] == {"SalesRepID": "REP-42"}
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    reasons = steps["charge"].external_ids["reference_mapping"]
    assert "description = Order.Campaign_Source__c (custom_fields)" in reasons
    assert "discretionary_data.SalesRepID = Order.SalesRepID__c" in reasons

    # PayTrace -> Salesforce: the answer's approval code and AVS result land on Payment__c.
    (payment,) = [
        r.fields
        for r in world.bridge.query(
            "SELECT Approval_Code__c, AVS_Result__c FROM Payment__c WHERE Order__c = {}", order_id
        )
    ]
    answer = json.loads(steps["charge"].external_ids["paytrace_details"])
    assert payment["Approval_Code__c"] == answer["approval_code"] != ""
    assert payment["AVS_Result__c"] == answer["avs_response"]
    custom = steps["salesforce_payment"].external_ids["custom_mapping"]
    assert "Payment__c.Approval_Code__c = PayTrace approval_code (payment_custom_fields)" in custom


@pytest.mark.parametrize("usecase_config", [CUSTOM], indirect=True)
def test_unread_custom_field_is_explained_not_sent(world: World) -> None:
    order_id, _ = world.order("46.00")
    (record,) = SalesforcePort(world.bridge).records(CUSTOM_SOQL, order_id)
    flow = world.usecase.submit_order(world.engine, record)
    assert flow is not None
    assert "description not set: Order.Campaign_Source__c is empty" in str(
        flow.input["reference_mapping"]
    )
    assert world.engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    (sale,) = world.sales(f"SF-{order_id}")
    assert sale.description == f"Salesforce Order {order_id}"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"custom_fields": {"Ref__c": "invoice_id"}}, "custom_fields.Ref__c: invoice_id is taken"),
        (
            {"custom_fields": {"Ref__c": "email"}},
            "custom_fields.Ref__c: 'email' is not a PayTrace reference field",
        ),
        (
            {"custom_fields": {"Bad Name": "description"}},
            "custom_fields.Bad Name: 'Bad Name' is not a Salesforce field API name",
        ),
        (
            {"custom_fields": {"Ref__c": "discretionary_data.a-b"}},
            "custom_fields.Ref__c: 'discretionary_data.a-b' needs a discretionary_data name",
        ),
        (
            {"payment_custom_fields": {"card_number": "Card__c"}},
            "payment_custom_fields.card_number: 'card_number' is not a PayTrace answer field",
        ),
    ],
)
def test_bad_custom_field_config_names_the_field(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        OrderToCashConfig.model_validate(options)


def test_registry_polls_created_orders_when_the_order_trigger_is_on(world: World) -> None:
    ports = Ports(
        store=world.ledger,
        paytrace=world.usecase.paytrace,
        fusion=world.usecase.fusion,
        salesforce=world.usecase.salesforce,
    )
    options = OrderToCashConfig.model_validate(
        {"xref": {"default_fusion_account": "1008"}, "triggers": ["order"]}
    )
    build = ORDER_TO_CASH_ENTRY.build(ports, options)
    (source,) = build.sources
    assert source.name == "salesforce-orders"
    order_id, _ = world.order("30.00")
    source.poll(world.engine)
    source.poll(world.engine)  # re-reading the window submits nothing new
    (flow,) = world.flows()
    assert flow.source_id == order_id
    # a JSON Order input (``paysync plan`` / triggers) reaches the same flow
    assert build.submit_json is not None
    (again,) = build.submit_json(world.engine, _order_row(world, order_id))
    assert again.flow_id == flow.flow_id


def test_default_triggers_keep_the_opportunity_source_only(world: World) -> None:
    ports = Ports(
        store=world.ledger,
        paytrace=world.usecase.paytrace,
        fusion=world.usecase.fusion,
        salesforce=world.usecase.salesforce,
    )
    (source,) = ORDER_TO_CASH_ENTRY.build(ports, OrderToCashConfig()).sources
    assert source.name == "salesforce-opportunities"


def _order_row(world: World, order_id: str) -> dict[str, Any]:
    (row,) = SalesforcePort(world.bridge).records(
        "SELECT Id, AccountId, OpportunityId, OrderNumber, Status, EffectiveDate, TotalAmount "
        "FROM Order WHERE Id = {}",
        order_id,
    )
    return dict(row)
