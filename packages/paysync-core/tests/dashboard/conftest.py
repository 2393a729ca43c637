"""Dashboard fixtures: a ledger with a tiny two-step flow whose first call is rejected once.

The flow ``demo_payment`` charges on a fake PayTrace and posts a receipt on a fake Fusion
(:class:`paysync_core.testing.FakeSystem`: an external system with no idempotency keys). A
scripted 422 on the first charge dead-letters the flow; a retry from the dashboard then looks
the charge up, performs it and finishes the flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from paysync_core import (
    Engine,
    FlowDefinition,
    FlowRecord,
    LedgerStore,
    Quota,
    RetryPolicy,
    SqliteLedger,
    Step,
)
from paysync_core.app import run_demo
from paysync_core.dashboard import (
    CursorStatus,
    DashboardConfig,
    Role,
    StreamStatus,
    UseCaseInfo,
    User,
    create_app,
)
from paysync_core.reconcile import RecordWriter, reconcile, write_report
from paysync_core.sources.salesforce_events import LedgerReplayStore
from paysync_core.testing import FakeSystem, Fault

USE_CASE = "demo_payment"
OPERATOR = ("alice", "alice-pass-1")
VIEWER = ("bob", "bob-pass-1")
# Cheap hashes keep the tests fast; production uses werkzeug's scrypt default.
_METHOD = "pbkdf2:sha256:1000"


@dataclass
class Demo:
    store: LedgerStore
    paytrace: FakeSystem
    fusion: FakeSystem
    engine: Engine
    config: DashboardConfig
    reports: Path
    submitted: list[FlowRecord] = field(default_factory=list[FlowRecord])

    def submit(self, source_id: str = "INV-1") -> FlowRecord:
        flow = self.engine.submit(
            USE_CASE,
            source_system="salesforce",
            source_id=source_id,
            version=1,
            input={"amount": "12.50", "currency": "USD"},
        )
        self.submitted.append(flow)
        return flow

    def fail_next_charge(self) -> None:
        self.paytrace.script("charge", Fault.REJECTED)


def _definition(paytrace: FakeSystem, fusion: FakeSystem) -> FlowDefinition:
    return FlowDefinition(
        USE_CASE,
        [
            Step("charge", paytrace.perform, paytrace.lookup, system="paytrace"),
            Step("post_receipt", fusion.perform, fusion.lookup, system="fusion"),
        ],
    )


def make_demo(store: LedgerStore, tmp_path: Path, **overrides: object) -> Demo:
    paytrace, fusion = FakeSystem("pt"), FakeSystem("fa")
    definition = _definition(paytrace, fusion)
    quotas = {"paytrace": Quota(per_minute=60, per_day=10_000)}
    engine = Engine(
        store,
        [definition],
        policy=RetryPolicy(max_attempts=2),
        worker_id="w-test",
        quotas=quotas,
    )
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    now = datetime.now(timezone.utc)
    settings: dict[str, object] = {
        "ledger": store,
        "secret_key": "test-secret-key-not-for-production",
        "users": {
            OPERATOR[0]: User(
                OPERATOR[0], generate_password_hash(OPERATOR[1], method=_METHOD), Role.OPERATOR
            ),
            VIEWER[0]: User(
                VIEWER[0], generate_password_hash(VIEWER[1], method=_METHOD), Role.VIEWER
            ),
        },
        "reports_dir": reports,
        "quotas": quotas,
        "use_cases": [
            UseCaseInfo(
                definition,
                description="Charge an invoice and post the receipt.",
                rules={"receipt_method": "PayTrace Card", "gl_account": "01-000-4100-0000"},
            )
        ],
        "links": {"paytrace": "https://paytrace.example/tx/{id}"},
        "streams": lambda: [StreamStatus("/data/OpportunityChangeEvent", "0x2a", now, 3)],
        "cursors": lambda: [CursorStatus("paytrace.transactions", "2026-11-23T10:00Z", now)],
        "poll_seconds": 0.3,
    }
    settings.update(overrides)
    config = DashboardConfig(**settings)  # type: ignore[arg-type]
    return Demo(store, paytrace, fusion, engine, config, reports)


@pytest.fixture
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Demo]:
    """On SQLite; on both SQLite and PostgreSQL when the test also asks for ``store``."""
    if "store" in request.fixturenames:
        yield make_demo(request.getfixturevalue("store"), tmp_path)
        return
    store = SqliteLedger(tmp_path / "ledger.db")
    yield make_demo(store, tmp_path)
    store.close()


@pytest.fixture
def app(demo: Demo) -> Flask:
    return create_app(demo.config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, who: tuple[str, str]) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": who[0], "password": who[1], "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


LoginAs = Callable[[tuple[str, str]], FlaskClient]


@pytest.fixture
def login_as(app: Flask) -> LoginAs:
    def make(who: tuple[str, str]) -> FlaskClient:
        client = app.test_client()
        login(client, who)
        return client

    return make


# -- the ledger of `paysync demo` (every registered use case ran) and a reconcile report -----
SF_CHANNEL = "/data/OpportunityChangeEvent"
CHECKPOINT_AGE = timedelta(minutes=7)


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger written by ``paysync demo``: flows of all seven use cases and the
    PayTrace export cursor; plus a Salesforce replay checkpoint saved 7 minutes ago by the
    event source's own store."""
    path = tmp_path_factory.mktemp("demo") / "ledger.db"
    run_demo(path).close()
    store = SqliteLedger(path)
    try:
        ago = datetime.now(timezone.utc) - CHECKPOINT_AGE
        LedgerReplayStore(store, clock=lambda: ago).save(SF_CHANNEL, bytes.fromhex("00002a"))
    finally:
        store.close()
    return path


def write_reconcile_report(folder: Path, day: str, start: str, end: str) -> tuple[Path, Path]:
    """An HTML and a JSON report of a small three-way reconciliation of ``start``..``end``
    written on ``day``, laid out as ``paysync reconcile --reports-dir`` does:
    ``<folder>/<day>/reconcile-<start>-<end>.html|json``."""
    rows = {
        "paytrace": [("1", 1000), ("2", 500)],
        "fusion": [("PT-1", 1000), ("PT-2", 400)],
        "salesforce": [("1", 1000)],
    }
    stem = f"reconcile-{start}-{end}"
    inputs = folder.parent / f"inputs-{day}-{stem}"
    inputs.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for system, records in rows.items():
        with RecordWriter(inputs / f"{system}.csv") as out:
            for ref, cents in records:
                out.write(
                    {
                        "ref": ref,
                        "id": ref,
                        "kind": "payment",
                        "amount_cents": cents,
                        "status": "captured",
                        "day": end,
                        "customer": "C1",
                        "invoice": "",
                        "batch": "",
                    }
                )
        paths[system] = out.path
    result = reconcile(
        paytrace=paths["paytrace"],
        fusion=paths["fusion"],
        salesforce=paths["salesforce"],
        engine="python",
    )
    target = folder / day
    target.mkdir(parents=True, exist_ok=True)
    return (
        write_report(result, target / f"{stem}.html"),
        write_report(result, target / f"{stem}.json"),
    )
