"""``paysync run --once`` fed by the Salesforce event stream (``[salesforce.events]``).

The Salesforce emulator serves REST + CometD over https (generated CA) and Pub/Sub over TLS
on real ports, as ``python -m salesforce_bridge.emulator`` does; PayTrace and Fusion run on
ports too. A Closed Won opportunity becomes exactly one flow; the replay checkpoint is in
the ledger and shown by ``paysync status --json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from oracle_fusion_client.emulator import running_emulator
from paysync_core.app import (
    ORDER_TO_CASH,
    EventStreams,
    demo_salesforce_emulator,
    event_streams_from_config,
    offline_ports,
)
from paysync_core.cli import main
from paysync_core.config import load_config
from paysync_core.mapping import CustomerXref
from paysync_core.sources import LedgerReplayStore
from paysync_core.usecases import OrderToCashConfig
from paytrace_client import CreditCard, PayTraceClient
from paytrace_client.emulator import EmulatorServer
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import PubSubServer, serve
from salesforce_bridge.events import EventSubscription

CARD = "4012000098765439"  # PayTrace's public sandbox Visa; only ever given to the emulator
CREDENTIALS = {
    "EV_PT_USER": "demo123",
    "EV_PT_PASSWORD": "demo123",
    "EV_FU_USER": "casey.brown",
    "EV_FU_PASSWORD": "pw",
    "EV_SF_CLIENT_ID": "cid",
    "EV_SF_CLIENT_SECRET": "cs",
    "EV_SF_USER": "ops@example.com",
    "EV_SF_PASSWORD": "pw",
}
TOPIC = "/data/OpportunityChangeEvent"


@dataclass
class Served:
    config: Path
    ledger: Path
    paytrace: PayTraceClient
    bridge: SalesforceBridge
    acme: str


@pytest.fixture(params=["cometd", "pubsub"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    transport = str(request.param)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    emulator = demo_salesforce_emulator()
    salesforce = serve(emulator, port=0, tls_dir=tmp_path / "tls")
    assert salesforce.ca_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(salesforce.ca_path))
    pubsub = PubSubServer(emulator, tls=salesforce.tls).start()
    try:
        with EmulatorServer() as paytrace_server, running_emulator() as (fusion_url, _fusion):
            grant = PasswordGrant(
                client_id="cid",
                client_secret="cs",
                username="ops@example.com",
                password="pw",
                login_url=salesforce.url,
            )
            bridge = SalesforceBridge(grant=grant)
            acme = str(
                next(iter(bridge.query("SELECT Id FROM Account WHERE Name = 'Acme Corporation'")))[
                    "Id"
                ]
            )
            ledger = tmp_path / "ledger.db"
            config = tmp_path / "paysync.toml"
            config.write_text(
                f"""
[ledger]
url = "{ledger}"

[paytrace]
base_url = "{paytrace_server.base_url}"
username = "env:EV_PT_USER"
password = "env:EV_PT_PASSWORD"

[fusion]
base_url = "{fusion_url}"
auth = "basic"
username = "env:EV_FU_USER"
password = "env:EV_FU_PASSWORD"

[salesforce]
login_url = "{salesforce.url}"
auth = "password"
client_id = "env:EV_SF_CLIENT_ID"
client_secret = "env:EV_SF_CLIENT_SECRET"
username = "env:EV_SF_USER"
password = "env:EV_SF_PASSWORD"

[salesforce.events]
transport = "{transport}"
pubsub_endpoint = "{pubsub.target}"
channels = ["{TOPIC}"]
initial_replay = "earliest"

[engine]
workers = 2

[usecases.order_to_cash.xref]
default_fusion_account = "1008"
""",
                encoding="utf-8",
            )
            paytrace = PayTraceClient(
                username="demo123", password="demo123", base_url=paytrace_server.base_url
            )
            yield Served(config, ledger, paytrace, bridge, acme)
    finally:
        pubsub.stop()
        salesforce.stop()


def _run_until(served: Served, capsys: pytest.CaptureFixture[str], passes: int = 8) -> int:
    """``run --once`` until a pass submits a flow (a fresh stream may deliver on the next
    pass: --once never waits long); returns the flows the passes submitted in all."""
    args = ["run", "-c", str(served.config), "--once", "--json", "-u", "order_to_cash"]
    for _ in range(passes):
        assert main(args) == 0
        [report] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x[:1] == "{"]
        assert set(report["polled"]) == {f"salesforce-events:{TOPIC}"}, report
        submitted = int(report["polled"][f"salesforce-events:{TOPIC}"])
        if submitted:
            assert report["succeeded"] == 1, report
            return submitted
    return 0


def test_closed_won_event_becomes_exactly_one_flow(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    card = CreditCard(number=CARD, expiration_month=12, expiration_year=2030, csc="999")
    served.paytrace.customers.create(f"sf-{served.acme}", credit_card=card)
    [opportunity] = served.bridge.create_many(
        "Opportunity",
        [
            {
                "Name": "Acme expansion",
                "StageName": "Prospecting",
                "CloseDate": "2026-03-01",
                "Amount": 149.99,
                "AccountId": served.acme,
            }
        ],
    )
    served.bridge.update_many("Opportunity", [{"Id": opportunity.id, "StageName": "Closed Won"}])
    served.bridge.update_many("Opportunity", [{"Id": opportunity.id, "Amount": 150.0}])

    assert _run_until(served, capsys) == 1
    # the next pass resumes after the checkpoint: nothing new
    args = ["run", "-c", str(served.config), "--once", "--json", "-u", "order_to_cash"]
    assert main(args) == 0
    [again] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x[:1] == "{"]
    assert again["polled"] == {f"salesforce-events:{TOPIC}": 0}
    assert again["succeeded"] == 0

    payments = list(
        served.bridge.query(
            "SELECT Status__c FROM Payment__c WHERE Opportunity__c = {}", str(opportunity.id)
        )
    )
    assert [p["Status__c"] for p in payments] == ["Captured"]
    assert main(["--ledger", str(served.ledger), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    streams = [s for s in status["streams"] if s["kind"] == "salesforce-events"]
    assert [s["name"] for s in streams] == [TOPIC]
    assert streams[0]["position"]


def test_a_use_case_whose_topic_is_not_a_channel_polls() -> None:
    def never(topic: str, _store: LedgerReplayStore) -> EventSubscription:
        raise AssertionError(f"{topic} is not a configured channel")

    ports = replace(
        offline_ports(),
        events=EventStreams("cometd", ("/data/AccountChangeEvent",), never),
    )
    try:
        build = ORDER_TO_CASH.build(
            ports, OrderToCashConfig(xref=CustomerXref(default_fusion_account="1008"))
        )
        assert [s.name for s in build.sources] == ["salesforce-opportunities"]
    finally:
        ports.store.close()


def test_poll_transport_opens_no_stream(tmp_path: Path) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text(
        '[salesforce]\nauth = "password"\nclient_id = "env:X"\nclient_secret = "env:X"\n'
        'username = "env:X"\npassword = "env:X"\n[salesforce.events]\ntransport = "poll"\n',
        encoding="utf-8",
    )
    assert event_streams_from_config(load_config(config), None) is None
