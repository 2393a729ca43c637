"""Use case 3: a sale voided in PayTrace (virtual terminal) is found by polling the exports
with ``transaction_type=VOID`` and posted once: its Fusion receipt reversed, its
``Payment__c`` set Voided. Voids paysync made itself start nothing. Runs on SQLite and
PostgreSQL ledgers against the three in-process emulators.

The sales come from use case 2 (a polled web order, shipped, invoiced and paid in Fusion), so
every void points at a real receipt and ``Payment__c``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

from paysync_core import FlowState, LedgerStore, PostgresLedger
from paysync_core.ports import PayTracePort
from paysync_core.usecases import PayTraceVoidPoller

if TYPE_CHECKING:
    from conftest import EmulatedFactory, WebRefundsFactory
    from conftest import WebRefunds as World


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(
    request: pytest.FixtureRequest, emulated: EmulatedFactory
) -> Iterator[LedgerStore | None]:
    """``None``: the emulated world's SQLite ledger; else a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", "")
    if not dsn:
        if os.environ.get("PAYSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PAYSYNC_TEST_POSTGRES_DSN is not set (and PAYSYNC_REQUIRE_POSTGRES=1)")
        pytest.skip("PAYSYNC_TEST_POSTGRES_DSN is not set")
    schema = f"pstest_void_{uuid.uuid4().hex[:10]}"
    ledger = PostgresLedger(dsn, schema=schema, max_size=4)
    yield ledger
    ledger.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def world(web_refunds: WebRefundsFactory, store: LedgerStore | None) -> World:
    return web_refunds(
        payment_columns="Id, Payment_ID__c, Account__c, Status__c, Refunded_Amount__c",
        store=store,
    )


def test_void_made_in_paytrace_is_found_and_posted_once(world: World) -> None:
    txn = world.paid_web_order("WEB-3001", "42.00")
    other = world.paid_web_order("WEB-3002", "17.00")
    assert world.voids.poll(world.engine).read == 0  # nothing voided yet
    assert world.receipt_state(txn) != "Reversed"

    # voided in PayTrace's virtual terminal: no new transaction, the sale turns Voided
    world.env.paytrace.transactions.void(int(txn))
    found = world.voids.poll(world.engine)
    assert (found.read, len(found.submitted)) == (1, 1)
    # the regular export cursor does not see it (the sale's creation time is behind it)
    assert world.poller.poll(world.engine).submitted == []

    done = world.engine.run_flow(found.submitted[0].flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert world.receipt_state(txn) == "Reversed"
    assert world.receipt_state(other) != "Reversed"
    reopened = world.env.fusion.receivables_invoices.find_by_number(f"WEB-{txn}")
    assert reopened is not None
    assert reopened.InvoiceBalanceAmount == Decimal("42.00")
    payment = world.payment(txn)
    assert payment["Status__c"] == "Voided"
    assert Decimal(str(payment["Refunded_Amount__c"])) == Decimal("0.00")
    assert world.payment(other)["Status__c"] == "Captured"
    steps = {s.name: s for s in world.engine.steps(done.flow_id)}
    assert steps["paytrace_reverse"].external_ids["kind"] == "void"
    assert steps["fusion_reverse"].external_ids["reversed_receipt"] == f"PT-{txn}"

    # polling again (and after a restart: the seen mark is in the ledger) finds nothing new
    again = world.voids.poll(world.engine)
    assert (again.read, again.submitted, again.already_known) == (1, [], 1)
    restarted = PayTraceVoidPoller(
        PayTracePort(world.env.paytrace), [world.refunds.submit_observed_void], clock=world.clock
    )
    assert restarted.poll(world.engine).submitted == []
    assert world.engine.run_pending(max_workers=1).processed == 0


def test_void_paysync_made_itself_starts_no_second_flow(world: World) -> None:
    txn = world.paid_web_order("WEB-3003", "25.00")
    flow = world.refunds.submit_request(
        world.engine, world.payment(txn), request_id="RQ31", amount=Decimal("25.00")
    )
    done = world.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert world.payment(txn)["Status__c"] == "Voided"

    polled = world.voids.poll(world.engine)
    assert (polled.read, polled.submitted, polled.ignored) == (1, [], 1)
    assert world.engine.run_pending(max_workers=1).processed == 0
    # the receipt was reversed once, by paysync's own flow
    receipt = world.env.fusion.standard_receipts.find_by_number(f"PT-{txn}")
    assert receipt is not None
    assert receipt.State == "Reversed"


def test_void_of_a_sale_paysync_never_recorded_is_ignored_until_it_is(world: World) -> None:
    # a sale taken in PayTrace that no use case posted (no Payment__c): nothing to update
    stray = world.env.web_sale("POS-77", "9.00")
    world.env.paytrace.transactions.void(int(stray))
    polled = world.voids.poll(world.engine)
    assert (polled.read, polled.submitted, polled.ignored) == (1, [], 1)
    assert world.env.records("SELECT Id FROM Payment__c WHERE Payment_ID__c = {}", stray) == []
    # looked at again on each poll while in the window; after it, no longer read
    world.clock.advance(timedelta(days=4).total_seconds())
    assert world.voids.poll(world.engine).read == 0
