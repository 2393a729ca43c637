"""Test-control endpoints under ``/__emulator__/`` (JSON in, JSON out, no auth).

They call the same methods as the Python API, so a test in another process (or another
language) can script the emulator exactly as an in-process test does. ``state`` shows
masked card data only: the emulator never had anything else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from paytrace_client._cards import luhn_valid

from . import _customers
from ._context import Ctx
from ._exports import batch_record, txn_record
from ._faults import FaultRule
from ._responses import ApiError, Json, as_obj

if TYPE_CHECKING:
    from ._app import PayTraceEmulator

__all__ = ["control", "snapshot"]

Reply = tuple[int, Json | str, dict[str, str]]


def snapshot(emulator: PayTraceEmulator) -> Json:
    """Everything the emulator holds, as JSON-ready data (masked card data only)."""
    state, tz = emulator.state, emulator.config.export_timezone
    with state.lock:
        txns: list[Json] = []
        for txn in state.txns.values():
            record = txn_record(txn, tz, include_bin=False)
            record.update(
                amount=f"{txn.amount:.2f}",
                refunded=f"{txn.refunded:.2f}",
                voided=txn.voided,
                captured=txn.captured,
                parent_id=txn.parent_id,
                level3_lines=txn.level3_lines,
            )
            txns.append(record)
        checks: list[Json] = [
            {
                "check_transaction_id": c.check_transaction_id,
                "kind": c.kind,
                "amount": f"{c.amount:.2f}",
                "masked_account_number": c.account.masked_account,
                "routing_number": c.account.routing_number,
                "customer_id": c.customer_id,
                "approved": c.approved,
                "held": c.held,
                "voided": c.voided,
                "refunded": f"{c.refunded:.2f}",
                "parent_id": c.parent_id,
            }
            for c in state.checks.values()
        ]
        return {
            "now": emulator.now().isoformat(),
            "transactions": txns,
            "checks": checks,
            "customers": [
                _customers.customer_record(c, include_bin=False) for c in state.customers.values()
            ],
            "batches": [batch_record(b, tz) for b in state.batches.values()],
            "faults": emulator.faults.rules(),
        }


def _seed(emulator: PayTraceEmulator, body: Json) -> Reply:
    """``{"customers": [<customer/create body>, ...]}`` -> created ids, or the errors."""
    created: list[str] = []
    customers: list[Any] = body.get("customers", [])
    for item in customers:
        if not isinstance(item, dict):
            return 400, {"error": "each customer must be a JSON object"}, {}
        with emulator.state.lock:
            ctx = Ctx(emulator.state, emulator.config, emulator.now(), "emulator")
            try:
                _, reply = _customers.create(ctx, item)  # pyright: ignore[reportUnknownArgumentType]
            except ApiError as exc:
                return 400, {"created": created, "errors": exc.errors}, {}
        created.append(str(reply["customer_id"]))
    return 200, {"created": created}, {}


def _faults(emulator: PayTraceEmulator, body: Json) -> Reply:
    items: list[Any] = body["rules"] if isinstance(body.get("rules"), list) else [body]
    try:
        rules = [FaultRule.from_json(item) for item in items]
    except (ValueError, TypeError, AttributeError) as exc:
        return 400, {"error": str(exc)}, {}
    emulator.add_fault(*rules)
    return 200, {"rules": emulator.faults.rules()}, {}


def control(emulator: PayTraceEmulator, method: str, path: str, raw: bytes) -> Reply:
    name = path.removeprefix("/__emulator__/").strip("/")
    try:
        parsed: Any = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return 400, {"error": "body must be JSON"}, {}
    body = as_obj(parsed)
    route = (method, name)
    if route == ("POST", "reset"):
        emulator.reset()
        return 200, {"reset": True}, {}
    if route == ("POST", "seed"):
        return _seed(emulator, body)
    if route == ("POST", "settle"):
        number = emulator.settle()
        count = 0 if number is None else len(emulator.state.batches[number].transaction_ids)
        return 200, {"batch_number": number, "transaction_count": count}, {}
    if route == ("POST", "faults"):
        return _faults(emulator, body)
    if route == ("DELETE", "faults"):
        emulator.clear_faults()
        return 200, {"rules": []}, {}
    if route == ("GET", "faults"):
        return 200, {"rules": emulator.faults.rules()}, {}
    if route == ("GET", "state"):
        return 200, snapshot(emulator), {}
    if route == ("POST", "clock"):
        now = emulator.advance_clock(float(body.get("advance_seconds", 0)))
        return 200, {"now": now.isoformat()}, {}
    if route == ("GET", "clock"):
        return 200, {"now": emulator.now().isoformat()}, {}
    if route == ("POST", "protect_token"):
        if not luhn_valid(str(body.get("number", ""))):
            return 400, {"error": "number must be a Luhn-valid card number"}, {}
        hpf_token, enc_key = emulator.register_protect_card(
            str(body.get("number", "")),
            int(body.get("expiration_month", 12)),
            int(body.get("expiration_year", 2030)),
        )
        return 200, {"hpf_token": hpf_token, "enc_key": enc_key}, {}
    return 404, {"error": f"no control endpoint {method} {path}"}, {}
