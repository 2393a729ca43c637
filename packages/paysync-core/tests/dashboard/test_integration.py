"""The dashboard wired to the rest of paysync: the use case registry, the ledger's stream
reporters, ``paysync.toml`` (``[dashboard]``) and the reports of ``paysync reconcile``."""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.security import generate_password_hash

from paysync_core import ConfigurationError, LedgerStore, SqliteLedger
from paysync_core.app import registered
from paysync_core.config import ConfigCheckError, resolve_secrets
from paysync_core.config import load_config as load_paysync_config
from paysync_core.dashboard import AuthMode, Role, create_app, load_config
from paysync_core.sources.salesforce_events import LedgerReplayStore

from .conftest import (
    CHECKPOINT_AGE,
    OPERATOR,
    SF_CHANNEL,
    USE_CASE,
    VIEWER,
    Demo,
    LoginAs,
    login,
    make_demo,
    write_reconcile_report,
)

KEY_ENV = "PAYSYNC_TEST_DASHBOARD_KEY"
KEY = "dashboard-session-key-from-the-environment"
_HASH = "pbkdf2:sha256:1000"


def paysync_toml(
    folder: Path, ledger: Path, *, dashboard: str = "", usecases: str = "", key: str = ""
) -> Path:
    """A ``paysync.toml`` with workers' sections and a ``[dashboard]`` section."""
    reports = folder / "reports"
    reports.mkdir(exist_ok=True)
    file = folder / "paysync.toml"
    file.write_text(
        f"""
[ledger]
url = "{ledger}"

[quota.paytrace]
per_minute = 60
daily = 5000

{usecases}

[dashboard]
secret_key = "{key or "env:" + KEY_ENV}"
reports_dir = "{reports}"
secure_cookies = false
{dashboard}

[dashboard.users.{OPERATOR[0]}]
password_hash = "{generate_password_hash(OPERATOR[1], method=_HASH)}"
role = "operator"

[dashboard.users.{VIEWER[0]}]
password_hash = "{generate_password_hash(VIEWER[1], method=_HASH)}"
""",
        encoding="utf-8",
    )
    return file


def logged_in(app: Flask, who: tuple[str, str] = VIEWER) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


# -- use cases from the registry -----------------------------------------------------------
def test_every_registered_use_case_is_listed_and_drawn(login_as: LoginAs) -> None:
    client = login_as(VIEWER)
    listing = client.get("/use-cases").get_data(as_text=True)
    entries = registered()
    assert len(entries) == 8
    positions = [listing.index(f"{e.number}. {escape(e.title)}") for e in entries]
    assert positions == sorted(positions)  # in registry order
    assert USE_CASE in listing  # the one given in code is still listed
    assert "vault_profile → charge → capture → salesforce_payment → fusion_invoice" in listing

    page = client.get("/use-cases/order_to_cash").get_data(as_text=True)
    steps = [
        "1. vault_profile",
        "2. charge",
        "3. capture",
        "4. salesforce_payment",
        "5. fusion_invoice",
        "6. fusion_receipt",
        "7. fusion_apply",
    ]
    assert [page.index(s) for s in steps] == sorted(page.index(s) for s in steps)
    for system in ("salesforce", "paytrace", "fusion"):
        assert f'class="node sys-{system}"' in page
    assert "find charge" in page  # the lookup that correlates a lost charge
    assert "repeat-safe" in page  # salesforce_payment is an upsert
    # the options model with its defaults: nothing configured here
    assert "closed_won_stage" in page
    assert "&#34;Closed Won&#34;" in page
    assert "paysync.toml</td>" not in page

    declines = client.get("/use-cases/declines_chargebacks").get_data(as_text=True)
    assert "paytrace_declines" in declines
    assert "paytrace_chargebacks" in declines
    assert client.get("/use-cases/nope").status_code == 404


def test_rules_in_force_come_from_paysync_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    file = paysync_toml(
        tmp_path,
        tmp_path / "ledger.db",
        usecases="""
[usecases.order_to_cash]
closed_won_stage = "Won"

[usecases.settlement_gl]
enabled = false
""",
    )
    client = logged_in(create_app(load_config(file)))
    page = client.get("/use-cases/order_to_cash").get_data(as_text=True)
    row = page[page.index("<code>closed_won_stage</code>") :].split("</tr>")[0]
    assert "&#34;Won&#34;" in row  # in force
    assert "&#34;Closed Won&#34;" in row  # the default
    assert "paysync.toml</td>" in row
    other = page[page.index("<code>correlation_prefix</code>") :].split("</tr>")[0]
    assert "default</td>" in other
    assert "disabled" in client.get("/use-cases/settlement_gl").get_data(as_text=True)

    file.write_text(file.read_text().replace('"Won"', "5"))
    with pytest.raises(ConfigCheckError, match=r"usecases\.order_to_cash\.closed_won_stage"):
        load_config(file)


def test_options_given_in_code_that_do_not_validate_are_shown_not_fatal(tmp_path: Path) -> None:
    store = SqliteLedger(tmp_path / "ledger.db")
    try:
        demo = make_demo(store, tmp_path, usecase_options={"order_to_cash": {"bogus": 1}})
        client = logged_in(create_app(demo.config))
        page = client.get("/use-cases/order_to_cash").get_data(as_text=True)
        assert "[usecases.order_to_cash] does not validate" in page
        assert client.get("/use-cases/refunds").status_code == 200
    finally:
        store.close()


# -- one configuration file ----------------------------------------------------------------
def test_paysync_toml_dashboard_section_with_secret_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    ledger = tmp_path / "ledger.db"
    file = paysync_toml(tmp_path, ledger, dashboard='auth_mode = "proxy"\nsame_site = "Strict"')
    config = load_config(file)
    assert config.secret_key == KEY
    assert config.ledger_url == str(ledger)
    assert config.users[OPERATOR[0]].role is Role.OPERATOR
    assert config.users[VIEWER[0]].role is Role.VIEWER
    assert config.auth_mode is AuthMode.PROXY
    assert config.same_site == "Strict"
    assert config.secure_cookies is False
    assert config.reports_dir == tmp_path / "reports"
    assert config.quotas["paytrace"].per_minute == 60
    assert config.quotas["paytrace"].per_day == 5000
    assert KEY not in repr(config)

    key_file = tmp_path / "key"
    key_file.write_text("key-from-a-file\n")
    key_file.chmod(0o600)
    assert load_config(paysync_toml(tmp_path, ledger, key=f"file:{key_file}")).secret_key == (
        "key-from-a-file"
    )

    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ConfigurationError, match=rf"dashboard\.secret_key: .*{KEY_ENV}"):
        load_config(paysync_toml(tmp_path, ledger))
    # `paysync config check` resolves it with the other secret references
    issues = resolve_secrets(load_paysync_config(paysync_toml(tmp_path, ledger)))
    assert [i.key for i in issues] == ["dashboard.secret_key"]

    literal = "a-literal-session-key"
    with pytest.raises(ConfigCheckError, match=r"dashboard\.secret_key") as caught:
        load_config(paysync_toml(tmp_path, ledger, key=literal))
    assert literal not in str(caught.value)

    file.write_text('[dashboard.users.eve]\npassword = "hunter2-plain"\n')
    with pytest.raises(ConfigCheckError, match=r"dashboard\.users\.eve\.password") as caught:
        load_config(file)
    assert "hunter2" not in str(caught.value)
    file.write_text('[dashboard.users.eve]\npassword_hash = "hunter2-plain"\n')
    with pytest.raises(ConfigCheckError, match=r"dashboard\.users\.eve\.password_hash") as caught:
        load_config(file)
    assert "hunter2" not in str(caught.value)
    file.write_text('[dashboard.users.eve]\npassword_hash = "pbkdf2:x"\nrole = "admin"\n')
    with pytest.raises(ConfigCheckError, match=r"dashboard\.users\.eve\.role"):
        load_config(file)


def _read_line(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                return process.stdout.readline()
            if process.poll() is not None:
                break
    finally:
        selector.close()
    return ""


def test_paysync_serve_runs_from_paysync_toml(demo_ledger: Path, tmp_path: Path) -> None:
    file = paysync_toml(tmp_path, demo_ledger)
    env = {**os.environ, KEY_ENV: KEY}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "paysync_core.cli", "serve", "--config", str(file), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = _read_line(process, time.monotonic() + 40)
        assert line.startswith("paysync dashboard on http://127.0.0.1:"), line
        base = line.split(" on ", 1)[1].strip().rstrip("/")
        with urllib.request.urlopen(f"{base}/login", timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert "csrf_token" in response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/overview", timeout=10)  # noqa: S310
        refused.value.close()  # its body holds the socket
        assert refused.value.code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# -- streams and cursors from the ledger ---------------------------------------------------
def test_overview_streams_come_from_the_ledger_reporters(
    store: LedgerStore, tmp_path: Path
) -> None:
    demo = make_demo(store, tmp_path, streams=None, cursors=None)
    client = logged_in(create_app(demo.config))
    empty = json.loads(client.get("/api/overview").data)
    assert empty["streams"] == []
    assert empty["streams_configured"] is True  # reporters are registered by default

    ago = datetime.now(timezone.utc) - CHECKPOINT_AGE
    LedgerReplayStore(store, clock=lambda: ago).save(SF_CHANNEL, bytes.fromhex("00ff2a"))
    (row,) = json.loads(client.get("/api/overview").data)["streams"]
    assert row["kind"] == "salesforce-events"
    assert row["name"] == SF_CHANNEL
    assert row["position"] == "00ff2a"
    assert row["updated_at"] == ago.isoformat()
    assert (
        CHECKPOINT_AGE.total_seconds() <= row["lag_seconds"] < CHECKPOINT_AGE.total_seconds() + 60
    )
    page = client.get("/").get_data(as_text=True)
    assert "00ff2a" in page
    assert "7 min" in page

    none = make_demo(store, tmp_path, streams=None, cursors=None, stream_reporters=())
    data = json.loads(logged_in(create_app(none.config)).get("/api/overview").data)
    assert data["streams"] == []
    assert data["streams_configured"] is False


def test_demo_ledger_overview_shows_cursor_checkpoint_flows_and_step_systems(
    demo_ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    app = create_app(load_config(paysync_toml(tmp_path, demo_ledger)))
    client = logged_in(app)
    data = json.loads(client.get("/api/overview").data)
    kinds = {(s["kind"], s["name"]) for s in data["streams"]}
    assert ("salesforce-events", SF_CHANNEL) in kinds
    paytrace = [s for s in data["streams"] if s["kind"] == "paytrace-polling"]
    assert paytrace
    assert paytrace[0]["position"]
    assert paytrace[0]["lag_seconds"] is not None
    flows = {name for e in registered() for name in e.flows}
    assert flows <= set(data["flows"])
    assert [q["system"] for q in data["quotas"]] == ["paytrace", "paytrace"]

    store = SqliteLedger(demo_ledger)
    try:
        with store.transaction() as tx:
            ((flow_id,),) = tx.execute(
                "SELECT flow_id FROM flows WHERE use_case = ? ORDER BY seq LIMIT 1",
                ("salesforce_order_to_cash",),
            )
    finally:
        store.close()
    steps = json.loads(client.get(f"/api/flows/{flow_id}").data)["steps"]
    systems = {s["name"]: s["system"] for s in steps}
    assert systems["charge"] == "paytrace"
    assert systems["fusion_invoice"] == "fusion"
    assert systems["salesforce_payment"] == "salesforce"


# -- reconciliation reports ----------------------------------------------------------------
def test_reconcile_reports_are_listed_by_day_and_served(demo: Demo, login_as: LoginAs) -> None:
    # the folder's day (when the report was written) wins over the dates it covers
    old_html, _ = write_reconcile_report(demo.reports, "2026-11-21", "2026-11-01", "2026-11-20")
    new_html, new_json = write_reconcile_report(
        demo.reports, "2026-11-23", "2026-11-22", "2026-11-22"
    )
    client = login_as(VIEWER)
    page = client.get("/reports").get_data(as_text=True)
    days: list[str] = re.findall(r"<h2>(\d{4}-\d{2}-\d{2})</h2>", page)
    assert days == ["2026-11-23", "2026-11-21"]
    for report in (old_html, new_html, new_json):
        assert report.relative_to(demo.reports).as_posix() in page
    html = "/reports/2026-11-23/reconcile-2026-11-22-2026-11-22.html"
    with client.get(html) as served:
        assert served.status_code == 200
        assert served.mimetype == "text/html"
        assert served.headers["Content-Security-Policy"].startswith("sandbox")
        assert "Reconciliation report" in served.get_data(as_text=True)
    with client.get(html.replace(".html", ".json")) as served:
        assert served.json is not None
        assert served.json["counts"]["amount_mismatch"] == 1
