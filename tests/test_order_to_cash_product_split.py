"""Use case 1 with ``product_lines.several = "split"``: one Fusion AR invoice line per product
family, end to end against the emulators: the lines' amounts (the families' line item totals
scaled to the charge, rounding on the largest line), their revenue accounts (the GL rule of
each family), the explanations in the step and the plan, and one receipt for the total."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import pytest

from paysync_core import FlowState
from paysync_core.usecases._invoice_split import allocate
from paysync_core.usecases.order_to_cash import USE_CASE

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

GL = {
    "rules": [
        {"account": "01-000-4110-0000", "product_line": "Hardware"},
        {"account": "01-000-4120-0000", "product_line": "Services"},
        {"account": "01-000-4100-0000", "channel": "sales"},
    ],
    "default": "01-000-4999-0000",
}
SPLIT = {"several": "split"}


@pytest.fixture
def env(emulated: EmulatedFactory) -> Emulated:
    return emulated.for_order_to_cash(objects=("Product2", "OpportunityLineItem"))


def _opportunity(env: Emulated, amount: str, *lines: tuple[str | None, str]) -> dict[str, Any]:
    return env.closed_won_with_lines(f"Acme split {amount}", amount, *lines)


def _run(env: Emulated, opportunity: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Runs use case 1 with the split -> (the Fusion invoice, the fusion_invoice step's ids
    plus ``receipt_number``: the fusion_receipt step's)."""
    usecase = env.order_to_cash(gl=GL, product_lines=SPLIT)
    engine = env.engine([usecase.definition()])
    flow = usecase.submit_opportunity(engine, opportunity)
    assert flow is not None
    done = engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    steps = {s.name: s for s in engine.steps(flow.flow_id)}
    number = f"SF-{opportunity['Id']}"
    found = env.fusion.receivables_invoices.find_by_number(number)
    assert found is not None
    stored = env.fusion_emulator.state.get("receivablesInvoices", str(found.CustomerTransactionId))
    receipt = steps["fusion_receipt"].external_ids["receipt_number"]
    return stored, {**steps["fusion_invoice"].external_ids, "receipt_number": receipt}


def _lines(invoice: dict[str, Any]) -> list[tuple[Decimal, str]]:
    """(line amount, its REV account) per invoice line, in line order."""
    accounts = {
        d.get("InvoiceLineNumber", 1): d["AccountCombination"]  # one line: no line number
        for d in invoice["receivablesInvoiceDistributions"]
        if d["AccountClass"] == "REV"
    }
    return [
        (Decimal(str(line["LineAmount"])), accounts[line["LineNumber"]])
        for line in sorted(invoice["receivablesInvoiceLines"], key=lambda x: x["LineNumber"])
    ]


def test_two_families_make_two_lines_with_their_accounts(env: Emulated) -> None:
    opportunity = _opportunity(env, "300.00", ("Hardware", "100.00"), ("Services", "200.00"))
    invoice, ids = _run(env, opportunity)
    assert _lines(invoice) == [
        (Decimal("100.00"), "01-000-4110-0000"),
        (Decimal("200.00"), "01-000-4120-0000"),
    ]
    assert Decimal(str(invoice["EnteredAmount"])) == Decimal("300.00")
    assert ids["mapping"].startswith(
        "revenue account per invoice line (several families (Hardware 100.00, Services 200.00)"
        ": one invoice line per family)"
    )
    explained = ids["invoice_lines"]
    assert "line 1: Hardware 100.00 -> 01-000-4110-0000: GL 01-000-4110-0000 because " in explained
    assert "line 2: Services 200.00 -> 01-000-4120-0000: GL 01-000-4120-0000 because " in explained
    # one receipt for the total, applied in full: the invoice is paid
    receipt = env.fusion.standard_receipts.find_by_number(ids["receipt_number"])
    assert receipt is not None
    assert receipt.Amount == Decimal("300.00")
    assert Decimal(str(invoice["InvoiceBalanceAmount"])) == Decimal("0")


def test_odd_cents_put_the_rounding_on_the_largest_line(env: Emulated) -> None:
    # charged 10.01 for line items of 3 + 3 + 4: 3.003, 3.003, 4.004 round to 3.00, 3.00, 4.00
    opportunity = _opportunity(
        env, "10.01", ("Hardware", "3.00"), ("Services", "3.00"), ("Support", "4.00")
    )
    invoice, ids = _run(env, opportunity)
    lines = _lines(invoice)
    amounts = [amount for amount, _ in lines]
    assert sum(amounts) == Decimal("10.01")
    # the 0.01 the rounding left goes on Support, the largest line
    assert amounts == [Decimal("3.00"), Decimal("3.00"), Decimal("4.01")]
    assert [account for _, account in lines] == [
        "01-000-4110-0000",
        "01-000-4120-0000",
        "01-000-4100-0000",  # no Support rule: the channel rule
    ]
    assert (
        "= 10.00 scaled to the charge 10.01, rounding +0.01 on Support (largest line)"
        in (ids["invoice_lines"])
    )


def test_plan_shows_both_lines_and_why(env: Emulated) -> None:
    usecase = env.order_to_cash(gl=GL, product_lines=SPLIT)
    engine = env.engine([usecase.definition()])
    opportunity = _opportunity(env, "90.00", ("Hardware", "30.00"), ("Services", "60.00"))
    flow = usecase.submit_opportunity(engine, opportunity)
    assert flow is not None
    writes = engine.plan(
        USE_CASE,
        source_system="salesforce",
        source_id=opportunity["Id"],
        version=1,
        input=flow.input,
    )
    [invoice] = [w for w in writes if w.step == "fusion_invoice"]
    body = cast("dict[str, Any]", invoice.payload["body"])
    lines = cast("list[dict[str, Any]]", body["receivablesInvoiceLines"])
    assert [(line["LineNumber"], line["UnitSellingPrice"]) for line in lines] == [
        (1, "30.00"),
        (2, "60.00"),
    ]
    explained = cast("list[str]", invoice.payload["invoice_lines"])
    assert len(explained) == 2
    assert explained[0].startswith("line 1: Hardware 30.00 -> 01-000-4110-0000: ")
    assert explained[1].startswith("line 2: Services 60.00 -> 01-000-4120-0000: ")
    [receipt] = [w for w in writes if w.step == "fusion_receipt"]
    assert (
        cast("dict[str, Any]", receipt.payload["body"])["Amount"] == "90.00"
    )  # one receipt for the total


def test_one_family_with_split_keeps_one_line(env: Emulated) -> None:
    opportunity = _opportunity(env, "40.00", ("Hardware", "40.00"))
    invoice, ids = _run(env, opportunity)
    assert _lines(invoice) == [(Decimal("40.00"), "01-000-4110-0000")]
    assert "invoice_lines" not in ids


def test_allocation_sums_exactly_whatever_the_rounding_leaves() -> None:
    three = [("A", Decimal("1.00")), ("B", Decimal("1.00")), ("C", Decimal("1.00"))]
    up = allocate(Decimal("10.00"), three)  # 3.33 x 3 = 9.99: +0.01 on A (a tie: first name)
    assert [a for _, a in up.value] == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    down = allocate(Decimal("0.02"), three)  # 0.01 x 3 = 0.03: -0.01 on A
    assert [a for _, a in down.value] == [Decimal("0.00"), Decimal("0.01"), Decimal("0.01")]
    assert "rounding -0.01 on A (largest line)" in down.reason
    with pytest.raises(ValueError, match="not positive"):
        allocate(Decimal("1.00"), [("A", Decimal("0.00"))])
