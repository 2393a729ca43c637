"""The optional keyword arguments shared by the money-moving methods.

Declared once as ``TypedDict``s and taken with ``**extras: Unpack[...]`` so a dozen methods do
not repeat a dozen parameters each, while type checkers still see every name and type. A value
of ``None`` means "not sent": PayTrace never receives a ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from ._address import Address
from ._level3 import AmountInput

__all__ = ["CheckExtras", "CustomerExtras", "TransactionExtras"]


class TransactionExtras(TypedDict, total=False):
    """Optional fields of card sales, authorizations and unreferenced refunds."""

    csc: str | None
    billing_address: Address | None
    shipping_address: Address | None
    email: str | None
    phone: str | None
    invoice_id: str | None
    description: str | None
    customer_reference_id: str | None
    tax_amount: AmountInput | None
    freight_amount: AmountInput | None
    discretionary_data: Mapping[str, str] | None


class CheckExtras(TypedDict, total=False):
    """Optional fields of ACH sales, holds and refunds."""

    billing_address: Address | None
    shipping_address: Address | None
    email: str | None
    phone: str | None
    invoice_id: str | None
    description: str | None
    discretionary_data: Mapping[str, str] | None


class CustomerExtras(TypedDict, total=False):
    """Optional fields of vault profile create / update."""

    billing_address: Address | None
    shipping_address: Address | None
    email: str | None
    phone: str | None
    discretionary_data: Mapping[str, str] | None
