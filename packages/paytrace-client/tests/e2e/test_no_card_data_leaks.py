"""No PAN, CSC, bank account number, password or token appears in any log record, exception
message, repr or the emulator's state, whatever happens to the calls that carried them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from paytrace_client import (
    Check,
    CreditCard,
    PayTraceError,
    PayTraceInputError,
    PayTraceResponse,
)
from paytrace_client.emulator import FaultRule

from .conftest import Harness

YEAR = date.today().year + 2  # noqa: DTZ011
PANS = ["4012000098765439", "5499740000000057", "6011000993026909", "371449635392376"]
CSC = "7351"
ACCOUNT = "987654321012"
SECRET_PATTERNS = [
    *(re.escape(p) for p in PANS),
    rf"csc\W{{0,6}}{CSC}",
    re.escape(ACCOUNT),
    r"demo123:",  # a password in a URL or header dump
]


def test_nothing_sensitive_reaches_logs_exceptions_reprs_or_state(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    client = harness.client
    cards = [CreditCard(p, 12, YEAR, csc=CSC) for p in PANS]
    seen += [repr(c) + str(c) for c in cards]
    harness.emulator.add_fault(
        FaultRule(
            kind="timeout_after_commit", path="/v1/transactions/sale/keyed", latency_seconds=3
        ),
        FaultRule(kind="reset", path="/v1/transactions/authorization/keyed"),
    )
    attempts: list[Callable[[CreditCard], PayTraceResponse]] = [
        lambda c: client.transactions.sale_keyed(Decimal("9.99"), c, invoice_id="LEAK"),
        lambda c: client.transactions.authorize_keyed(Decimal("9.99"), c),
        lambda c: client.transactions.sale_keyed(Decimal("0.29"), c),  # decline
        lambda c: client.transactions.sale_keyed(Decimal("3.00"), c),  # approval
        lambda c: client.customers.create(f"leak-{c.number[-4:]}", credit_card=c),
        lambda c: client.transactions.refund_keyed(Decimal("1.00"), c),
    ]
    for card in cards:
        for attempt in attempts:
            try:
                result = attempt(card)
                seen.append(repr(result) + str(result) + json.dumps(result.to_dict(), default=str))
            except PayTraceError as err:
                seen.append(str(err) + repr(err) + repr(getattr(err, "hint", "")))
                seen.append(json.dumps(dict(getattr(err, "body", {})), default=str))
    try:
        client.checks.sale_by_account(
            Decimal("4.00"), Check(account_number=ACCOUNT, routing_number="325070760")
        )
    except PayTraceError as err:
        seen.append(str(err) + repr(err))
    seen.append(repr(Check(account_number=ACCOUNT, routing_number="325070760")))
    for bad in ("4012000098765438", "40120000987654391234"):
        with pytest.raises(PayTraceInputError) as info:
            CreditCard(bad, 12, YEAR)
        seen.append(str(info.value) + repr(info.value))
    seen.append(repr(client))
    seen.append(json.dumps(harness.state()))
    seen.append(caplog.text)
    everything = "\n".join(seen)
    assert "xxxxxxxxxxxx5439" in everything  # masked numbers are what we do show
    for pattern in SECRET_PATTERNS:
        assert not re.search(pattern, everything, flags=re.IGNORECASE), pattern
