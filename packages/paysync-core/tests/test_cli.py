"""The ``paysync`` console script: --version, dlq and audit verbs."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from paysync_core import Engine, FlowDefinition, SqliteLedger
from paysync_core.cli import main
from paysync_core.testing import FakeClock, FakeSystem, Fault, drop_audit_guard


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    """A SQLite ledger holding one dead-lettered flow."""
    path = tmp_path / "cli.db"
    store = SqliteLedger(path)
    system, clock = FakeSystem(), FakeClock()
    system.script("post", Fault.REJECTED)
    engine = Engine(
        store,
        [FlowDefinition("uc", [system.step("post")])],
        lease_ttl=timedelta(minutes=5),
        clock=clock,
        sleep=clock.sleep,
    )
    flow = engine.submit("uc", source_system="s", source_id="1", version=1, input={"a": 1})
    engine.run_flow(flow.flow_id)
    store.close()
    return str(path)


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paysync_core.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("paysync ")


def test_dlq_verbs(ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ledger", ledger, "dlq", "list", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert "T" in entry["created_at"]  # ISO 8601, like `status --json`
    entry_id = str(entry["entry_id"])
    assert entry["reason"] == "permanent"

    assert main(["--ledger", ledger, "dlq", "show", entry_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["entry"]["last_error"] == "HttpStatusError: HTTP 422"

    edited = tmp_path / "input.json"
    edited.write_text('{"a": 2}')
    assert main(["--ledger", ledger, "dlq", "retry", entry_id, "--input", str(edited)]) == 0
    assert "re-queued" in capsys.readouterr().out
    assert main(["--ledger", ledger, "dlq", "list"]) == 0
    assert "no dead letters" in capsys.readouterr().out
    assert main(["--ledger", ledger, "dlq", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--ledger", ledger, "dlq", "resolve", entry_id, "--note", "done"]) == 0
    assert main(["--ledger", ledger, "dlq", "list", "--all"]) == 0
    assert "resolved" in capsys.readouterr().out
    assert main(["--ledger", ledger, "dlq", "show", "nope"]) == 1


def test_audit_verbs(ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ledger", ledger, "audit", "verify"]) == 0
    assert "audit trail OK" in capsys.readouterr().out
    export = tmp_path / "audit.jsonl"
    assert main(["--ledger", ledger, "audit", "export", "--output", str(export)]) == 0
    assert len(export.read_text().splitlines()) >= 3
    store = SqliteLedger(ledger)
    with store.transaction() as tx:
        drop_audit_guard(tx)
        tx.execute("UPDATE audit_log SET kind = 'forged' WHERE seq = 1")
    store.close()
    assert main(["--ledger", ledger, "audit", "verify"]) == 1
    assert "INVALID" in capsys.readouterr().err


def test_postgres_ledger_url(postgres_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    schema = f"pstest_cli_{uuid.uuid4().hex[:8]}"
    try:
        assert main(["--ledger", postgres_dsn, "--schema", schema, "audit", "verify"]) == 0
        assert "0 records" in capsys.readouterr().out
    finally:
        from paysync_core import PostgresLedger

        PostgresLedger(postgres_dsn, schema=schema).drop_schema()
