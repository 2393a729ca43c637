"""Read endpoints: transaction exports (by id, by date range) and batch exports.

Record schema beyond ``transaction_id, approval_code, status_code, status_message, settled,
created.at`` is inferred (reference 3.2); timestamps use PayTrace's "general date" format in
``config.export_timezone``. Amounts are JSON numbers, as some integrations send them.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from . import _responses as r
from ._context import Ctx, Handler
from ._fields import Errors, export_timestamp, int_id, request_date_range, text
from ._responses import ApiError, Json, Outcome
from ._state import Batch, Txn

__all__ = ["ROUTES", "batch_record", "status_of", "txn_record"]

_TYPE_FILTERS = frozenset(
    {"SALE", "AUTHORIZATION", "STR/FWD", "REFUND", "VOID", "SETTLED", "PENDING", "DECLINED"}
)


def _money(value: Decimal) -> float:
    # JSON has no decimal type; two-decimal values round-trip exactly through repr.
    return float(value)


def status_of(txn: Txn) -> tuple[str, str]:
    """``(status_code, status_message)``: Y pending, N void/declined/auth-only, GB<batch>.

    PayTrace's record schema (quoted by S4): "GB or Settled indicates the transaction has
    been settled, and the batch number will be appended to the status".
    """
    if not txn.approved:
        return "N", "Declined"
    if txn.voided:
        return "N", "Voided"
    if txn.batch_number is not None:
        return f"GB{txn.batch_number}", f"Settled in Batch {txn.batch_number}"
    if txn.type == "AUTHORIZATION" and not txn.captured:
        return "N", "Authorization Only"
    return "Y", "Pending Settlement"


def _stamp(moment: datetime | None, tz: tzinfo) -> str:
    return export_timestamp(moment.astimezone(tz)) if moment is not None else ""


def txn_record(txn: Txn, tz: tzinfo, *, include_bin: bool) -> Json:
    code, message = status_of(txn)
    record: Json = {
        "transaction_id": txn.transaction_id,
        "transaction_type": txn.type,
        "amount": _money(txn.amount),
        "status_code": code,
        "status_message": message,
        "approval_code": txn.approval_code,
        "approval_message": txn.approval_message,
        "avs_response": txn.avs_response,
        "csc_response": txn.csc_response,
        "invoice_id": txn.invoice_id,
        "description": txn.description,
        "customer_id": txn.customer_id,
        "credit_card": {
            "masked_number": txn.card.bin_masked if include_bin else txn.card.masked,
            "expiration_month": txn.card.exp_month,
            "expiration_year": txn.card.exp_year,
            "type": txn.card.brand,
        },
        "billing_address": dict(txn.billing_address),
        "settled": _stamp(txn.settled_at, tz),
        "created": {"at": _stamp(txn.created_at, tz), "by": txn.user, "through": "API"},
    }
    if txn.batch_number is not None:
        record["batch_number"] = txn.batch_number
    if txn.discretionary_data:
        record["discretionary_data"] = dict(txn.discretionary_data)
    return record


def _flag(body: Json, key: str) -> bool:
    return body.get(key) in (True, "true", "True", "TRUE", "1", 1, "Y", "y")


def _matches_type(txn: Txn, wanted: str) -> bool:
    code, _ = status_of(txn)
    checks: dict[str, bool] = {
        "SALE": txn.type == "SALE",
        "AUTHORIZATION": txn.type == "AUTHORIZATION",
        "STR/FWD": False,  # store-and-forward needs a terminal; never created here
        "REFUND": txn.type == "REFUND",
        "VOID": txn.approved and txn.voided,
        "SETTLED": txn.batch_number is not None and code.startswith("GB"),
        "PENDING": code == "Y",
        "DECLINED": not txn.approved,
    }
    return checks[wanted]


def _contains_text(txn: Txn, needle: str) -> bool:
    haystack = " ".join(
        [txn.invoice_id, txn.description, txn.customer_id, *map(str, txn.billing_address.values())]
    )
    return needle.lower() in haystack.lower()


def _ok(key: str, items: Any) -> tuple[Outcome, Json]:
    return "ok", {"success": True, "response_code": 100, "status_message": r.EXPORT_OK, key: items}


def by_id(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    tid = int_id(body.get("transaction_id"))
    errors = Errors()
    if tid is None:
        errors.add("58")
        raise ApiError(errors, {})
    txn = ctx.state.txns.get(tid)
    if txn is None:
        errors.add("811")
        raise ApiError(errors, {})
    record = txn_record(txn, ctx.config.export_timezone, include_bin=_flag(body, "include_bin"))
    return _ok("transactions", [record])


def by_date_range(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    start, end = request_date_range(body)
    tz = ctx.config.export_timezone
    wanted = text(body, "transaction_type").strip().upper()
    customer_id = text(body, "customer_id")
    tid = int_id(body.get("transaction_id")) if body.get("transaction_id") else None
    needle = text(body, "including_text")
    include_bin = _flag(body, "include_bin")
    records: list[Json] = []
    for txn in ctx.state.txns.values():
        if not start <= txn.created_at.astimezone(tz).date() <= end:
            continue
        if wanted in _TYPE_FILTERS and not _matches_type(txn, wanted):
            continue
        if customer_id and txn.customer_id != customer_id:
            continue
        if tid is not None and txn.transaction_id != tid:
            continue
        if needle and not _contains_text(txn, needle):
            continue
        records.append(txn_record(txn, tz, include_bin=include_bin))
    return _ok("transactions", records)


def batch_record(batch: Batch, tz: tzinfo) -> Json:
    return {
        "number": batch.number,
        "settled": _stamp(batch.settled_at, tz),
        "transaction_count": len(batch.transaction_ids),
        "sale_count": batch.sale_count,
        "sale_amount": _money(batch.sale_amount),
        "refund_count": batch.refund_count,
        "refund_amount": _money(batch.refund_amount),
        "net_amount": _money(batch.sale_amount - batch.refund_amount),
    }


def _batch(ctx: Ctx, body: Json, *, latest_if_missing: bool) -> Batch:
    errors = Errors()
    raw = body.get("batch_number")
    if raw in (None, "") and latest_if_missing:
        if ctx.state.batches:
            return ctx.state.batches[max(ctx.state.batches)]
        errors.add("823")
        raise ApiError(errors, {})
    number = int_id(raw)
    if number is None:
        errors.add("51")
        raise ApiError(errors, {})
    batch = ctx.state.batches.get(number)
    if batch is None:
        errors.add("823")
        raise ApiError(errors, {})
    return batch


def export_one(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    batch = _batch(ctx, body, latest_if_missing=True)
    return _ok("batch", batch_record(batch, ctx.config.export_timezone))


def export_range(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    start, end = request_date_range(body)
    tz = ctx.config.export_timezone
    batches = [
        batch_record(b, tz)
        for b in ctx.state.batches.values()
        if start <= b.settled_at.astimezone(tz).date() <= end
    ]
    return _ok("batches", batches)


def transaction_list(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    batch = _batch(ctx, body, latest_if_missing=False)
    tz = ctx.config.export_timezone
    include_bin = _flag(body, "include_bin")
    records = [
        txn_record(ctx.state.txns[tid], tz, include_bin=include_bin)
        for tid in batch.transaction_ids
    ]
    return _ok("transactions", records)


ROUTES: dict[str, Handler] = {
    "/v1/transactions/export/by_id": by_id,
    "/v1/transactions/export/by_date_range": by_date_range,
    "/v1/batches/export_one": export_one,
    "/v1/batches/export": export_range,
    "/v1/batches/transaction_list": transaction_list,
}
