"""``paysync demo``: every use case end to end against the three in-process emulators.

The story (each step names its use case): a customer synced to the vault (5); two
Opportunities won, one charged after a lost PayTrace answer (unknown outcome resolved by
lookup) with a 429 on the Fusion receipt (retried), one declined (1); a web order polled,
parked until Fusion ships it, then invoiced and paid (2); the decline followed up (4); the
day's batch settled into a GL journal (6); a partial refund (3); a chargeback (4); a
subscription charged (7). The summary is read back from the emulators afterwards.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from oracle_fusion_client import AccountAddress, BasicAuth, CustomerAccounts, FusionClient
from oracle_fusion_client.emulator import Fault
from paysync_core import AuditTrail, FlowState, RetryPolicy, SqliteLedger
from paysync_core._status import collect_status
from paysync_core.mapping import CustomerXref, VaultXref
from paysync_core.usecases import (
    CustomerSync,
    DeclinesChargebacks,
    EcommerceConfig,
    OrderToCashConfig,
    RecurringBilling,
    Refunds,
    RefundsConfig,
)
from paysync_core.xref import CustomerXrefTable
from paytrace_client.emulator import FaultRule

from ._demo_world import FUSION_URL, DemoWorld
from ._registry import registered
from ._runner import PassReport, Runner

__all__ = ["DemoResult", "DemoSummary", "run_demo"]

Progress = Callable[[str], None]


@dataclass
class DemoSummary:
    """What each system holds after the demo (new records only), flows, and the faults."""

    paytrace: dict[str, int] = field(default_factory=dict[str, int])
    salesforce: dict[str, int] = field(default_factory=dict[str, int])
    fusion: dict[str, int] = field(default_factory=dict[str, int])
    flows: dict[str, dict[str, int]] = field(default_factory=dict[str, dict[str, int]])
    faults: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    elapsed_seconds: float = 0.0
    ledger: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "paytrace": self.paytrace,
            "salesforce": self.salesforce,
            "fusion": self.fusion,
            "flows": self.flows,
            "faults": self.faults,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
            "ledger": self.ledger,
        }

    @property
    def all_succeeded(self) -> bool:
        return all(set(states) <= {FlowState.SUCCEEDED.value} for states in self.flows.values())


@dataclass
class DemoResult:
    summary: DemoSummary
    world: DemoWorld
    runner: Runner
    references: dict[str, str]
    """Business ids the demo created (Opportunity ids, transaction ids ...), for checks."""

    def close(self) -> None:
        self.runner.ports.store.close()


@dataclass
class _Baseline:
    paytrace_customers: int
    salesforce: dict[str, int]
    fusion: dict[str, int]


def _salesforce_counts(world: DemoWorld) -> dict[str, int]:
    return {name: len(rows) for name, rows in world.salesforce_emulator.org.snapshot().items()}


def _fusion_counts(world: DemoWorld) -> dict[str, int]:
    return {name: len(rows) for name, rows in world.fusion_emulator.state.records.items()}


def _options(acme: str) -> dict[str, Any]:
    return {
        "order_to_cash": OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008")),
        "ecommerce": EcommerceConfig(
            xref=VaultXref(default_salesforce_account=acme, default_fusion_account="1008")
        ),
        "refunds": RefundsConfig(
            accounts=CustomerXref(default_fusion_account="1008"),
            vaults=VaultXref(default_fusion_account="1008"),
        ),
    }


def _run(runner: Runner, *sources: str) -> PassReport:
    report = runner.poll(only=sources) if sources else PassReport()
    report.run = runner.engine.run_pending(max_workers=runner.workers)
    return report


def run_demo(ledger_path: Path, *, progress: Progress = lambda _step: None) -> DemoResult:
    """Run the whole story; the caller closes the result (its ledger)."""
    started = time.perf_counter()
    world = DemoWorld.start()
    store = SqliteLedger(str(ledger_path))
    try:
        result = _story(world, store, progress)
    except BaseException:
        store.close()
        raise
    result.summary.elapsed_seconds = time.perf_counter() - started
    result.summary.ledger = str(ledger_path)
    return result


def _story(world: DemoWorld, store: SqliteLedger, progress: Progress) -> DemoResult:
    acme = world.account_id("Acme Corporation")
    runner = Runner(
        world.ports(store),
        registered(),
        options=_options(acme),
        workers=4,
        policy=RetryPolicy(lookup_delays=(60.0, 600.0)),
        engine_sleep=lambda _s: None,
    )
    base = _Baseline(
        len(world.paytrace_emulator.state.customers),
        _salesforce_counts(world),
        _fusion_counts(world),
    )
    refs: dict[str, str] = {"acme": acme}
    xref = CustomerXrefTable(store)
    xref.link(acme, paytrace_customer_id=f"sf-{acme}", fusion_account_number="1008")

    progress("5 customer sync: a new Salesforce Account -> PayTrace vault + Fusion account")
    refs["northwind"] = _customer_sync(world, runner)

    progress("1 order to cash: two Opportunities won (a lost answer, a 429, a decline)")
    world.paytrace_emulator.add_fault(
        FaultRule("timeout_after_commit", path="*transactions/sale/by_customer")
    )
    world.fusion_emulator.inject(
        Fault("status", status=429, retry_after=0, method="POST", path="standardReceipts")
    )
    refs["won"] = _opportunity(world, "Acme expansion", "149.99", acme)
    refs["declined"] = _opportunity(world, "Acme declined", "0.29", acme)  # emulator: 102
    _run(runner, "salesforce-opportunities")

    progress("2 eCommerce: a web sale polled from PayTrace, parked until Fusion ships it")
    refs["web_sale"] = _web_sale(world, "WEB-1001", "89.50")
    _run(runner, "paytrace-exports")
    answer = world.fusion.http.session.post(
        f"{FUSION_URL}/__emulator__/orders/PAYTRACE:{refs['web_sale']}/ship"
    )
    answer.raise_for_status()
    world.clock.advance(601)  # the next shipment check is due
    _run(runner)

    progress("4 declines: the declined payment followed up in Salesforce")
    _run(runner, "paytrace-declines")

    progress("6 settlement: the day's batch settled into a GL journal")
    world.paytrace_emulator.settle()
    _run(runner, "paytrace-settlements")

    progress("3 refunds: 30.00 of the settled web sale refunded")
    refunds = runner.builds["refunds"].instance
    assert isinstance(refunds, Refunds)
    payment = world.bridge.query(
        "SELECT Id, Payment_ID__c, Account__c FROM Payment__c WHERE Payment_ID__c = {}",
        refs["web_sale"],
    )
    refunds.submit_request(
        runner.engine, next(iter(payment)).fields, request_id="RQ-1", amount=Decimal("30.00")
    )
    _run(runner)

    progress("4 chargebacks: a dispute file for the won Opportunity's payment")
    refs["charge"] = _charge_id(runner, refs["won"])
    declines = runner.builds["declines_chargebacks"].instance
    assert isinstance(declines, DeclinesChargebacks)
    today = world.clock().date().isoformat()
    declines.import_dispute_file(
        runner.engine,
        "case_number,transaction_id,amount,reason_code,dispute_date,reason\n"
        f"CB-DEMO-1,{refs['charge']},50.00,13.1,{today},merchandise not received\n",
    )
    _run(runner)

    progress("7 recurring billing: a monthly subscription charged today")
    refs["subscription"] = _subscription(world, runner, acme)
    _run(runner, "salesforce-subscriptions")

    progress("8 Fusion polling: a receipt reversed by a person in Fusion, shown on Payment__c")
    _fusion_reversal(world, refs["charge"])
    _run(runner, "fusion-changes")  # paysync's own Fusion writes start nothing

    progress("5 customer sync, back: Northwind moved in Fusion, its e-mail edited in PayTrace")
    _fusion_move(world, xref, refs["northwind"])
    _run(runner, "fusion-changes")
    world.paytrace.customers.update(f"sf-{refs['northwind']}", email="ap@northwind.example")
    _run(runner, "paytrace-profiles")

    return DemoResult(_summary(world, runner, base), world, runner, refs)


_NORTHWIND_MOVED = AccountAddress(
    address1="1 Harbor Way", city="Tacoma", state="WA", postal_code="98402", country="US"
)


# -- the story's inputs ----------------------------------------------------------------------
def _customer_sync(world: DemoWorld, runner: Runner) -> str:
    [created] = world.bridge.create_many(
        "Account",
        [
            {
                "Name": "Northwind Traders",
                "BillingStreet": "500  Main street",
                "BillingCity": "SEATTLE",
                "BillingState": "Washington",
                "BillingPostalCode": "98101",
                "BillingCountry": "USA",
            }
        ],
    )
    account_id = str(created.id)
    world.bridge.create_many(
        "Contact",
        [{"LastName": "Buyer", "Email": "Buyer@Northwind.Example", "AccountId": account_id}],
    )
    usecase = runner.builds["customer_sync"].instance
    assert isinstance(usecase, CustomerSync)
    account = next(
        iter(
            world.bridge.query(
                "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
                "BillingPostalCode, BillingCountry, Phone, LastModifiedDate FROM Account "
                "WHERE Id = {}",
                account_id,
            )
        )
    ).fields
    contact = next(
        iter(world.bridge.query("SELECT Id, Email FROM Contact WHERE AccountId = {}", account_id))
    ).fields
    usecase.submit_account(runner.engine, account, contact)
    _run(runner)
    return account_id


def _opportunity(world: DemoWorld, name: str, amount: str, account: str) -> str:
    [created] = world.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": name,
                "StageName": "Closed Won",
                "CloseDate": world.clock().date().isoformat(),
                "Amount": float(amount),
                "AccountId": account,
            }
        ],
    )
    return str(created.id)


def _web_sale(world: DemoWorld, order_number: str, amount: str) -> str:
    customer = f"web-{order_number.lower()}"
    world.paytrace.customers.create_protect(customer, world.protect_token(customer))
    sale = world.paytrace.transactions.sale_by_customer(
        Decimal(amount), customer, invoice_id=order_number, description="web store"
    )
    return str(sale.transaction_id)


def _charge_id(runner: Runner, opportunity_id: str) -> str:
    with runner.ports.store.transaction() as tx:
        rows = tx.execute(
            "SELECT flow_id FROM flows WHERE use_case = ? AND source_id = ?",
            ("salesforce_order_to_cash", opportunity_id),
        )
    steps = runner.engine.steps(str(rows[0][0]))
    return next(s.external_ids["transaction_id"] for s in steps if s.name == "charge")


def _fusion_reversal(world: DemoWorld, transaction_id: str) -> None:
    """A receivables clerk (not paysync's Fusion user) reverses the receipt of a payment."""
    clerk = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("fin.clerk", "demo"),
        session=world.fusion_emulator.session(FUSION_URL),
    )
    receipt = clerk.standard_receipts.find_by_number(f"PT-{transaction_id}")
    if receipt is not None and receipt.StandardReceiptId is not None:
        clerk.standard_receipts.reverse(receipt.StandardReceiptId, reason="NSF")


def _fusion_move(world: DemoWorld, xref: CustomerXrefTable, account_id: str) -> None:
    """A customer master clerk (not paysync's Fusion user) moves a customer's bill-to site."""
    entry = xref.get(account_id)
    number = entry.fusion_account_number if entry else None
    if number is None:
        raise RuntimeError(f"the demo Account {account_id} has no Fusion account")
    clerk = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("fin.clerk", "demo"),
        session=world.fusion_emulator.session(FUSION_URL),
    )
    CustomerAccounts.from_client(clerk, bundled=True).update(number, address=_NORTHWIND_MOVED)


def _subscription(world: DemoWorld, runner: Runner, acme: str) -> str:
    usecase = runner.builds["recurring_billing"].instance
    assert isinstance(usecase, RecurringBilling)
    day = usecase.today()  # the billing day in the use case's time zone
    [created] = world.bridge.create_many(
        "Subscription__c",
        [
            {
                "Name": "Acme support plan",
                "Amount__c": 49.0,
                "Interval__c": "Monthly",
                "Next_Charge_Date__c": day.isoformat(),
                "Vault_Customer_ID__c": f"sf-{acme}",
                "Status__c": "Active",
                "Failed_Attempts__c": 0,
                "Account__c": acme,
            }
        ],
    )
    return str(created.id)


# -- the summary, read back from the emulators ----------------------------------------------
def _summary(world: DemoWorld, runner: Runner, base: _Baseline) -> DemoSummary:
    state = world.paytrace_emulator.state
    txns = list(state.txns.values())
    paytrace = {
        "sales approved": sum(1 for t in txns if t.type == "SALE" and t.approved),
        "sales declined": sum(1 for t in txns if t.type == "SALE" and not t.approved),
        "refunds": sum(1 for t in txns if t.type == "REFUND" and t.approved),
        "voids": sum(1 for t in txns if t.voided),
        "settlement batches": len(state.batches),
        "vault profiles created": len(state.customers) - base.paytrace_customers,
    }
    sf_now = _salesforce_counts(world)
    salesforce = {
        name: sf_now.get(name, 0) - base.salesforce.get(name, 0)
        for name in ("Payment__c", "Order", "Task", "Case", "Subscription__c")
    }
    accounts = world.salesforce_emulator.org.snapshot().get("Account", {})
    salesforce["Account written back"] = sum(
        1 for a in accounts.values() if a.get("Vault_Customer_ID__c")
    )
    subs = world.salesforce_emulator.org.snapshot().get("Subscription__c", {})
    salesforce["Subscription__c advanced"] = sum(
        1
        for s in subs.values()
        if str(s.get("Next_Charge_Date__c")) > world.clock().date().isoformat()
    )
    fu_now = _fusion_counts(world)
    labels = {
        "receivablesInvoices": "invoices",
        "standardReceipts": "receipts",
        "receivablesCreditMemos": "credit memos",
        "salesOrdersForOrderHub": "sales orders",
        "journalBatches": "journal batches",
    }
    fusion = {
        label: fu_now.get(name, 0) - base.fusion.get(name, 0) for name, label in labels.items()
    }
    report = collect_status(runner.ports.store, now=world.clock())
    flows = {uc: dict(states) for uc, states in report.flows.items()}
    return DemoSummary(paytrace, salesforce, fusion, flows, _faults(world, runner))


def _faults(world: DemoWorld, runner: Runner) -> list[dict[str, str]]:
    buffer = io.StringIO()
    AuditTrail(runner.ports.store).export_jsonl(buffer)
    events: list[Mapping[str, Any]] = [json.loads(line) for line in buffer.getvalue().splitlines()]

    def seen(kind: str, step: str, via: str | None = None) -> bool:
        return any(
            e["kind"] == kind
            and e["detail"].get("step") == step
            and (via is None or e["detail"].get("via") == via)
            for e in events
        )

    lost = seen("step.unknown", "charge") and seen("step.succeeded", "charge", "lookup")
    throttled = not any(f.get("status") == 429 for f in world.fusion_emulator.faults.pending())
    receipts = world.fusion_emulator.state.records.get("standardReceipts", {})
    numbers = [str(r.get("ReceiptNumber")) for r in receipts.values()]
    once = bool(numbers) and len(numbers) == len(set(numbers))
    return [
        {
            "system": "paytrace",
            "fault": "timeout_after_commit on transactions/sale/by_customer",
            "outcome": "resolved by lookup, charged once" if lost else "not observed",
        },
        {
            "system": "fusion",
            "fault": "429 on POST standardReceipts",
            "outcome": "retried, receipt created once" if throttled and once else "not observed",
        },
        {
            "system": "paytrace",
            "fault": "decline (amount 0.29 -> code 102)",
            "outcome": "Payment__c Failed + follow-up Task, nothing posted to Fusion",
        },
    ]
