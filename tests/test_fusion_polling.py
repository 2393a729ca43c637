"""Fusion changes found by polling (use case 8): a receipt reversed or an invoice paid by a
person in Fusion shows on the Salesforce ``Payment__c``; paysync's own Fusion writes start
nothing; the durable per-resource cursor moves with the submission it covers; re-reading the
overlap window submits nothing new. The three emulators run in-process (mocked only at the
wire); the ledger is SQLite or PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from oracle_fusion_client import (
    ApplyReceipt,
    BasicAuth,
    FusionClient,
    NewStandardReceipt,
    StandardReceipt,
)
from paysync_core import (
    ConfigurationError,
    Engine,
    FlowRecord,
    FlowState,
    LedgerStore,
    LedgerTransaction,
    SubmitHook,
)
from paysync_core._status import collect_status
from paysync_core.mapping import CustomerXref
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.sources import FusionChange, FusionChangePoller, FusionResource
from paysync_core.usecases import (
    FUSION_PAYMENT_STATUS_USE_CASE,
    FusionPaymentStatus,
    FusionPaymentStatusConfig,
    OrderToCash,
    OrderToCashConfig,
    Refunds,
    RefundsConfig,
)

if TYPE_CHECKING:
    from conftest import Clock, Emulated, EmulatedFactory, StoreFactory

FUSION_URL = "https://fusion.emulator"
PAYMENT_FIELDS = (
    "Opportunity__c",
    "Card_Type__c",
    "Vault_Customer_ID__c",
    "Status_Reason__c",
    "Refunded_Amount__c",
    "Fusion_Status__c",
    "Fusion_Status_Detail__c",
)


class CrashError(Exception):
    """A simulated crash of the poller process."""


@dataclass
class World:
    env: Emulated
    cash: OrderToCash
    status: FusionPaymentStatus
    clerk: FusionClient
    """A person working in Fusion (not paysync's integration user)."""

    def engine(self, store: LedgerStore) -> Engine:
        return Engine(
            store,
            [self.cash.definition(), self.status.definition()],
            classifier=ClientErrorClassifier(),
            sleep=lambda _s: None,
        )

    def poller(self, **kwargs: Any) -> FusionChangePoller:
        return FusionChangePoller(FusionPort(self.env.fusion), self.status.resources(), **kwargs)

    def paid(self, engine: Engine, name: str, amount: str = "149.99") -> str:
        """Use case 1 end to end (charge, Payment__c, invoice, receipt applied); the PayTrace
        transaction id."""
        opportunity = self.env.closed_won(name, amount, self.env.account_id())
        flow = self.cash.submit_opportunity(engine, opportunity)
        assert flow is not None
        done = engine.run_flow(flow.flow_id)
        assert done.state is FlowState.SUCCEEDED, done.last_error
        steps = {s.name: s for s in engine.steps(flow.flow_id)}
        return steps["charge"].external_ids["transaction_id"]

    def receipt(self, transaction_id: str) -> StandardReceipt:
        found = self.env.fusion.standard_receipts.find_by_number(f"PT-{transaction_id}")
        assert found is not None
        assert found.StandardReceiptId is not None
        return found

    def payment(self, transaction_id: str) -> dict[str, Any]:
        [row] = self.env.records(
            "SELECT Id, Status__c, Fusion_Status__c, Fusion_Status_Detail__c, LastModifiedDate "
            "FROM Payment__c WHERE Payment_ID__c = {}",
            transaction_id,
        )
        return row


@pytest.fixture
def world(emulated: EmulatedFactory) -> World:
    env = emulated({"Payment__c": PAYMENT_FIELDS})
    token = env.protect_token()
    cash = OrderToCash(
        paytrace=PayTracePort(env.paytrace, token_source=lambda _c: token),
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008")),
    )
    status = FusionPaymentStatus(
        salesforce=SalesforcePort(env.bridge), fusion=FusionPort(env.fusion)
    )
    clerk = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("fin.clerk", "pw"),
        session=env.fusion_emulator.session(FUSION_URL),
        sleep=lambda _: None,
    )
    return World(env, cash, status, clerk)


def _status_flows(store: LedgerStore) -> list[FlowRecord]:
    with store.transaction() as tx:
        return [f for f in tx.list_flows() if f.use_case == FUSION_PAYMENT_STATUS_USE_CASE]


def test_receipt_reversed_in_fusion_updates_the_payment_once(
    ledger_factory: StoreFactory, world: World
) -> None:
    store = ledger_factory()
    engine = world.engine(store)
    sale = world.paid(engine, "Acme expansion")
    poller = world.poller()
    # paysync's own writes (invoice, receipt, application) are read, and start nothing
    own = poller.poll(engine)
    assert own.read >= 2
    assert own.submitted == []
    assert world.payment(sale)["Fusion_Status__c"] is None

    receipt = world.receipt(sale)
    assert receipt.StandardReceiptId is not None
    world.clerk.standard_receipts.reverse(receipt.StandardReceiptId, reason="NSF")

    report = poller.poll(engine)
    assert len(report.submitted) == 1
    [flow] = _status_flows(store)
    assert flow.source_id == f"standardReceipts:{receipt.StandardReceiptId}"
    assert engine.run_pending().succeeded == [flow.flow_id]
    payment = world.payment(sale)
    assert payment["Fusion_Status__c"] == "Reversed"
    assert "NSF" in payment["Fusion_Status_Detail__c"]
    assert payment["Status__c"] == "Captured"  # PayTrace's state is use case 1's to write
    [step] = engine.steps(flow.flow_id)
    assert step.external_ids["status"] == "Reversed"  # written (not found unchanged)

    # the overlap window reads the reversal again: nothing new, Payment__c not touched again
    modified = payment["LastModifiedDate"]
    again = poller.poll(engine)
    assert again.submitted == []
    assert again.already_known >= 1
    assert engine.run_pending().processed == 0
    assert len(_status_flows(store)) == 1
    assert world.payment(sale)["LastModifiedDate"] == modified


def test_cursor_survives_a_restart_and_status_shows_its_lag(
    ledger_factory: StoreFactory, world: World
) -> None:
    engine = world.engine(ledger_factory())
    sale = world.paid(engine, "Acme restart")
    world.clerk.standard_receipts.reverse(world.receipt(sale).StandardReceiptId or 0, reason="X")
    assert len(world.poller().poll(engine).submitted) == 1

    restarted = world.engine(ledger_factory())  # a new process on the same ledger
    poller = world.poller()
    cursor = poller.cursor(restarted.store, "standardReceipts")
    assert cursor is not None
    assert poller.poll(restarted).submitted == []
    assert len(_status_flows(restarted.store)) == 1

    status = collect_status(restarted.store, now=datetime.now(timezone.utc) + timedelta(hours=1))
    fusion = {s.name: s for s in status.streams if s.kind == "fusion-polling"}
    assert set(fusion) == {"fusion:standardReceipts", "fusion:receivablesInvoices"}
    lag = fusion["fusion:standardReceipts"].lag_seconds
    assert lag is not None
    assert lag >= 3590
    assert fusion["fusion:standardReceipts"].position.startswith(cursor.strftime("%Y-%m-%dT%H"))


def test_crash_between_submit_and_cursor_loses_and_repeats_nothing(
    ledger_factory: StoreFactory, world: World
) -> None:
    store = ledger_factory()
    engine = world.engine(store)
    first, second = world.paid(engine, "Acme one"), world.paid(engine, "Acme two")
    world.poller().poll(engine)  # paysync's own writes are behind the cursor
    world.clerk.standard_receipts.reverse(world.receipt(first).StandardReceiptId or 0, reason="A")
    world.clerk.standard_receipts.reverse(world.receipt(second).StandardReceiptId or 0, reason="B")
    second_key = str(world.receipt(second).StandardReceiptId)

    def crash_on_second(
        engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None:
        def then_crash(tx: LedgerTransaction, flow: FlowRecord) -> None:
            assert checkpoint is not None
            checkpoint(tx, flow)
            if change.key == second_key:
                raise CrashError  # inside the submitting transaction: it rolls back

        return world.status.submit_receipt(engine, change, checkpoint=then_crash)

    crashing = FusionChangePoller(
        FusionPort(world.env.fusion),
        [FusionResource("standardReceipts", "StandardReceiptId", (crash_on_second,))],
    )
    with pytest.raises(CrashError):
        crashing.poll(engine)
    assert len(_status_flows(store)) == 1  # the first committed with its cursor ...
    moved = crashing.cursor(store, "standardReceipts")
    assert moved is not None

    resumed = world.poller().poll(world.engine(ledger_factory()))
    assert len(resumed.submitted) == 1  # ... the second was neither submitted nor skipped
    flows = _status_flows(store)
    assert sorted(str(f.input["transaction_id"]) for f in flows) == sorted([first, second])
    assert engine.run_pending().processed == 2
    assert {world.payment(t)["Fusion_Status__c"] for t in (first, second)} == {"Reversed"}


def test_paysync_own_reversal_and_application_start_no_flow(
    ledger_factory: StoreFactory, world: World
) -> None:
    """Without ``own_users`` the ledger decides: paysync applied the receipt (invoice paid by
    its own receipt); a receipt reversed by paysync's integration user is skipped when
    ``own_users`` names it."""
    store = ledger_factory()
    engine = world.engine(store)
    sale = world.paid(engine, "Acme own")
    # paysync's Fusion user (the client use case 1 writes with) reverses the receipt
    world.env.fusion.standard_receipts.reverse(
        world.receipt(sale).StandardReceiptId or 0, reason="V"
    )
    own = FusionPaymentStatus(
        salesforce=SalesforcePort(world.env.bridge),
        config=FusionPaymentStatusConfig(own_users=("casey.brown",)),
    )
    poller = FusionChangePoller(
        FusionPort(world.env.fusion), own.resources(), own_users=("casey.brown",)
    )
    report = poller.poll(engine)
    assert report.submitted == []
    # the newest version of each record is read: the invoice (paid, then owing again) and the
    # receipt (reversed), both last changed by paysync's user
    assert report.own == 2
    assert _status_flows(store) == []


def test_paysync_void_reversing_its_receipt_starts_no_flow(
    ledger_factory: StoreFactory, world: World, clock: Clock
) -> None:
    """Without ``own_users`` the ledger tells: use case 3 voided the sale and reversed its
    receipt (``fusion_reverse``), so the reversal is paysync's own change."""
    refunds = Refunds(
        paytrace=PayTracePort(world.env.paytrace),
        fusion=FusionPort(world.env.fusion),
        salesforce=SalesforcePort(world.env.bridge),
        config=RefundsConfig(accounts=CustomerXref(default_fusion_account="1008")),
        clock=clock,
    )
    store = ledger_factory()
    engine = Engine(
        store,
        [world.cash.definition(), world.status.definition(), refunds.definition()],
        classifier=ClientErrorClassifier(),
        sleep=lambda _s: None,
    )
    sale = world.paid(engine, "Acme voided", amount="25.00")
    [payment] = world.env.records(
        "SELECT Id, Payment_ID__c, Transaction_ID__c, Account__c, Status__c, Amount__c "
        "FROM Payment__c WHERE Payment_ID__c = {}",
        sale,
    )
    flow = refunds.submit_request(engine, payment, request_id="RQ-V", amount=Decimal("25.00"))
    assert engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    assert world.receipt(sale).State == "Reversed"

    report = world.poller().poll(engine)
    assert report.submitted == []
    assert report.ignored >= 2  # the reversed receipt and the invoice owing again
    assert _status_flows(store) == []
    assert world.payment(sale)["Fusion_Status__c"] is None


def test_invoice_paid_by_a_person_updates_the_payment(
    ledger_factory: StoreFactory, world: World
) -> None:
    store = ledger_factory()
    engine = world.engine(store)
    sale = world.paid(engine, "Acme check", amount="80.00")
    poller = world.poller()
    assert poller.poll(engine).submitted == []  # paid by paysync's own receipt: nothing
    # the card payment is reversed, then the customer pays by check, applied by a person
    receipt = world.receipt(sale)
    world.clerk.standard_receipts.reverse(receipt.StandardReceiptId or 0, reason="CHARGEBACK")
    check = world.clerk.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber=f"CHK-{sale}",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("80.00"),
            Currency="USD",
            CustomerAccountNumber="1008",
        )
    )
    invoice = world.env.fusion.receivables_invoices.find_by_number(
        str(_invoice_number(store, sale))
    )
    assert invoice is not None
    assert invoice.CustomerTransactionId is not None
    schedule = FusionPort(world.env.fusion).installment_id(invoice.CustomerTransactionId)
    world.clerk.standard_receipts.apply(
        check.StandardReceiptId or 0, ApplyReceipt(appliedPaymentScheduleId=schedule)
    )

    report = poller.poll(engine)
    assert len(report.submitted) == 2  # the reversal, then the invoice paid by check
    engine.run_pending()
    payment = world.payment(sale)
    assert payment["Fusion_Status__c"] == "Paid"  # the newer change wins (one flow at a time)
    assert "paid in Fusion" in payment["Fusion_Status_Detail__c"]


def _invoice_number(store: LedgerStore, transaction_id: str) -> str:
    with store.transaction() as tx:
        for flow in tx.list_flows():
            steps = {s.name: s.external_ids for s in tx.get_steps(flow.flow_id)}
            if steps.get("charge", {}).get("transaction_id") == transaction_id:
                return steps["fusion_invoice"]["invoice_number"]
    raise AssertionError(f"no flow charged {transaction_id}")


def test_unknown_payment_is_skipped_not_created(ledger_factory: StoreFactory, world: World) -> None:
    """A reversed ``PT-`` receipt whose payment Salesforce does not know: looked up, skipped,
    no ``Payment__c`` created from Fusion."""
    store = ledger_factory()
    engine = world.engine(store)
    created = world.clerk.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="PT-999999",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("5.00"),
            Currency="USD",
            CustomerAccountNumber="1008",
        )
    )
    world.clerk.standard_receipts.reverse(created.StandardReceiptId or 0, reason="TEST")
    assert len(world.poller().poll(engine).submitted) == 1
    [flow] = _status_flows(store)
    assert engine.run_pending().succeeded == [flow.flow_id]
    [step] = engine.steps(flow.flow_id)
    assert "no Payment__c with Payment_ID__c 999999" in step.external_ids["skipped"]
    assert world.env.records("SELECT Id FROM Payment__c WHERE Payment_ID__c = '999999'") == []


def test_window_pages_and_orders_by_last_update_date(
    ledger_factory: StoreFactory, world: World
) -> None:
    """Many changes in one window: read page by page (``limit``/``offset``/``hasMore``),
    handed over oldest first, the cursor at the newest."""
    engine = world.engine(ledger_factory())
    seen: list[str] = []

    def record(
        _engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None:
        seen.append(change.version)
        return None

    for n in range(7):
        world.clerk.standard_receipts.create(
            NewStandardReceipt(
                ReceiptNumber=f"R-{n}",
                ReceiptMethod="Manual",
                BusinessUnit="Vision Operations",
                Amount=Decimal(10 + n),
                Currency="USD",
                CustomerAccountNumber="1008",
            )
        )
    poller = FusionChangePoller(
        FusionPort(world.env.fusion),
        [FusionResource("standardReceipts", "StandardReceiptId", (record,))],
        page_size=3,
    )
    report = poller.poll(engine)
    assert report.read == 7
    assert report.ignored == 7
    assert seen == sorted(seen)
    cursor = poller.cursor(engine.store, "standardReceipts")
    assert cursor is not None
    assert cursor.isoformat(timespec="milliseconds").replace("+00:00", "") in seen[-1]


def test_poller_configuration_errors_name_the_problem(world: World) -> None:
    port = FusionPort(world.env.fusion)
    with pytest.raises(ConfigurationError, match="at least one Fusion resource"):
        FusionChangePoller(port, [])
    with pytest.raises(ConfigurationError, match=r"resources\.standardReceipts: no handler"):
        FusionChangePoller(port, [FusionResource("standardReceipts", "StandardReceiptId", ())])
    with pytest.raises(ConfigurationError, match="page_size"):
        FusionChangePoller(port, world.status.resources(), page_size=501)
