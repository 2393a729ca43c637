"""Which product line (and business unit) a settled PayTrace transaction belongs to.

The batch exports carry no Level-3 line items, so the product line is read from a field the
merchant controls: the ``invoice_id`` (an invoice-number prefix per product line is the common
convention), the ``description``, or a named ``discretionary_data`` field. The value is matched
against an ordered list of prefixes; the first match names the product line and may set the
business unit."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Self

from paysync_core.mapping._rules import Decision
from paytrace_client.models import ExportedTransaction

__all__ = ["ProductLine", "ProductLineMapping", "ProductLineRule"]

ProductLineSource = Literal["invoice_id", "description", "discretionary_data"]


class ProductLineRule(BaseModel):
    """Values starting with ``prefix`` (case-insensitive) belong to ``product_line``; with
    ``business_unit`` set, so do their GL lines (instead of the use case's default)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    prefix: str = Field(min_length=1)
    """Start of the source value (case-insensitive)."""
    product_line: str = Field(min_length=1)
    """The product line of matching transactions, as the GL rules name it."""
    business_unit: str | None = Field(default=None, min_length=1)
    """Business unit of matching transactions (unset: the use case's default)."""


class ProductLine(BaseModel):
    """A transaction's derived product line and business unit (either may be ``None``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product_line: str | None = None
    business_unit: str | None = None


class ProductLineMapping(BaseModel):
    """Where the product line comes from and how its values map (the first rule wins).

    With no rule matching, ``use_value`` takes the source value itself as the product line
    (for merchants who put the product line there verbatim); otherwise ``default`` applies
    (``None``: no product line, so only GL rules without one can match).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    source: ProductLineSource = "invoice_id"
    """The PayTrace transaction field read: ``invoice_id``, ``description`` or
    ``discretionary_data`` (with ``field``)."""
    field: str | None = Field(default=None, min_length=1)
    """The ``discretionary_data`` key (only with ``source = "discretionary_data"``)."""
    rules: tuple[ProductLineRule, ...] = ()
    """Ordered prefix rules; the first match wins."""
    use_value: bool = False
    """No rule matched: take the source value itself as the product line."""
    default: str | None = Field(default=None, min_length=1)
    """Product line when nothing else applies (unset: none)."""

    @model_validator(mode="after")
    def _field_matches_source(self) -> Self:
        if self.source == "discretionary_data" and self.field is None:
            raise ValueError("field: required when source is 'discretionary_data'")
        if self.source != "discretionary_data" and self.field is not None:
            raise ValueError(
                f"field: only used with source 'discretionary_data', not {self.source!r}"
            )
        return self

    def _value(self, record: ExportedTransaction) -> tuple[str, str | None]:
        if self.source == "invoice_id":
            return "invoice_id", record.invoice_id
        if self.source == "description":
            return "description", record.description
        raw = (record.discretionary_data or {}).get(self.field or "")
        return f"discretionary_data.{self.field}", None if raw is None else str(raw)

    def classify(
        self, record: ExportedTransaction, *, business_unit: str | None = None
    ) -> Decision[ProductLine]:
        """The product line of ``record``; ``business_unit`` is the default one."""
        name, raw = self._value(record)
        value = (raw or "").strip()
        folded = value.casefold()
        for number, rule in enumerate(self.rules, start=1):
            if value and folded.startswith(rule.prefix.casefold()):
                unit = rule.business_unit or business_unit
                why = f"{name} {value!r} starts with {rule.prefix!r}, product-line rule {number}"
                if rule.business_unit:
                    why += f" (business unit {rule.business_unit})"
                return Decision(
                    ProductLine(product_line=rule.product_line, business_unit=unit), why
                )
        if value and self.use_value:
            return Decision(
                ProductLine(product_line=value, business_unit=business_unit),
                f"{name} {value!r} taken as the product line",
            )
        shown = repr(value) if value else "empty"
        if self.default is not None:
            return Decision(
                ProductLine(product_line=self.default, business_unit=business_unit),
                f"{name} {shown} matched no product-line rule; default {self.default}",
            )
        return Decision(
            ProductLine(business_unit=business_unit),
            f"{name} {shown} matched no product-line rule; no product line",
        )
