"""``paysync demo --serve``: the demo's emulators on real ports, seeded with work to do.

Unlike ``paysync demo`` (which drives every use case itself, in-process), this serves the
three emulators on ``127.0.0.1`` (Salesforce over https with a throwaway CA, as
simple-salesforce requires) and seeds them with the *inputs* of the story: a Closed Won
Opportunity, a web-store sale, a decline, a settled batch with a refund made in PayTrace, a
subscription due today. ``paysync run --config <written file>`` then finds and processes them
exactly as it would against the real systems.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from oracle_fusion_client.emulator import running_emulator
from paysync_core.usecases import RecurringBillingConfig
from paytrace_client import CreditCard, PayTraceDeclinedError
from paytrace_client.emulator import EmulatorServer
from salesforce_bridge.emulator import serve

from ._demo_world import DEMO_CARD, DemoWorld

__all__ = ["DEMO_CREDENTIALS", "ServedDemo", "serve_demo", "wait_until_stopped"]

#: Environment variables the written configuration names (``env:`` references). The
#: emulators accept these demo values; real credentials never go in the file either.
DEMO_CREDENTIALS: Mapping[str, str] = {
    "PAYSYNC_DEMO_PAYTRACE_USER": "demo123",
    "PAYSYNC_DEMO_PAYTRACE_PASSWORD": "demo123",
    "PAYSYNC_DEMO_FUSION_USER": "casey.brown",
    "PAYSYNC_DEMO_FUSION_PASSWORD": "demo",
    "PAYSYNC_DEMO_SF_CLIENT_ID": "demo",
    "PAYSYNC_DEMO_SF_CLIENT_SECRET": "demo",
    "PAYSYNC_DEMO_SF_USER": "demo@example.com",
    "PAYSYNC_DEMO_SF_PASSWORD": "demo",
}


@dataclass
class ServedDemo:
    world: DemoWorld
    paytrace_url: str
    fusion_url: str
    salesforce_url: str
    ca_path: Path
    seeded: dict[str, str] = field(default_factory=dict[str, str])
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> ServedDemo:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def config_toml(self, ledger: Path) -> str:
        """A ``paysync.toml`` for these emulators (credentials as ``env:`` references)."""
        acme = self.seeded["acme"]
        return f"""# paysync.toml for `paysync demo --serve` (emulators on 127.0.0.1)
[ledger]
url = "{ledger}"

[paytrace]
base_url = "{self.paytrace_url}"
username = "env:PAYSYNC_DEMO_PAYTRACE_USER"
password = "env:PAYSYNC_DEMO_PAYTRACE_PASSWORD"

[fusion]
base_url = "{self.fusion_url}"
auth = "basic"
username = "env:PAYSYNC_DEMO_FUSION_USER"
password = "env:PAYSYNC_DEMO_FUSION_PASSWORD"

[salesforce]
login_url = "{self.salesforce_url}"
auth = "password"
client_id = "env:PAYSYNC_DEMO_SF_CLIENT_ID"
client_secret = "env:PAYSYNC_DEMO_SF_CLIENT_SECRET"
username = "env:PAYSYNC_DEMO_SF_USER"
password = "env:PAYSYNC_DEMO_SF_PASSWORD"

[salesforce.events]
# the demo's records exist before paysync starts: SOQL polling's look-back finds them
transport = "poll"

[engine]
workers = 4
idle_sleep_seconds = 2

[usecases.order_to_cash.xref]
default_fusion_account = "1008"

[usecases.ecommerce.xref]
default_salesforce_account = "{acme}"
default_fusion_account = "1008"

[usecases.refunds.accounts]
default_fusion_account = "1008"

[usecases.refunds.vaults]
default_fusion_account = "1008"

[usecases.settlement_gl]
# the emulator runs an import in a few status polls: poll it quickly
poll_schedule = [0.2, 0.2, 0.5, 1.0, 2.0, 5.0]

[usecases.customer_sync]
# a new vault profile needs a PayTrace Protect token from the browser: see
# docs/usecases/5-customer-sync.md
enabled = false
"""


def serve_demo(tls_dir: Path) -> ServedDemo:
    """Start the emulators on free ports and seed the story's inputs."""
    world = DemoWorld.start()
    stack = ExitStack()
    try:
        paytrace = stack.enter_context(EmulatorServer(world.paytrace_emulator))
        fusion_url, _ = stack.enter_context(running_emulator(world.fusion_emulator))
        salesforce = serve(world.salesforce_emulator, port=0, tls_dir=tls_dir)
        stack.callback(salesforce.stop)
        if salesforce.ca_path is None:  # pragma: no cover - tls_dir given
            raise RuntimeError("the Salesforce emulator started without TLS")
        served = ServedDemo(
            world, paytrace.base_url, fusion_url, salesforce.url, salesforce.ca_path, _stack=stack
        )
        served.seeded = _seed(world)
    except BaseException:
        stack.close()
        raise
    return served


def _seed(world: DemoWorld) -> dict[str, str]:
    """What happened in the systems before paysync runs (through the emulators' APIs)."""
    acme = world.account_id("Acme Corporation")
    vault = f"sf-{acme}"
    card = CreditCard(number=DEMO_CARD, expiration_month=12, expiration_year=2030, csc="999")
    payments = world.paytrace
    payments.customers.create(vault, credit_card=card)  # use case 5 would have made it
    # a point-of-sale sale, settled, then partly refunded at the terminal (use cases 6, 3)
    pos = payments.transactions.sale_by_customer(Decimal("100.00"), vault, invoice_id="POS-1001")
    with suppress(PayTraceDeclinedError):  # the emulator declines 0.29 (use case 4)
        payments.transactions.sale_by_customer(Decimal("0.29"), vault, invoice_id="POS-1002")
    batch = world.paytrace_emulator.settle()
    assert pos.transaction_id is not None
    refund = payments.transactions.refund_transaction(pos.transaction_id, Decimal("20.00"))
    # the POS sale as the point-of-sale integration recorded it in Salesforce
    world.bridge.create_many(
        "Payment__c",
        [
            {
                "Payment_ID__c": str(pos.transaction_id),
                "Amount__c": 100.0,
                "Status__c": "Settled",
                "Account__c": acme,
            }
        ],
    )
    # a web-store order (use case 2)
    payments.customers.create("web-1001", credit_card=card)
    web = payments.transactions.sale_by_customer(
        Decimal("89.50"), "web-1001", invoice_id="WEB-1001", description="web store"
    )
    # a deal won and a subscription due today (use cases 1, 7)
    [deal] = world.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme expansion",
                "StageName": "Closed Won",
                "CloseDate": world.clock().date().isoformat(),
                "Amount": 149.99,
                "AccountId": acme,
            }
        ],
    )
    billing_day = world.clock().astimezone(ZoneInfo(RecurringBillingConfig().billing_timezone))
    [plan] = world.bridge.create_many(
        "Subscription__c",
        [
            {
                "Name": "Acme support plan",
                "Amount__c": 49.0,
                "Interval__c": "Monthly",
                "Next_Charge_Date__c": billing_day.date().isoformat(),
                "Vault_Customer_ID__c": vault,
                "Status__c": "Active",
                "Failed_Attempts__c": 0,
                "Account__c": acme,
            }
        ],
    )
    return {
        "acme": acme,
        "opportunity": str(deal.id),
        "web_sale": str(web.transaction_id),
        "pos_sale": str(pos.transaction_id),
        "refund": str(refund.transaction_id),
        "batch": str(batch),
        "subscription": str(plan.id),
    }


def wait_until_stopped(stop: threading.Event) -> None:
    """Block the serving thread until ``stop`` is set (SIGINT / SIGTERM in the CLI)."""
    while not stop.wait(0.5):
        pass
