"""The demo's world: the three emulators in-process, seeded, wired to the registry's ports.

The Salesforce org is the emulator's seed plus the custom objects and fields the seven use
cases write (a real org adds them as custom fields): ``Subscription__c``, ``Case`` and
``Task`` with paysync's external ids, and the optional ``Payment__c`` / ``Order`` /
``Account`` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core import LedgerStore
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paytrace_client import PayTraceClient, ProtectToken
from paytrace_client.emulator import PayTraceEmulator
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    ObjectDef,
    SalesforceEmulator,
    emulator_session,
)

from ._registry import Ports

__all__ = [
    "DEMO_CARD",
    "FUSION_URL",
    "DemoClock",
    "DemoWorld",
    "case_object",
    "demo_salesforce_emulator",
    "task_object",
]

FUSION_URL = "https://fusion.emulator"
#: PayTrace's public sandbox Visa: only ever handed to the emulator's Protect stand-in.
DEMO_CARD = "4012000098765439"


class DemoClock:
    """The demo's clock: real time plus the offset the demo advances (shipment waits)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _system_fields(base: SalesforceEmulator) -> tuple[FieldDef, ...]:
    names = {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "SystemModstamp"}
    return tuple(f for f in base.org.obj("Account").fields if f.name in names)


def case_object(system: tuple[FieldDef, ...]) -> ObjectDef:
    """``Case`` as the chargeback follow-up writes it (``system``: the audit fields)."""
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


def task_object(system: tuple[FieldDef, ...]) -> ObjectDef:
    """``Task`` as the decline follow-up writes it, keyed by ``Paysync_Key__c``."""
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


def demo_salesforce_emulator() -> SalesforceEmulator:
    """The seed org plus what the seven use cases write."""
    base = SalesforceEmulator(seed=False)
    system = _system_fields(base)
    subscription = ObjectDef(
        "Subscription__c",
        "a0S",
        "Subscription",
        (
            *system,
            FieldDef("Name", length=80),
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
    case, task = case_object(system), task_object(system)
    payment = base.org.obj("Payment__c").with_fields(
        FieldDef("Opportunity__c", "reference", reference_to=("Opportunity",)),
        FieldDef("Card_Type__c", length=40),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Status_Reason__c", length=255),
        FieldDef("Refunded_Amount__c", "currency"),
        FieldDef("Subscription__c", "reference", reference_to=("Subscription__c",)),
        # a refund asked in Salesforce ([usecases.refunds.salesforce_requests])
        FieldDef("Refund_Requested_Amount__c", "currency"),
        FieldDef("Refund_Request_ID__c", length=24),
        # Fusion state mirrored by use case 8 ([usecases.fusion_payment_status.fields])
        FieldDef("Fusion_Status__c", length=40),
        FieldDef("Fusion_Status_Detail__c", length=255),
    )
    order = base.org.obj("Order").with_fields(FieldDef("Fulfillment_Status__c", length=40))
    account = base.org.obj("Account").with_fields(
        FieldDef("BillingStreet", "textarea", length=255),
        FieldDef("BillingState", length=80),
        FieldDef("BillingPostalCode", length=20),
        FieldDef("Vault_Customer_ID__c", length=64),
        FieldDef("Fusion_Account_Number__c", length=30),
        FieldDef("Payment_Method__c", length=40),
    )
    return SalesforceEmulator(objects=[subscription, case, task, payment, order, account])


@dataclass
class DemoWorld:
    """Emulators, clients over their in-process sessions, and ports for the registry."""

    paytrace_emulator: PayTraceEmulator
    fusion_emulator: FusionEmulator
    salesforce_emulator: SalesforceEmulator
    paytrace: PayTraceClient
    fusion: FusionClient
    bridge: SalesforceBridge
    clock: DemoClock = field(default_factory=DemoClock)

    @classmethod
    def start(cls, clock: DemoClock | None = None) -> DemoWorld:
        pt_emulator = PayTraceEmulator()
        fu_emulator = FusionEmulator()
        sf_emulator = demo_salesforce_emulator()
        no_sleep: Callable[[float], None] = lambda _s: None  # noqa: E731 - retries wait no time
        paytrace = PayTraceClient(
            username="demo123",
            password="demo123",  # noqa: S106 - PayTrace's public demo login, emulator only
            session=pt_emulator.session(),
            sleep=no_sleep,
        )
        fusion = FusionClient(
            base_url=FUSION_URL,
            auth=BasicAuth("casey.brown", "demo"),
            session=fu_emulator.session(FUSION_URL),
            sleep=no_sleep,
        )
        grant = PasswordGrant(
            client_id="demo",
            client_secret="demo",  # noqa: S106 - the emulator accepts any credentials
            username="demo@example.com",
            password="demo",  # noqa: S106 - the emulator accepts any credentials
            login_url=DEFAULT_BASE_URL,
        )
        bridge = SalesforceBridge(grant=grant, session=emulator_session(sf_emulator))
        return cls(
            pt_emulator, fu_emulator, sf_emulator, paytrace, fusion, bridge, clock or DemoClock()
        )

    def protect_token(self, _customer_id: str) -> ProtectToken:
        """A fresh Protect token for the demo card (as the browser would obtain one)."""
        hpf, enc = self.paytrace_emulator.register_protect_card(DEMO_CARD, 12, 2030)
        return ProtectToken(hpf, enc)

    def ports(self, store: LedgerStore) -> Ports:
        return Ports(
            store=store,
            paytrace=PayTracePort(self.paytrace, token_source=self.protect_token, clock=self.clock),
            fusion=FusionPort(self.fusion),
            salesforce=SalesforcePort(self.bridge),
            clock=self.clock,
            sleep=lambda _s: None,
        )

    def account_id(self, name: str) -> str:
        rows = self.bridge.query("SELECT Id FROM Account WHERE Name = {}", name)
        return str(next(iter(rows))["Id"])
