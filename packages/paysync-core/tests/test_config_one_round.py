"""Every configuration problem in one round: core sections and use case options together,
each as "key, value, expectation"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paysync_core.app import registered
from paysync_core.cli import main
from paysync_core.config import ConfigCheckError, parse_config

BAD = """
[engine]
workers = "many"

[usecases.order_to_cash]
payment_mode = "authorise"

[usecases.nonexistent]
"""


def test_core_and_usecase_problems_come_together() -> None:
    assert any(e.name == "order_to_cash" for e in registered())  # options models registered
    with pytest.raises(ConfigCheckError) as caught:
        parse_config(
            {
                "engine": {"workers": "many"},
                "usecases": {"order_to_cash": {"payment_mode": "authorise"}, "nonexistent": {}},
            }
        )
    issues = {issue.key: issue for issue in caught.value.issues}
    assert set(issues) == {
        "engine.workers",
        "usecases.order_to_cash.payment_mode",
        "usecases.nonexistent",
    }
    mode = issues["usecases.order_to_cash.payment_mode"]
    assert mode.value == "'authorise'"
    assert "'sale'" in mode.expected
    assert "'authorize_capture'" in mode.expected
    assert issues["engine.workers"].value == "'many'"
    assert "unknown use case; known:" in issues["usecases.nonexistent"].expected


def test_a_usecase_table_of_the_wrong_shape_is_reported_once() -> None:
    with pytest.raises(ConfigCheckError) as caught:
        parse_config({"usecases": {"order_to_cash": {"enabled": "maybe"}, "refunds": 3}})
    keys = sorted(issue.key for issue in caught.value.issues)
    assert keys == ["usecases.order_to_cash.enabled", "usecases.refunds"]


def test_config_check_lists_them_all_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "paysync.toml"
    file.write_text(BAD, encoding="utf-8")
    assert main(["config", "check", "--config", str(file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {i["key"] for i in report["issues"]} == {
        "engine.workers",
        "usecases.order_to_cash.payment_mode",
        "usecases.nonexistent",
    }
    assert main(["config", "check", "--config", str(file)]) == 1
    err = capsys.readouterr().err
    assert "3 configuration problem(s)" in err
    assert "engine.workers = 'many'" in err
    assert "usecases.order_to_cash.payment_mode = 'authorise'" in err
