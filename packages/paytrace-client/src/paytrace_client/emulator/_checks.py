"""ACH checks: sale / hold (by account or vault customer), fund, void, refunds and the
check export.

Response shapes follow F10: ``check_transaction_id`` instead of ``transaction_id``; a
decline is code 125 with ``ach_code``/``ach_message``. Checks do not join card batches.

``checks/export/by_date_range`` is **inferred** (reference section 2 lists no check export; the
legacy name/value API had ``ExportCheck`` with ``SDATE``/``EDATE``/``CHECKID``): it mirrors
``transactions/export/by_date_range`` with a ``checks[]`` list, so a client can resolve an ACH
write of unknown outcome by ``invoice_id``. Record fields and status texts are inferred too.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Literal

from . import _responses as r
from ._context import Ctx, Handler
from ._fields import (
    Errors,
    amount,
    check_account,
    export_timestamp,
    int_id,
    request_date_range,
    text,
)
from ._responses import ApiError, Json, Outcome
from ._state import ZERO, CheckAccount, CheckTxn

__all__ = ["ROUTES"]


def _account(
    ctx: Ctx, body: Json, errors: Errors, *, by_customer: bool
) -> tuple[CheckAccount | None, str]:
    customer_id = text(body, "customer_id")
    account: CheckAccount | None = None
    if by_customer or customer_id:
        customer = ctx.state.customers.get(customer_id)
        if customer is None or (by_customer and customer.check is None):
            errors.add("30", customer_id=customer_id)
        elif by_customer:
            account = customer.check
    if not by_customer or "check" in body:
        account = check_account(body, errors, ctx.state.fingerprint_key)
    return account, customer_id


def _new(
    ctx: Ctx,
    kind: Literal["SALE", "HOLD", "REFUND"],
    amt: Decimal,
    account: CheckAccount,
    *,
    customer_id: str = "",
    invoice_id: str = "",
    description: str = "",
    parent_id: int | None = None,
) -> CheckTxn:
    state = ctx.state
    cid = state.take_check_id()
    txn = CheckTxn(
        check_transaction_id=cid,
        kind=kind,
        amount=amt,
        account=account,
        created_at=ctx.now,
        user=ctx.user,
        approved=kind == "REFUND" or amt not in ctx.config.decline_amounts,
        held=kind == "HOLD",
        customer_id=customer_id,
        invoice_id=invoice_id,
        description=description,
        parent_id=parent_id,
    )
    state.checks[cid] = txn
    return txn


def _ok(code: int, message: str, txn: CheckTxn) -> tuple[Outcome, Json]:
    return "ok", {
        "success": True,
        "response_code": code,
        "status_message": message,
        "check_transaction_id": txn.check_transaction_id,
    }


def process(
    ctx: Ctx, body: Json, kind: Literal["SALE", "HOLD"], *, by_customer: bool
) -> tuple[Outcome, Json]:
    errors = Errors()
    amt = amount(body.get("amount"), errors)
    account, customer_id = _account(ctx, body, errors, by_customer=by_customer)
    if errors or amt is None or account is None:
        raise ApiError(errors, {})
    txn = _new(
        ctx,
        kind,
        amt,
        account,
        customer_id=customer_id,
        invoice_id=text(body, "invoice_id"),
        description=text(body, "description"),
    )
    if not txn.approved:
        return "decline", {
            "success": False,
            "response_code": 125,
            "status_message": r.CHECK_NOT_PROCESSED,
            "check_transaction_id": txn.check_transaction_id,
            "ach_code": 0,
            "ach_message": "",
        }
    return _ok(120, r.CHECK_PROCESSED, txn)


def _lookup(ctx: Ctx, body: Json) -> CheckTxn:
    cid = int_id(body.get("check_transaction_id"))
    txn = ctx.state.checks.get(cid) if cid is not None else None
    if txn is None:
        errors = Errors()
        errors.add("80")
        raise ApiError(errors, {})
    return txn


def _refuse(code: str, **fmt: object) -> ApiError:
    errors = Errors()
    errors.add(code, **fmt)
    return ApiError(errors, {})


def fund(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    """Release a held check, optionally for less than the held amount."""
    txn = _lookup(ctx, body)
    if not (txn.approved and txn.held and not txn.voided):
        raise _refuse("821")
    errors = Errors()
    amt = amount(body.get("amount"), errors, required=False)
    if errors:
        raise ApiError(errors, {})
    if amt is not None:
        if amt > txn.amount:
            raise _refuse("821")
        txn.amount = amt
    txn.held = False
    return _ok(124, r.CHECK_MANAGED, txn)


def void(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    txn = _lookup(ctx, body)
    if not txn.approved or txn.voided or txn.refunded > ZERO:
        raise _refuse("821")
    txn.voided = True
    if txn.parent_id is not None:
        ctx.state.checks[txn.parent_id].refunded -= txn.amount
    return _ok(124, r.CHECK_MANAGED, txn)


def refund_by_transaction(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    parent = _lookup(ctx, body)
    if parent.kind == "REFUND" or not parent.approved or parent.voided or parent.held:
        raise _refuse("821")
    errors = Errors()
    amt = amount(body.get("amount"), errors, required=False)
    if errors:
        raise ApiError(errors, {})
    remaining = parent.amount - parent.refunded
    amt = remaining if amt is None else amt
    if amt > remaining or amt <= ZERO:
        raise _refuse("819", transaction_id=parent.check_transaction_id)
    parent.refunded += amt
    txn = _new(
        ctx,
        "REFUND",
        amt,
        parent.account,
        customer_id=parent.customer_id,
        parent_id=parent.check_transaction_id,
    )
    return _ok(122, r.CHECK_REFUNDED, txn)


def refund_by_account(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    errors = Errors()
    amt = amount(body.get("amount"), errors)
    account, customer_id = _account(ctx, body, errors, by_customer=False)
    if errors or amt is None or account is None:
        raise ApiError(errors, {})
    txn = _new(ctx, "REFUND", amt, account, customer_id=customer_id)
    return _ok(122, r.CHECK_REFUNDED, txn)


def check_status(txn: CheckTxn) -> str:
    """[I] The export's ``status_message`` of a check."""
    if not txn.approved:
        return "Declined"
    if txn.voided:
        return "Voided"
    if txn.held:
        return "Held"
    if txn.kind != "REFUND" and txn.refunded >= txn.amount:
        return "Refunded"
    return "Processed"


def _stamp(moment: datetime, tz: tzinfo) -> str:
    return export_timestamp(moment.astimezone(tz))


def check_record(txn: CheckTxn, tz: tzinfo) -> Json:
    """[I] One ``checks[]`` record: masked account only, like the customer export."""
    return {
        "check_transaction_id": txn.check_transaction_id,
        "transaction_type": txn.kind,
        "amount": float(txn.amount),  # a JSON number, as the transaction export sends
        "status_message": check_status(txn),
        "invoice_id": txn.invoice_id,
        "description": txn.description,
        "customer_id": txn.customer_id,
        "check": {
            "masked_account_number": txn.account.masked_account,
            "routing_number": txn.account.routing_number,
        },
        "created": {"at": _stamp(txn.created_at, tz), "by": txn.user, "through": "API"},
    }


def export_by_date_range(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    """[I] Checks created from ``start_date`` to ``end_date`` (``MM/DD/YYYY``, export zone),
    optionally one ``check_transaction_id`` or one ``customer_id``."""
    start, end = request_date_range(body)
    tz = ctx.config.export_timezone
    cid = int_id(body.get("check_transaction_id")) if body.get("check_transaction_id") else None
    customer_id = text(body, "customer_id")
    records = [
        check_record(txn, tz)
        for txn in ctx.state.checks.values()
        if start <= txn.created_at.astimezone(tz).date() <= end
        and (cid is None or txn.check_transaction_id == cid)
        and (not customer_id or txn.customer_id == customer_id)
    ]
    return "ok", {
        "success": True,
        "response_code": 100,
        "status_message": r.EXPORT_OK,
        "checks": records,
    }


def _route(kind: Literal["SALE", "HOLD"], by_customer: bool) -> Handler:
    return lambda ctx, body: process(ctx, body, kind, by_customer=by_customer)


ROUTES: dict[str, Handler] = {
    "/v1/checks/sale/by_account": _route("SALE", False),
    "/v1/checks/sale/by_customer": _route("SALE", True),
    "/v1/checks/hold/by_account": _route("HOLD", False),
    "/v1/checks/hold/by_customer": _route("HOLD", True),
    "/v1/checks/manage/fund": fund,
    "/v1/checks/manage/void": void,
    "/v1/checks/refund/by_transaction": refund_by_transaction,
    "/v1/checks/refund/by_account": refund_by_account,
    "/v1/checks/export/by_date_range": export_by_date_range,
}
