"""What every resource class shares: the requester and body-building helpers.

Bodies are built as plain dicts of wire values (strings for money and dates, as PayTrace's
samples send them). A ``None`` argument means "omit the key": PayTrace never sees ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paytrace_client._errors import PayTraceInputError
from paytrace_client._requester import Requester
from paytrace_client._wire import format_amount
from paytrace_client.models import Address, AmountInput
from paytrace_client.models._validate import optional_text

__all__ = [
    "Resource",
    "check_extras",
    "put_address",
    "put_amount",
    "put_data",
    "put_email",
    "put_text",
]


class Resource:
    """Base of the resource classes; each is built with the client (any ``Requester``)."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def put_text(body: dict[str, Any], key: str, value: str | None) -> None:
    text = optional_text(value, key)
    if text is not None:
        body[key] = text


def put_email(body: dict[str, Any], value: str | None) -> None:
    """A light shape check only: PayTrace is the authority on what it accepts."""
    email = optional_text(value, "email")
    if email is None:
        return
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise PayTraceInputError("email", "is not an email address")
    body["email"] = email


def put_amount(body: dict[str, Any], key: str, value: AmountInput | None) -> None:
    if value is not None:
        body[key] = format_amount(value, field=key)


def put_address(body: dict[str, Any], key: str, value: Address | None) -> None:
    if value is None:
        return
    if not isinstance(value, Address):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
        raise PayTraceInputError(key, "must be an Address")
    wire = value.to_wire()
    if wire:
        body[key] = wire


def put_data(body: dict[str, Any], value: Mapping[str, str] | None) -> None:
    """``discretionary_data``: the merchant's custom fields, name -> value."""
    if value is not None:
        body["discretionary_data"] = {str(k): str(v) for k, v in value.items()}


def check_extras(given: Mapping[str, object], allowed: frozenset[str], method: str) -> None:
    """``**extras`` is typed for checkers, but an untyped caller's typo must not be dropped."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise TypeError(f"{method}() got unexpected keyword arguments: {', '.join(unknown)}")
