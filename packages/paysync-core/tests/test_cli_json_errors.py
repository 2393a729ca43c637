"""``--json`` verbs that fail before their result print ``{"ok": false, "error": {...}}``.

Each verb is run through :func:`paysync_core.cli.main` with (a) a configuration file that does
not exist and (b) one whose ``env:`` secret references resolve to nothing; stdout must parse
as one JSON object with the kind of failure and the exit code must be the verb's usual one.
A success case per verb checks the normal JSON output is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paysync_core import Engine, FlowDefinition, SqliteLedger
from paysync_core.cli import main
from paysync_core.reconcile import RecordWriter
from paysync_core.testing import FakeClock, FakeSystem, drop_audit_guard
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)

#: An environment variable the tests set: its value must never reach stdout or stderr.
SECRET_ENV = "PAYSYNC_JSON_ERRORS_USER"
SECRET_VALUE = "S3cret-user-value-9f2c"
#: An environment variable the tests make sure is not set.
UNSET_ENV = "PAYSYNC_JSON_ERRORS_UNSET"

OPPORTUNITY = {
    "Id": "006000000000001AAA",
    "Name": "Acme expansion",
    "StageName": "Closed Won",
    "CloseDate": "2026-03-01",
    "Amount": 149.99,
    "AccountId": "001000000000001AAA",
}
WINDOW = ["--from", "2026-03-01", "--to", "2026-03-31"]


@pytest.fixture(autouse=True)
def _secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET_VALUE)
    monkeypatch.delenv(UNSET_ENV, raising=False)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the plan input, an empty ledger path and both configs."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "opportunity.json").write_text(json.dumps(OPPORTUNITY), encoding="utf-8")
    systems = (
        f'[paytrace]\nbase_url = "http://127.0.0.1:9"\n'
        f'username = "env:{SECRET_ENV}"\npassword = "env:{UNSET_ENV}"\n\n'
        f'[fusion]\nbase_url = "http://127.0.0.1:9"\nauth = "basic"\n'
        f'username = "env:{SECRET_ENV}"\npassword = "env:{UNSET_ENV}"\n\n'
        f'[salesforce]\nlogin_url = "http://127.0.0.1:9"\nauth = "password"\n'
        f'client_id = "env:{SECRET_ENV}"\nclient_secret = "env:{UNSET_ENV}"\n'
        f'username = "env:{SECRET_ENV}"\npassword = "env:{UNSET_ENV}"\n\n'
        f'[[alerts.webhooks]]\nurl = "env:{UNSET_ENV}"\n'
    )
    (tmp_path / "unresolvable.toml").write_text(
        f'[ledger]\nurl = "{tmp_path / "run.db"}"\n\n{systems}', encoding="utf-8"
    )
    return tmp_path


def _args(verb: str, config: str) -> list[str]:
    """The verb with ``--config config`` and ``--json``."""
    return {
        "status": ["--ledger", "l.db", "status", "--config", config, "--json"],
        "plan": ["plan", "-u", "order_to_cash", "-i", "opportunity.json", "-c", config, "--json"],
        "run": ["run", "-c", config, "--once", "--json"],
        "mapping check": ["mapping", "check", "--config", config, "--json"],
        "reconcile": ["reconcile", "--config", config, *WINDOW, "--json"],
        "anomalies": ["anomalies", "--config", config, *WINDOW, "--json"],
        "alerts check": ["--ledger", "l.db", "alerts", "check", "--config", config, "--json"],
        "replay": ["--ledger", "l.db", "replay", "-u", "refunds", "--config", config, "--json"],
    }[verb]


def _error(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    """The one JSON object on stdout (``json.loads`` rejects anything more), and stderr."""
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["ok"] is False, captured.out
    assert set(document["error"]) >= {"kind", "message", "key"}
    return document["error"], captured.err


#: Verb, and its exit code for a configuration it cannot use (reconcile and anomalies
#: treat every input problem as a usage error, 2).
CONFIG_VERBS = [
    ("status", 1),
    ("plan", 1),
    ("run", 1),
    ("mapping check", 1),
    ("reconcile", 2),
    ("anomalies", 2),
    ("alerts check", 1),
    ("replay", 1),
]


@pytest.mark.parametrize(("verb", "code"), CONFIG_VERBS)
def test_missing_config_file_is_a_json_config_error(
    verb: str, code: int, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(verb, "missing.toml")) == code
    error, err = _error(capsys)
    assert error["kind"] == "config"
    assert "missing.toml" in error["message"]
    assert "missing.toml" in err  # the human-readable message stays on stderr


#: The verbs that resolve secrets (they reach a system), with the key they name first.
SECRET_VERBS = [
    ("plan", 1, "paytrace.password"),
    ("run", 1, "paytrace.password"),
    ("mapping check", 1, "salesforce.client_secret"),
    ("reconcile", 2, "paytrace.password"),
    ("anomalies", 2, "paytrace.password"),
    ("alerts check", 1, None),  # the alert sinks' builder does not name the key
]


@pytest.mark.parametrize(("verb", "code", "key"), SECRET_VERBS)
def test_unresolvable_secret_is_a_json_secret_error_without_values(
    verb: str, code: int, key: str | None, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(verb, "unresolvable.toml")) == code
    error, err = _error(capsys)
    assert error["kind"] == "secret"
    assert error["key"] == key
    assert f"env:{UNSET_ENV}" in error["message"]  # the reference is named ...
    assert SECRET_VALUE not in json.dumps(error)  # ... a resolved value never is
    assert SECRET_VALUE not in err


@pytest.mark.parametrize("verb", ["status", "replay"])
def test_verbs_that_reach_no_system_do_not_resolve_secrets(
    verb: str, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``status`` reads quotas and ``replay`` options only: their normal JSON, exit 0."""
    assert main(_args(verb, "unresolvable.toml")) == 0
    assert "ok" not in json.loads(capsys.readouterr().out)


def test_literal_secret_in_the_config_never_reaches_the_json_error(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    literal = "hunter2-literal-password"
    config = work / "literal.toml"
    config.write_text(
        f'[paytrace]\nusername = "env:{SECRET_ENV}"\npassword = "{literal}"\n', encoding="utf-8"
    )
    assert main(["run", "-c", str(config), "--once", "--json"]) == 1
    error, err = _error(capsys)
    assert error["kind"] == "config"
    assert error["key"] == "paytrace.password"
    assert {"key": "paytrace.password", "value": "<hidden>"}.items() <= error["issues"][0].items()
    assert literal not in json.dumps(error)
    assert literal not in err


def test_dlq_list_on_a_ledger_that_cannot_be_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "no-such-dir" / "ledger.db"
    assert main(["--ledger", str(ledger), "dlq", "list", "--json"]) == 1
    error, err = _error(capsys)
    assert error["kind"] == "ledger"
    assert err.startswith("paysync: ")


def test_dlq_list_success_is_the_plain_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--ledger", str(tmp_path / "l.db"), "dlq", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--ledger", "l.db", "replay", "--json"], (2, "input", None)),
        (["--ledger", "l.db", "replay", "-u", "nope", "--json"], (1, "not_found", None)),
        (["plan", "-u", "nope", "-i", "opportunity.json", "--json"], (1, "not_found", None)),
        (["plan", "-u", "order_to_cash", "-i", "missing.json", "--json"], (1, "input", None)),
        (["reconcile", "--json"], (2, "input", "--paytrace")),
        (["reconcile", "--from", "March", "--json"], (2, "input", "--from")),
        (["anomalies", "--json"], (2, "input", "--input")),
        (["--ledger", "l.db", "dlq", "retry", "nope", "--json"], (1, "not_found", None)),
    ],
)
def test_arguments_the_verb_validates_itself(
    args: list[str],
    expected: tuple[int, str, str | None],
    work: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, kind, key = expected
    assert main(args) == code
    error, _ = _error(capsys)
    assert (error["kind"], error["key"]) == (kind, key)


def test_audit_verify_failure_uses_the_same_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.db"
    store = SqliteLedger(path)
    system, clock = FakeSystem(), FakeClock()
    engine = Engine(store, [FlowDefinition("uc", [system.step("post")])], clock=clock)
    flow = engine.submit("uc", source_system="s", source_id="1", version=1, input={})
    engine.run_flow(flow.flow_id)
    with store.transaction() as tx:
        drop_audit_guard(tx)
        tx.execute("UPDATE audit_log SET kind = 'forged' WHERE seq = 1")
    store.close()
    assert main(["--ledger", str(path), "audit", "verify", "--json"]) == 1
    error, err = _error(capsys)
    assert error["kind"] == "audit"
    assert "INVALID" in err


def test_without_json_stdout_stays_empty(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-c", "missing.toml", "--once"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "missing.toml: cannot read configuration" in captured.err


# --- success: the normal JSON of each verb is unchanged ---------------------------------


def test_status_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ledger", "l.db", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flows"] == {}


def test_plan_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = work / "plan.toml"
    config.write_text(
        '[usecases.order_to_cash.xref]\ndefault_fusion_account = "1008"\n', encoding="utf-8"
    )
    args = ["plan", "-u", "order_to_cash", "-i", "opportunity.json", "-c", str(config)]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["use_case"] == "order_to_cash"
    assert report["writes"]


def test_replay_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ledger", "l.db", "replay", "-u", "refunds", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flows"] == 0


def test_alerts_check_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = work / "alerts.toml"
    config.write_text("[alerts]\n", encoding="utf-8")
    assert main(["--ledger", "l.db", "alerts", "check", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["firing"] == []


def _record(ref: str) -> dict[str, str | int]:
    return {
        "ref": ref,
        "id": ref,
        "kind": "payment",
        "amount_cents": 1000,
        "status": "captured",
        "day": "2026-03-02",
        "customer": "C1",
        "invoice": "",
        "batch": "",
    }


def test_reconcile_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files: list[str] = []
    for name, ref in (("paytrace", "1"), ("fusion", "PT-1"), ("salesforce", "1")):
        with RecordWriter(work / f"{name}.csv") as out:
            out.write(_record(ref))
        files.append(f"--{name}={out.path}")
    assert main(["reconcile", *files, *WINDOW, "--engine", "python", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["matched"] == 1
    assert "ok" not in report


def test_anomalies_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = {"at": "2026-03-02T10:00:00Z", "card_token": "", "last4": "", "product": ""}
    with RecordWriter(work / "paytrace.csv", (*_record("1"), *extra)) as out:
        out.write({**_record("1"), **extra})
    args = ["anomalies", "--input", str(work), "--as-of", "2026-04-01T00:00:00+00:00", "--json"]
    assert main(args) == 0
    assert capsys.readouterr().out == ""  # JSON lines: none for no flag


def test_mapping_check_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The emulator org's ``Payment__c`` with the fields use case 1 writes: no drift."""
    payment = (
        SalesforceEmulator(seed=False)
        .org.obj("Payment__c")
        .with_fields(
            FieldDef("Opportunity__c", "reference", reference_to=("Opportunity",)),
            FieldDef("Card_Type__c", length=40),
            FieldDef("Vault_Customer_ID__c", length=64),
            FieldDef("Status_Reason__c", length=255),
        )
    )
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    bridge = SalesforceBridge(
        grant=grant, session=emulator_session(SalesforceEmulator(objects=[payment]))
    )
    describe = tmp_path / "payment.describe.json"
    describe.write_text(json.dumps(bridge.describe("Payment__c").model_dump(by_alias=True)))
    assert main(["mapping", "check", "--describe-file", str(describe), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["drift"] == []
