"""``client.customers``: the customer vault (``customer/*``)."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from paytrace_client._errors import PayTraceInputError
from paytrace_client._requester import CallKind, RequestOptions, WriteCorrelation
from paytrace_client.models import (
    Check,
    CreditCard,
    CustomerExtras,
    CustomerRecord,
    CustomerResult,
    ProtectToken,
)
from paytrace_client.models._validate import required_text

from ._base import Resource, check_extras, put_address, put_data, put_email, put_text

__all__ = ["Customers"]

_EXTRA_KEYS = frozenset(CustomerExtras.__optional_keys__)


def _profile_body(
    customer_id: str, extras: CustomerExtras, method: str, *, payment: dict[str, Any]
) -> dict[str, Any]:
    check_extras(extras, _EXTRA_KEYS, method)
    body: dict[str, Any] = {"customer_id": required_text(customer_id, "customer_id"), **payment}
    put_address(body, "billing_address", extras.get("billing_address"))
    put_address(body, "shipping_address", extras.get("shipping_address"))
    put_email(body, extras.get("email"))
    put_text(body, "phone", extras.get("phone"))
    put_data(body, extras.get("discretionary_data"))
    return body


def _payment(
    credit_card: CreditCard | None, check: Check | None, *, required: bool
) -> dict[str, Any]:
    """A profile pays by card **or** by bank account, never both."""
    if credit_card is not None and check is not None:
        raise PayTraceInputError("credit_card", "give either credit_card or check, not both")
    if credit_card is not None:
        payment: dict[str, Any] = {"credit_card": credit_card.to_wire()}
        if credit_card.csc is not None:
            payment["csc"] = credit_card.csc
        return payment
    if check is not None:
        return {"check": check.to_wire()}
    if required:
        raise PayTraceInputError("credit_card", "give either credit_card or check")
    return {}


class Customers(Resource):
    """Vault profiles. Create / update / delete are writes; export is a read."""

    def _write(
        self, path: str, body: dict[str, Any], options: RequestOptions | None
    ) -> CustomerResult:
        correlation = WriteCorrelation(customer_id=body["customer_id"])
        data = self._requester.call(
            path, body, kind=CallKind.WRITE, correlation=correlation, options=options
        )
        return CustomerResult.model_validate(data)

    def create(
        self,
        customer_id: str,
        *,
        credit_card: CreditCard | None = None,
        check: Check | None = None,
        options: RequestOptions | None = None,
        **extras: Unpack[CustomerExtras],
    ) -> CustomerResult:
        """Create a profile paying by card or check: ``customer/create``; created = 160
        (171 -> ``PayTraceDuplicateError`` when ``customer_id`` is taken)."""
        payment = _payment(credit_card, check, required=True)
        body = _profile_body(customer_id, extras, "create", payment=payment)
        return self._write("customer/create", body, options)

    def create_protect(
        self,
        customer_id: str,
        token: ProtectToken,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CustomerExtras],
    ) -> CustomerResult:
        """Create a profile from a Protect token: ``customer/pt_protect_create``; created = 160."""
        body = _profile_body(customer_id, extras, "create_protect", payment=token.to_wire())
        return self._write("customer/pt_protect_create", body, options)

    def update(
        self,
        customer_id: str,
        *,
        credit_card: CreditCard | None = None,
        check: Check | None = None,
        options: RequestOptions | None = None,
        **extras: Unpack[CustomerExtras],
    ) -> CustomerResult:
        """Change a profile (only the fields given are sent): ``customer/update``;
        updated = 161."""
        payment = _payment(credit_card, check, required=False)
        body = _profile_body(customer_id, extras, "update", payment=payment)
        return self._write("customer/update", body, options)

    def update_protect(
        self,
        customer_id: str,
        token: ProtectToken,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CustomerExtras],
    ) -> CustomerResult:
        """Replace a profile's card with a Protect token: ``customer/pt_protect_update``;
        updated = 161 (PayTrace's samples also show 160)."""
        body = _profile_body(customer_id, extras, "update_protect", payment=token.to_wire())
        return self._write("customer/pt_protect_update", body, options)

    def delete(self, customer_id: str, *, options: RequestOptions | None = None) -> CustomerResult:
        """Delete a profile: ``customer/delete``; deleted = 162."""
        body = {"customer_id": required_text(customer_id, "customer_id")}
        return self._write("customer/delete", body, options)

    def export(
        self,
        customer_id: str | None = None,
        *,
        include_bin: bool = False,
        options: RequestOptions | None = None,
    ) -> list[CustomerRecord]:
        """Profiles (one, or all when ``customer_id`` is None): ``customer/export``; the
        answer's ``customers[]``. ``include_bin`` shows the first 6 digits of card numbers."""
        body: dict[str, Any] = {}
        put_text(body, "customer_id", customer_id)
        if include_bin:
            body["include_bin"] = True
        data = self._requester.call("customer/export", body, kind=CallKind.READ, options=options)
        records: list[Any] = data.get("customers") or []
        return [CustomerRecord.model_validate(r) for r in records]
