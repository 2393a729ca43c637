"""The customer vault: create / update / delete / export, card or check, and Protect.

Profiles hold masked card data only. Status messages follow F7:
"The customer profile for <id>/<billing name> was successfully created".
"""

from __future__ import annotations

import secrets
import string

from ._context import Ctx, Handler
from ._fields import Errors, address, check_account, credit_card, text
from ._protect import protect_card
from ._responses import ApiError, Json, Outcome
from ._state import Card, CheckAccount, Customer

__all__ = ["ROUTES", "customer_record", "profile_from_protect"]

_ALNUM = string.ascii_letters + string.digits


def _message(customer: Customer, verb: str, *, protect: bool = False) -> str:
    text = (
        f"The customer profile for {customer.customer_id}/{customer.name} was successfully {verb}"
    )
    # customer/create answers without a final period (F7); pt_protect_create with one
    # (S5's recorded response: "...PLS5U60OoLUfQXzcmtJYNefPA0gTthzT/11 was successfully
    # created.").
    return text + "." if protect else text


def _payment(
    ctx: Ctx, body: Json, errors: Errors, *, protect: bool
) -> tuple[Card | None, CheckAccount | None]:
    key = ctx.state.fingerprint_key
    if protect:
        return protect_card(ctx, body, errors), None
    if "check" in body and "credit_card" not in body:
        return None, check_account(body, errors, key)
    return credit_card(body, errors, key, ctx.expiry_today), None


def _reply(customer: Customer, code: int, verb: str, *, protect: bool = False) -> Json:
    reply: Json = {
        "success": True,
        "response_code": code,
        "status_message": _message(customer, verb, protect=protect),
        "customer_id": customer.customer_id,
    }
    if customer.card is not None and not protect:
        # S5's recorded pt_protect_create response has no masked_card_number.
        reply["masked_card_number"] = customer.card.masked
    return reply


def create(ctx: Ctx, body: Json, *, protect: bool = False) -> tuple[Outcome, Json]:
    errors = Errors()
    customer_id = text(body, "customer_id").strip()
    if not customer_id and protect:
        # F8: a Protect profile without an id gets a generated 32-character one.
        customer_id = "".join(secrets.choice(_ALNUM) for _ in range(32))
    if not customer_id or len(customer_id) > 50:
        errors.add("38")
    card, check = _payment(ctx, body, errors, protect=protect)
    extra: Json = {"masked_card_number": card.masked} if card is not None else {}
    if customer_id in ctx.state.customers:
        errors.add("171")
    if errors or (card is None and check is None):
        raise ApiError(errors, extra)
    customer = Customer(
        customer_id=customer_id,
        card=card,
        check=check,
        billing_address=address(body.get("billing_address")),
        shipping_address=address(body.get("shipping_address")),
        email=text(body, "email"),
        phone=text(body, "phone"),
        created_at=ctx.now,
        protect=protect,
    )
    ctx.state.customers[customer_id] = customer
    return "ok", _reply(customer, 160, "created", protect=protect)


def _existing(ctx: Ctx, body: Json) -> Customer:
    customer_id = text(body, "customer_id")
    customer = ctx.state.customers.get(customer_id)
    if customer is None:
        errors = Errors()
        if customer_id.strip():
            errors.add("30", customer_id=customer_id)
        else:  # nothing to name in code 30's "Customer ID, <id>, was not found"
            errors.add("38")
        raise ApiError(errors, {})
    return customer


def update(ctx: Ctx, body: Json, *, protect: bool = False) -> tuple[Outcome, Json]:
    """Change only the fields sent; a new card or check replaces the old payment method."""
    customer = _existing(ctx, body)
    errors = Errors()
    if protect or "credit_card" in body or "check" in body:
        card, check = _payment(ctx, body, errors, protect=protect)
        if errors:
            raise ApiError(errors, {})
        customer.card, customer.check = card, check
        customer.protect = protect
    for key in ("billing_address", "shipping_address"):
        if key in body:
            setattr(customer, key, address(body.get(key)))
    for key in ("email", "phone"):
        if key in body:
            setattr(customer, key, text(body, key))
    return "ok", _reply(customer, 161, "updated", protect=protect)


def delete(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    customer = _existing(ctx, body)
    del ctx.state.customers[customer.customer_id]
    return "ok", {
        "success": True,
        "response_code": 162,
        "status_message": _message(customer, "deleted"),
        "customer_id": customer.customer_id,
    }


def profile_from_protect(ctx: Ctx, body: Json, card: Card, billing: Json) -> str:
    """``sale/pt_protect_customer``: store the Protect card as a profile, return its id."""
    customer_id = text(body, "customer_id").strip()
    if not customer_id or customer_id in ctx.state.customers:
        customer_id = "".join(secrets.choice(_ALNUM) for _ in range(32))
    ctx.state.customers[customer_id] = Customer(
        customer_id=customer_id,
        card=card,
        check=None,
        billing_address=billing,
        shipping_address=address(body.get("shipping_address")),
        email=text(body, "email"),
        phone=text(body, "phone"),
        created_at=ctx.now,
        protect=True,
    )
    return customer_id


def customer_record(customer: Customer, *, include_bin: bool) -> Json:
    record: Json = {"customer_id": customer.customer_id}
    if customer.card is not None:
        card = customer.card
        record["credit_card"] = {
            "masked_number": card.bin_masked if include_bin else card.masked,
            "expiration_month": card.exp_month,
            "expiration_year": card.exp_year,
            "type": card.brand,
        }
    if customer.check is not None:
        record["check"] = {
            "masked_account_number": customer.check.masked_account,
            "routing_number": customer.check.routing_number,
        }
    record["billing_address"] = dict(customer.billing_address)
    record["shipping_address"] = dict(customer.shipping_address)
    record["email"] = customer.email
    record["phone"] = customer.phone
    return record


def export(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    include_bin = body.get("include_bin") in (True, "true", "True", "1", 1)
    customer_id = text(body, "customer_id")
    if customer_id:
        customers = [_existing(ctx, body)]
    else:
        customers = sorted(ctx.state.customers.values(), key=lambda c: c.customer_id)
    return "ok", {
        "success": True,
        "response_code": 100,
        "status_message": "Your request has been successfully completed.",
        "customers": [customer_record(c, include_bin=include_bin) for c in customers],
    }


def _protect_create(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    return create(ctx, body, protect=True)


def _protect_update(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    return update(ctx, body, protect=True)


ROUTES: dict[str, Handler] = {
    "/v1/customer/create": create,
    "/v1/customer/update": update,
    "/v1/customer/delete": delete,
    "/v1/customer/export": export,
    "/v1/customer/pt_protect_create": _protect_create,
    "/v1/customer/pt_protect_update": _protect_update,
}
