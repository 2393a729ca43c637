"""Card transactions: sales, authorizations, capture, void, refunds, receipts, settlement.

Lifecycle (reference sections 4, 6, 9): an approved sale is pending settlement ("Y"); an
authorization is "Authorization Only" until captured; settlement moves every pending
transaction into a new batch; void only before settlement (818), refund only after (817),
capture only of approved uncaptured authorizations (816).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal, cast

from . import _responses as r
from ._context import Ctx, Handler
from ._fields import Errors, address, amount, credit_card, csc_response, int_id, swipe, text
from ._protect import protect_card
from ._responses import ApiError, Json, Outcome
from ._state import ZERO, Batch, Card, State, Txn, TxnType

__all__ = ["ROUTES", "charge", "settle_pending"]

_EXT: Json = {"external_transaction_id": ""}
Source = Literal["keyed", "swiped", "customer", "protect", "protect_customer"]


def _avs(billing: dict[str, Any], ctx: Ctx) -> str:
    zip_code = str(billing.get("zip", "")).strip()
    if not zip_code:
        return "0"
    digits = zip_code.replace("-", "")
    # PayTrace answers every international AVS check with "No Match" (reference 4).
    if not (digits.isdigit() and len(digits) in (5, 9)):
        return "No Match"
    if zip_code in ctx.config.avs_no_match_zips:
        return "No Match"
    return "Full Exact Match"


def _card_source(ctx: Ctx, body: Json, source: Source, errors: Errors) -> tuple[Card | None, str]:
    """The card to charge and the vault customer id (if any)."""
    state = ctx.state
    if source == "keyed":
        return credit_card(body, errors, state.fingerprint_key, ctx.expiry_today), ""
    if source == "swiped":
        return swipe(body, errors, state.fingerprint_key), ""
    if source == "customer":
        customer_id = text(body, "customer_id")
        if not customer_id.strip():  # "Customer ID, , was not found" would name nothing
            errors.add("38")
            return None, ""
        customer = state.customers.get(customer_id)
        if customer is None or customer.card is None:
            errors.add("30", customer_id=customer_id)
            return None, ""
        return customer.card, customer_id
    return protect_card(ctx, body, errors), ""


def _discretionary(body: Json) -> dict[str, str]:
    """The charge's ``discretionary_data`` object as name -> text (anything else: none)."""
    data = body.get("discretionary_data")
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in cast("dict[object, object]", data).items()}


def charge(ctx: Ctx, body: Json, kind: TxnType, source: Source) -> tuple[Outcome, Json]:
    """Sale or authorization from any card source."""
    state, config = ctx.state, ctx.config
    errors = Errors()
    amt = amount(body.get("amount"), errors)
    card, customer_id = _card_source(ctx, body, source, errors)
    csc = csc_response(body, errors, config.csc_no_match_values)
    if errors or card is None or amt is None:
        raise ApiError(errors, _EXT)
    billing = address(body.get("billing_address"))
    if not billing and customer_id:
        billing = dict(state.customers[customer_id].billing_address)
    invoice_id = text(body, "invoice_id")
    dup_key = (card.fingerprint, amt, invoice_id, ctx.user)
    if config.duplicate_window_minutes > 0:
        previous = state.recent.get(dup_key)
        window = timedelta(minutes=config.duplicate_window_minutes)
        if previous is not None and ctx.now - previous[1] < window:
            errors.add("996", transaction_id=previous[0], minutes=config.duplicate_window_minutes)
            raise ApiError(errors, _EXT)
    tid = state.take_txn_id()
    approved = amt not in config.decline_amounts
    avs = _avs(billing, ctx)
    txn = Txn(
        transaction_id=tid,
        type=kind,
        amount=amt,
        card=card,
        created_at=ctx.now,
        user=ctx.user,
        approved=approved,
        avs_response=avs,
        csc_response=csc,
        customer_id=customer_id,
        invoice_id=invoice_id,
        description=text(body, "description"),
        billing_address=billing,
        discretionary_data=_discretionary(body),
    )
    if source == "protect_customer":
        from ._customers import profile_from_protect

        txn.customer_id = profile_from_protect(ctx, body, card, billing)
    state.txns[tid] = txn
    reply: Json = {"success": approved}
    outcome: Outcome = "ok"
    if not approved:
        txn.approval_message = r.DECLINE_AUTH if kind == "AUTHORIZATION" else r.DECLINE_SALE
        reply.update(response_code=102, status_message=r.NOT_APPROVED)
        outcome = "decline"
    else:
        txn.approval_code = f"TAS{tid % 1000:03d}"
        txn.approval_message = (
            r.APPROVAL_NO_MATCH
            if avs == "No Match"
            else f"APPROVAL {txn.approval_code}  - Approved and completed"
        )
        triggers = config.auto_void_on
        if ("avs" in triggers and avs == "No Match") or ("csc" in triggers and csc == "No Match"):
            txn.voided = txn.auto_voided = True
            reply.update(response_code=103, status_message=r.AUTO_VOIDED)
        else:
            reply.update(response_code=101, status_message=r.APPROVED)
            state.recent[dup_key] = (tid, ctx.now)
    reply.update(
        transaction_id=tid,
        approval_code=txn.approval_code,
        approval_message=txn.approval_message,
        avs_response=avs,
        csc_response=csc,
    )
    if not approved and config.decline_discretionary_data is not None:
        reply["discretionary_data"] = dict(config.decline_discretionary_data)  # F2's place
    reply.update(external_transaction_id="", masked_card_number=card.masked)
    if source == "protect_customer":
        reply["customer_id"] = txn.customer_id
    return outcome, reply


def _lookup(ctx: Ctx, body: Json, extra: Json) -> Txn:
    tid = int_id(body.get("transaction_id"))
    errors = Errors()
    if tid is None:
        errors.add("58")
        raise ApiError(errors, extra)
    txn = ctx.state.txns.get(tid)
    if txn is None:
        errors.add("811")
        raise ApiError(errors, extra)
    return txn


def capture(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    txn = _lookup(ctx, body, _EXT)
    errors = Errors()
    if not txn.uncaptured_auth:
        errors.add("816")
        raise ApiError(errors, _EXT)
    amt = amount(body.get("amount"), errors, required=False)
    if errors:
        raise ApiError(errors, _EXT)
    if amt is not None:
        if amt > txn.amount:  # only partial captures; PayTrace's over-capture rule is [U]
            errors.add("816")
            raise ApiError(errors, _EXT)
        txn.amount = amt
    txn.captured = True
    return "ok", {
        "success": True,
        "response_code": 112,
        "status_message": r.CAPTURED,
        "transaction_id": txn.transaction_id,
        "external_transaction_id": "",
    }


def void(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    txn = _lookup(ctx, body, {})  # void errors carry no external_transaction_id (F6, F13)
    if not txn.approved or txn.voided or txn.batch_number is not None:
        errors = Errors()
        errors.add("818")
        raise ApiError(errors, {})
    txn.voided = True
    if txn.parent_id is not None:  # a voided refund gives its amount back
        ctx.state.txns[txn.parent_id].refunded -= txn.amount
    return "ok", {
        "success": True,
        "response_code": 109,
        "status_message": r.VOIDED,
        "transaction_id": txn.transaction_id,
    }


def _refund_reply(ctx: Ctx, card: Card, amt: Decimal, **fields: Any) -> tuple[Outcome, Json]:
    tid = ctx.state.take_txn_id()
    ctx.state.txns[tid] = Txn(
        transaction_id=tid,
        type="REFUND",
        amount=amt,
        card=card,
        created_at=ctx.now,
        user=ctx.user,
        approved=True,
        **fields,
    )
    return "ok", {
        "success": True,
        "response_code": 106,
        "status_message": r.REFUNDED,
        "transaction_id": tid,
        "external_transaction_id": "",
        "masked_card_number": card.masked,
    }


def refund_for_transaction(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    parent = _lookup(ctx, body, _EXT)
    errors = Errors()
    refundable = parent.type != "REFUND" and parent.approved and not parent.voided
    if not refundable or parent.batch_number is None:
        errors.add("817")
        raise ApiError(errors, _EXT)
    amt = amount(body.get("amount"), errors, required=False)
    if errors:
        raise ApiError(errors, _EXT)
    remaining = parent.amount - parent.refunded
    amt = remaining if amt is None else amt
    if amt > remaining or amt <= ZERO:
        errors.add("819", transaction_id=parent.transaction_id)
        raise ApiError(errors, _EXT)
    parent.refunded += amt
    return _refund_reply(
        ctx,
        parent.card,
        amt,
        parent_id=parent.transaction_id,
        customer_id=parent.customer_id,
        invoice_id=text(body, "invoice_id") or parent.invoice_id,
        description=text(body, "description"),
        billing_address=dict(parent.billing_address),
    )


def refund_unreferenced(ctx: Ctx, body: Json, source: Source) -> tuple[Outcome, Json]:
    errors = Errors()
    amt = amount(body.get("amount"), errors)
    card, customer_id = _card_source(ctx, body, source, errors)
    csc_response(body, errors, ctx.config.csc_no_match_values)
    if errors or card is None or amt is None:
        raise ApiError(errors, _EXT)
    billing = address(body.get("billing_address"))
    if not billing and customer_id:
        billing = dict(ctx.state.customers[customer_id].billing_address)
    return _refund_reply(
        ctx,
        card,
        amt,
        customer_id=customer_id,
        invoice_id=text(body, "invoice_id"),
        description=text(body, "description"),
        billing_address=billing,
    )


def email_receipt(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    txn = _lookup(ctx, body, {})
    email = text(body, "email")
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors = Errors()
        errors.add("48")
        raise ApiError(errors, {})
    return "ok", {
        "success": True,
        "response_code": 149,
        "status_message": (
            f"Your receipt for Transaction ID {txn.transaction_id} was successfully "
            f"emailed to {email}."
        ),
    }


def level_three(ctx: Ctx, body: Json, brand: str) -> tuple[Outcome, Json]:
    txn = _lookup(ctx, body, {})
    errors = Errors()
    eligible = (
        txn.approved
        and not txn.voided
        and txn.batch_number is None
        and txn.type != "REFUND"
        and txn.card.brand == brand
    )
    if not eligible:
        errors.add("820")
        raise ApiError(errors, {})
    items = body.get("line_items", [])
    if not isinstance(items, list):
        errors.add("54")
        raise ApiError(errors, {})
    lines: list[Any] = items  # pyright: ignore[reportUnknownVariableType]
    txn.level3_lines = len(lines)
    return "ok", {
        "success": True,
        "response_code": 170,
        "status_message": (
            f"Visa/MasterCard enhanced data was successfully added to Transaction ID "
            f"{txn.transaction_id}. {len(lines)} line item records were created."
        ),
    }


def settle_pending(state: State, now: Any) -> Batch | None:
    """Move every pending card transaction into a new batch (None when nothing is pending)."""
    pending = [t for t in state.txns.values() if t.pending_settlement]
    if not pending:
        return None
    number = state.next_batch
    state.next_batch += 1
    sales = [t for t in pending if t.type != "REFUND"]
    refunds = [t for t in pending if t.type == "REFUND"]
    for txn in pending:
        txn.batch_number = number
        txn.settled_at = now
    batch = Batch(
        number=number,
        settled_at=now,
        transaction_ids=[t.transaction_id for t in pending],
        sale_count=len(sales),
        sale_amount=sum((t.amount for t in sales), ZERO),
        refund_count=len(refunds),
        refund_amount=sum((t.amount for t in refunds), ZERO),
    )
    state.batches[number] = batch
    return batch


def settle(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    batch = settle_pending(ctx.state, ctx.now)
    reply: Json = {"success": True, "response_code": 175, "status_message": r.SETTLED}
    if batch is None:
        reply.update(batch_number=None, transaction_count=0)
    else:
        reply.update(batch_number=batch.number, transaction_count=len(batch.transaction_ids))
    return "ok", reply


def _charge_route(kind: TxnType, source: Source) -> Handler:
    return lambda ctx, body: charge(ctx, body, kind, source)


def _refund_route(source: Source) -> Handler:
    return lambda ctx, body: refund_unreferenced(ctx, body, source)


ROUTES: dict[str, Handler] = {
    "/v1/transactions/sale/keyed": _charge_route("SALE", "keyed"),
    "/v1/transactions/sale/swiped": _charge_route("SALE", "swiped"),
    "/v1/transactions/sale/by_customer": _charge_route("SALE", "customer"),
    "/v1/transactions/sale/pt_protect": _charge_route("SALE", "protect"),
    "/v1/transactions/sale/pt_protect_customer": _charge_route("SALE", "protect_customer"),
    "/v1/transactions/authorization/keyed": _charge_route("AUTHORIZATION", "keyed"),
    "/v1/transactions/authorization/swiped": _charge_route("AUTHORIZATION", "swiped"),
    "/v1/transactions/authorization/by_customer": _charge_route("AUTHORIZATION", "customer"),
    "/v1/transactions/authorization/pt_protect": _charge_route("AUTHORIZATION", "protect"),
    "/v1/transactions/authorization/capture": capture,
    "/v1/transactions/void": void,
    "/v1/transactions/refund/for_transaction": refund_for_transaction,
    "/v1/transactions/refund/keyed": _refund_route("keyed"),
    "/v1/transactions/refund/to_customer": _refund_route("customer"),
    "/v1/transactions/email_receipt": email_receipt,
    "/v1/transactions/settle": settle,
    "/v1/level_three/visa": lambda ctx, body: level_three(ctx, body, "VISA"),
    "/v1/level_three/mastercard": lambda ctx, body: level_three(ctx, body, "MASTERCARD"),
}
