"""Settlement -> GL journal mapping: accounts, fees, explanations and balance."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from paysync_core.canonical import Journal, JournalLine, SettledTransaction, SettlementBatch
from paysync_core.mapping import (
    FeeRule,
    GlRule,
    GlTable,
    ProductLineMapping,
    ProductLineRule,
    SettlementGlConfig,
    UnbalancedJournalError,
    check_balanced,
    settlement_from_paytrace,
    settlement_journal,
)
from paytrace_client.models import Batch, ExportedTransaction

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 3, 2)
CONFIG = SettlementGlConfig(
    gl=GlTable(
        rules=(
            GlRule(account="01-000-1215-0000", card_type="VISA", transaction_type="SALE"),
            GlRule(account="01-000-1216-0000", transaction_type="SALE"),
            GlRule(account="01-000-4150-0000", transaction_type="REFUND"),
        ),
        default="01-000-1299-0000",
    ),
    fees=(FeeRule(card_type="VISA", rate=Decimal("0.029"), fixed=Decimal("0.30")),),
)


def _txn(
    kind: str,
    amount: str,
    card: str = "VISA",
    tid: str = "1",
    *,
    product_line: str | None = None,
    business_unit: str | None = None,
) -> SettledTransaction:
    return SettledTransaction(
        gateway="paytrace",
        transaction_id=tid,
        transaction_type=kind,
        amount=Decimal(amount),
        card_type=card,
        product_line=product_line,
        business_unit=business_unit,
    )


def _batch(sales: str, refunds: str) -> SettlementBatch:
    return SettlementBatch(
        gateway="paytrace",
        batch_number="7",
        settled_at=datetime(2026, 3, 2, 23, tzinfo=timezone.utc),
        sale_amount=Decimal(sales),
        refund_amount=Decimal(refunds),
    )


def _sides(journal: Journal) -> dict[str, tuple[Decimal, Decimal]]:
    return {line.account: (line.debit, line.credit) for line in journal.lines}


def test_sales_fees_refunds_split_by_account_with_reasons() -> None:
    txns = [
        _txn("SALE", "100.00", tid="1"),
        _txn("SALE", "40.00", card="MASTERCARD", tid="2"),
        _txn("REFUND", "10.00", tid="3"),
    ]
    decision = settlement_journal(_batch("140.00", "10.00"), txns, CONFIG, accounting_date=DAY)
    journal = decision.value
    assert _sides(journal) == {
        "01-000-1215-0000": (Decimal("0.00"), Decimal("100.00")),
        "01-000-1216-0000": (Decimal("0.00"), Decimal("40.00")),
        "01-000-4150-0000": (Decimal("10.00"), Decimal("0.00")),
        "01-000-6150-0000": (Decimal("3.20"), Decimal("0.00")),  # 2.9% of 100 + 0.30, VISA only
        "01-000-1110-0000": (Decimal("126.80"), Decimal("0.00")),
    }
    texts = {line.account: line.description for line in journal.lines}
    assert texts["01-000-1215-0000"].startswith(
        "GL 01-000-1215-0000 because card_type VISA, transaction_type SALE, rule 1: 1 sales"
    )
    assert texts["01-000-4150-0000"].startswith(
        "GL 01-000-4150-0000 because transaction_type REFUND, rule 3"
    )
    assert "2.9% + 0.30 because card_type VISA, rule 1" in texts["01-000-6150-0000"]
    assert "net deposit of batch 7" in texts["01-000-1110-0000"]
    assert journal.accounting_date == DAY
    assert "fees 3.20" in decision.reason


def test_refunds_exceeding_sales_credit_cash() -> None:
    journal = settlement_journal(
        _batch("0.00", "25.00"), [_txn("REFUND", "25.00")], CONFIG, accounting_date=DAY
    ).value
    assert _sides(journal)["01-000-1110-0000"] == (Decimal("0.00"), Decimal("25.00"))


def test_unknown_transaction_type_is_refused() -> None:
    with pytest.raises(ValueError, match="transaction 9: transaction_type 'VOID'"):
        settlement_journal(
            _batch("0", "0"), [_txn("VOID", "1.00", tid="9")], CONFIG, accounting_date=DAY
        )


def test_check_balanced_names_the_difference() -> None:
    journal = Journal(
        ledger="L",
        accounting_date=DAY,
        source="PayTrace",
        category="Receipts",
        lines=(JournalLine(account="a", debit=Decimal("5.00")),),
    )
    with pytest.raises(UnbalancedJournalError, match=r"PT-BATCH-1: debits 5\.00 != credits 0"):
        check_balanced(journal, "PT-BATCH-1")


_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@settings(max_examples=40, deadline=None)  # fast on busy CI cores
@given(
    st.lists(
        st.tuples(st.sampled_from(["SALE", "REFUND"]), _amounts, st.sampled_from(["VISA", "AMEX"])),
        min_size=1,
        max_size=30,
    )
)
def test_every_journal_balances(rows: list[tuple[str, Decimal, str]]) -> None:
    txns = [
        _txn(kind, str(amount), card=card, tid=str(i))
        for i, (kind, amount, card) in enumerate(rows)
    ]
    journal = settlement_journal(_batch("0", "0"), txns, CONFIG, accounting_date=DAY).value
    debits = sum((line.debit for line in journal.lines), Decimal(0))
    credits = sum((line.credit for line in journal.lines), Decimal(0))
    assert debits == credits


#: Revenue split by product line and business unit (the seed's "GL 4100-200 because product
#: line X, business unit Y"): hardware by business unit, services anywhere, the rest by type.
PRODUCT_CONFIG = SettlementGlConfig(
    gl=GlTable(
        rules=(
            GlRule(account="01-100-4100-0100", product_line="Hardware", business_unit="East"),
            GlRule(account="01-200-4100-0100", product_line="Hardware", business_unit="West"),
            GlRule(account="01-000-4100-0200", product_line="Services", transaction_type="SALE"),
            GlRule(account="01-000-4150-0000", transaction_type="REFUND"),
            GlRule(account="01-000-1216-0000", transaction_type="SALE"),
        ),
        default="01-000-1299-0000",
    ),
    business_unit="East",
    fees=(FeeRule(rate=Decimal("0.03")),),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["SALE", "REFUND"]),
            _amounts,
            st.sampled_from(["VISA", "AMEX"]),
            st.sampled_from([None, "Hardware", "Services", "Other"]),
            st.sampled_from([None, "East", "West"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_journal_split_by_product_line_balances(
    rows: list[tuple[str, Decimal, str, str | None, str | None]],
) -> None:
    txns = [
        _txn(kind, str(amount), card=card, tid=str(i), product_line=line, business_unit=unit)
        for i, (kind, amount, card, line, unit) in enumerate(rows)
    ]
    journal = settlement_journal(_batch("0", "0"), txns, PRODUCT_CONFIG, accounting_date=DAY).value
    debits = sum((line.debit for line in journal.lines), Decimal(0))
    credits = sum((line.credit for line in journal.lines), Decimal(0))
    assert debits == credits
    # every transaction's amount lands on the account its own derivation names
    expected: dict[str, Decimal] = {}
    for txn in txns:
        account = PRODUCT_CONFIG.gl.derive(
            card_type=txn.card_type,
            channel=PRODUCT_CONFIG.channel,
            transaction_type=txn.transaction_type,
            product_line=txn.product_line,
            business_unit=txn.business_unit or PRODUCT_CONFIG.business_unit,
        ).value
        sign = 1 if txn.transaction_type == "SALE" else -1
        expected[account] = expected.get(account, Decimal(0)) + sign * txn.amount
    revenue: dict[str, Decimal] = {}
    for line in journal.lines:
        if line.account not in (PRODUCT_CONFIG.cash_account, PRODUCT_CONFIG.fee_account):
            revenue[line.account] = revenue.get(line.account, Decimal(0)) + line.credit - line.debit
    assert revenue == expected


def test_revenue_splits_by_product_line_and_business_unit_with_reasons() -> None:
    txns = [
        _txn("SALE", "100.00", tid="1", product_line="Hardware"),  # default BU East
        _txn("SALE", "60.00", tid="2", product_line="Hardware", business_unit="West"),
        _txn("SALE", "25.00", tid="3", product_line="Services", business_unit="West"),
        _txn("SALE", "15.00", tid="4", product_line="Services"),
        _txn("SALE", "5.00", tid="5"),
        _txn("REFUND", "10.00", tid="6", product_line="Hardware"),
    ]
    journal = settlement_journal(
        _batch("205.00", "10.00"), txns, PRODUCT_CONFIG, accounting_date=DAY
    ).value
    # fees: 3% of the 205.00 of sales; cash: 205.00 - 10.00 - 6.15
    assert [(x.account, x.debit, x.credit) for x in journal.lines] == [
        ("01-000-1216-0000", Decimal("0.00"), Decimal("5.00")),
        ("01-000-4100-0200", Decimal("0.00"), Decimal("40.00")),
        ("01-100-4100-0100", Decimal("10.00"), Decimal("0.00")),
        ("01-100-4100-0100", Decimal("0.00"), Decimal("100.00")),
        ("01-200-4100-0100", Decimal("0.00"), Decimal("60.00")),
        ("01-000-6150-0000", Decimal("6.15"), Decimal("0.00")),
        ("01-000-1110-0000", Decimal("188.85"), Decimal("0.00")),
    ]
    by_account: dict[str, list[JournalLine]] = {}
    for line in journal.lines:
        by_account.setdefault(line.account, []).append(line)
    east = by_account["01-100-4100-0100"]
    # the Hardware refund in business unit East matches rule 1 (no transaction_type key)
    assert [x.description for x in east] == [
        "GL 01-100-4100-0100 because product line Hardware, business unit East, rule 1: "
        "1 refunds 10.00",
        "GL 01-100-4100-0100 because product line Hardware, business unit East, rule 1: "
        "1 sales 100.00",
    ]
    assert by_account["01-200-4100-0100"][0].description.startswith(
        "GL 01-200-4100-0100 because product line Hardware, business unit West, rule 2: 1 sales"
    )
    services = by_account["01-000-4100-0200"][0].description
    assert services == (
        "GL 01-000-4100-0200 because transaction_type SALE, product line Services, rule 3: "
        "2 sales 40.00"
    )
    check_balanced(journal, "PT-BATCH-7")


def test_one_account_chosen_by_two_rules_names_both() -> None:
    config = SettlementGlConfig(
        gl=GlTable(
            rules=(
                GlRule(account="01-000-4100-0000", product_line="Hardware"),
                GlRule(account="01-000-4100-0000", card_type="AMEX"),
            ),
            default="01-000-1299-0000",
        )
    )
    journal = settlement_journal(
        _batch("3.00", "0"),
        [_txn("SALE", "1.00", tid="1", product_line="Hardware"), _txn("SALE", "2.00", "AMEX")],
        config,
        accounting_date=DAY,
    ).value
    text = next(x.description for x in journal.lines if x.account == "01-000-4100-0000")
    assert text == (
        "GL 01-000-4100-0000 because product line Hardware, rule 1; "
        "GL 01-000-4100-0000 because card_type AMEX, rule 2: 2 sales 3.00"
    )


def _export(
    tid: int,
    kind: str,
    amount: float,
    card: str = "VISA",
    invoice: str | None = None,
    **extra: object,
) -> ExportedTransaction:
    return ExportedTransaction.model_validate(
        {
            "transaction_id": tid,
            "transaction_type": kind,
            "amount": amount,
            "credit_card": {"masked_number": "xxxxxxxxxxxx5439", "type": card},
            "settled": "3/2/2026 3:05:00 PM",
            "invoice_id": invoice or f"INV-{tid}",
            **extra,
        },
        context={"tz": LA},
    )


def test_paytrace_batch_to_canonical() -> None:
    batch = Batch.model_validate({"number": 12, "sale_amount": 15.5, "refund_amount": 2.0})
    decision = settlement_from_paytrace(
        batch, [_export(1, "SALE", 15.5), _export(2, "REFUND", 2.0, card="MASTERCARD")]
    )
    canonical, txns = decision.value
    assert canonical.batch_number == "12"
    assert canonical.sale_amount == Decimal("15.50")
    assert canonical.refund_amount == Decimal("2.00")
    assert canonical.settled_at == datetime(2026, 3, 2, 15, 5, tzinfo=LA)
    assert [(t.transaction_type, t.amount, t.card_type) for t in txns] == [
        ("SALE", Decimal("15.50"), "VISA"),
        ("REFUND", Decimal("2.00"), "MASTERCARD"),
    ]
    assert "PayTrace batch 12: 2 transactions" in decision.reason


def test_paytrace_batch_totals_must_agree() -> None:
    batch = Batch.model_validate({"number": 3, "sale_amount": 99.0})
    with pytest.raises(ValueError, match=r"batch 3: sale_amount 99\.0 in the summary but 15\.50"):
        settlement_from_paytrace(batch, [_export(1, "SALE", 15.5)])


def test_product_line_from_invoice_prefix_with_business_unit_override() -> None:
    mapping = ProductLineMapping(
        rules=(
            ProductLineRule(prefix="HW-", product_line="Hardware"),
            ProductLineRule(prefix="SV-", product_line="Services", business_unit="West"),
        ),
        default="Other",
    )
    batch = Batch.model_validate({"number": 12})
    decision = settlement_from_paytrace(
        batch,
        [
            _export(1, "SALE", 10.0, invoice="hw-1001"),
            _export(2, "SALE", 20.0, invoice="SV-2001"),
            _export(3, "REFUND", 5.0, invoice="RF-1"),
        ],
        product_lines=mapping,
        business_unit="East",
    )
    _, txns = decision.value
    assert [(t.product_line, t.business_unit) for t in txns] == [
        ("Hardware", "East"),
        ("Services", "West"),
        ("Other", "East"),
    ]
    assert decision.reason.endswith(
        "product lines: Hardware / business unit East: 1; Other / business unit East: 1; "
        "Services / business unit West: 1"
    )
    one = mapping.classify(_export(1, "SALE", 10.0, invoice="hw-1001"))
    assert one.reason == "invoice_id 'hw-1001' starts with 'HW-', product-line rule 1"


def test_product_line_from_description_or_discretionary_data() -> None:
    by_description = ProductLineMapping(source="description", use_value=True)
    record = _export(1, "SALE", 1.0, description=" Consulting ")
    found = by_description.classify(record, business_unit="East")
    assert (found.value.product_line, found.value.business_unit) == ("Consulting", "East")
    assert found.reason == "description 'Consulting' taken as the product line"
    by_field = ProductLineMapping.model_validate(
        {
            "source": "discretionary_data",
            "field": "product_code",
            "rules": [{"prefix": "P1", "product_line": "Hardware"}],
        }
    )
    coded = _export(2, "SALE", 1.0, discretionary_data={"product_code": "P100"})
    assert by_field.classify(coded).value.product_line == "Hardware"
    missing = by_field.classify(_export(3, "SALE", 1.0))
    assert missing.value.product_line is None
    assert missing.reason == (
        "discretionary_data.product_code empty matched no product-line rule; no product line"
    )
    # without a mapping nothing changes: no product line, the default business unit
    _, txns = settlement_from_paytrace(
        Batch.model_validate({"number": 1}), [coded], business_unit="East"
    ).value
    assert (txns[0].product_line, txns[0].business_unit) == (None, "East")


def test_product_line_mapping_is_validated() -> None:
    with pytest.raises(ValidationError, match="field: required when source is"):
        ProductLineMapping.model_validate({"source": "discretionary_data"})
    with pytest.raises(ValidationError, match="field: only used with source"):
        ProductLineMapping.model_validate({"source": "invoice_id", "field": "x"})
    with pytest.raises(ValidationError, match="source"):
        ProductLineMapping.model_validate({"source": "level3"})
    with pytest.raises(ValidationError, match=r"rules\.0\.prefix"):
        ProductLineMapping.model_validate({"rules": [{"prefix": "", "product_line": "X"}]})
    with pytest.raises(ValidationError, match="business_unit"):
        SettlementGlConfig.model_validate({"business_unit": ""})
