"""Use case 1: the product line of an Opportunity, from its line items, for GL rules.

GL rules can key on ``product_line`` (:class:`~paysync_core.mapping.GlRule`); with
``[usecases.order_to_cash.product_lines]`` set (opt-in: the org must sell through products,
else the queries fail), use case 1 reads it from the Opportunity's ``OpportunityLineItem``
rows and their ``Product2.Family``:

* no line items: no product line, the rules that need one do not match;
* every line of one family: that family;
* several families: ``several`` decides: ``default`` uses ``default_product_line`` (none: no
  product line), ``largest`` uses the family with the largest ``TotalPrice`` (ties: the first
  family by name), ``split`` books one invoice line per family (amounts scaled to the charge,
  each line's revenue account from the rules keyed on its family; see ``_invoice_split``).

The product line is read once, at submit, and stored with the flow (with its explanation), so
a re-run or ``paysync replay`` sees the same value even if the products change later.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from paysync_core.mapping import Decision
from paysync_core.ports import SalesforcePort

__all__ = ["OpportunityProductLines"]

_LINES_SOQL = (
    "SELECT Id, Product2Id, TotalPrice FROM OpportunityLineItem WHERE OpportunityId = {} "
    "ORDER BY Id LIMIT 500"
)
_PRODUCT_SOQL = "SELECT Id, Family FROM Product2 WHERE Id = {}"


def _amount(value: object) -> Decimal:
    try:
        # Salesforce sends currency as JSON numbers (100.0): shown as money
        amount = Decimal(str(value)) if value not in (None, "") else Decimal(0)
        return amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal(0)


class OpportunityProductLines(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    several: Literal["default", "largest", "split"] = "default"
    """When the lines span several families: ``default`` uses ``default_product_line``;
    ``largest`` the family with the largest total; ``split`` one Fusion invoice line per family
    (its share of the charge, its own GL rule)."""
    default_product_line: str | None = Field(default=None)
    """The product line of an Opportunity whose lines span several families (``several =
    "default"``); none: no product line, only rules without ``product_line`` match."""

    def stored(self, salesforce: SalesforcePort, opportunity_id: str) -> dict[str, object]:
        """What the flow stores: ``value`` and ``reason`` (:meth:`derive`), and with ``several =
        "split"`` and several families, ``split``: ``[[family, total], ...]`` by family name
        (``""``: line items without a family)."""
        families = self._families(salesforce, opportunity_id)
        line = self._decide(opportunity_id, families)
        stored: dict[str, object] = {"value": line.value, "reason": line.reason}
        if self.several == "split" and len(families) > 1 and any(families):
            listed = ", ".join(f"{f or '(none)'} {t}" for f, t in sorted(families.items()))
            if sum(families.values(), Decimal(0)) > 0:
                stored["split"] = [[f, str(t)] for f, t in sorted(families.items())]
                stored["reason"] = f"several families ({listed}): one invoice line per family"
            else:  # nothing to scale the charge by: one line, rules without product_line
                stored["reason"] = f"no product line: several families ({listed}), total not > 0"
        return stored

    def derive(self, salesforce: SalesforcePort, opportunity_id: str) -> Decision[str | None]:
        """The Opportunity's product line, with the reason."""
        return self._decide(opportunity_id, self._families(salesforce, opportunity_id))

    def _families(self, salesforce: SalesforcePort, opportunity_id: str) -> dict[str, Decimal]:
        families: dict[str, Decimal] = {}
        for line in salesforce.records(_LINES_SOQL, opportunity_id):
            family = self._family(salesforce, line)
            families[family] = families.get(family, Decimal(0)) + _amount(line.get("TotalPrice"))
        return families

    def _decide(self, opportunity_id: str, families: dict[str, Decimal]) -> Decision[str | None]:
        if not families:
            return Decision(None, f"Opportunity {opportunity_id} has no line items")
        named = {f: total for f, total in families.items() if f}
        listed = ", ".join(f"{f or '(none)'} {t}" for f, t in sorted(families.items()))
        if len(named) == 1 and len(families) == 1:
            (family,) = named
            return Decision(family, f"product line {family}: every line item's Product2.Family")
        if not named:
            return Decision(None, f"no Product2.Family on the line items ({listed})")
        if self.several == "largest":
            family = max(sorted(named), key=lambda f: named[f])
            return Decision(family, f"product line {family}: the largest family of ({listed})")
        if self.default_product_line:
            return Decision(
                self.default_product_line,
                f"product line {self.default_product_line}: several families ({listed}), "
                "default_product_line",
            )
        return Decision(None, f"no product line: several families ({listed}) and no default")

    @staticmethod
    def _family(salesforce: SalesforcePort, line: Mapping[str, Any]) -> str:
        product = line.get("Product2Id")
        if not product:
            return ""
        rows = salesforce.records(_PRODUCT_SOQL, str(product))
        return str(rows[0].get("Family") or "").strip() if rows else ""
