"""The cross-package tests' shared world: the three emulators in-process (mocked only at the
wire), clients over their sessions, a Salesforce org with the custom fields a test names, and
a SQLite ledger.

Test modules import the classes for annotations only (``if TYPE_CHECKING``): with pytest's
importlib mode this directory is not on ``sys.path``; the ``emulated`` fixture hands out
instances and closes their ledgers.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg import sql

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import (
    AuditTrail,
    CheckpointHook,
    Engine,
    FlowDefinition,
    FlowState,
    LedgerStore,
    PostgresLedger,
    Quota,
    RetryPolicy,
    SqliteLedger,
)
from paysync_core.app._demo_world import case_object, task_object
from paysync_core.mapping import CustomerXref, FusionStatusMap, VaultXref
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import (
    EcommerceConfig,
    EcommerceOrderToCash,
    OrderToCash,
    OrderToCashConfig,
    PayTraceActivityPoller,
    PayTraceVoidPoller,
    RecurringBilling,
    RecurringBillingConfig,
    Refunds,
    RefundsConfig,
)
from paysync_core.usecases.customer_sync import CustomerSync, CustomerSyncConfig
from paysync_core.xref import CustomerXrefTable
from paytrace_client import Check, ExportTransactionType, PayTraceClient, ProtectToken
from paytrace_client.emulator import PayTraceEmulator
from paytrace_client.models import ExportedCheckTransaction, ExportedTransaction
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    ObjectDef,
    SalesforceEmulator,
    emulator_session,
)

FUSION_URL = "https://fusion.emulator"
CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator
ACME = "Acme Corporation"  # a seeded Salesforce Account
#: The ``Payment__c`` fields use case 1 writes (an org adds them as custom fields).
#: The ``Account`` fields use case 5 reads and writes (an org adds the custom ones).
CUSTOMER_SYNC_FIELDS = (
    "BillingStreet",
    "BillingState",
    "BillingPostalCode",
    "Vault_Customer_ID__c",
    "Fusion_Account_Number__c",
    "Payment_Method__c",
)
ORDER_TO_CASH_FIELDS = (
    "Opportunity__c",
    "Card_Type__c",
    "Vault_Customer_ID__c",
    "Status_Reason__c",
)

#: Custom fields paysync writes, by object (an org adds them; the seed org lacks them).
CUSTOM_FIELDS: dict[str, dict[str, FieldDef]] = {
    "Payment__c": {
        f.name: f
        for f in (
            FieldDef("Opportunity__c", "reference", reference_to=("Opportunity",)),
            FieldDef("Subscription__c", "reference", reference_to=("Subscription__c",)),
            FieldDef("Card_Type__c", length=40),
            FieldDef("Vault_Customer_ID__c", length=64),
            FieldDef("Status_Reason__c", length=255),
            FieldDef("Refunded_Amount__c", "currency"),
            FieldDef("Fusion_Status__c", length=40),
            FieldDef("Fusion_Status_Detail__c", length=255),
            FieldDef("Payment_Method__c", length=40),
            # custom-field mapping targets (PayTrace reference fields -> Salesforce)
            FieldDef("Sales_Rep__c", length=20),
            FieldDef("Campaign_Source__c", length=80),
            FieldDef("Approval_Code__c", length=20),
        )
    },
    "Order": {
        f.name: f
        for f in (
            FieldDef("Fulfillment_Status__c", length=40),
            FieldDef("Sales_Rep__c", length=20),
        )
    },
    "Opportunity": {
        f.name: f
        for f in (
            FieldDef("Campaign_Source__c", length=80),
            FieldDef("SalesRepID__c", length=20),
            FieldDef("PayTrace_Transaction_ID__c", length=40),
            FieldDef("Payment_Status__c", length=40),
            FieldDef("Paid_Amount__c", "currency"),
        )
    },
    "Contact": {"Billing_Contact__c": FieldDef("Billing_Contact__c", "boolean")},
    "Account": {
        f.name: f
        for f in (
            FieldDef("BillingStreet", "textarea", length=255),
            FieldDef("BillingState", length=80),
            FieldDef("BillingPostalCode", length=20),
            FieldDef("Vault_Customer_ID__c", length=64),
            FieldDef("Fusion_Account_Number__c", length=30),
            FieldDef("Payment_Method__c", length=40),
        )
    },
}


def _system_fields(base: SalesforceEmulator, of: str, names: set[str]) -> tuple[FieldDef, ...]:
    return tuple(f for f in base.org.obj(of).fields if f.name in names)


def _subscription(base: SalesforceEmulator) -> ObjectDef:
    system = _system_fields(base, "Payment__c", {"Id", "IsDeleted", "CreatedDate"})
    others = _system_fields(
        base, "Payment__c", {"CreatedById", "LastModifiedDate", "SystemModstamp", "Name"}
    )
    return ObjectDef(
        "Subscription__c",
        "a0S",
        "Subscription",
        (
            *system,
            *others,
            FieldDef("Amount__c", "currency", nillable=False),
            FieldDef(
                "Interval__c", "picklist", picklist=("Weekly", "Monthly", "Quarterly", "Yearly")
            ),
            FieldDef("Next_Charge_Date__c", "date"),
            FieldDef("Vault_Customer_ID__c", length=64),
            FieldDef("Status__c", "picklist", picklist=("Active", "Past Due", "Cancelled")),
            FieldDef("Failed_Attempts__c", "double"),
            FieldDef("Account__c", "reference", reference_to=("Account",)),
            # custom-field mapping sources (Salesforce -> PayTrace reference fields)
            FieldDef("Campaign_Source__c", length=80),
            FieldDef("SalesRepID__c", length=20),
        ),
    )


def _product2(system: tuple[FieldDef, ...]) -> ObjectDef:
    return ObjectDef(
        "Product2",
        "01t",
        "Product",
        (
            *system,
            FieldDef("Name", length=255, nillable=False),
            FieldDef("ProductCode", length=255),
            FieldDef("Family", length=40),
            FieldDef("IsActive", "boolean"),
        ),
    )


def _opportunity_line_item(system: tuple[FieldDef, ...]) -> ObjectDef:
    # a real org computes TotalPrice (Quantity x UnitPrice); the test world writes it
    return ObjectDef(
        "OpportunityLineItem",
        "00k",
        "Opportunity Product",
        (
            *system,
            FieldDef("OpportunityId", "reference", reference_to=("Opportunity",)),
            FieldDef("Product2Id", "reference", reference_to=("Product2",)),
            FieldDef("Quantity", "double"),
            FieldDef("UnitPrice", "currency"),
            FieldDef("TotalPrice", "currency"),
        ),
    )


def _account_contact_role(system: tuple[FieldDef, ...]) -> ObjectDef:
    # Salesforce's standard junction of Contacts and Accounts with a Role (use case 5's
    # billing contact by role); the seed org does not have it
    return ObjectDef(
        "AccountContactRole",
        "02Z",
        "Account Contact Role",
        (
            *system,
            FieldDef("AccountId", "reference", nillable=False, reference_to=("Account",)),
            FieldDef("ContactId", "reference", nillable=False, reference_to=("Contact",)),
            FieldDef(
                "Role",
                "picklist",
                picklist=("Billing Contact", "Decision Maker", "Technical Buyer"),
            ),
            FieldDef("IsPrimary", "boolean"),
        ),
    )


def salesforce_org(
    fields: Mapping[str, Sequence[str]] | None = None, objects: Sequence[str] = ()
) -> SalesforceEmulator:
    """The seed org plus the named :data:`CUSTOM_FIELDS` and the named extra objects
    (``Case`` / ``Task`` with paysync's external ids, ``Subscription__c``)."""
    base = SalesforceEmulator(seed=False)
    extended = [
        base.org.obj(name).with_fields(*(CUSTOM_FIELDS[name][f] for f in added))
        for name, added in (fields or {}).items()
    ]
    audit_fields = {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate"}
    system = _system_fields(base, "Account", {*audit_fields, "SystemModstamp"})
    builders: dict[str, Callable[[], ObjectDef]] = {
        "Case": lambda: case_object(system),
        "Task": lambda: task_object(system),
        "Subscription__c": lambda: _subscription(base),
        "Product2": lambda: _product2(system),
        "OpportunityLineItem": lambda: _opportunity_line_item(system),
        "AccountContactRole": lambda: _account_contact_role(system),
    }
    return SalesforceEmulator(objects=[*extended, *(builders[name]() for name in objects)])


class Clock:
    """A test clock shared by the engine and the use cases: parking is fast-forwarded."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _capture(session: requests.Session, sink: list[str]) -> requests.Session:
    """Records every request body and response text sent over ``session``."""

    def hook(response: requests.Response, *_args: object, **_kwargs: object) -> None:
        body = response.request.body
        if body:
            sink.append(body.decode() if isinstance(body, bytes) else str(body))
        sink.append(response.text)

    session.hooks["response"].append(hook)
    return session


@dataclass
class Emulated:
    """The three emulators, clients over their in-process sessions, and a SQLite ledger."""

    paytrace_emulator: PayTraceEmulator
    fusion_emulator: FusionEmulator
    salesforce_emulator: SalesforceEmulator
    paytrace: PayTraceClient
    fusion: FusionClient
    bridge: SalesforceBridge
    ledger: SqliteLedger
    ledger_path: Path

    def protect_token(self, _customer_id: object = None) -> ProtectToken:
        """A fresh Protect token for :data:`CARD` (as the browser would obtain one)."""
        hpf, enc = self.paytrace_emulator.register_protect_card(CARD, 12, 2030)
        return ProtectToken(hpf, enc)

    def engine(
        self,
        definitions: Iterable[FlowDefinition],
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        sleep: Callable[[float], None] = lambda _: None,
        on_step_committed: CheckpointHook | None = None,
        quotas: Mapping[str, Quota] | None = None,
    ) -> Engine:
        """An engine over the ledger that classifies client errors and never sleeps."""
        return Engine(
            self.ledger,
            definitions,
            policy=policy,
            classifier=ClientErrorClassifier(),
            clock=clock,
            sleep=sleep,
            on_step_committed=on_step_committed,
            quotas=quotas,
        )

    def account_id(self, name: str = ACME) -> str:
        return str(
            next(iter(self.bridge.query("SELECT Id FROM Account WHERE Name = {}", name)))["Id"]
        )

    def records(self, soql: str, *args: object) -> list[dict[str, Any]]:
        return [r.fields for r in self.bridge.query(soql, *args)]

    def closed_won(self, name: str, amount: str, account_id: str) -> dict[str, Any]:
        """A new Closed Won Opportunity, read back as use case 1's trigger sees it."""
        created = self.bridge.create_many(
            "Opportunity",
            [
                {
                    "Name": name,
                    "StageName": "Closed Won",
                    "CloseDate": "2026-03-01",
                    "Amount": float(amount),
                    "AccountId": account_id,
                }
            ],
        )
        [opportunity] = self.records(
            "SELECT Id, Name, StageName, CloseDate, Amount, AccountId FROM Opportunity "
            "WHERE Id = {}",
            created[0].id,
        )
        return opportunity

    def closed_won_with_lines(
        self, name: str, amount: str, *lines: tuple[str | None, str]
    ) -> dict[str, Any]:
        """A Closed Won Opportunity of the seeded Account with one line item per (product
        family, total); the org needs the ``Product2`` and ``OpportunityLineItem`` objects."""
        opportunity = self.closed_won(name, amount, self.account_id())
        for index, (family, total) in enumerate(lines):
            [product] = self.bridge.create_many(
                "Product2", [{"Name": f"{name} {index}", "Family": family, "IsActive": True}]
            )
            self.bridge.create_many(
                "OpportunityLineItem",
                [
                    {
                        "OpportunityId": opportunity["Id"],
                        "Product2Id": product.id,
                        "Quantity": 1,
                        "UnitPrice": float(total),
                        "TotalPrice": float(total),
                    }
                ],
            )
        return opportunity

    def web_sale(self, order_number: str, amount: str) -> str:
        """A web store sale from a new vault customer -> its PayTrace transaction id."""
        customer = f"web-{order_number.lower()}"
        self.paytrace.customers.create_protect(customer, self.protect_token())
        sale = self.paytrace.transactions.sale_by_customer(
            Decimal(amount), customer, invoice_id=order_number, description="web store"
        )
        return str(sale.transaction_id)

    def ship(self, transaction_id: str) -> None:
        """The warehouse ships the Order Hub order of ``transaction_id``."""
        session = self.fusion_emulator.session(FUSION_URL)
        answer = session.post(f"{FUSION_URL}/__emulator__/orders/PAYTRACE:{transaction_id}/ship")
        assert answer.status_code == 200, answer.text

    def exported(
        self, invoice_prefix: str, transaction_type: ExportTransactionType | None = None
    ) -> list[ExportedTransaction]:
        """PayTrace's exported transactions around today whose invoice id starts so."""
        today = datetime.now(timezone.utc).date()
        records = self.paytrace.exports.transactions(
            today - timedelta(days=2), today + timedelta(days=2), transaction_type=transaction_type
        )
        return [r for r in records if (r.invoice_id or "").startswith(invoice_prefix)]

    def order_to_cash(self, **options: Any) -> OrderToCash:
        """Use case 1 over these clients: cards charged with a fresh Protect token, every
        customer on Fusion account 1008; ``options`` are further ``OrderToCashConfig`` fields."""
        token = self.protect_token()
        return OrderToCash(
            paytrace=PayTracePort(self.paytrace, token_source=lambda _c: token),
            fusion=FusionPort(self.fusion),
            salesforce=SalesforcePort(self.bridge),
            config=OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008"), **options),
        )

    def customer_sync(
        self, xref: CustomerXrefTable, config: CustomerSyncConfig | None = None
    ) -> CustomerSync:
        """Use case 5 over these clients (a new vault profile gets a fresh Protect token)."""
        token = self.protect_token()
        return CustomerSync(
            paytrace=PayTracePort(self.paytrace, token_source=lambda _c: token),
            fusion=FusionPort(self.fusion),
            salesforce=SalesforcePort(self.bridge),
            xref=xref,
            config=config,
        )

    def ach_ready(self, account_number: str, routing_number: str) -> None:
        """The seeded Account's bank account in the vault (profile ``sf-<Account Id>``; it
        reaches the vault outside paysync) and an ACH receipt method in Fusion (the seed has
        Manual and Credit Card)."""
        self.paytrace.customers.create(
            f"sf-{self.account_id()}",
            check=Check(account_number=account_number, routing_number=routing_number),
        )
        self.fusion_emulator.state.seed(
            {
                "receiptMethods": [
                    {
                        "ReceiptMethod": "ACH",
                        "Electronic": True,
                        "RemittanceBankAccountNumber": "10271-17621-619",
                        "RemittanceBankName": "BofA-204",
                        "RemittanceBankBranch": "BofA-New York",
                    }
                ]
            }
        )

    def seed_rate(self, day: date | str, rate: Decimal) -> None:
        """Fusion's daily ``Corporate`` rate USD -> EUR of ``day`` (``currencyRates``)."""
        reply = self.fusion.http.session.post(
            f"{FUSION_URL}/__emulator__/seed",
            json={
                "currencyRates": [
                    {
                        "FromCurrency": "USD",
                        "ToCurrency": "EUR",
                        "ConversionType": "Corporate",
                        "ConversionDate": str(day),
                        "ConversionRate": str(rate),
                    }
                ]
            },
        )
        assert reply.status_code == 200

    def audit_text(self) -> str:
        buffer = io.StringIO()
        AuditTrail(self.ledger).export_jsonl(buffer)
        return buffer.getvalue()

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_text().splitlines()]


class EmulatedFactory:
    """Starts :class:`Emulated` worlds for one test; the fixture closes their ledgers."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self._ledgers: list[SqliteLedger] = []

    def __call__(
        self,
        fields: Mapping[str, Sequence[str]] | None = None,
        *,
        objects: Sequence[str] = (),
        capture: list[str] | None = None,
    ) -> Emulated:
        """``fields`` / ``objects`` extend the Salesforce seed org (see :func:`salesforce_org`);
        ``capture`` receives every body sent to and from Salesforce and Fusion."""
        pt_emulator = PayTraceEmulator()
        paytrace = PayTraceClient(
            username="demo123",
            password="demo123",
            session=pt_emulator.session(),
            sleep=lambda _: None,
        )
        fu_emulator = FusionEmulator()
        fu_session = fu_emulator.session(FUSION_URL)
        sf_emulator = salesforce_org(fields, objects)
        sf_session = emulator_session(sf_emulator)
        if capture is not None:
            fu_session, sf_session = _capture(fu_session, capture), _capture(sf_session, capture)
        fusion = FusionClient(
            base_url=FUSION_URL,
            auth=BasicAuth("casey.brown", "pw"),
            session=fu_session,
            sleep=lambda _: None,
        )
        grant = PasswordGrant(
            client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
        )
        bridge = SalesforceBridge(grant=grant, session=sf_session)
        # a file of its own: a test may open further ledgers in tmp_path
        ledger_path = self._tmp_path / f"emulated-{len(self._ledgers)}.db"
        ledger = SqliteLedger(str(ledger_path))
        self._ledgers.append(ledger)
        return Emulated(
            pt_emulator, fu_emulator, sf_emulator, paytrace, fusion, bridge, ledger, ledger_path
        )

    def for_order_to_cash(
        self,
        *payment_fields: str,
        fields: Mapping[str, Sequence[str]] | None = None,
        objects: Sequence[str] = (),
    ) -> Emulated:
        """A world whose ``Payment__c`` has :data:`ORDER_TO_CASH_FIELDS` plus
        ``payment_fields``, the other objects' ``fields`` and the extra ``objects``."""
        return self(
            {"Payment__c": (*ORDER_TO_CASH_FIELDS, *payment_fields), **(fields or {})},
            objects=objects,
        )

    def for_customer_sync(self, *, capture: list[str] | None = None) -> Emulated:
        """A world whose ``Account`` has :data:`CUSTOMER_SYNC_FIELDS` (``capture``: as
        :meth:`__call__`)."""
        return self({"Account": CUSTOMER_SYNC_FIELDS}, capture=capture)

    def close(self) -> None:
        for ledger in self._ledgers:
            ledger.close()


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[EmulatedFactory]:
    factory = EmulatedFactory(tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


#: Opens a store on the ``ledger_factory`` ledger (a second call = the process after a restart).
StoreFactory = Callable[[], LedgerStore]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens stores on one fresh ledger: SQLite, or PostgreSQL in a schema of its own that is
    dropped afterwards (a second call = the process after a restart)."""
    kind = str(request.param)
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", "")
    if kind == "postgres" and not dsn:
        if os.environ.get("PAYSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PAYSYNC_TEST_POSTGRES_DSN is not set (and PAYSYNC_REQUIRE_POSTGRES=1)")
        pytest.skip("PAYSYNC_TEST_POSTGRES_DSN is not set")
    schema = f"pstest_{uuid.uuid4().hex[:10]}"
    opened: list[LedgerStore] = []

    def make() -> LedgerStore:
        # a file of its own: a test may name tmp_path / "ledger.db" in a config
        store: LedgerStore = (
            SqliteLedger(tmp_path / "factory-ledger.db")
            if kind == "sqlite"
            else PostgresLedger(dsn, schema=schema, max_size=4)
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if kind == "postgres":
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


#: The ``Payment__c`` / ``Order`` fields use cases 2 and 3 write.
WEB_REFUND_FIELDS: dict[str, tuple[str, ...]] = {
    "Payment__c": (
        "Card_Type__c",
        "Vault_Customer_ID__c",
        "Status_Reason__c",
        "Refunded_Amount__c",
    ),
    "Order": ("Fulfillment_Status__c",),
}


@dataclass
class WebRefunds:
    """Use case 2 (web sales polled from PayTrace, shipped, invoiced and paid in Fusion) and
    use case 3 (their refunds and voids) over one emulated world, so every refund points at a
    real receipt and ``Payment__c``."""

    env: Emulated
    ecommerce: EcommerceOrderToCash
    refunds: Refunds
    poller: PayTraceActivityPoller
    voids: PayTraceVoidPoller
    engine: Engine
    clock: Clock
    payment_columns: str
    """What :meth:`payment` reads of a ``Payment__c`` (a test's refund request is given it)."""

    def paid_web_order(self, order_number: str, amount: str) -> str:
        """A web sale taken through use case 2 to the end (shipped, invoiced, cash applied)."""
        txn = self.env.web_sale(order_number, amount)
        assert len(self.poller.poll(self.engine).submitted) == 1
        self.engine.run_pending(max_workers=1)
        self.env.ship(txn)
        self.clock.advance(61)
        assert len(self.engine.run_pending(max_workers=1).succeeded) == 1
        return txn

    def settled_web_order(self, order_number: str, amount: str) -> str:
        """:meth:`paid_web_order`, then settled in PayTrace."""
        txn = self.paid_web_order(order_number, amount)
        self.env.paytrace_emulator.settle()
        return txn

    def payment(self, txn: str) -> dict[str, Any]:
        soql = " ".join(
            ("SELECT", self.payment_columns, "FROM Payment__c WHERE Payment_ID__c = {}")
        )
        [found] = self.env.records(soql, txn)
        return found

    def refunds_of(self, txn: str) -> list[ExportedTransaction]:
        return self.env.exported(f"RF-{txn}-", transaction_type="REFUND")

    def run(self, flow_id: str) -> None:
        done = self.engine.run_flow(flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error

    def receipt_state(self, txn: str) -> str | None:
        receipt = self.env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
        assert receipt is not None
        return receipt.State


class WebRefundsFactory:
    """Builds :class:`WebRefunds` worlds for one test (on its ``emulated`` and ``clock``)."""

    def __init__(self, emulated: EmulatedFactory, clock: Clock) -> None:
        self._emulated = emulated
        self._clock = clock

    def env(self) -> Emulated:
        """An emulated world whose org has :data:`WEB_REFUND_FIELDS`."""
        return self._emulated(WEB_REFUND_FIELDS)

    def __call__(
        self,
        env: Emulated | None = None,
        *,
        payment_columns: str,
        refunds: RefundsConfig | None = None,
        web_status: FusionStatusMap | None = None,
        store: LedgerStore | None = None,
        observe_refunds: bool = True,
        ecommerce_options: EcommerceConfig | None = None,
    ) -> WebRefunds:
        """``refunds``: use case 3's config (default: Fusion account 1008 for every customer
        and vault); ``web_status``: use case 2's Fusion status map; ``store``: the engine's
        ledger (default: ``env``'s SQLite one); ``observe_refunds``: the activity poller also
        hands refunds made in PayTrace to use case 3; ``ecommerce_options``: use case 2's
        other options (its ``xref`` is set here)."""
        env = env or self.env()
        clock = self._clock
        pt_port = PayTracePort(env.paytrace)
        ecommerce_config = (ecommerce_options or EcommerceConfig()).model_copy(
            update={
                "xref": VaultXref(
                    default_salesforce_account=env.account_id(), default_fusion_account="1008"
                )
            }
        )
        if web_status is not None:
            ecommerce_config = ecommerce_config.model_copy(update={"fusion_status": web_status})
        ecommerce = EcommerceOrderToCash(
            fusion=FusionPort(env.fusion),
            salesforce=SalesforcePort(env.bridge),
            config=ecommerce_config,
        )
        reverse = Refunds(
            paytrace=pt_port,
            fusion=FusionPort(env.fusion),
            salesforce=SalesforcePort(env.bridge),
            config=refunds
            or RefundsConfig(
                accounts=CustomerXref(default_fusion_account="1008"),
                vaults=VaultXref(default_fusion_account="1008"),
            ),
            clock=clock,
        )
        definitions = [ecommerce.definition(), reverse.definition()]
        policy = RetryPolicy(lookup_delays=(60.0, 600.0))
        if store is None:
            engine = env.engine(definitions, policy=policy, clock=clock)
        else:
            engine = Engine(
                store,
                definitions,
                policy=policy,
                classifier=ClientErrorClassifier(),
                clock=clock,
                sleep=lambda _: None,
            )
        handlers = [ecommerce.submit_sale, *([reverse.submit_observed] if observe_refunds else [])]
        poller = PayTraceActivityPoller(pt_port, handlers, clock=clock)
        voids = PayTraceVoidPoller(pt_port, [reverse.submit_observed_void], clock=clock)
        return WebRefunds(env, ecommerce, reverse, poller, voids, engine, clock, payment_columns)


@pytest.fixture
def web_refunds(emulated: EmulatedFactory, clock: Clock) -> WebRefundsFactory:
    return WebRefundsFactory(emulated, clock)


#: The first billing period of a :class:`Subscriptions` world.
SUBSCRIPTION_PERIOD = date(2026, 3, 1)


@dataclass
class Subscriptions:
    """Use case 7 (subscriptions on Salesforce charged from the PayTrace vault) over one
    emulated world, on a billing clock a test moves with :meth:`day`."""

    env: Emulated
    usecase: RecurringBilling
    engine: Engine
    now: list[datetime]
    open_vault: Callable[[Emulated, str], None]
    """Opens the vault profile a subscription is charged from (card or bank account)."""
    default_vault: str
    payments_soql: str
    """Reads a subscription's ``Payment__c`` records (``{}``: the subscription id)."""

    def subscription(self, amount: str, *, vault: str | None = None) -> str:
        """A monthly ``Subscription__c`` due on :data:`SUBSCRIPTION_PERIOD`, on a new vault
        profile -> its id."""
        vault = vault or self.default_vault
        self.open_vault(self.env, vault)
        account = next(iter(self.env.bridge.query("SELECT Id FROM Account LIMIT 1")))
        [created] = self.env.bridge.create_many(
            "Subscription__c",
            [
                {
                    "Amount__c": float(amount),
                    "Interval__c": "Monthly",
                    "Next_Charge_Date__c": SUBSCRIPTION_PERIOD.isoformat(),
                    "Vault_Customer_ID__c": vault,
                    "Status__c": "Active",
                    "Failed_Attempts__c": 0,
                    "Account__c": account["Id"],
                }
            ],
        )
        assert created.id is not None
        return created.id

    def day(self, offset: int) -> None:
        """Move the billing clock to ``SUBSCRIPTION_PERIOD + offset`` days, 10:00 in Los
        Angeles."""
        self.now[0] = datetime(2026, 3, 1, 18, tzinfo=timezone.utc) + timedelta(days=offset)

    def run(self) -> int:
        """Submits what is due and runs it -> how many flows were submitted."""
        flows = self.usecase.submit_due(self.engine)
        report = self.engine.run_pending(max_workers=1)
        assert not report.dead, [self.engine.flow(f).last_error for f in report.dead]
        return len(flows)

    def state(self, subscription_id: str) -> dict[str, Any]:
        return self.env.records(
            "SELECT Status__c, Next_Charge_Date__c, Failed_Attempts__c FROM Subscription__c "
            "WHERE Id = {}",
            subscription_id,
        )[0]

    def payments(self, subscription_id: str) -> list[dict[str, Any]]:
        return self.env.records(self.payments_soql, subscription_id)

    def sales(self, subscription_id: str) -> list[ExportedTransaction]:
        """The card sales PayTrace exports for the subscription."""
        return self.env.exported(f"SUB-{subscription_id}")

    def debits(self, subscription_id: str) -> list[ExportedCheckTransaction]:
        """The ACH debits PayTrace's check export holds for the subscription."""
        today = datetime.now(timezone.utc).date()
        records = self.env.paytrace.checks.export(
            today - timedelta(days=2), today + timedelta(days=2)
        )
        return [r for r in records if (r.invoice_id or "").startswith(f"SUB-{subscription_id}")]


class SubscriptionsFactory:
    """Builds :class:`Subscriptions` worlds for one test (on its ``emulated``)."""

    def __init__(self, emulated: EmulatedFactory) -> None:
        self._emulated = emulated

    def __call__(
        self,
        payment_fields: Sequence[str],
        config: RecurringBillingConfig,
        *,
        open_vault: Callable[[Emulated, str], None],
        default_vault: str,
        payments_soql: str,
    ) -> Subscriptions:
        """The seed org plus ``Subscription__c`` and the ``payment_fields`` of ``Payment__c``
        (an org adds them as custom fields); the clock starts two days before the period."""
        env = self._emulated({"Payment__c": payment_fields}, objects=("Subscription__c",))
        now = [datetime(2026, 2, 27, 18, tzinfo=timezone.utc)]
        usecase = RecurringBilling(
            paytrace=PayTracePort(env.paytrace),
            salesforce=SalesforcePort(env.bridge),
            config=config,
            clock=lambda: now[0],
        )
        engine = env.engine([usecase.definition()])
        return Subscriptions(env, usecase, engine, now, open_vault, default_vault, payments_soql)


@pytest.fixture
def subscriptions(emulated: EmulatedFactory) -> SubscriptionsFactory:
    return SubscriptionsFactory(emulated)
