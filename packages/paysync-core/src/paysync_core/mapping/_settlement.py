"""Settlement batch -> GL journal (use case 6): each line's account chosen by the GL table,
fees by a fee schedule, every line carrying its explanation; the journal must balance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from paysync_core.canonical import Journal, JournalLine, SettledTransaction, SettlementBatch
from paysync_core.mapping._product_lines import ProductLineMapping
from paysync_core.mapping._rules import Decision, GlRule, GlTable

__all__ = [
    "FeeRule",
    "SettlementGlConfig",
    "UnbalancedJournalError",
    "check_balanced",
    "settlement_journal",
]

_CENT = Decimal("0.01")


class UnbalancedJournalError(ValueError):
    """A journal whose debits and credits differ (never uploaded)."""

    def __init__(self, name: str, debits: Decimal, credits: Decimal) -> None:
        super().__init__(
            f"journal {name}: debits {debits} != credits {credits} (difference {debits - credits})"
        )
        self.debits = debits
        self.credits = credits


class FeeRule(BaseModel):
    """Processing fee for transactions matching ``card_type`` (``None``: any): ``rate`` of each
    sale plus ``fixed`` per sale. The first matching rule wins."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    card_type: str | None = None
    """Card type the rule applies to (unset: any)."""
    rate: Decimal = Field(default=Decimal(0), ge=Decimal(0), lt=Decimal(1))
    """Fee as a share of each sale (``0.029`` is 2.9%)."""
    fixed: Decimal = Field(default=Decimal(0), ge=Decimal(0))
    """Fixed fee per sale."""


class SettlementGlConfig(BaseModel):
    """Accounts and names of the settlement journal (validated like the TOML config will be).

    ``gl`` derives the account of sales (``transaction_type`` SALE) and refunds (REFUND) from
    the card type, ``channel``, product line and business unit; the net deposit goes to
    ``cash_account`` and fees to ``fee_account``. ``product_lines`` says where a transaction's
    product line comes from (none by default); ``business_unit`` is the business unit of every
    transaction whose product-line rule names none.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    ledger: str = "US Primary Ledger"
    """Fusion ledger name of the journal."""
    ledger_id: int = 1
    """Fusion ledger id of the journal."""
    source: str = "PayTrace"
    """Journal source name of the import."""
    category: str = "Receipts"
    """Journal category name of the import."""
    channel: str = "paytrace"
    """Channel the GL rules see for settled transactions."""
    cash_account: str = "01-000-1110-0000"
    """Account debited with the net deposit."""
    fee_account: str = "01-000-6150-0000"
    """Account debited with processing fees."""
    gl: GlTable = GlTable(
        rules=(
            GlRule(account="01-000-1215-0000", transaction_type="SALE"),
            GlRule(account="01-000-4150-0000", transaction_type="REFUND"),
        ),
        default="01-000-1299-0000",
    )
    """Derives the account of sales (SALE) and refunds (REFUND)."""
    fees: tuple[FeeRule, ...] = ()
    """Processing fee rules, one ``[[...fees]]`` table each (none: no fee lines)."""
    product_lines: ProductLineMapping = ProductLineMapping()
    """Where a transaction's product line comes from (none by default)."""
    business_unit: str | None = Field(default=None, min_length=1)
    """Business unit of every transaction whose product-line rule names none."""
    batch_name_prefix: str = Field(default="PT-BATCH-", max_length=20)
    """Journal batch name prefix, followed by the PayTrace batch number."""

    def batch_name(self, batch_number: str) -> str:
        """The journal batch name (``REFERENCE1``), the correlation of the import."""
        return f"{self.batch_name_prefix}{batch_number}"


def _fee(rules: Sequence[FeeRule], txn: SettledTransaction) -> Decision[Decimal]:
    card = (txn.card_type or "").upper()
    for number, rule in enumerate(rules, start=1):
        if rule.card_type is None or rule.card_type.upper() == card:
            amount = (txn.amount * rule.rate + rule.fixed).quantize(_CENT, ROUND_HALF_UP)
            what = f"card_type {card}" if rule.card_type else "any card"
            return Decision(
                amount,
                f"{(rule.rate * 100).normalize():f}% + {rule.fixed} because {what}, rule {number}",
            )
    return Decision(Decimal("0.00"), "no fee rule matched")


def settlement_journal(
    batch: SettlementBatch,
    transactions: Sequence[SettledTransaction],
    config: SettlementGlConfig,
    *,
    accounting_date: date,
) -> Decision[Journal]:
    """The journal of one batch: credits for sales and debits for refunds, one line per GL
    account (so revenue splits by product line / business unit when the GL table keys on
    them); a debit per fee account; the net deposit debited to cash. Checked balanced."""
    sides: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    # insertion-ordered: every rule that chose the account is named, in the order first seen
    reasons: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    fees: dict[str, Decimal] = defaultdict(Decimal)
    fee_reasons: dict[str, set[str]] = defaultdict(set)
    deposit = Decimal("0.00")
    for txn in transactions:
        kind = txn.transaction_type.upper()
        if kind not in ("SALE", "REFUND"):
            raise ValueError(
                f"transaction {txn.transaction_id}: transaction_type {kind!r} is not SALE or REFUND"
            )
        gl = config.gl.derive(
            card_type=txn.card_type,
            channel=config.channel,
            transaction_type=kind,
            product_line=txn.product_line,
            business_unit=txn.business_unit or config.business_unit,
        )
        key = (gl.value, kind)
        sides[key] += txn.amount
        counts[key] += 1
        reasons[key][gl.reason] = None
        if kind == "SALE":
            deposit += txn.amount
            fee = _fee(config.fees, txn)
            if fee.value:
                fees[config.fee_account] += fee.value
                fee_reasons[config.fee_account].add(fee.reason)
                deposit -= fee.value
        else:
            deposit -= txn.amount
    lines: list[JournalLine] = []
    for (account, kind), amount in sorted(sides.items()):
        label = "sales" if kind == "SALE" else "refunds"
        why = "; ".join(reasons[(account, kind)])
        text = f"{why}: {counts[(account, kind)]} {label} {amount}"
        if kind == "SALE":
            lines.append(JournalLine(account=account, credit=amount, description=text))
        else:
            lines.append(JournalLine(account=account, debit=amount, description=text))
    for account, amount in sorted(fees.items()):
        why = "; ".join(sorted(fee_reasons[account]))
        lines.append(
            JournalLine(
                account=account,
                debit=amount,
                description=f"GL {account} because processing fees ({why}): {amount}",
            )
        )
    cash_text = f"GL {config.cash_account} because net deposit of batch {batch.batch_number}"
    if deposit >= 0:
        lines.append(JournalLine(account=config.cash_account, debit=deposit, description=cash_text))
    else:  # refunds exceeded sales: the processor debits the bank account
        lines.append(
            JournalLine(account=config.cash_account, credit=-deposit, description=cash_text)
        )
    journal = Journal(
        ledger=config.ledger,
        accounting_date=accounting_date,
        currency=batch.currency,
        source=config.source,
        category=config.category,
        lines=tuple(line for line in lines if line.debit or line.credit),
    )
    check_balanced(journal, config.batch_name(batch.batch_number))
    reason = (
        f"batch {batch.batch_number}: {len(transactions)} transactions, sales "
        f"{batch.sale_amount}, refunds {batch.refund_amount}, fees {sum(fees.values(), Decimal(0))}"
    )
    return Decision(journal, reason)


def check_balanced(journal: Journal, name: str) -> None:
    """Raise :class:`UnbalancedJournalError` unless debits equal credits (and are not zero)."""
    debits = sum((line.debit for line in journal.lines), Decimal("0.00"))
    credits = sum((line.credit for line in journal.lines), Decimal("0.00"))
    if debits != credits:
        raise UnbalancedJournalError(name, debits, credits)
    if not journal.lines:
        raise ValueError(f"journal {name} has no lines")
