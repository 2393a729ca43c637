"""``paysync serve`` starts the dashboard from the main CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests
from werkzeug.security import generate_password_hash

from paysync_core import SqliteLedger


def test_serve_starts_the_dashboard_and_requires_login(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    SqliteLedger(ledger).close()
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'ledger = "{ledger}"\n'
        f'[users.ops]\npassword_hash = "{generate_password_hash("pw", method="scrypt")}"\n'
        'role = "operator"\n'
    )
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "paysync_core.cli", "serve", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("paysync dashboard on http://127.0.0.1:")
        base = line.rsplit(" ", 1)[-1]
        anonymous = requests.get(base, allow_redirects=False, timeout=10)
        assert anonymous.status_code in {302, 303}
        assert "/login" in anonymous.headers["Location"]
        assert requests.get(base + "login", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
