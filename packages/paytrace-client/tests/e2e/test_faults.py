"""What the client does when the network or PayTrace misbehaves, against the emulator's faults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from paytrace_client import (
    CreditCard,
    LookupOutcome,
    PayTraceHTTPError,
    PayTraceOutcomeUnknownError,
)
from paytrace_client.emulator import FaultRule

from .conftest import Harness

VISA = CreditCard("4012000098765439", 12, date.today().year + 2)  # noqa: DTZ011
SALE = "/v1/transactions/sale/keyed"


def sales(harness: Harness, invoice_id: str) -> list[dict[str, Any]]:
    return [t for t in harness.state()["transactions"] if t.get("invoice_id") == invoice_id]


def test_timeout_after_commit_is_unknown_then_found_by_lookup_exactly_once(
    harness: Harness,
) -> None:
    harness.emulator.add_fault(FaultRule(kind="timeout_after_commit", path=SALE, latency_seconds=3))
    with pytest.raises(PayTraceOutcomeUnknownError) as info:
        harness.client.transactions.sale_keyed(Decimal("77.10"), VISA, invoice_id="UNK-1")
    assert len(sales(harness, "UNK-1")) == 1  # committed once, never resent
    result = harness.client.find_transaction(info.value.hint)
    assert result.outcome is LookupOutcome.FOUND
    assert result.transaction is not None
    assert result.transaction.invoice_id == "UNK-1"
    assert result.transaction.amount == Decimal("77.10")


def test_reset_before_commit_is_unknown_and_lookup_says_not_found(harness: Harness) -> None:
    harness.emulator.add_fault(FaultRule(kind="reset", path=SALE))
    with pytest.raises(PayTraceOutcomeUnknownError) as info:
        harness.client.transactions.sale_keyed(Decimal("5.00"), VISA, invoice_id="UNK-2")
    assert sales(harness, "UNK-2") == []
    assert harness.client.find_transaction(info.value.hint).outcome is LookupOutcome.NOT_FOUND


def test_5xx_on_a_sale_is_unknown_and_not_retried(harness: Harness) -> None:
    harness.emulator.add_fault(FaultRule(kind="http_error", path=SALE, status=502))
    with pytest.raises(PayTraceOutcomeUnknownError):
        harness.client.transactions.sale_keyed(Decimal("6.00"), VISA, invoice_id="UNK-3")
    # The next identical call goes through: the fault was for one call only.
    harness.client.transactions.sale_keyed(Decimal("6.00"), VISA, invoice_id="UNK-3")
    assert len(sales(harness, "UNK-3")) == 1


def test_reads_are_retried_through_5xx_429_and_resets(harness: Harness) -> None:
    path = "/v1/transactions/export/by_id"
    sale = harness.client.transactions.sale_keyed(Decimal("8.00"), VISA, invoice_id="R-1")
    assert sale.transaction_id is not None
    harness.emulator.add_fault(
        FaultRule(kind="http_error", path=path, status=503),
        FaultRule(kind="rate_limit", path=path, retry_after=0),
    )
    assert harness.client.exports.transaction(sale.transaction_id) is not None
    harness.emulator.add_fault(FaultRule(kind="reset", path=path, count=3))
    with pytest.raises(Exception, match=r"ConnectionError|reset|Connection"):
        harness.client.exports.transaction(sale.transaction_id)


def test_persistent_5xx_on_a_read_surfaces_as_http_error(harness: Harness) -> None:
    harness.emulator.add_fault(
        FaultRule(kind="http_error", path="/v1/batches/export_one", status=500, count=None)
    )
    with pytest.raises(PayTraceHTTPError) as info:
        harness.client.batches.export_one()
    assert info.value.status_code == 500


def test_expired_token_is_refreshed_once_transparently(harness: Harness) -> None:
    harness.client.transactions.sale_keyed(Decimal("1.00"), VISA, invoice_id="T-1")
    harness.emulator.add_fault(FaultRule(kind="expired_token", path=SALE))
    sale = harness.client.transactions.sale_keyed(Decimal("2.00"), VISA, invoice_id="T-2")
    assert sale.response_code == 101
    assert len(sales(harness, "T-2")) == 1


def test_token_expiry_by_the_clock_is_refreshed(harness: Harness) -> None:
    harness.client.transactions.sale_keyed(Decimal("1.00"), VISA, invoice_id="T-3")
    harness.emulator.advance_clock(7300)  # PayTrace tokens live 7200 s
    sale = harness.client.transactions.sale_keyed(Decimal("2.00"), VISA, invoice_id="T-4")
    assert sale.response_code == 101
