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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import (
    AuditTrail,
    CheckpointHook,
    Engine,
    FlowDefinition,
    Quota,
    RetryPolicy,
    SqliteLedger,
)
from paysync_core.ports import ClientErrorClassifier
from paytrace_client import ExportTransactionType, PayTraceClient, ProtectToken
from paytrace_client.emulator import PayTraceEmulator
from paytrace_client.models import ExportedTransaction
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
        )
    },
    "Order": {"Fulfillment_Status__c": FieldDef("Fulfillment_Status__c", length=40)},
    "Opportunity": {
        f.name: f
        for f in (
            FieldDef("PayTrace_Transaction_ID__c", length=40),
            FieldDef("Payment_Status__c", length=40),
            FieldDef("Paid_Amount__c", "currency"),
        )
    },
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


def _case(system: tuple[FieldDef, ...]) -> ObjectDef:
    return ObjectDef(
        "Case",
        "500",
        "Case",
        (
            *system,
            FieldDef("Subject", length=255),
            FieldDef("Description", "textarea", length=32000),
            FieldDef("Status", "picklist", picklist=("New", "Working", "Closed")),
            FieldDef("Priority", "picklist", picklist=("High", "Medium", "Low")),
            FieldDef("Origin", length=40),
            FieldDef("AccountId", "reference", reference_to=("Account",)),
            FieldDef("Dispute_Case_Number__c", external_id=True, unique=True, length=40),
            FieldDef("Dispute_Amount__c", "currency"),
            FieldDef("Dispute_Reason_Code__c", length=10),
            FieldDef("Transaction_ID__c", length=64),
        ),
    )


def _task(system: tuple[FieldDef, ...]) -> ObjectDef:
    return ObjectDef(
        "Task",
        "00T",
        "Task",
        (
            *system,
            FieldDef("Subject", length=255),
            FieldDef("Description", "textarea", length=32000),
            FieldDef("Status", "picklist", picklist=("Not Started", "Completed")),
            FieldDef("Priority", "picklist", picklist=("High", "Normal", "Low")),
            FieldDef("WhatId", "reference", reference_to=("Account",)),
            FieldDef("Paysync_Key__c", external_id=True, unique=True, length=64),
        ),
    )


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
        "Case": lambda: _case(system),
        "Task": lambda: _task(system),
        "Subscription__c": lambda: _subscription(base),
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
