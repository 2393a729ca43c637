"""Vault profiles changed in PayTrace, found by polling ``customer/export`` (use case 5): a
digest per profile in the ledger, written with the submission it covers, so a crash repeats
nothing and loses nothing and a restarted poller starts nothing new. SQLite and PostgreSQL
ledgers; the three emulators in-process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

from paysync_core import (
    Engine,
    FlowRecord,
    FlowState,
    LedgerStore,
    PostgresLedger,
    SqliteLedger,
    SubmitHook,
)
from paysync_core.ports import ClientErrorClassifier, FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import PayTraceProfilePoller
from paysync_core.usecases.customer_sync import PAYTRACE_USE_CASE, CustomerSync
from paysync_core.xref import CustomerXrefTable
from paytrace_client import Address as PayTraceAddress
from paytrace_client.models import CustomerRecord

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

CARD = "4012000098765439"  # PayTrace's public test Visa; only ever given to the emulator
StoreFactory = Callable[[], LedgerStore]
ACCOUNT_FIELDS = (
    "SELECT Id, Name, AccountNumber, BillingStreet, BillingCity, BillingState, "
    "BillingPostalCode, BillingCountry FROM Account WHERE Id = {}"
)


class CrashError(Exception):
    """A simulated crash of the poller process."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens stores on one fresh ledger (a second call = the process after a restart)."""
    kind = str(request.param)
    dsn = os.environ.get("PAYSYNC_TEST_POSTGRES_DSN", "")
    if kind == "postgres" and not dsn:
        if os.environ.get("PAYSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PAYSYNC_TEST_POSTGRES_DSN is not set (and PAYSYNC_REQUIRE_POSTGRES=1)")
        pytest.skip("PAYSYNC_TEST_POSTGRES_DSN is not set")
    schema = f"pstest_prof_{uuid.uuid4().hex[:10]}"
    opened: list[LedgerStore] = []

    def make() -> LedgerStore:
        store: LedgerStore = (
            SqliteLedger(tmp_path / "ledger.db")
            if kind == "sqlite"
            else PostgresLedger(dsn, schema=schema, max_size=4)
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if kind == "postgres":
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class Vault:
    """Use case 5 over one ledger store (a new store on the same ledger = a restart)."""

    def __init__(self, env: Emulated, store: LedgerStore) -> None:
        self.env = env
        self.store = store
        token = env.protect_token()
        self.usecase = CustomerSync(
            paytrace=PayTracePort(env.paytrace, token_source=lambda _c: token),
            fusion=FusionPort(env.fusion),
            salesforce=SalesforcePort(env.bridge),
            xref=CustomerXrefTable(store),
        )
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
    return emulated(
        {
            "Account": (
                "BillingStreet",
                "BillingState",
                "BillingPostalCode",
                "Vault_Customer_ID__c",
                "Fusion_Account_Number__c",
                "Payment_Method__c",
            )
        }
    )


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
