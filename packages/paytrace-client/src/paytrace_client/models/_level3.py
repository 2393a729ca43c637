"""Level 2/3 ("enhanced") data for ``level_three/visa`` and ``level_three/mastercard``.

Field names are PayTrace's (reference 3.1). Money fields here may be zero (a line item with no
discount), unlike sale amounts, so they go through ``format_non_negative_amount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from paytrace_client._errors import PayTraceInputError
from paytrace_client._wire import format_non_negative_amount

from ._address import Address
from ._validate import optional_text

__all__ = ["AmountInput", "Level3Data", "Level3LineItem"]

#: What callers may pass as money: never a float (binary fractions are not cents).
AmountInput = Decimal | int | str


def _money(body: dict[str, Any], key: str, value: AmountInput | None, prefix: str) -> None:
    if value is not None:
        body[key] = format_non_negative_amount(value, field=f"{prefix}{key}")


def _number(body: dict[str, Any], key: str, value: Decimal | int | None, prefix: str) -> None:
    """Rates and quantities: any non-negative decimal, sent as a plain string (``"8.25"``)."""
    if value is None:
        return
    if isinstance(value, (bool, float)):
        raise PayTraceInputError(f"{prefix}{key}", "must be a Decimal or int, never a float")
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise PayTraceInputError(f"{prefix}{key}", f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise PayTraceInputError(f"{prefix}{key}", f"must be a non-negative number, got {value}")
    body[key] = format(number, "f")


def _text(body: dict[str, Any], key: str, value: str | None, prefix: str) -> None:
    text = optional_text(value, f"{prefix}{key}")
    if text is not None:
        body[key] = text


def _flag(body: dict[str, Any], key: str, value: bool | None) -> None:
    if value is not None:
        body[key] = value


@dataclass(frozen=True)
class Level3LineItem:
    """One ``line_items[]`` entry; only the fields that are set are sent."""

    description: str | None = None
    product_id: str | None = None
    commodity_code: str | None = None
    quantity: Decimal | int | None = None
    unit_of_measure: str | None = None
    unit_cost: AmountInput | None = None
    amount: AmountInput | None = None
    discount_amount: AmountInput | None = None
    discount_rate: Decimal | int | None = None
    discount_included: bool | None = None
    tax_included: bool | None = None
    additional_tax_amount: AmountInput | None = None
    additional_tax_rate: Decimal | int | None = None
    additional_tax_included: bool | None = None
    merchant_tax_id: str | None = None
    debit_or_credit: Literal["D", "C"] | None = None

    def __post_init__(self) -> None:
        self.to_wire()  # validate eagerly, so a bad item fails where it is built

    def to_wire(self, index: int | None = None) -> dict[str, Any]:
        prefix = "line_items." if index is None else f"line_items[{index}]."
        body: dict[str, Any] = {}
        for key in ("description", "product_id", "commodity_code", "unit_of_measure"):
            _text(body, key, getattr(self, key), prefix)
        _number(body, "quantity", self.quantity, prefix)
        _money(body, "unit_cost", self.unit_cost, prefix)
        _money(body, "amount", self.amount, prefix)
        _money(body, "discount_amount", self.discount_amount, prefix)
        _number(body, "discount_rate", self.discount_rate, prefix)
        _flag(body, "discount_included", self.discount_included)
        _flag(body, "tax_included", self.tax_included)
        _money(body, "additional_tax_amount", self.additional_tax_amount, prefix)
        _number(body, "additional_tax_rate", self.additional_tax_rate, prefix)
        _flag(body, "additional_tax_included", self.additional_tax_included)
        _text(body, "merchant_tax_id", self.merchant_tax_id, prefix)
        if self.debit_or_credit is not None:
            if self.debit_or_credit not in ("D", "C"):
                raise PayTraceInputError(f"{prefix}debit_or_credit", "must be 'D' or 'C'")
            body["debit_or_credit"] = self.debit_or_credit
        return body


@dataclass(frozen=True)
class Level3Data:
    """The enhanced data added to an approved, unsettled Visa or MasterCard sale."""

    invoice_id: str | None = None
    customer_reference_id: str | None = None
    tax_amount: AmountInput | None = None
    national_tax_amount: AmountInput | None = None
    merchant_tax_id: str | None = None
    customer_tax_id: str | None = None
    commodity_code: str | None = None
    discount_amount: AmountInput | None = None
    freight_amount: AmountInput | None = None
    duty_amount: AmountInput | None = None
    additional_tax_amount: AmountInput | None = None
    additional_tax_rate: Decimal | int | None = None
    additional_tax_included: bool | None = None
    #: Sent as ``source_address: {"zip": ...}``, the only key PayTrace reads there.
    source_zip: str | None = None
    shipping_address: Address | None = None
    line_items: tuple[Level3LineItem, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "line_items", tuple(self.line_items))
        self.to_wire()

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key in ("invoice_id", "customer_reference_id"):
            _text(body, key, getattr(self, key), "")
        for key in ("tax_amount", "national_tax_amount"):
            _money(body, key, getattr(self, key), "")
        for key in ("merchant_tax_id", "customer_tax_id", "commodity_code"):
            _text(body, key, getattr(self, key), "")
        for key in ("discount_amount", "freight_amount", "duty_amount", "additional_tax_amount"):
            _money(body, key, getattr(self, key), "")
        _number(body, "additional_tax_rate", self.additional_tax_rate, "")
        _flag(body, "additional_tax_included", self.additional_tax_included)
        zip_code = optional_text(self.source_zip, "source_address.zip")
        if zip_code is not None:
            body["source_address"] = {"zip": zip_code}
        if self.shipping_address is not None:
            body["shipping_address"] = self.shipping_address.to_wire()
        if self.line_items:
            body["line_items"] = [item.to_wire(i) for i, item in enumerate(self.line_items)]
        return body
