"""Exit codes of the trigger verbs: a dead-lettered flow is a failure a script can see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paysync_core.app import DEMO_CREDENTIALS, ServedDemo, serve_demo
from paysync_core.cli import main


@dataclass
class Demo:
    served: ServedDemo
    config: Path
    ledger: Path


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    with serve_demo(tmp_path / "tls") as served:
        for name, value in DEMO_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.ca_path))
        config = tmp_path / "paysync.toml"
        ledger = tmp_path / "ledger.db"
        config.write_text(served.config_toml(ledger), encoding="utf-8")
        yield Demo(served, config, ledger)


def test_refund_that_dead_letters_exits_1_with_the_entry_id(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    sale = demo.served.seeded["pos_sale"]
    args = ["refund", "--payment-id", sale, "--amount", "500.00", "-c", str(demo.config)]
    assert main([*args, "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    [flow] = report["flows"]
    assert report["outcome"] == "failed"
    assert flow["state"] == "dead"
    entry = flow["dead_letter"]
    assert entry
    assert f"dead-letter entry {entry}" in captured.err
    assert "exceeds" in captured.err  # why: the amount is more than the sale

    # the entry named is the one `paysync dlq` shows for this flow
    assert main(["--ledger", str(demo.ledger), "dlq", "show", entry]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["entry"]["flow_id"] == flow["flow_id"]

    # asking again re-finds the same dead flow: still a failure, in text mode too
    assert main(args) == 1
    captured = capsys.readouterr()
    assert f"dead-letter entry {entry}" in captured.err
    assert "dead" in captured.out


def test_refund_that_succeeds_exits_0_and_says_so(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    sale = demo.served.seeded["pos_sale"]
    args = ["refund", "--payment-id", sale, "--amount", "1.00", "-c", str(demo.config), "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["outcome"] == "ok"
    assert report["flows"][0]["dead_letter"] is None


def test_refund_with_no_run_is_submitted_not_failed(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    sale = demo.served.seeded["pos_sale"]
    args = ["refund", "--payment-id", sale, "--amount", "2.00", "-c", str(demo.config)]
    assert main([*args, "--no-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["outcome"], report["flows"][0]["state"]) == ("submitted", "pending")


def test_run_once_names_dead_letters_and_fails_on_them_when_asked(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    sale = demo.served.seeded["pos_sale"]

    def submit(amount: str) -> None:
        args = ["refund", "--payment-id", sale, "--amount", amount, "-c", str(demo.config)]
        assert main([*args, "--no-run"]) == 0
        capsys.readouterr()

    run = ["run", "-c", str(demo.config), "--once", "--json", "-u", "refunds"]
    submit("600.00")
    # a worker's pass: dead letters are routine (the DLQ has them), named on stderr
    assert main(run) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[-1])["dead"] == 1
    assert "1 flow(s) dead-lettered in this pass" in captured.err
    assert "see `paysync dlq list`" in captured.err
    # a script that must not read a dead letter as success asks for exit 1
    submit("700.00")
    assert main([*run, "--fail-on-dead-letter"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[-1])["dead"] == 1
    assert "dead-lettered in this pass: flow " in captured.err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for verb in (["refund"], ["import", "disputes"], ["run"]):
        assert main([*verb, "--help"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "Exit codes" in out
        assert "dead-lettered" in out
