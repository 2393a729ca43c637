"""Settlement -> GL journal mapping: accounts, fees, explanations and balance."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paysync_core.canonical import Journal, JournalLine, SettledTransaction, SettlementBatch
from paysync_core.mapping import (
    FeeRule,
    GlRule,
    GlTable,
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


def _txn(kind: str, amount: str, card: str = "VISA", tid: str = "1") -> SettledTransaction:
    return SettledTransaction(
        gateway="paytrace",
        transaction_id=tid,
        transaction_type=kind,
        amount=Decimal(amount),
        card_type=card,
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


def _export(tid: int, kind: str, amount: float, card: str = "VISA") -> ExportedTransaction:
    return ExportedTransaction.model_validate(
        {
            "transaction_id": tid,
            "transaction_type": kind,
            "amount": amount,
            "credit_card": {"masked_number": "xxxxxxxxxxxx5439", "type": card},
            "settled": "3/2/2026 3:05:00 PM",
            "invoice_id": f"INV-{tid}",
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
