"""Finding new PayTrace activity by polling the exports: a durable cursor in the ledger that
moves only with the submission it covers, an overlap window for export lag, dedup by
transaction id, PayTrace's export time zone. Runs on SQLite and PostgreSQL ledgers; the
PayTrace emulator runs in-process and Fusion / Salesforce are never called (flows are only
submitted, not run).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from paysync_core import (
    ConfigurationError,
    Engine,
    FlowRecord,
    LedgerStore,
    LedgerTransaction,
    SubmitHook,
)
from paysync_core.mapping import VaultXref
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import (
    ECOMMERCE_USE_CASE,
    ActivityHandler,
    EcommerceConfig,
    EcommerceOrderToCash,
    PayTraceActivityPoller,
)
from paytrace_client import PayTraceClient, PayTraceDeclinedError, ProtectToken
from paytrace_client.emulator import EmulatorConfig, PayTraceEmulator
from paytrace_client.models import ExportedTransaction

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory, StoreFactory

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator
CHICAGO = ZoneInfo("America/Chicago")


class CrashError(Exception):
    """A simulated crash of the poller process."""


class Shop:
    """The PayTrace side (emulator in Chicago time) and the use case 2 trigger."""

    def __init__(self, env: Emulated) -> None:
        self.emulator = PayTraceEmulator(EmulatorConfig(export_timezone=CHICAGO))
        self.client = PayTraceClient(
            username="demo123",
            password="demo123",
            session=self.emulator.session(),
            sleep=lambda _: None,
            export_timezone=CHICAGO,
        )
        hpf, enc = self.emulator.register_protect_card(CARD, 12, 2030)
        self.client.customers.create_protect("web-shopper", ProtectToken(hpf, enc))
        # Fusion and Salesforce are never called: flows are only submitted
        self.usecase = EcommerceOrderToCash(
            fusion=FusionPort(env.fusion),
            salesforce=SalesforcePort(env.bridge),
            config=EcommerceConfig(
                xref=VaultXref(default_salesforce_account="001x", default_fusion_account="1008")
            ),
        )

    def sale(self, invoice_id: str, amount: str = "10.00") -> int:
        result = self.client.transactions.sale_by_customer(
            Decimal(amount), "web-shopper", invoice_id=invoice_id
        )
        assert result.transaction_id is not None
        return result.transaction_id

    def poller(self, handlers: Sequence[ActivityHandler] = ()) -> PayTraceActivityPoller:
        return PayTraceActivityPoller(
            PayTracePort(self.client),
            handlers or [self.usecase.submit_sale],
            clock=self.emulator.now,
        )

    def engine(self, store: LedgerStore) -> Engine:
        return Engine(store, [self.usecase.definition()], clock=self.emulator.now)


@pytest.fixture
def shop(emulated: EmulatedFactory) -> Shop:
    return Shop(emulated())


def _flows(store: LedgerStore) -> list[FlowRecord]:
    with store.transaction() as tx:
        return [f for f in tx.list_flows() if f.use_case == ECOMMERCE_USE_CASE]


def test_cursor_survives_a_restart_without_duplicates(
    ledger_factory: StoreFactory, shop: Shop
) -> None:
    first_id = shop.sale("WEB-1")
    shop.emulator.advance_clock(60)
    shop.sale("WEB-2")
    shop.sale("SF-006000000000001")  # not a web order (use case 1's invoice ids)
    with pytest.raises(PayTraceDeclinedError):
        shop.sale("WEB-3", "0.29")  # the emulator declines 0.29
    store = ledger_factory()
    report = shop.poller().poll(shop.engine(store))
    assert len(report.submitted) == 2
    assert report.ignored == 2
    assert {f.source_id for f in _flows(store)} == {str(first_id), str(first_id + 1)}

    restarted = ledger_factory()  # a new process: nothing in memory, only the ledger
    again = shop.poller().poll(shop.engine(restarted))
    assert again.submitted == []
    assert again.already_known == 4  # read again (overlap), recognised by transaction id
    assert len(_flows(restarted)) == 2

    shop.emulator.advance_clock(60)
    later = shop.sale("WEB-4")
    third = shop.poller().poll(shop.engine(restarted))
    assert len(third.submitted) == 1
    assert {f.source_id for f in _flows(restarted)} >= {str(later)}
    assert len(_flows(restarted)) == 3


def test_crash_before_the_submission_commits_loses_and_repeats_nothing(
    ledger_factory: StoreFactory, shop: Shop
) -> None:
    shop.sale("WEB-10")
    shop.emulator.advance_clock(30)
    second = shop.sale("WEB-11")
    store = ledger_factory()
    before = datetime.now(timezone.utc)

    def crash_on_second(
        engine: Engine, record: ExportedTransaction, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None:
        def then_crash(tx: LedgerTransaction, flow: FlowRecord) -> None:
            assert checkpoint is not None
            checkpoint(tx, flow)
            if record.transaction_id == second:
                raise CrashError  # inside the submitting transaction: it rolls back

        return shop.usecase.submit_sale(engine, record, checkpoint=then_crash)

    poller = shop.poller([crash_on_second])
    with pytest.raises(CrashError):
        poller.poll(shop.engine(store))
    assert len(_flows(store)) == 1  # the first committed with its cursor ...
    cursor = poller.cursor(store)
    assert cursor is not None
    assert cursor < shop.emulator.now()
    assert cursor > before - timedelta(seconds=5)

    resumed = shop.poller().poll(shop.engine(ledger_factory()))
    assert len(resumed.submitted) == 1  # ... the second was neither submitted nor skipped
    assert {f.source_id for f in _flows(store)} == {str(second - 1), str(second)}


def test_late_export_within_the_overlap_is_picked_up(
    ledger_factory: StoreFactory, shop: Shop
) -> None:
    shop.emulator.advance_clock(600)
    shop.sale("WEB-20")  # created at t+10 min
    store = ledger_factory()
    poller = shop.poller()
    assert len(poller.poll(shop.engine(store)).submitted) == 1
    cursor = poller.cursor(store)
    assert cursor is not None

    # an older transaction shows up in the exports only now (created at t+5 min)
    shop.emulator.advance_clock(-300)
    late = shop.sale("WEB-19")
    shop.emulator.advance_clock(300)
    report = poller.poll(shop.engine(store))
    assert len(report.submitted) == 1
    assert str(late) in {f.source_id for f in _flows(store)}
    assert poller.cursor(store) == cursor  # never moves back


def test_cursor_is_the_true_instant_of_the_chicago_export_time(
    ledger_factory: StoreFactory, shop: Shop
) -> None:
    created = shop.emulator.now()
    shop.sale("WEB-30")
    store = ledger_factory()
    poller = shop.poller()
    poller.poll(shop.engine(store))
    cursor = poller.cursor(store)
    assert cursor is not None
    assert cursor.utcoffset() == timedelta(0)
    # exports have whole seconds in local Chicago time; the cursor is the same UTC instant
    assert abs(cursor - created) < timedelta(seconds=2)


def test_poller_needs_a_handler(shop: Shop) -> None:
    with pytest.raises(ConfigurationError, match="handlers"):
        PayTraceActivityPoller(PayTracePort(shop.client), [])
