"""The Fusion change poller reads a collection of another REST API (``FusionResource.api``):
the CRM ``accounts`` under ``/crmRestApi`` on the port's origin and credentials, with the same
``LastUpdateDate`` window and order; an unknown API is refused by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from oracle_fusion_client import (
    AccountAddress,
    BasicAuth,
    CustomerAccounts,
    FusionClient,
    FusionError,
    NewCustomerAccount,
    NewStandardReceipt,
)
from oracle_fusion_client.emulator import EmulatorConfig, Fault, FusionEmulator
from paysync_core import ConfigurationError, Engine, FlowRecord, SqliteLedger, SubmitHook
from paysync_core.ports import FusionPort
from paysync_core.sources import FusionChange, FusionChangePoller, FusionResource

BASE = "https://fusion.emulator"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


class Recorder:
    """A handler that takes nothing and remembers what it was given."""

    def __init__(self) -> None:
        self.seen: list[FusionChange] = []

    def __call__(
        self, engine: Engine, change: FusionChange, /, *, checkpoint: SubmitHook | None
    ) -> FlowRecord | None:
        self.seen.append(change)
        return None


def test_an_unknown_api_is_refused_by_name() -> None:
    emulator = FusionEmulator()
    client = FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))
    resource = FusionResource("accounts", "PartyNumber", (Recorder(),), api="hcmRestApi")
    with pytest.raises(ConfigurationError, match=r"resources\.accounts\.api: 'hcmRestApi'"):
        FusionChangePoller(FusionPort(client), [resource])


def test_crm_accounts_are_polled_under_crm_rest_api(tmp_path: Path) -> None:
    emulator = FusionEmulator(EmulatorConfig(now=lambda: NOW))
    session = emulator.session(BASE)
    urls: list[str] = []

    def record(response: requests.Response, *_a: object, **_k: object) -> None:
        urls.append(response.request.url or "")

    session.hooks["response"].append(record)
    clerk = FusionClient(base_url=BASE, auth=BasicAuth("fin.clerk", "p"), session=session)
    CustomerAccounts.from_client(clerk, bundled=True).create(
        NewCustomerAccount(
            party_name="Northwind", account_number="NW-1", address=AccountAddress("1 Main St.")
        )
    )
    paysync = FusionClient(base_url=BASE, auth=BasicAuth("casey.brown", "p"), session=session)
    handler = Recorder()
    poller = FusionChangePoller(
        FusionPort(paysync),
        [
            FusionResource(
                "accounts", "PartyNumber", (handler,), fields=("PartyId",), api="crmRestApi"
            )
        ],
        clock=lambda: NOW + timedelta(minutes=1),
    )
    store = SqliteLedger(tmp_path / "ledger.db")
    try:
        report = poller.poll(Engine(store, []))
    finally:
        store.close()
    assert (report.read, report.ignored) == (1, 1)
    [change] = handler.seen
    assert change.resource == "accounts"
    assert change.record["LastUpdatedBy"] == "fin.clerk"
    # the organization, then its customer account: the last of two strictly increasing stamps
    assert change.last_update == NOW + timedelta(milliseconds=1)
    [get] = [u for u in urls if "/accounts" in u]
    parts = urlsplit(get)
    assert parts.path == "/crmRestApi/resources/11.13.18.05/accounts"
    query = parse_qs(parts.query)
    assert query["orderBy"] == ["LastUpdateDate:asc,PartyNumber:asc"]
    assert query["q"][0].startswith("LastUpdateDate>'")
    assert set(query["fields"][0].split(",")) == {
        "PartyId",
        "PartyNumber",
        "LastUpdateDate",
        "LastUpdatedBy",
    }


def test_a_refused_collection_does_not_starve_the_others(tmp_path: Path) -> None:
    """The integration user without ``crmRestApi`` access: the receipts are still polled and
    their cursor moves; the refusal is raised after (the runner logs it), the accounts cursor
    stays where it was."""
    emulator = FusionEmulator(EmulatorConfig(now=lambda: NOW))
    session = emulator.session(BASE)
    clerk = FusionClient(base_url=BASE, auth=BasicAuth("fin.clerk", "p"), session=session)
    clerk.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber="R-1",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("10.00"),
            Currency="USD",
            CustomerAccountNumber="1008",
        )
    )
    emulator.inject(Fault("status", status=403, method="GET", path="/crmRestApi/", times=5))
    accounts, receipts = Recorder(), Recorder()
    paysync = FusionClient(
        base_url=BASE, auth=BasicAuth("casey.brown", "p"), session=session, sleep=lambda _: None
    )
    poller = FusionChangePoller(
        FusionPort(paysync),
        [
            FusionResource("accounts", "PartyNumber", (accounts,), api="crmRestApi"),
            FusionResource("standardReceipts", "StandardReceiptId", (receipts,)),
        ],
        clock=lambda: NOW + timedelta(minutes=1),
    )
    store = SqliteLedger(tmp_path / "ledger.db")
    try:
        with pytest.raises(FusionError):
            poller.poll(Engine(store, []))
        assert [c.resource for c in receipts.seen] == ["standardReceipts"]
        assert accounts.seen == []
        assert poller.cursor(store, "standardReceipts") == NOW
        assert poller.cursor(store, "accounts") is None
    finally:
        store.close()
