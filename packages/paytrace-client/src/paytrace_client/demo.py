"""See the client work without a PayTrace account: ``python -m paytrace_client.demo``.

Starts the emulator on a free local port, then runs through the client: a keyed sale, an
authorization with a partial capture, settlement and a partial refund, a vault profile and a
sale on it, a decline, and an export of the day's transactions. It prints what happened.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from ._client import PayTraceClient
from ._errors import PayTraceDeclinedError
from .emulator import EmulatorServer, PayTraceEmulator
from .models import Address, CreditCard

__all__ = ["main", "run_demo"]

_CARD = "4012000098765439"  # PayTrace's sandbox Visa
_ADDRESS = Address(
    name="Steve Smith", street_address="8320 E. West St.", city="Spokane", state="WA", zip="85284"
)


def run_demo(client: PayTraceClient, say: Callable[[str], None] = print) -> None:
    """The demo's steps against any PayTrace endpoint ``client`` points at (emulator or sandbox)."""
    run = uuid.uuid4().hex[:8]
    today = date.today()  # noqa: DTZ011 - the expiry year only needs to be in the future
    card = CreditCard(_CARD, 12, today.year + 3)

    sale = client.transactions.sale_keyed(
        Decimal("25.00"), card, csc="999", billing_address=_ADDRESS, invoice_id=f"DEMO-{run}-1"
    )
    say(
        f"sale        $25.00  -> approved, transaction {sale.transaction_id}, "
        f"card {sale.masked_card_number}, approval {sale.approval_code!r}"
    )

    auth = client.transactions.authorize_keyed(
        Decimal("100.00"), card, csc="999", invoice_id=f"DEMO-{run}-2"
    )
    say(f"authorize   $100.00 -> transaction {auth.transaction_id}, {auth.status_message}")
    capture = client.transactions.capture(auth.transaction_id or 0, amount=Decimal("80.00"))
    say(f"capture     $80.00  -> {capture.status_message} (partial capture of the $100.00)")

    client.transactions.settle()
    say("settle              -> pending transactions settled into a batch")
    refund = client.transactions.refund_transaction(
        sale.transaction_id or 0, amount=Decimal("5.00")
    )
    say(f"refund      $5.00   -> {refund.status_message} transaction {refund.transaction_id}")

    customer_id = f"demo-{run}"
    profile = client.customers.create(customer_id, credit_card=card, billing_address=_ADDRESS)
    say(f"vault       create  -> {profile.status_message} (card {profile.masked_card_number})")
    vault_sale = client.transactions.sale_by_customer(
        Decimal("15.49"), customer_id, invoice_id=f"DEMO-{run}-3"
    )
    say(f"vault sale  $15.49  -> approved, transaction {vault_sale.transaction_id}")

    try:
        client.transactions.sale_keyed(Decimal("0.29"), card, invoice_id=f"DEMO-{run}-4")
    except PayTraceDeclinedError as declined:
        say(f"sale        $0.29   -> declined ({declined.approval_message}), as the sandbox does")

    exported = list(client.exports.transactions(today - timedelta(days=1), today + timedelta(1)))
    mine = [t for t in exported if (t.invoice_id or "").startswith(f"DEMO-{run}")]
    say(f"export      today   -> {len(mine)} demo transactions found by invoice id")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paytrace_client.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="emulator port (0 = any free port)")
    args = parser.parse_args(argv)
    with EmulatorServer(PayTraceEmulator(), port=args.port) as server:
        print(f"PayTrace emulator listening on {server.base_url}")
        # The emulator accepts any well-formed credentials; these are PayTrace's public demo login.
        with PayTraceClient(
            username="demo123",
            password="demo123",  # noqa: S106
            integrator_id="DEMO",
            base_url=server.base_url,
        ) as client:
            run_demo(client)
    print("demo finished: every call went through PayTraceClient over HTTP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
