"""The dashboard through Flask's test client: auth, CSRF, roles, redaction, JSON endpoints."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from typer.testing import CliRunner
from werkzeug.security import check_password_hash, generate_password_hash

from paysync_core import (
    AuditTrail,
    ConfigurationError,
    DeadLetterQueue,
    DeadLetterStatus,
    FlowState,
    LedgerStore,
)
from paysync_core.dashboard import AuthMode, Role, create_app, load_config
from paysync_core.dashboard.cli import app as cli_app
from paysync_core.testing import drop_audit_guard

from .conftest import OPERATOR, SF_CHANNEL, USE_CASE, VIEWER, Demo, LoginAs, csrf_token

VISA = "4111111111111111"
TOKEN = "tok_live_9f8e7d6c5b4a"


def dead_flow(demo: Demo) -> tuple[str, str]:
    """A flow dead-lettered by a rejected charge: (flow id, dead-letter entry id)."""
    demo.fail_next_charge()
    flow = demo.submit()
    demo.engine.run_pending()
    (entry,) = DeadLetterQueue(demo.store).list()
    return flow.flow_id, entry.entry_id


# -- authentication ------------------------------------------------------------------------
def test_unauthenticated_requests_are_redirected_or_refused(client: FlaskClient) -> None:
    page = client.get("/flows/abc")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login?next=/flows/abc")
    assert client.get("/api/overview").status_code == 401
    with client.get("/static/dashboard.css") as static:
        assert static.status_code == 200


def test_login_checks_the_password_and_rejects_open_redirects(client: FlaskClient) -> None:
    token = csrf_token(client)
    wrong = client.post(
        "/login", data={"username": OPERATOR[0], "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "wrong password" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302
    ok = client.post(
        "/login?next=//evil.example/x",
        data={"username": OPERATOR[0], "password": OPERATOR[1], "csrf_token": token},
    )
    assert ok.status_code == 302
    assert ok.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_session_cookie_flags(demo: Demo) -> None:
    dev = create_app(demo.config, host="127.0.0.1").test_client()
    token = csrf_token(dev)
    response = dev.post(
        "/login", data={"username": VIEWER[0], "password": VIEWER[1], "csrf_token": token}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    prod = create_app(demo.config, host="0.0.0.0")  # noqa: S104 - the flag under test
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True


def test_security_headers(login_as: LoginAs) -> None:
    response = login_as(VIEWER).get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_proxy_header_mode(demo: Demo) -> None:
    config = dataclasses.replace(demo.config, auth_mode=AuthMode.PROXY)
    client = create_app(config).test_client()
    assert client.get("/").status_code == 403
    assert client.get("/", headers={"X-Forwarded-User": "mallory"}).status_code == 403
    page = client.get("/", headers={"X-Forwarded-User": VIEWER[0]})
    assert page.status_code == 200
    assert "bob (viewer)" in page.get_data(as_text=True)
    assert client.get("/login").status_code == 404


# -- CSRF and roles -----------------------------------------------------------------------
def test_posts_without_csrf_token_are_rejected(demo: Demo, login_as: LoginAs) -> None:
    _, entry_id = dead_flow(demo)
    client = login_as(OPERATOR)
    response = client.post(f"/dlq/{entry_id}/retry")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    forged = client.post(f"/dlq/{entry_id}/resolve", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert DeadLetterQueue(demo.store).list()[0].status is DeadLetterStatus.OPEN


def test_login_and_logout_without_csrf_token_are_rejected(client: FlaskClient) -> None:
    credentials = {"username": OPERATOR[0], "password": OPERATOR[1]}
    refused = client.post("/login", data=credentials)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    forged = client.post("/login", data={**credentials, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/").status_code == 302  # not logged in
    client.post("/login", data={**credentials, "csrf_token": csrf_token(client)})
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_viewer_cannot_retry_or_resolve(demo: Demo, login_as: LoginAs) -> None:
    _, entry_id = dead_flow(demo)
    client = login_as(VIEWER)
    page = client.get(f"/dlq/{entry_id}").get_data(as_text=True)
    assert 'id="retry"' not in page
    assert "Read-only role" in page
    token = csrf_token(client, f"/dlq/{entry_id}")
    assert client.post(f"/dlq/{entry_id}/retry", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/dlq/{entry_id}/resolve", data={"csrf_token": token}).status_code == 403
    assert DeadLetterQueue(demo.store).list()[0].status is DeadLetterStatus.OPEN


def test_operator_retry_is_audited_with_the_user_and_the_flow_then_succeeds(
    store: LedgerStore, demo: Demo, login_as: LoginAs
) -> None:
    flow_id, entry_id = dead_flow(demo)
    client = login_as(OPERATOR)
    page = client.get(f"/dlq/{entry_id}").get_data(as_text=True)
    assert 'id="retry"' in page
    token = csrf_token(client, f"/dlq/{entry_id}")
    response = client.post(f"/dlq/{entry_id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/flows/{flow_id}"
    assert json.loads(client.get(f"/api/flows/{flow_id}").data)["flow"]["state"] == "pending"
    records = AuditTrail(demo.store).records()
    # the user is in the queue's own record, written in the action's transaction
    action = [r for r in records if r.kind == "dlq.retried"]
    assert [dict(r.detail) for r in action] == [
        {"entry_id": entry_id, "input_edited": False, "actor": "alice"}
    ]
    assert action[0].flow_id == flow_id
    assert not [r for r in records if r.kind.startswith("dashboard.")]
    assert demo.engine.run_pending().succeeded == [flow_id]
    data = json.loads(client.get(f"/api/flows/{flow_id}").data)
    assert data["flow"]["state"] == "succeeded"
    assert [s["state"] for s in data["steps"]] == ["succeeded", "succeeded"]
    charge = data["steps"][0]
    assert charge["external_ids"][0]["url"].startswith("https://paytrace.example/tx/pt-")
    assert "dlq.retried" in [a["kind"] for a in data["audit"]]
    # a second retry of the same entry is refused politely
    again = client.post(f"/dlq/{entry_id}/retry", data={"csrf_token": token})
    assert again.status_code == 302
    assert "is retried" in client.get(again.headers["Location"]).get_data(as_text=True)


def _fail_audit_inserts(store: LedgerStore) -> None:
    """A database trigger refusing every new audit record: the failure comes from the store."""
    with store.transaction() as tx:
        if tx.dialect == "postgresql":
            tx.execute(
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"
            )
            tx.execute(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log"
                " FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
            )
        else:
            tx.execute(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log"
                " BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
            )


def test_action_and_its_user_record_commit_together_or_not_at_all(
    store: LedgerStore, demo: Demo, login_as: LoginAs
) -> None:
    flow_id, entry_id = dead_flow(demo)
    client = login_as(OPERATOR)
    token = csrf_token(client, f"/dlq/{entry_id}")
    before = len(AuditTrail(demo.store).records())
    _fail_audit_inserts(demo.store)
    for action in ("retry", "resolve"):
        response = client.post(f"/dlq/{entry_id}/{action}", data={"csrf_token": token})
        # the store's error is shown on the entry page, not a crash
        assert response.headers["Location"] == f"/dlq/{entry_id}"
        shown = client.get(response.headers["Location"]).get_data(as_text=True)
        assert 'class="flash error"' in shown
        # neither the action nor any record of it was committed
        (entry,) = DeadLetterQueue(demo.store).list(None)
        assert entry.status is DeadLetterStatus.OPEN
        with demo.store.transaction() as tx:
            flow = tx.get_flow(flow_id)
        assert flow is not None
        assert flow.state is FlowState.DEAD
        assert len(AuditTrail(demo.store).records()) == before


def test_resolve_with_note_is_redacted_and_audited(demo: Demo, login_as: LoginAs) -> None:
    flow_id, entry_id = dead_flow(demo)
    client = login_as(OPERATOR)
    token = csrf_token(client, f"/dlq/{entry_id}")
    client.post(
        f"/dlq/{entry_id}/resolve", data={"csrf_token": token, "note": f"refunded card {VISA}"}
    )
    (entry,) = DeadLetterQueue(demo.store).list(DeadLetterStatus.RESOLVED)
    assert VISA not in (entry.note or "")
    page = client.get(f"/dlq/{entry_id}").get_data(as_text=True)
    assert VISA not in page
    kinds = [(r.kind, r.detail.get("actor")) for r in AuditTrail(demo.store).records()]
    assert ("dlq.resolved", "alice") in kinds
    # the flow stays dead
    with demo.store.transaction() as tx:
        flow = tx.get_flow(flow_id)
    assert flow is not None
    assert flow.state is FlowState.DEAD


# -- redaction ----------------------------------------------------------------------------
def test_no_card_data_or_secret_is_rendered_even_if_stored(
    store: LedgerStore, demo: Demo, login_as: LoginAs
) -> None:
    flow_id, entry_id = dead_flow(demo)
    leak = f"card {VISA} cvv=123 token={TOKEN} Authorization: Bearer {TOKEN}"
    # written behind the ledger's back (the ledger redacts on write): the dashboard must
    # still not show it
    with demo.store.transaction() as tx:
        tx.execute("UPDATE steps SET last_error = ? WHERE flow_id = ?", (leak, flow_id))
        tx.execute("UPDATE flows SET last_error = ? WHERE flow_id = ?", (leak, flow_id))
        tx.execute(
            "UPDATE dead_letters SET last_error = ?, evidence_json = ? WHERE entry_id = ?",
            (leak, json.dumps([{"pan": VISA, "cvv": "123", "note": leak}]), entry_id),
        )
    client = login_as(VIEWER)
    for path in (
        "/",
        "/api/overview",
        f"/flows/{flow_id}",
        f"/api/flows/{flow_id}",
        "/dlq",
        "/api/dlq",
        f"/dlq/{entry_id}",
    ):
        body = client.get(path).get_data(as_text=True)
        assert VISA not in body, path
        assert TOKEN not in body, path
        assert "cvv=123" not in body, path
        assert '"123"' not in body, path
    assert "redacted" in client.get(f"/dlq/{entry_id}").get_data(as_text=True)


# -- pages and JSON -----------------------------------------------------------------------
def test_overview_json_counts_series_quota_streams(
    store: LedgerStore, demo: Demo, login_as: LoginAs
) -> None:
    dead_flow(demo)
    demo.submit("INV-2")
    demo.engine.run_pending()
    demo.submit("INV-3")  # stays pending
    data = json.loads(login_as(VIEWER).get("/api/overview").data)
    assert data["flows"] == {USE_CASE: {"dead": 1, "succeeded": 1, "pending": 1}}
    assert len(data["series"]) == 60
    assert sum(b["succeeded"] for b in data["series"]) == 1
    assert sum(b["dead"] for b in data["series"]) == 1
    assert data["series"][-1]["error_rate"] == 0.5
    assert data["open_dead_letters"] == 1
    assert data["oldest_pending_at"] is not None
    assert [(q["system"], q["span"]) for q in data["quotas"]] == [
        ("paytrace", "minute"),
        ("paytrace", "day"),
    ]
    day_window = data["quotas"][1]
    assert day_window["used"] == 2  # two charges drew from the shared budget
    assert day_window["remaining"] == 10_000 - day_window["used"]
    # code-given stream and cursor status, after the (empty) ledger reporters
    channel, cursor = data["streams"]
    assert (channel["kind"], channel["name"]) == ("salesforce-events", SF_CHANNEL)
    assert channel["lag_events"] == 3
    assert channel["lag_seconds"] is not None
    assert (cursor["kind"], cursor["position"]) == ("paytrace-polling", "2026-11-23T10:00Z")
    day = json.loads(login_as(VIEWER).get("/api/overview?window=24h").data)
    assert len(day["series"]) == 24


def test_dlq_filters(demo: Demo, login_as: LoginAs) -> None:
    flow_id, entry_id = dead_flow(demo)
    client = login_as(VIEWER)
    assert [e["entry_id"] for e in json.loads(client.get("/api/dlq").data)["entries"]] == [entry_id]
    assert json.loads(client.get("/api/dlq?q=post_receipt").data)["entries"] == []
    assert len(json.loads(client.get("/api/dlq?q=charge").data)["entries"]) == 1
    assert json.loads(client.get("/api/dlq?status=resolved").data)["entries"] == []
    assert client.get("/api/dlq?status=bogus").status_code == 400
    page = client.get(f"/dlq?q={flow_id[:8]}").get_data(as_text=True)
    assert entry_id[:12] in page


def test_flow_page_and_unknown_flow(demo: Demo, login_as: LoginAs) -> None:
    flow = demo.submit()
    demo.engine.run_pending()
    client = login_as(VIEWER)
    page = client.get(f"/flows/{flow.flow_id}").get_data(as_text=True)
    assert "post_receipt" in page
    assert "https://paytrace.example/tx/pt-1" in page
    assert "step.succeeded" in page or "flow.succeeded" in page
    assert client.get("/flows/missing").status_code == 404
    assert client.get("/api/flows/missing").status_code == 404


def _row(page: str, step: str) -> str:
    start = page.index(f'<tr data-step="{step}">')
    return page[start : page.index("</tr>", start)]


def test_flow_page_shows_each_steps_request_finish_and_duration(
    demo: Demo, login_as: LoginAs
) -> None:
    flow = demo.submit()
    demo.engine.run_pending()
    finished = datetime(2026, 11, 23, 9, 30, 2, 500000, tzinfo=timezone.utc)
    with demo.store.transaction() as tx:
        charge, receipt = tx.get_steps(flow.flow_id)
        # known timings, so the rendered values can be asserted exactly
        tx.put_step(
            dataclasses.replace(
                charge, requested_at=finished - timedelta(seconds=2.5), finished_at=finished
            )
        )
    client = login_as(VIEWER)
    page = client.get(f"/flows/{flow.flow_id}").get_data(as_text=True)
    row = _row(page, "charge")
    assert "<td>2026-11-23T09:30:00+00:00</td>" in row
    assert "<td>2026-11-23T09:30:02.500000+00:00</td>" in row
    assert '<td class="num">2.500</td>' in row
    assert receipt.finished_at is not None
    assert f"<td>{receipt.finished_at.isoformat()}</td>" in _row(page, "post_receipt")
    data = json.loads(client.get(f"/api/flows/{flow.flow_id}").data)
    assert data["steps"][0]["seconds"] == 2.5
    assert data["steps"][0]["finished_at"] == "2026-11-23T09:30:02.500000+00:00"


def test_reports_listed_by_day_and_served_sandboxed(demo: Demo, login_as: LoginAs) -> None:
    (demo.reports / "2026-11-22").mkdir()
    (demo.reports / "2026-11-22" / "batch-7.html").write_text("<h1>batch 7</h1>")
    (demo.reports / "recon-2026-11-23-b1.json").write_text('{"matched": 3}')
    (demo.reports / "notes.txt").write_text("not a report")
    (demo.reports.parent / "secret.html").write_text("outside")
    client = login_as(VIEWER)
    page = client.get("/reports").get_data(as_text=True)
    assert page.index("2026-11-23") < page.index("2026-11-22")
    assert "batch-7.html" in page
    assert "notes.txt" not in page
    with client.get("/reports/2026-11-22/batch-7.html") as report:
        assert report.status_code == 200
        assert report.headers["Content-Security-Policy"].startswith("sandbox")
    with client.get("/reports/recon-2026-11-23-b1.json") as report:
        assert report.json == {"matched": 3}
    assert client.get("/reports/notes.txt").status_code == 404
    assert client.get("/reports/../secret.html").status_code == 404
    assert client.get("/reports/%2e%2e/secret.html").status_code == 404


def test_audit_page_reports_intact_and_broken_chains(demo: Demo, login_as: LoginAs) -> None:
    flow = demo.submit()
    demo.engine.run_pending()
    client = login_as(VIEWER)
    page = client.get("/audit").get_data(as_text=True)
    assert "Chain intact" in page
    with demo.store.transaction() as tx:
        drop_audit_guard(tx)
        tx.execute(
            "UPDATE audit_log SET detail_json = ? WHERE flow_id = ? AND seq = 1",
            ('{"forged": true}', flow.flow_id),
        )
    page = client.get("/audit").get_data(as_text=True)
    assert "Chain broken" in page
    assert "record 1 was modified" in page


def test_use_case_page_is_drawn_from_the_flow_definition(login_as: LoginAs) -> None:
    client = login_as(VIEWER)
    listing = client.get("/use-cases").get_data(as_text=True)
    assert "charge → post_receipt" in listing
    page = client.get(f"/use-cases/{USE_CASE}").get_data(as_text=True)
    assert "<svg" in page
    assert "paytrace" in page
    assert "fusion" in page
    assert "01-000-4100-0000" in page
    assert client.get("/use-cases/nope").status_code == 404


def test_pages_render_for_viewers(login_as: LoginAs) -> None:
    client = login_as(VIEWER)
    for path in ("/", "/?window=24h", "/dlq?status=all", "/reports", "/audit", "/use-cases"):
        assert client.get(path).status_code == 200, path


# -- configuration ------------------------------------------------------------------------
def test_load_config_reads_users_quotas_and_refuses_plain_passwords(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("s3cret-key\n")
    file = tmp_path / "dashboard.toml"
    file.write_text(
        f"""
ledger = "sqlite:///{tmp_path}/l.db"
secret_key_file = "{key}"
reports_dir = "{tmp_path}"
secure_cookies = false
same_site = "Strict"

[users.alice]
password_hash = "{generate_password_hash("pw", method="pbkdf2:sha256:1000")}"
role = "operator"

[users.bob]
password_hash = "{generate_password_hash("pw", method="pbkdf2:sha256:1000")}"

[quotas.paytrace]
per_minute = 60

[links]
paytrace = "https://paytrace.example/tx/{{id}}"
"""
    )
    config = load_config(file)
    assert config.secret_key == "s3cret-key"
    assert config.users["alice"].role is Role.OPERATOR
    assert config.users["bob"].role is Role.VIEWER
    assert config.quotas["paytrace"].per_minute == 60
    assert config.same_site == "Strict"
    assert config.secure_cookies is False
    assert "s3cret" not in repr(config)
    assert "pbkdf2" not in repr(config.users["alice"])

    file.write_text('[users.eve]\npassword = "plain"\n')
    with pytest.raises(ConfigurationError, match=r"users\.eve\.password"):
        load_config(file)
    file.write_text('[users.eve]\npassword_hash = "md5:x"\n')
    with pytest.raises(ConfigurationError, match=r"users\.eve\.password_hash"):
        load_config(file)
    file.write_text('[users.eve]\nrole = "admin"\n')
    with pytest.raises(ConfigurationError, match=r"users\.eve\.role"):
        load_config(file)
    file.write_text('same_site = "None"\n')
    with pytest.raises(ConfigurationError, match="same_site"):
        load_config(file)


def test_hash_password_command_prints_a_usable_hash() -> None:
    result = CliRunner().invoke(cli_app, ["hash-password"], input="pw-1\npw-1\n")
    assert result.exit_code == 0, result.output
    digest = result.output.strip().splitlines()[-1]
    assert check_password_hash(digest, "pw-1")
    assert digest.startswith("scrypt:")
