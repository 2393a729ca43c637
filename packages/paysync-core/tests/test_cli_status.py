"""``paysync status``: flows by state, dead letters, quota left, stream positions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from paysync_core import Engine, FlowDefinition, LedgerTransaction, Quota, SqliteLedger
from paysync_core._status import StreamPosition, collect_status
from paysync_core.cli import main
from paysync_core.testing import FakeClock, FakeSystem, Fault


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    """Two flows of one use case: one succeeded, one dead-lettered; one quota call drawn."""
    path = tmp_path / "status.db"
    store = SqliteLedger(path)
    system, clock = FakeSystem(), FakeClock()
    system.script("post", Fault.REJECTED)
    engine = Engine(
        store,
        [FlowDefinition("billing", [system.step("post")])],
        lease_ttl=timedelta(minutes=5),
        clock=clock,
        sleep=clock.sleep,
    )
    for source_id in ("1", "2"):
        flow = engine.submit("billing", source_system="s", source_id=source_id, version=1, input={})
        engine.run_flow(flow.flow_id)
    store.close()
    return str(path)


def test_status_json_counts_flows_and_dead_letters(
    ledger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--ledger", ledger, "status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["flows"] == {"billing": {"dead": 1, "succeeded": 1}}
    assert report["open_dead_letters"] == 1


def test_status_table_and_quota_from_config(
    ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paysync.toml"
    config.write_text("[quota.paytrace]\nper_minute = 50\ndaily = 1000\n")
    assert main(["--ledger", ledger, "status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "billing" in out
    assert "open dead letters: 1" in out
    assert "paytrace" in out
    assert "1000" in out


def test_stream_reporters_contribute_positions(ledger: str) -> None:
    def reporter(tx: LedgerTransaction, now: datetime) -> list[StreamPosition]:
        rows = tx.execute("SELECT COUNT(*) FROM flows")
        return [StreamPosition("paytrace-polling", "sales", f"flows={rows[0][0]}", now, 12.0)]

    store = SqliteLedger(ledger)
    try:
        now = FakeClock()()
        report = collect_status(
            store, quotas={"paytrace": Quota(per_day=10)}, now=now, reporters=[reporter]
        )
    finally:
        store.close()
    assert report.streams == (StreamPosition("paytrace-polling", "sales", "flows=2", now, 12.0),)
    assert [(q.system, q.limit, q.used) for q in report.quotas] == [("paytrace", 10, 0)]
    assert report.as_json()["streams"] == [
        {
            "kind": "paytrace-polling",
            "name": "sales",
            "position": "flows=2",
            "updated_at": now.isoformat(),
            "lag_seconds": 12.0,
        }
    ]
