"""Currency conversion end to end (issue 8 §2): PayTrace settles in USD; a Fusion ledger in
EUR gets the Fusion daily rate (``currencyRates``) on the GL journal (use case 6) and on the
receipt and invoice (use case 1). A missing rate retries, then dead-letters with the pair,
date and type as evidence, and nothing is posted; a USD ledger is unchanged.

The emulators run in-process (mocked only at the wire); the ledger is SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import DeadLetterQueue, Engine, FlowState, RetryPolicy, StepState
from paysync_core.mapping import (
    CurrencyConversionConfig,
    SettlementGlConfig,
    VaultXref,
)
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import (
    EcommerceConfig,
    EcommerceOrderToCash,
    OrderToCash,
    PayTraceActivityPoller,
    SettlementToGl,
    SettlementToGlConfig,
)
from paytrace_client import CreditCard

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Clock, Emulated, EmulatedFactory

FUSION_URL = "https://fusion.emulator"
PAYTRACE_CONTROL = "http://paytrace-emulator.invalid/__emulator__"
VISA = "4012000098765439"  # PayTrace's public sandbox card; only ever given to the emulator
EUR = CurrencyConversionConfig(ledger_currency="EUR", missing_rate_retry_after=5.0)
RATE = Decimal("0.9132")
#: retries sleep (never park) so one ``run_flow`` goes to success or the dead-letter queue
POLICY = RetryPolicy(max_attempts=3, base_delay=0.0, jitter=0.0, park_after=1e6)


def _around_today() -> list[date]:
    today = datetime.now(timezone.utc).date()
    return [today + timedelta(days=d) for d in (-1, 0, 1)]


def _eur(amount: Decimal, rate: Decimal = RATE) -> Decimal:
    return (amount * rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


# -- use case 6: the settlement journal ------------------------------------------------------


@dataclass
class GlWorld:
    env: Emulated
    usecase: SettlementToGl
    engine: Engine

    def settle_sales(self, *amounts: str) -> int:
        for n, amount in enumerate(amounts):
            card = CreditCard(number=VISA, expiration_month=12, expiration_year=2030, csc="999")
            self.env.paytrace.transactions.sale_keyed(Decimal(amount), card, invoice_id=f"INV-{n}")
        reply = self.env.paytrace_emulator.session().post(f"{PAYTRACE_CONTROL}/settle", json={})
        number = reply.json()["batch_number"]
        assert isinstance(number, int)
        return number

    def journal_rows(self) -> list[list[str]]:
        state: dict[str, Any] = self.env.fusion.http.session.get(
            f"{FUSION_URL}/__emulator__/state"
        ).json()
        return state["glJournalLines"]


def _gl_world(
    env: Emulated,
    currency: CurrencyConversionConfig,
    *,
    ledger_currency: str,
    on_sleep: Callable[[], None] = lambda: None,
) -> GlWorld:
    # Fusion's ledger 1 keeps its books in ``ledger_currency``: foreign lines need conversions
    env.fusion_emulator.state.ref["ledgers"] = [
        {"LedgerId": 1, "Name": "Primary Ledger", "CurrencyCode": ledger_currency}
    ]
    usecase = SettlementToGl(
        paytrace=PayTracePort(env.paytrace),
        fusion=FusionPort(env.fusion),
        config=SettlementToGlConfig(gl=SettlementGlConfig(ledger_id=1), currency=currency),
        sleep=lambda _s: None,
    )

    def engine_sleep(_seconds: float) -> None:
        on_sleep()
        for request_id in list(env.fusion_emulator.state.jobs):  # Fusion runs the import
            env.fusion.erp_integrations.wait_for_job(request_id, sleep=lambda _: None)

    engine = env.engine([usecase.definition()], policy=POLICY, sleep=engine_sleep)
    return GlWorld(env, usecase, engine)


def _accounting_date(flow_input: Any) -> str:
    return str(flow_input["journal"]["accounting_date"])


def test_eur_ledger_journal_carries_the_fusion_rate_and_accounted_amounts(
    emulated: EmulatedFactory,
) -> None:
    world = _gl_world(emulated(), EUR, ledger_currency="EUR")
    number = world.settle_sales("100.00", "33.33", "0.05")
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    day = _accounting_date(flow.input)
    world.env.seed_rate(day, RATE)

    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    rows = world.journal_rows()
    assert rows
    fbdi_day = day.replace("-", "/")
    for row in rows:
        assert row[5] == "USD"  # the journal stays in the transaction currency
        assert row[63:66] == ["User", fbdi_day, "0.9132"]
        entered = Decimal(row[38] or row[39])
        accounted = Decimal(row[40] or row[41])
        assert abs(accounted - _eur(entered)) <= Decimal("0.01")  # rounding difference, if any
        assert bool(row[38]) == bool(row[40])  # debit stays debit
    accounted_dr = sum((Decimal(r[40] or 0) for r in rows), Decimal(0))
    accounted_cr = sum((Decimal(r[41] or 0) for r in rows), Decimal(0))
    assert accounted_dr == accounted_cr == _eur(Decimal("133.38"))
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    explained = steps["journal_import"].external_ids["currency_conversion"]
    assert f"rate 0.9132 Corporate {day} from Fusion currencyRates" in explained
    assert "rounded half-even to 2 decimals" in explained
    summary = steps["journal_import"].request_summary
    assert "USD -> ledger EUR" in str(summary["currency_conversion"])
    [batch] = world.env.fusion_emulator.state.records["journalBatches"].values()
    assert batch["RunningTotalAccountedDr"] == accounted_dr


def test_missing_rate_retries_then_dead_letters_with_evidence_and_posts_nothing(
    emulated: EmulatedFactory,
) -> None:
    world = _gl_world(emulated(), EUR, ledger_currency="EUR")
    number = world.settle_sales("20.00")
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    day = _accounting_date(flow.input)

    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.DEAD
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["journal_import"].state is StepState.DEAD
    assert steps["journal_import"].attempts == POLICY.max_attempts  # retried first
    [entry] = DeadLetterQueue(world.env.ledger).list()
    assert entry.step_name == "journal_import"
    error = entry.last_error or ""
    assert f"no Corporate rate from USD to EUR on {day} in Fusion currencyRates" in error
    assert "nothing posted" in error
    assert world.env.fusion_emulator.state.jobs == {}  # no journal uploaded
    assert world.journal_rows() == []


def test_rate_loaded_later_in_the_day_lets_the_retry_post(emulated: EmulatedFactory) -> None:
    env = emulated()
    day_box: list[str] = []

    def rates_arrive() -> None:
        if day_box:
            env.seed_rate(day_box[0], RATE)

    world = _gl_world(env, EUR, ledger_currency="EUR", on_sleep=rates_arrive)
    number = world.settle_sales("10.00")
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    day_box.append(_accounting_date(flow.input))

    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert steps["journal_import"].attempts == 2  # the first found no rate
    assert {r[65] for r in world.journal_rows()} == {"0.9132"}


def test_usd_ledger_journal_is_unchanged(emulated: EmulatedFactory) -> None:
    world = _gl_world(emulated(), CurrencyConversionConfig(), ledger_currency="USD")
    number = world.settle_sales("12.34")
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    rows = world.journal_rows()
    assert all(r[63:66] == ["", "", ""] for r in rows)  # no conversion columns
    assert all(r[40] == r[41] == "" for r in rows)  # no accounted amounts
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    assert "currency_conversion" not in steps["journal_import"].external_ids
    assert "currency_conversion" not in steps["journal_import"].request_summary


def test_eur_ledger_journal_without_conversion_is_refused_by_fusion(
    emulated: EmulatedFactory,
) -> None:
    """The emulator holds a foreign-currency journal to Fusion's rule: without the
    conversion (here: the ledger misconfigured as USD) the import ends in ERROR."""
    world = _gl_world(emulated(), CurrencyConversionConfig(), ledger_currency="EUR")
    number = world.settle_sales("12.34")
    flow = world.usecase.submit_batch(world.engine, number)
    assert flow is not None
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.DEAD
    [entry] = DeadLetterQueue(world.env.ledger).list()
    assert "a foreign currency journal needs a conversion rate type" in (entry.last_error or "")


# -- use case 1: the invoice and the receipt -------------------------------------------------


def _order_to_cash(env: Emulated, currency: CurrencyConversionConfig) -> tuple[OrderToCash, Engine]:
    usecase = env.order_to_cash(currency=currency)
    return usecase, env.engine([usecase.definition()], policy=POLICY)


@pytest.fixture
def sf_env(emulated: EmulatedFactory) -> Emulated:
    return emulated.for_order_to_cash()


def test_eur_ledger_receipt_and_invoice_carry_the_fusion_rate(sf_env: Emulated) -> None:
    for bu in sf_env.fusion_emulator.state.ref["businessUnits"]:
        bu["LedgerCurrency"] = "EUR"
    usecase, engine = _order_to_cash(sf_env, EUR)
    opp = sf_env.closed_won("Acme EUR", "149.99", sf_env.account_id())
    for day in _around_today():  # the invoice is dated the charge's day in the ledger zone
        sf_env.seed_rate(day, RATE)
    flow = usecase.submit_opportunity(engine, opp)
    assert flow is not None
    done = engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    steps = {s.name: s for s in engine.steps(flow.flow_id)}
    number = steps["fusion_receipt"].external_ids["receipt_number"]
    receipt = sf_env.fusion.standard_receipts.find_by_number(number)
    assert receipt is not None
    assert (receipt.Currency, receipt.Amount) == ("USD", Decimal("149.99"))
    assert (receipt.ConversionRateType, receipt.ConversionRate) == ("User", RATE)
    assert receipt.ConversionDate == receipt.ReceiptDate
    assert receipt.AccountedAmount == _eur(Decimal("149.99")) == Decimal("136.97")
    assert receipt.UnappliedAmount == Decimal("0.00")  # applied to the USD invoice
    invoice = sf_env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}")
    assert invoice is not None
    assert (invoice.InvoiceCurrencyCode, invoice.ConversionRate) == ("USD", RATE)
    explained = steps["fusion_receipt"].external_ids["currency_conversion"]
    assert f"rate 0.9132 Corporate {receipt.ReceiptDate} from Fusion currencyRates" in explained
    assert "amount 149.99 USD = 136.97 EUR" in explained


def test_eur_ledger_missing_rate_dead_letters_before_any_fusion_document(
    sf_env: Emulated,
) -> None:
    for bu in sf_env.fusion_emulator.state.ref["businessUnits"]:
        bu["LedgerCurrency"] = "EUR"
    usecase, engine = _order_to_cash(sf_env, EUR)
    opp = sf_env.closed_won("Acme no rate", "20.00", sf_env.account_id())
    flow = usecase.submit_opportunity(engine, opp)
    assert flow is not None
    done = engine.run_flow(flow.flow_id)
    assert done.state is FlowState.DEAD
    [entry] = DeadLetterQueue(sf_env.ledger).list()
    assert entry.step_name == "fusion_invoice"
    assert "no Corporate rate from USD to EUR on " in (entry.last_error or "")
    assert sf_env.fusion.receivables_invoices.find_by_number(f"SF-{opp['Id']}") is None


def test_usd_ledger_receipt_payload_is_unchanged(sf_env: Emulated) -> None:
    usecase, engine = _order_to_cash(sf_env, CurrencyConversionConfig())
    opp = sf_env.closed_won("Acme USD", "10.00", sf_env.account_id())
    flow = usecase.submit_opportunity(engine, opp)
    assert flow is not None
    assert engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    steps = {s.name: s for s in engine.steps(flow.flow_id)}
    receipt = sf_env.fusion.standard_receipts.find_by_number(
        steps["fusion_receipt"].external_ids["receipt_number"]
    )
    assert receipt is not None
    assert (receipt.ConversionRateType, receipt.ConversionRate) == (None, None)
    assert "currency_conversion" not in steps["fusion_receipt"].external_ids


# -- use case 2: the web order's invoice and receipt -----------------------------------------


def test_eur_ledger_web_order_receipt_carries_the_fusion_rate(
    emulated: EmulatedFactory, clock: Clock
) -> None:
    env = emulated(
        {
            "Payment__c": ("Card_Type__c", "Vault_Customer_ID__c", "Status_Reason__c"),
            "Order": ("Fulfillment_Status__c",),
        }
    )
    for bu in env.fusion_emulator.state.ref["businessUnits"]:
        bu["LedgerCurrency"] = "EUR"
    for day in _around_today():
        env.seed_rate(day, RATE)
    account = env.account_id()
    usecase = EcommerceOrderToCash(
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=EcommerceConfig(
            xref=VaultXref(default_salesforce_account=account, default_fusion_account="1008"),
            currency=EUR,
        ),
    )
    policy = RetryPolicy(lookup_delays=(60.0, 600.0, 3600.0))  # parks until shipped
    engine = env.engine([usecase.definition()], policy=policy, clock=clock)
    poller = PayTraceActivityPoller(PayTracePort(env.paytrace), [usecase.submit_sale], clock=clock)
    txn = env.web_sale("WEB-EUR-1", "89.50")
    polled = poller.poll(engine)
    assert len(polled.submitted) == 1
    engine.run_pending(max_workers=1)  # booked, waiting for the shipment
    env.ship(txn)
    clock.advance(61)
    done = engine.run_pending(max_workers=1)
    assert done.succeeded == polled.submitted

    receipt = env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert (receipt.Currency, receipt.Amount) == ("USD", Decimal("89.50"))
    assert (receipt.ConversionRateType, receipt.ConversionRate) == ("User", RATE)
    assert receipt.AccountedAmount == _eur(Decimal("89.50")) == Decimal("81.73")
    assert receipt.UnappliedAmount == Decimal("0.00")
    invoice = env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert invoice is not None
    assert invoice.ConversionRate == RATE
