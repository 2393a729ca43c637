"""The README's demo command keeps working: it runs every step against the emulator."""

from __future__ import annotations

import pytest

from paytrace_client import demo


def test_demo_runs_every_step_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--port", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PayTrace emulator listening on http://127.0.0.1:")
    for step in ("sale ", "authorize", "capture", "settle", "refund", "vault sale", "declined"):
        assert step in out
    assert "4012000098765439" not in out
    assert "5 demo transactions found by invoice id" in out
