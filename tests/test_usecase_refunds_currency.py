"""Use case 3 with a Fusion ledger in another currency: the credit memo of a refund stays in
USD and carries the Fusion daily rate of its date (``ConversionRateType`` / ``ConversionDate`` /
``ConversionRate``, as Oracle's foreign-currency credit memo example); a USD ledger's memo is
unchanged; the plan shows the conversion rule. Also the credit memo's account keyed on the
refunded sale's product line and the receivables business unit. In-process emulators (mocked
only at the wire), SQLite ledger, as the other use case 3 tests.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from paysync_core import FlowState
from paysync_core.mapping import (
    CurrencyConversionConfig,
    CustomerXref,
    GlTable,
    ProductLineMapping,
)
from paysync_core.usecases import (
    RefundsConfig,
)
from paysync_core.usecases.refunds import REFUNDS_USE_CASE

if TYPE_CHECKING:
    from conftest import Clock, Emulated, WebRefundsFactory
    from conftest import WebRefunds as World

RATE = Decimal("0.9132")
EUR = CurrencyConversionConfig(ledger_currency="EUR")


class MakeWorld(Protocol):
    def __call__(self, currency: CurrencyConversionConfig, **options: Any) -> World:
        """Use cases 2 and 3 over ``env``, use case 3 with ``currency`` and ``options``."""
        ...


def _eur_ledger(world: World) -> None:
    """From now on the business unit keeps its books in EUR, with today's rate loaded."""
    for bu in world.env.fusion_emulator.state.ref["businessUnits"]:
        bu["LedgerCurrency"] = "EUR"
    world.env.seed_rate(world.clock().date(), RATE)


@pytest.fixture
def env(web_refunds: WebRefundsFactory) -> Emulated:
    return web_refunds.env()


@pytest.fixture
def make_world(web_refunds: WebRefundsFactory, env: Emulated) -> MakeWorld:
    def make(currency: CurrencyConversionConfig, **options: Any) -> World:
        config = RefundsConfig(
            accounts=CustomerXref(default_fusion_account="1008"), currency=currency, **options
        )
        return web_refunds(
            env,
            payment_columns="Id, Payment_ID__c, Account__c, Status__c",
            refunds=config,
            observe_refunds=False,
        )

    return make


def test_eur_ledger_credit_memo_carries_the_fusion_rate(
    env: Emulated, make_world: MakeWorld
) -> None:
    world = make_world(EUR)
    txn = world.settled_web_order("WEB-4001", "89.50")
    _eur_ledger(world)
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("30.00")
    )
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error

    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    number = steps["fusion_reverse"].external_ids["credit_memo_number"]
    memo = env.fusion.receivables_credit_memos.find_by_number(number)
    assert memo is not None
    assert memo.CreditMemoCurrency == "USD"  # the document stays in the transaction currency
    extra = memo.model_extra or {}
    assert extra["ConversionRateType"] == "User"
    assert Decimal(str(extra["ConversionRate"])) == RATE
    assert extra["ConversionDate"] == str(memo.TransactionDate)
    explained = steps["fusion_reverse"].external_ids["currency_conversion"]
    assert f"rate 0.9132 Corporate {memo.TransactionDate} from Fusion currencyRates" in explained
    accounted = (Decimal("30.00") * RATE).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert f"amount 30.00 USD = {accounted} EUR" in explained
    summary = steps["fusion_reverse"].request_summary["credit_memo"]
    assert "USD -> ledger EUR: Corporate rate of" in str(summary)


def test_eur_ledger_missing_rate_posts_no_credit_memo(env: Emulated, make_world: MakeWorld) -> None:
    world = make_world(EUR.model_copy(update={"missing_rate_retry_after": 0.0}))
    txn = world.settled_web_order("WEB-4002", "40.00")
    for bu in env.fusion_emulator.state.ref["businessUnits"]:
        bu["LedgerCurrency"] = "EUR"  # and no rate loaded
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("10.00")
    )
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is not FlowState.SUCCEEDED
    assert "no Corporate rate from USD to EUR on " in (done.last_error or "")
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    refund_id = steps["paytrace_reverse"].external_ids["transaction_id"]
    assert env.fusion.receivables_credit_memos.find_by_number(f"CM-{refund_id}") is None


def test_usd_ledger_credit_memo_is_unchanged(env: Emulated, make_world: MakeWorld) -> None:
    world = make_world(CurrencyConversionConfig())
    txn = world.settled_web_order("WEB-4003", "20.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ1", amount=Decimal("5.00")
    )
    assert world.engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
    memo = env.fusion.receivables_credit_memos.find_by_number(
        steps["fusion_reverse"].external_ids["credit_memo_number"]
    )
    assert memo is not None
    assert "ConversionRateType" not in (memo.model_extra or {})
    assert "currency_conversion" not in steps["fusion_reverse"].external_ids
    assert "currency_conversion" not in str(steps["fusion_reverse"].request_summary)


def test_plan_shows_the_credit_memo_conversion(
    env: Emulated, clock: Clock, make_world: MakeWorld
) -> None:
    world = make_world(EUR)
    txn = world.settled_web_order("WEB-4004", "20.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ7", amount=Decimal("5.00")
    )
    writes = {
        w.step: w.payload
        for w in world.engine.plan(
            REFUNDS_USE_CASE,
            source_system="salesforce",
            source_id="RQ7",
            version=1,
            input=flow.input,
        )
    }
    memo: Any = writes["fusion_reverse"]["credit_memo"]
    assert memo["currency_conversion"].startswith(
        f"USD -> ledger EUR: Corporate rate of {clock().date().isoformat()} read from Fusion "
        "currencyRates when the step runs"
    )


def test_credit_memo_account_keyed_on_the_sales_product_line_and_business_unit(
    env: Emulated, make_world: MakeWorld
) -> None:
    gl = GlTable.model_validate(
        {
            "default": "01-000-4999-0000",
            "rules": [
                {
                    "account": "01-100-4150-0200",
                    "product_line": "Hardware",
                    "business_unit": "Vision Operations",
                },
                {"account": "01-000-4150-0000", "transaction_type": "REFUND"},
            ],
        }
    )
    lines = ProductLineMapping.model_validate(
        {"rules": [{"prefix": "WEB-HW", "product_line": "Hardware"}]}
    )
    world = make_world(CurrencyConversionConfig(), gl=gl, product_lines=lines)
    hardware = world.settled_web_order("WEB-HW-1", "20.00")
    other = world.settled_web_order("WEB-SV-1", "20.00")
    accounts: dict[str, str] = {}
    for txn in (hardware, other):
        flow = world.refunds.submit_request(
            world.engine, world.payment(txn), request_id=f"RQ-{txn}", amount=Decimal("5.00")
        )
        assert world.engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
        steps = {s.name: s for s in world.engine.steps(flow.flow_id)}
        number = steps["fusion_reverse"].external_ids["credit_memo_number"]
        # as Fusion received it (the REST read leaves the distributions child unexpanded)
        [memo] = [
            m
            for m in env.fusion_emulator.state.records["receivablesCreditMemos"].values()
            if m["TransactionNumber"] == number
        ]
        [distribution] = memo["receivablesCreditMemoDistributions"]
        accounts[txn] = str(distribution["AccountCombination"])
        if txn == hardware:
            reverse = steps["paytrace_reverse"].external_ids
            assert reverse["product_line"] == "Hardware"
            assert "invoice_id 'WEB-HW-1' starts with 'WEB-HW'" in reverse["product_line_mapping"]
            assert "rule 1" in steps["fusion_reverse"].external_ids["mapping"]
    assert accounts == {hardware: "01-100-4150-0200", other: "01-000-4150-0000"}
