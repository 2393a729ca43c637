"""``paysync run`` polls Fusion for use case 8 (``fusion_payment_status``): over real ports from a
configuration file (Fusion and Salesforce served on sockets, Salesforce over https), and on
``[polling] fusion_interval_seconds`` in the long-running loop.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oracle_fusion_client import BasicAuth, FusionClient, NewStandardReceipt
from oracle_fusion_client.emulator import FusionEmulator, running_emulator
from paysync_core import SqliteLedger
from paysync_core.app import Ports, Runner, demo_salesforce_emulator, get_usecase
from paysync_core.app._runner import PassReport
from paysync_core.app._sources import merge_fusion_resources
from paysync_core.cli import main
from paysync_core.config import parse_config
from paysync_core.ports import FusionPort, SalesforcePort
from paysync_core.sources import FusionResource
from paysync_core.usecases import FusionPaymentStatus
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import DEFAULT_BASE_URL, emulator_session

if TYPE_CHECKING:
    from .conftest import HttpsSalesforce, RunConfig

FUSION_URL = "https://fusion.emulator"


def _reverse_as_clerk(clerk: FusionClient, transaction_id: str) -> None:
    """A person in Fusion posts the payment's receipt, then reverses it."""
    created = clerk.standard_receipts.create(
        NewStandardReceipt(
            ReceiptNumber=f"PT-{transaction_id}",
            ReceiptMethod="Manual",
            BusinessUnit="Vision Operations",
            Amount=Decimal("42.00"),
            Currency="USD",
            CustomerAccountNumber="1008",
        )
    )
    clerk.standard_receipts.reverse(created.StandardReceiptId or 0, reason="NSF")


def _payment(bridge: SalesforceBridge, transaction_id: str) -> None:
    bridge.create_many(
        "Payment__c",
        [{"Payment_ID__c": transaction_id, "Amount__c": 42.0, "Status__c": "Captured"}],
    )


def _fusion_payment_status(bridge: SalesforceBridge, transaction_id: str) -> object:
    [row] = list(
        bridge.query(
            "SELECT Fusion_Status__c FROM Payment__c WHERE Payment_ID__c = {}", transaction_id
        )
    )
    return row["Fusion_Status__c"]


@dataclass
class Served:
    config: Path
    clerk: FusionClient
    bridge: SalesforceBridge


@pytest.fixture
def served(https_salesforce: HttpsSalesforce, run_config: RunConfig) -> Iterator[Served]:
    with running_emulator() as (fusion_url, _fusion):
        clerk = FusionClient(base_url=fusion_url, auth=BasicAuth("fin.clerk", "pw"))
        config = run_config.write(
            fusion_url=fusion_url,
            salesforce_url=https_salesforce.url,
            extra="""
[polling]
fusion_interval_seconds = 120

[usecases.fusion_payment_status]
own_users = ["casey.brown"]
""",
        )
        yield Served(config, clerk, SalesforceBridge(grant=https_salesforce.grant()))


def _passes(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_run_once_picks_up_a_reversal_made_in_fusion(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    _payment(served.bridge, "4242")
    _reverse_as_clerk(served.clerk, "4242")
    run = ["run", "--config", str(served.config), "--once", "--json"]

    assert main([*run, "--use-case", "fusion_payment_status"]) == 0
    [report] = _passes(capsys.readouterr().out)
    assert report["polled"] == {"fusion-changes": 1}
    assert report["succeeded"] == 1
    assert report["dead"] == 0
    assert _fusion_payment_status(served.bridge, "4242") == "Reversed"

    # the next run (a new process: the cursor is in the ledger) finds nothing new
    assert main([*run, "--use-case", "fusion_payment_status"]) == 0
    [again] = _passes(capsys.readouterr().out)
    assert again["polled"] == {"fusion-changes": 0}
    assert again["succeeded"] == 0

    # `paysync status` shows the Fusion cursors and their lag
    ledger = str(served.config.parent / "ledger.db")
    assert main(["--ledger", ledger, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    names = {s["name"] for s in status["streams"] if s["kind"] == "fusion-polling"}
    # one cursor per collection, from its first change on (no invoice changed yet)
    assert names == {"fusion:fusion_payment_status:standardReceipts"}


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fusion_is_polled_every_fusion_interval_seconds(tmp_path: Path) -> None:
    config = parse_config({"polling": {"fusion_interval_seconds": 120}})
    fusion_emulator = FusionEmulator()
    fusion = FusionClient(
        base_url=FUSION_URL,
        auth=BasicAuth("casey.brown", "pw"),
        session=fusion_emulator.session(FUSION_URL),
        sleep=lambda _: None,
    )
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(grant=grant, session=emulator_session(demo_salesforce_emulator()))
    store = SqliteLedger(str(tmp_path / "ledger.db"))
    ports = Ports(store=store, fusion=FusionPort(fusion), salesforce=SalesforcePort(bridge))
    runner = Runner.from_config(config, ports, [get_usecase("fusion_payment_status")])
    assert runner.intervals["fusion"] == 120
    ticks = Ticks()
    runner._monotonic = ticks  # pyright: ignore[reportPrivateUsage] - a fake clock for the loop
    runner.idle_sleep = 0.0
    stop = threading.Event()
    reports: list[PassReport] = []

    def on_pass(report: PassReport) -> None:
        reports.append(report)
        ticks.now += 50.0  # each pass "takes" 50 s
        if len(reports) == 6:
            stop.set()

    try:
        assert runner.run_forever(stop, on_pass=on_pass) == 6
    finally:
        store.close()
    # t = 0, 50, 100, 150, 200, 250: polled at 0, 150 (>= 120 after 0) and 300 is not reached
    polled = [("fusion-changes" in r.polled) for r in reports]
    assert polled == [True, False, False, True, False, False]


def test_use_cases_sharing_a_collection_read_it_once_with_every_handler() -> None:
    bridge = SalesforceBridge(
        grant=PasswordGrant(
            client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
        ),
        session=emulator_session(demo_salesforce_emulator()),
    )
    one, two = (FusionPaymentStatus(salesforce=SalesforcePort(bridge)) for _ in range(2))
    merged = merge_fusion_resources(
        [
            FusionResource("standardReceipts", "StandardReceiptId", (one.submit_receipt,)),
            FusionResource("receivablesInvoices", "CustomerTransactionId", (one.submit_invoice,)),
            FusionResource(
                "standardReceipts", "StandardReceiptId", (two.submit_receipt,), q="State='Reversed'"
            ),
            FusionResource("accounts", "PartyNumber", (one.submit_receipt,), api="crmRestApi"),
            FusionResource("accounts", "PartyNumber", (two.submit_receipt,), api="crmRestApi"),
        ]
    )
    assert [r.name for r in merged] == ["standardReceipts", "receivablesInvoices", "accounts"]
    assert merged[2].api == "crmRestApi"  # a merged collection keeps the API it lives in
    assert merged[2].handlers == (one.submit_receipt, two.submit_receipt)
    assert merged[0].handlers == (one.submit_receipt, two.submit_receipt)
    assert merged[0].q is None  # one reader wants every row: the filter cannot apply
