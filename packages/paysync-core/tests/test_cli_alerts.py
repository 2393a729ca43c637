"""``paysync alerts check|watch`` from ``[alerts]`` in paysync.toml."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import responses

from paysync_core import Engine, FlowDefinition, SqliteLedger
from paysync_core.cli import main
from paysync_core.config import parse_config
from paysync_core.config._alerts import build_alert_rules, config_quotas
from paysync_core.testing import FakeClock, FakeSystem, Fault

HOOK = "https://hooks.example.test/services/T000/B000/XXXX"


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    path = tmp_path / "alerts.db"
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
    flow = engine.submit("billing", source_system="s", source_id="1", version=1, input={})
    engine.run_flow(flow.flow_id)
    store.close()
    return str(path)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAYSYNC_TEST_HOOK", HOOK)
    file = tmp_path / "paysync.toml"
    file.write_text(
        '[alerts]\ninterval_seconds = 0.01\n[[alerts.webhooks]]\nurl = "env:PAYSYNC_TEST_HOOK"\n'
        'style = "slack"\n'
    )
    return file


@responses.activate
def test_check_delivers_one_alert_per_incident(
    ledger: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.post(HOOK, status=200)
    assert main(["--ledger", ledger, "alerts", "check", "--config", str(config), "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert [a["rule"] for a in report["firing"]] == ["dead_letter"]
    assert report["delivered"] == [{"sink": "webhook-1", "rule": "dead_letter"}]
    sent = responses.calls[0].request.body
    assert isinstance(sent, (bytes, str))
    body = json.loads(sent)
    assert "dead_letter" in body["text"] or "dead-letter" in body["text"].lower()
    # The same incident is not delivered again.
    assert main(["--ledger", ledger, "alerts", "check", "--config", str(config), "--json"]) == 3
    again = json.loads(capsys.readouterr().out)
    assert again["delivered"] == []
    assert len(responses.calls) == 1


@responses.activate
def test_watch_runs_the_given_number_of_rounds(
    ledger: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.post(HOOK, status=500)
    code = main(["--ledger", ledger, "alerts", "watch", "--config", str(config), "--rounds", "2"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("dead_letter") == 2
    assert "delivery to webhook-1 failed" in out
    assert HOOK not in out  # the webhook URL carries a token


def test_rules_follow_the_config() -> None:
    config = parse_config(
        {
            "quota": {"paytrace": {"per_minute": 10}},
            "alerts": {
                "rules": {"lag": {"max_lag_minutes": 5}, "error_rate": None, "audit": False}
            },
        }
    )
    names = [rule.name for rule in build_alert_rules(config.alerts, config_quotas(config))]
    assert names == ["dead_letter", "lag", "quota"]


def test_bad_alert_settings_name_the_key() -> None:
    from paysync_core.config import ConfigCheckError

    with pytest.raises(ConfigCheckError) as caught:
        parse_config({"alerts": {"email": {"host": "smtp", "sender": "a@b", "recipients": []}}})
    assert [i.key for i in caught.value.issues] == ["alerts.email.recipients"]
