"""Use case 1 with ``product_lines.several = "split"``: one Fusion AR invoice line per product
family, each with the revenue account its GL rule gives.

The line amounts are the families' ``OpportunityLineItem.TotalPrice`` sums scaled to the
charged amount (the charge may differ from the line items: discounts, tax, a manual Amount):
each family gets ``charge * family / total`` rounded half-even to the cent, and whatever the
rounding leaves over (a cent or two either way) goes on the largest line (ties: the first
family by name), so the lines always add up exactly to the charge, which is the invoice total
the single receipt is applied to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from oracle_fusion_client import InvoiceDistribution, InvoiceLine, NewInvoice
from paysync_core.mapping import Decision

__all__ = ["SplitLine", "allocate", "describe_lines", "split_invoice"]

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class SplitLine:
    """One invoice line: the family (``""``: line items without one), its share of the charge,
    the revenue account and why."""

    family: str
    amount: Decimal
    revenue_account: str
    reason: str


def _label(family: str) -> str:
    return family or "(no family)"


def allocate(
    charge: Decimal, families: Sequence[tuple[str, Decimal]]
) -> Decision[list[tuple[str, Decimal]]]:
    """The families' totals scaled to ``charge`` so they sum to it exactly, with the reason.

    ``families`` must have a positive sum (checked when the product lines are read)."""
    charge = charge.quantize(_CENT)
    total = sum((amount for _, amount in families), Decimal(0))
    if total <= 0:
        raise ValueError("product line split: the line items' total is not positive")
    shares = [
        (family, (charge * amount / total).quantize(_CENT, rounding=ROUND_HALF_EVEN))
        for family, amount in families
    ]
    remainder = charge - sum((share for _, share in shares), Decimal(0))
    # the largest line absorbs the rounding: proportionally the smallest distortion
    largest = min(range(len(families)), key=lambda i: (-families[i][1], families[i][0]))
    if remainder:
        family, share = shares[largest]
        shares[largest] = (family, share + remainder)
    listed = " + ".join(f"{_label(f)} {a}" for f, a in families)
    reason = f"line items {listed} = {total}"
    reason += "" if total == charge else f" scaled to the charge {charge}"
    if remainder:
        reason += f", rounding {remainder:+} on {_label(shares[largest][0])} (largest line)"
    return Decision(shares, reason)


def describe_lines(lines: Sequence[SplitLine]) -> list[str]:
    """One explanation per invoice line, in line order."""
    return [
        f"line {n}: {_label(line.family)} {line.amount} -> {line.revenue_account}: {line.reason}"
        for n, line in enumerate(lines, start=1)
    ]


def split_invoice(payload: NewInvoice, number: str, lines: Sequence[SplitLine]) -> NewInvoice:
    """``payload`` (one line, one REV distribution) with one line and REV distribution per
    family; the other distributions (the REC account) are kept."""
    others = [d for d in payload.receivablesInvoiceDistributions or () if d.AccountClass != "REV"]
    invoice_lines = [
        InvoiceLine(
            LineNumber=n,
            Description=f"Invoice {number} {_label(line.family)}",
            Quantity=Decimal(1),
            UnitSellingPrice=line.amount,
        )
        for n, line in enumerate(lines, start=1)
    ]
    revenue = [
        InvoiceDistribution(
            AccountClass="REV",
            AccountCombination=line.revenue_account,
            Percent=Decimal(100),  # of its line
            InvoiceLineNumber=n,
        )
        for n, line in enumerate(lines, start=1)
    ]
    return payload.model_copy(
        update={
            "receivablesInvoiceLines": invoice_lines,
            "receivablesInvoiceDistributions": [*revenue, *others],
        }
    )
