"""Postal addresses (``billing_address``, ``shipping_address``)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ._validate import optional_text

__all__ = ["Address"]


@dataclass(frozen=True)
class Address:
    """PayTrace's address object; every key is optional and ``None`` keys are not sent."""

    name: str | None = None
    street_address: str | None = None
    street_address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            prefix = "address"
            value = optional_text(getattr(self, f.name), f"{prefix}.{f.name}")
            object.__setattr__(self, f.name, value)

    def to_wire(self) -> dict[str, str]:
        """Only the keys that are set, in PayTrace's order (never ``null``)."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}
