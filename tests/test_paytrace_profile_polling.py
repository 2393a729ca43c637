"""Vault profiles changed in PayTrace, found by polling ``customer/export`` (use case 5): a
digest per profile in the ledger, written with the submission it covers, so a crash repeats
nothing and loses nothing and a restarted poller starts nothing new. SQLite and PostgreSQL
ledgers; the three emulators in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from paysync_core import (
    Engine,
    FlowRecord,
    FlowState,
    LedgerStore,
    SubmitHook,
)
from paysync_core.ports import ClientErrorClassifier
from paysync_core.usecases import PayTraceProfilePoller
from paysync_core.usecases.customer_sync import PAYTRACE_USE_CASE
from paysync_core.xref import CustomerXrefTable
from paytrace_client import Address as PayTraceAddress
from paytrace_client.models import CustomerRecord

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory, StoreFactory

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator
ACCOUNT_FIELDS = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry FROM Account WHERE Id = {}"
)


class CrashError(Exception):
    """A simulated crash of the poller process."""


class Vault:
    """Use case 5 over one ledger store (a new store on the same ledger = a restart)."""

    def __init__(self, env: Emulated, store: LedgerStore) -> None:
        self.env = env
        self.store = store
        self.usecase = env.customer_sync(CustomerXrefTable(store))
        self.engine = Engine(
            store, self.usecase.definitions(), classifier=ClientErrorClassifier(), sleep=_no_wait
        )

    def poller(
        self, handler: Callable[..., FlowRecord | None] | None = None
    ) -> PayTraceProfilePoller:
        return PayTraceProfilePoller(
            self.usecase.paytrace, handler or self.usecase.submit_paytrace_profile
        )

    def flows(self) -> list[FlowRecord]:
        with self.store.transaction() as tx:
            return [f for f in tx.list_flows() if f.use_case == PAYTRACE_USE_CASE]


def _no_wait(_seconds: float) -> None:
    return None


@pytest.fixture
def env(emulated: EmulatedFactory) -> Emulated:
    return emulated.for_customer_sync()


def _synced_account(vault: Vault) -> str:
    """A Salesforce Account synced to PayTrace and Fusion (the SF direction)."""
    bridge = vault.env.bridge
    account_id = str(
        bridge.create_many(
            "Account",
            [
                {
                    "Name": "Northwind Traders",
                    "BillingStreet": "500 Main St.",
                    "BillingCity": "Seattle",
                    "BillingState": "WA",
                    "BillingPostalCode": "98101",
                }
            ],
        )[0].id
    )
    bridge.create_many(
        "Contact", [{"LastName": "Buyer", "Email": "buyer@x.example", "AccountId": account_id}]
    )
    account = vault.env.records(ACCOUNT_FIELDS, account_id)[0]
    flow = vault.usecase.submit_account(vault.engine, account, {"Email": "buyer@x.example"})
    assert vault.engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    return account_id


def test_a_crash_before_the_submission_repeats_it_once_and_a_restart_starts_nothing(
    ledger_factory: StoreFactory, env: Emulated
) -> None:
    vault = Vault(env, ledger_factory())
    account_id = _synced_account(vault)
    assert vault.poller().poll_report(vault.engine).submitted == []  # paysync's own write
    env.paytrace.customers.update(
        f"sf-{account_id}",
        billing_address=PayTraceAddress(
            name="Northwind Traders", street_address="9 Elm St.", city="Seattle", state="WA"
        ),
    )

    def crashing(engine: Engine, record: CustomerRecord, *, checkpoint: SubmitHook | None) -> None:
        raise CrashError(record.customer_id)

    with pytest.raises(CrashError):
        vault.poller(crashing).poll_report(vault.engine)
    assert vault.flows() == []  # nothing submitted, and the digest was not kept either

    restarted = Vault(env, ledger_factory())
    report = restarted.poller().poll_report(restarted.engine)
    assert (report.changed, len(report.submitted)) == (1, 1)
    again = Vault(env, ledger_factory())
    assert again.poller().poll_report(again.engine).changed == 0
    assert len(again.flows()) == 1
    (flow,) = again.flows()
    done = again.engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    assert env.records(ACCOUNT_FIELDS, account_id)[0]["BillingStreet"] == "9 Elm St."

    # the digests and flows hold billing fields only: no card number, not even its last 4
    with again.store.transaction() as tx:
        rows = tx.execute("SELECT customer_id, digest FROM paysync_profile_digests")
        inputs = [f.input for f in tx.list_flows()]
    assert rows
    assert CARD not in repr(rows) + repr(inputs)
    assert "5439" not in repr(inputs)
