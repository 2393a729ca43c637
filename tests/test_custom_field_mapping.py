"""Custom-field mapping in every use case that charges or records a payment, end to end.

One mechanism (:mod:`paysync_core.mapping._custom`) maps Salesforce fields to PayTrace
reference fields (``description``, ``customer_reference_id``, ``discretionary_data.<NAME>``)
and PayTrace answer / export fields (``discretionary_data.<NAME>`` included) back to
Salesforce: use case 1 (order to cash, its pollers selecting the mapped fields themselves),
2 (web sales), 3 (refunds) and 7 (subscription charges). The three emulators are mocked only
at the wire; the ledger is SQLite.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core.app import ORDER_TO_CASH as ORDER_TO_CASH_ENTRY
from paysync_core.app import EventStreams, Ports
from paysync_core.app._usecases import OPPORTUNITY_TOPIC
from paysync_core.mapping import DunningPolicy, paytrace_record_fields
from paysync_core.sources import LedgerReplayStore
from paysync_core.usecases import (
    EcommerceConfig,
    OrderToCashConfig,
    RecurringBillingConfig,
    RefundsConfig,
)
from paysync_core.usecases.ecommerce_order_to_cash import ECOMMERCE_USE_CASE
from paysync_core.usecases.order_to_cash import USE_CASE as ORDER_TO_CASH_USE_CASE
from paysync_core.usecases.recurring_billing import USE_CASE as RECURRING_USE_CASE
from paytrace_client import CreditCard
from salesforce_bridge._auth import SalesforceSession, StaticSessionGrant
from salesforce_bridge.emulator import DEFAULT_BASE_URL, emulator_session
from salesforce_bridge.events import CometdSubscriber, EventSubscription, subscribe

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory, SubscriptionsFactory, WebRefundsFactory

CARD = "4012000098765439"  # PayTrace's public sandbox Visa; only ever given to the emulator
WEB_FIELDS = {
    "Payment__c": (
        "Card_Type__c",
        "Vault_Customer_ID__c",
        "Status_Reason__c",
        "Refunded_Amount__c",
        "Sales_Rep__c",
        "Campaign_Source__c",
        "Approval_Code__c",
    ),
    "Order": ("Fulfillment_Status__c", "Sales_Rep__c"),
}
WEB_MAP = EcommerceConfig.model_validate(
    {
        "payment_custom_fields": {
            "discretionary_data.SalesRep": "Sales_Rep__c",
            "description": "Campaign_Source__c",
            "approval_code": "Approval_Code__c",
        },
        "order_custom_fields": {"discretionary_data.SalesRep": "Sales_Rep__c"},
    }
)
PAYMENT_COLUMNS = "Id, Payment_ID__c, Transaction_ID__c, Account__c, Status__c, Amount__c"


def _web_sale(env: Emulated, order_number: str, amount: str, rep: str) -> str:
    """A web-store sale whose ``discretionary_data`` carries the sales rep (as a store would)."""
    customer = f"web-{order_number.lower()}"
    env.paytrace.customers.create_protect(customer, env.protect_token())
    sale = env.paytrace.transactions.sale_by_customer(
        Decimal(amount),
        customer,
        invoice_id=order_number,
        description="spring-newsletter",
        discretionary_data={"SalesRep": rep},
    )
    return str(sale.transaction_id)


def test_web_sale_discretionary_data_reaches_the_payment_and_the_order(
    web_refunds: WebRefundsFactory, emulated: EmulatedFactory
) -> None:
    env = emulated(WEB_FIELDS)
    world = web_refunds(env, payment_columns=PAYMENT_COLUMNS, ecommerce_options=WEB_MAP)
    txn = _web_sale(env, "WEB-7001", "64.00", "REP-42")
    (flow_id,) = world.poller.poll(world.engine).submitted
    flow = world.engine.flow(flow_id)
    # the export record's fields travel with the flow: a dry run shows the mapped values
    writes = {
        w.step: w
        for w in world.engine.plan(
            ECOMMERCE_USE_CASE,
            source_system="paytrace",
            source_id=txn,
            version=1,
            input=flow.input,
        )
    }
    planned = writes["salesforce_payment"].payload
    assert planned["fields"]["Sales_Rep__c"] == "REP-42"  # type: ignore[index]
    assert "Sales_Rep__c = PayTrace discretionary_data.SalesRep" in str(planned["custom_mapping"])

    world.engine.run_pending(max_workers=1)
    env.ship(txn)
    world.clock.advance(61)
    assert len(world.engine.run_pending(max_workers=1).succeeded) == 1

    [payment] = env.records(
        "SELECT Sales_Rep__c, Campaign_Source__c, Approval_Code__c, Order__c FROM Payment__c "
        "WHERE Payment_ID__c = {}",
        txn,
    )
    [exported] = env.exported("WEB-7001")
    assert payment["Sales_Rep__c"] == "REP-42"
    assert payment["Campaign_Source__c"] == "spring-newsletter"
    assert payment["Approval_Code__c"] == exported.approval_code != ""
    [order] = env.records("SELECT Sales_Rep__c FROM Order WHERE Id = {}", payment["Order__c"])
    assert order["Sales_Rep__c"] == "REP-42"
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    reason = steps["salesforce_payment"].external_ids["custom_mapping"]
    assert "Payment__c.Sales_Rep__c = PayTrace discretionary_data.SalesRep" in reason
    assert (
        "Order.Sales_Rep__c = PayTrace discretionary_data.SalesRep (order_custom_fields)"
        in (steps["salesforce_order"].external_ids["custom_mapping"])
    )


def test_web_sale_without_the_mapped_value_explains_it(
    web_refunds: WebRefundsFactory, emulated: EmulatedFactory
) -> None:
    env = emulated(WEB_FIELDS)
    world = web_refunds(env, payment_columns=PAYMENT_COLUMNS, ecommerce_options=WEB_MAP)
    txn = env.web_sale("WEB-7002", "10.00")  # no discretionary data
    world.poller.poll(world.engine)
    world.engine.run_pending(max_workers=1)
    [payment] = env.records("SELECT Sales_Rep__c FROM Payment__c WHERE Payment_ID__c = {}", txn)
    assert payment["Sales_Rep__c"] is None
    (flow,) = world.engine.flows_for_entity(ECOMMERCE_USE_CASE, f"paytrace:{txn}")
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert (
        "Payment__c.Sales_Rep__c not set: PayTrace returned no discretionary_data.SalesRep"
        in (steps["salesforce_payment"].external_ids["custom_mapping"])
    )


def test_refund_writes_the_sales_mapped_fields_onto_the_payment(
    web_refunds: WebRefundsFactory, emulated: EmulatedFactory
) -> None:
    env = emulated(WEB_FIELDS)
    refunds = RefundsConfig.model_validate(
        {
            "accounts": {"default_fusion_account": "1008"},
            "vaults": {"default_fusion_account": "1008"},
            "payment_custom_fields": {"discretionary_data.SalesRep": "Sales_Rep__c"},
        }
    )
    world = web_refunds(env, payment_columns=PAYMENT_COLUMNS, refunds=refunds)  # no UC2 map
    txn = _web_sale(env, "WEB-7003", "40.00", "REP-9")
    world.poller.poll(world.engine)
    world.engine.run_pending(max_workers=1)
    env.ship(txn)
    world.clock.advance(61)
    world.engine.run_pending(max_workers=1)
    env.paytrace_emulator.settle()
    before = env.records("SELECT Sales_Rep__c FROM Payment__c WHERE Payment_ID__c = {}", txn)
    assert before[0]["Sales_Rep__c"] is None  # use case 2 maps nothing here

    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ-CF", amount=Decimal("15.00")
    )
    world.run(flow.flow_id)
    [after] = env.records(
        "SELECT Sales_Rep__c, Refunded_Amount__c FROM Payment__c WHERE Payment_ID__c = {}", txn
    )
    assert after["Sales_Rep__c"] == "REP-9"
    assert Decimal(str(after["Refunded_Amount__c"])) == Decimal("15.00")
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert (
        "Payment__c.Sales_Rep__c = PayTrace discretionary_data.SalesRep"
        in (steps["salesforce_payment"].external_ids["custom_mapping"])
    )


def _card_vault(env: Emulated, vault: str) -> None:
    card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
    env.paytrace.customers.create(vault, credit_card=card)


def test_subscription_fields_go_to_the_sale_and_the_answer_comes_back(
    subscriptions: SubscriptionsFactory,
) -> None:
    config = RecurringBillingConfig.model_validate(
        {
            "dunning": DunningPolicy(retry_days=(1, 3, 7)),
            "custom_fields": {
                "Campaign_Source__c": "description",
                "SalesRepID__c": "discretionary_data.SalesRepID",
                "Id": "customer_reference_id",
            },
            "payment_custom_fields": {
                "discretionary_data.SalesRepID": "Sales_Rep__c",
                "approval_code": "Approval_Code__c",
            },
        }
    )
    world = subscriptions(
        (
            "Subscription__c",
            "Vault_Customer_ID__c",
            "Status_Reason__c",
            "Sales_Rep__c",
            "Approval_Code__c",
        ),
        config,
        open_vault=_card_vault,
        default_vault="vault-cf",
        payments_soql="SELECT Payment_ID__c, Sales_Rep__c, Approval_Code__c "
        "FROM Payment__c WHERE Subscription__c = {}",
    )
    sub = world.subscription("29.00")
    world.env.bridge.update_many(
        "Subscription__c",
        [{"Id": sub, "Campaign_Source__c": "Partner promo", "SalesRepID__c": "REP-7"}],
    )
    world.day(0)
    # the scheduler's SOQL selects the mapped fields itself: the flow carries their values
    (flow,) = world.usecase.submit_due(world.engine)
    assert flow.input["reference"] == {
        "description": "Partner promo",
        "discretionary_data.SalesRepID": "REP-7",
        "customer_reference_id": sub,
    }
    writes = {
        w.step: w
        for w in world.engine.plan(
            RECURRING_USE_CASE,
            source_system=flow.source_system,
            source_id=flow.source_id,
            version=1,
            input=flow.input,
        )
    }
    charge = writes["charge"].payload
    assert charge["reference"] == {
        "discretionary_data.SalesRepID": "REP-7",
        "customer_reference_id": sub,
    }
    assert str(charge["description"]).endswith("; Partner promo")
    assert writes["salesforce_payment"].payload["fields"]["Sales_Rep__c"] == (  # type: ignore[index]
        "<charge.discretionary_data.SalesRepID>"
    )
    report = world.engine.run_pending(max_workers=1)
    assert report.succeeded == [flow.flow_id]

    [sale] = world.sales(sub)
    assert (sale.description or "").endswith("; Partner promo")
    assert sale.discretionary_data == {"SalesRepID": "REP-7"}  # as PayTrace exports it
    [payment] = world.payments(sub)
    assert payment["Sales_Rep__c"] == "REP-7"
    assert payment["Approval_Code__c"] == sale.approval_code != ""
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert (
        "discretionary_data.SalesRepID = Subscription__c.SalesRepID__c (custom_fields)"
        in (steps["charge"].external_ids["reference_mapping"])
    )
    assert (
        "Payment__c.Sales_Rep__c = PayTrace discretionary_data.SalesRepID"
        in (steps["salesforce_payment"].external_ids["custom_mapping"])
    )


def test_polled_opportunity_carries_the_mapped_fields_without_editing_the_soql(
    emulated: EmulatedFactory,
) -> None:
    env = emulated.for_order_to_cash(
        "Sales_Rep__c", fields={"Opportunity": ("Campaign_Source__c", "SalesRepID__c")}
    )
    usecase = env.order_to_cash()
    options = OrderToCashConfig.model_validate(
        {
            "xref": {"default_fusion_account": "1008"},
            "custom_fields": {
                "Campaign_Source__c": "description",
                "SalesRepID__c": "discretionary_data.SalesRepID",
            },
            "payment_custom_fields": {"discretionary_data.SalesRepID": "Sales_Rep__c"},
        }
    )
    ports = Ports(
        store=env.ledger,
        paytrace=usecase.paytrace,
        fusion=usecase.fusion,
        salesforce=usecase.salesforce,
        clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=5),
    )
    build = ORDER_TO_CASH_ENTRY.build(ports, options)
    (source,) = build.sources
    assert source.name == "salesforce-opportunities"
    [created] = env.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme mapped",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-01",
                "Amount": 33.0,
                "AccountId": env.account_id(),
                "Campaign_Source__c": "Trade show",
                "SalesRepID__c": "REP-3",
            }
        ],
    )
    engine = env.engine(build.definitions)
    source.poll(engine)
    # the dry run shows the mapped reference values and why
    (flow_id,) = _flow_ids(env)
    flow = engine.flow(flow_id)
    planned = {
        w.step: w.payload
        for w in engine.plan(
            ORDER_TO_CASH_USE_CASE,
            source_system="salesforce",
            source_id=str(created.id),
            version=1,
            input=flow.input,
        )
    }
    assert planned["charge"]["reference"] == {
        "description": "Trade show",
        "discretionary_data.SalesRepID": "REP-3",
    }
    assert "description = Opportunity.Campaign_Source__c (custom_fields)" in str(
        planned["charge"]["reference_mapping"]
    )
    report = engine.run_pending(max_workers=1)
    assert len(report.succeeded) == 1, report
    [sale] = env.exported(f"SF-{created.id}")
    assert sale.description == f"Salesforce Opportunity {created.id}; Trade show"
    assert sale.discretionary_data == {"SalesRepID": "REP-3"}
    [payment] = env.records(
        "SELECT Sales_Rep__c FROM Payment__c WHERE Opportunity__c = {}", created.id
    )
    assert payment["Sales_Rep__c"] == "REP-3"  # mapped back from the discretionary data sent


def _flow_ids(env: Emulated) -> list[str]:
    with env.ledger.transaction() as tx:
        return [f.flow_id for f in tx.list_flows()]


def test_export_record_flattens_discretionary_data() -> None:
    record: dict[str, Any] = {
        "approval_code": " TAS123 ",
        "description": "",
        "discretionary_data": {"SalesRep": "REP-1", "Empty": ""},
    }
    assert paytrace_record_fields(record) == {
        "approval_code": "TAS123",
        "discretionary_data.SalesRep": "REP-1",
    }


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        (
            EcommerceConfig,
            {"order_custom_fields": {"card_number": "Card__c"}},
            "order_custom_fields.card_number: 'card_number' is not a PayTrace answer field",
        ),
        (
            EcommerceConfig,
            {"payment_custom_fields": {"discretionary_data.a b": "Rep__c"}},
            "payment_custom_fields.discretionary_data.a b: 'discretionary_data.a b' needs a "
            "discretionary_data name",
        ),
        (
            RefundsConfig,
            {"payment_custom_fields": {"description": "Bad Field"}},
            "payment_custom_fields.description: 'Bad Field' is not a Salesforce field API name",
        ),
        (
            RecurringBillingConfig,
            {"custom_fields": {"Ref__c": "invoice_id"}},
            "custom_fields.Ref__c: invoice_id is taken",
        ),
        (
            RecurringBillingConfig,
            {"payment_custom_fields": {"csc": "Csc__c"}},
            "payment_custom_fields.csc: 'csc' is not a PayTrace answer field",
        ),
    ],
)
def test_bad_custom_field_options_name_the_key(
    model: type[EcommerceConfig | RefundsConfig | RecurringBillingConfig],
    options: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        model.model_validate(options)


def test_closed_won_event_reads_the_mapped_fields_without_editing_the_soql(
    emulated: EmulatedFactory,
) -> None:
    env = emulated.for_order_to_cash(fields={"Opportunity": ("Campaign_Source__c",)})
    usecase = env.order_to_cash()
    options = OrderToCashConfig.model_validate(
        {
            "xref": {"default_fusion_account": "1008"},
            "custom_fields": {"Campaign_Source__c": "description"},
        }
    )

    def open_stream(topic: str, store: LedgerReplayStore) -> EventSubscription:
        session = SalesforceSession(access_token="00Dtoken", instance_url=DEFAULT_BASE_URL)
        cometd = CometdSubscriber(
            grant=StaticSessionGrant(session), http=emulator_session(env.salesforce_emulator)
        )
        return subscribe(topic, transport="cometd", cometd=cometd, store=store, replay="earliest")

    ports = Ports(
        store=env.ledger,
        paytrace=usecase.paytrace,
        fusion=usecase.fusion,
        salesforce=usecase.salesforce,
        events=EventStreams("cometd", (OPPORTUNITY_TOPIC,), open_stream),
    )
    assert ports.events is not None
    try:
        build = ORDER_TO_CASH_ENTRY.build(ports, options)
        (source,) = build.sources
        assert source.name == f"salesforce-events:{OPPORTUNITY_TOPIC}"
        [created] = env.bridge.create_many(
            "Opportunity",
            [
                {
                    "Name": "Acme evented",
                    "StageName": "Closed Won",
                    "CloseDate": "2026-03-01",
                    "Amount": 21.0,
                    "AccountId": env.account_id(),
                    "Campaign_Source__c": "Webinar",
                }
            ],
        )
        engine = env.engine(build.definitions)
        assert sum(source.poll(engine) for _ in range(3)) == 1
        report = engine.run_pending(max_workers=1)
        assert len(report.succeeded) == 1, report
    finally:
        ports.events.close()
    [sale] = env.exported(f"SF-{created.id}")
    assert sale.description == f"Salesforce Opportunity {created.id}; Webinar"
