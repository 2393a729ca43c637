"""PayTrace batch exports -> canonical settlement batch and settled transactions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from paysync_core.canonical import SettledTransaction, SettlementBatch
from paysync_core.mapping._product_lines import ProductLineMapping
from paysync_core.mapping._rules import Decision
from paytrace_client.models import Batch, ExportedTransaction

__all__ = ["settlement_from_paytrace"]

#: PayTrace transaction types that put money into a batch (a captured authorization settles
#: as a sale) and those that take it out.
_CENT = Decimal("0.01")
_SALE_TYPES = frozenset({"SALE", "AUTHORIZATION", "STR/FWD", "CAPTURE"})
_REFUND_TYPES = frozenset({"REFUND"})


def settlement_from_paytrace(
    batch: Batch,
    records: Sequence[ExportedTransaction],
    *,
    product_lines: ProductLineMapping | None = None,
    business_unit: str | None = None,
) -> Decision[tuple[SettlementBatch, tuple[SettledTransaction, ...]]]:
    """``batches/export_one`` + ``batches/transaction_list`` -> canonical batch + transactions.

    With ``product_lines``, each transaction gets the product line (and business unit) that
    mapping derives from it; ``business_unit`` is the default business unit. The reason counts
    the transactions per product line and business unit.

    The batch's own totals (extra fields, when PayTrace sends them) must agree with the sum of
    its transactions; a disagreement raises rather than post a wrong journal.
    """
    if batch.number is None:
        raise ValueError("batch.number is missing from the batch export")
    transactions: list[SettledTransaction] = []
    settled: list[datetime] = []
    derivations: Counter[str] = Counter()
    for record in records:
        kind = (record.transaction_type or "").upper()
        if kind in _SALE_TYPES:
            canonical_kind = "SALE"
        elif kind in _REFUND_TYPES:
            canonical_kind = "REFUND"
        else:
            raise ValueError(
                f"transaction {record.transaction_id}: transaction_type {kind or '-'} "
                f"cannot be settled in batch {batch.number}"
            )
        if record.amount is None:
            raise ValueError(f"transaction {record.transaction_id}: amount is missing")
        card = record.credit_card
        line = None
        if product_lines is not None:
            line = product_lines.classify(record, business_unit=business_unit)
            # counted per outcome, not per reason: a reason names the transaction's own value
            found = line.value
            derivations[
                f"{found.product_line or 'none'} / business unit {found.business_unit or '-'}"
            ] += 1
        transactions.append(
            SettledTransaction(
                gateway="paytrace",
                transaction_id=str(record.transaction_id),
                transaction_type=canonical_kind,
                amount=record.amount.quantize(_CENT),  # exports carry JSON numbers
                card_type=(card.type or None) if card is not None else None,
                invoice_id=record.invoice_id,
                settled_at=record.settled,
                product_line=line.value.product_line if line else None,
                business_unit=line.value.business_unit if line else business_unit,
            )
        )
        if record.settled is not None:
            settled.append(record.settled)
    if not settled:
        raise ValueError(f"batch {batch.number} has no settled transaction with a timestamp")
    sales = sum((t.amount for t in transactions if t.transaction_type == "SALE"), Decimal("0.00"))
    refunds = sum(
        (t.amount for t in transactions if t.transaction_type == "REFUND"), Decimal("0.00")
    )
    extra = batch.model_extra or {}
    for field, ours in (("sale_amount", sales), ("refund_amount", refunds)):
        theirs = extra.get(field)
        if theirs is not None and Decimal(str(theirs)) != ours:
            raise ValueError(
                f"batch {batch.number}: {field} {theirs} in the summary but {ours} in its "
                "transactions"
            )
    canonical = SettlementBatch(
        gateway="paytrace",
        batch_number=str(batch.number),
        settled_at=max(settled),
        sale_amount=sales,
        refund_amount=refunds,
    )
    reason = (
        f"PayTrace batch {batch.number}: {len(transactions)} transactions, "
        f"sales {sales}, refunds {refunds}"
    )
    if derivations:
        reason += "; product lines: " + "; ".join(
            f"{what}: {count}" for what, count in sorted(derivations.items())
        )
    return Decision((canonical, tuple(transactions)), reason)
