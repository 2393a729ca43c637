"""``paysync mapping check|suggest`` against Fusion describes served by the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from oracle_fusion_client import BasicAuth, FusionClient
from oracle_fusion_client.emulator import FusionEmulator
from paysync_core.cli import main
from paysync_core.cli._mapping import _fusion_sources  # pyright: ignore[reportPrivateUsage]
from salesforce_bridge import PasswordGrant, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)

BASE = "https://fusion.emulator"


def _fusion(emulator: FusionEmulator) -> FusionClient:
    return FusionClient(base_url=BASE, auth=BasicAuth("u", "p"), session=emulator.session(BASE))


def _save(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def _fusion_describe(resource: str) -> dict[str, Any]:
    client = _fusion(FusionEmulator())
    return client.http.json("GET", f"{resource}/describe").data


@pytest.fixture
def payment_describe() -> dict[str, Any]:
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
    return bridge.describe("Payment__c").model_dump(by_alias=True)


def test_default_fusion_payloads_match_the_emulator(
    tmp_path: Path, payment_describe: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    receipts = _save(tmp_path, "receipts", _fusion_describe("standardReceipts"))
    invoices = _save(tmp_path, "invoices", _fusion_describe("receivablesInvoices"))
    args = ["mapping", "check", "--json", "--fusion-describe", str(receipts)]
    args += ["--fusion-describe", str(invoices)]
    args += ["--salesforce-describe", str(_save(tmp_path, "payment", payment_describe))]
    code = main(args)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["systems"]["fusion"]["checked"] == ["receivablesInvoices", "standardReceipts"]
    assert report["systems"]["salesforce"]["checked"] == ["Payment__c"]


def test_fusion_drift_is_listed_per_attribute_with_severity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _fusion_describe("standardReceipts")
    body = data["Resources"]["standardReceipts"]
    body["attributes"] = [a for a in body["attributes"] if a["name"] != "Comments"]
    for attribute in body["attributes"]:
        if attribute["name"] == "CustomerAccountNumber":
            attribute.update({"updatable": False, "allowChanges": "never"})
    body["attributes"].append(
        {"name": "ReceiptSource", "type": "string", "updatable": True, "mandatory": True}
    )
    path = _save(tmp_path, "receipts", data)
    code = main(["mapping", "check", "--json", "--fusion-describe", str(path)])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    fusion = {
        (d["object"], d["field"], d["problem"], d["severity"])
        for d in report["drift"]
        if d["system"] == "fusion"
    }
    assert fusion == {
        ("standardReceipts", "Comments", "attribute does not exist", "error"),
        (
            "standardReceipts",
            "CustomerAccountNumber",
            "attribute is not updatable on create (read-only)",
            "error",
        ),
        (
            "standardReceipts",
            "ReceiptSource",
            "mandatory attribute is never set by paysync",
            "error",
        ),
    }
    # No Payment__c describe was given and no org configured: reported as not checked.
    assert report["systems"]["salesforce"]["skipped"] == ["Payment__c"]
    # A mandatory attribute the pod defaults itself can be waived explicitly.
    args = ["mapping", "check", "--json", "--fusion-describe", str(path)]
    code = main([*args, "--ignore", "fusion:standardReceipts.ReceiptSource"])
    waived = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {d["field"] for d in waived["drift"]} == {"Comments", "CustomerAccountNumber"}


def test_config_enables_more_maps_and_restricted_picklists_are_errors(
    tmp_path: Path, payment_describe: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    for field in payment_describe["fields"]:
        if field["name"] == "Status__c":
            field["picklistValues"] = [
                {"value": v, "active": True} for v in ("Authorized", "Captured", "Settled")
            ]
            field["restrictedPicklist"] = True
    config = tmp_path / "paysync.toml"
    config.write_text(
        "[usecases.order_to_cash]\n[usecases.settlement_gl]\n"
        '[usecases.ecommerce.order_hub]\nsource_system = "WEB"\n'
    )
    journals = _save(tmp_path, "journals", _fusion_describe("journalBatches"))
    orders = _save(tmp_path, "orders", _fusion_describe("salesOrdersForOrderHub"))
    args = ["mapping", "check", "--json", "--config", str(config)]
    args += ["--salesforce-describe", str(_save(tmp_path, "payment", payment_describe))]
    args += ["--fusion-describe", str(journals), "--fusion-describe", str(orders)]
    code = main(args)
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    problems = {(d["field"], d["problem"]) for d in report["drift"] if d["system"] == "salesforce"}
    assert ("Status__c", "picklist value 'Refunded' is not offered") in problems
    assert ("Status__c", "picklist value 'Failed' is not offered") in problems
    assert "journalBatches" in report["systems"]["fusion"]["checked"]
    assert "salesOrdersForOrderHub" in report["systems"]["fusion"]["checked"]
    assert not [d for d in report["drift"] if d["system"] == "fusion"]
    assert "Order" in report["systems"]["salesforce"]["skipped"]


def test_suggest_maps_a_fusion_resource_from_its_describe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _save(tmp_path, "receipts", _fusion_describe("standardReceipts"))
    code = main(
        [
            "mapping",
            "suggest",
            "--fusion-resource",
            "standardReceipts",
            "--describe-file",
            str(path),
            "--target",
            "receipt",
            "--json",
        ]
    )
    assert code == 0
    chosen = {s["target"]: s for s in json.loads(capsys.readouterr().out)}
    assert chosen["receipt_number"]["source"] == "ReceiptNumber"
    assert chosen["amount"]["source"] == "Amount"
    assert chosen["currency"]["source"] == "Currency"
    assert chosen["receipt_date"]["source"] == "ReceiptDate"
    assert chosen["customer_account"]["source"] == "CustomerAccountNumber"
    assert 0 < chosen["amount"]["confidence"] <= 1
    assert "type number fits decimal" in chosen["amount"]["reason"]


def test_suggest_against_all_targets_ranks_the_fitting_set_first(
    tmp_path: Path, payment_describe: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = _save(tmp_path, "payment", payment_describe)
    code = main(["mapping", "suggest", "--object", "Payment__c", "--describe-file", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "nothing was applied" in out
    for table in ("payment_fields", "order_fields", "recurring_billing.fields", "task"):
        assert table in out
    first_table = next(line for line in out.splitlines() if line.startswith("["))
    assert first_table in {
        "[usecases.order_to_cash.payment_fields]",
        "[usecases.refunds.payment_fields]",
    }


def test_fusion_samples_come_from_a_collection_get() -> None:
    emulator = FusionEmulator()
    client = _fusion(emulator)
    client.http.json(
        "POST",
        "standardReceipts",
        body={
            "ReceiptNumber": "PT-1195",
            "ReceiptMethod": "Manual",
            "BusinessUnit": "Vision Operations",
            "Amount": "12.50",
            "Currency": "USD",
        },
    )
    fields = {f.name: f for f in _fusion_sources(client.describe("standardReceipts"), 5, client)}
    assert fields["ReceiptNumber"].samples == ("PT-1195",)
    assert fields["Amount"].samples == ("12.5",) or fields["Amount"].samples == ("12.50",)


def _keys(payload: dict[str, Any]) -> tuple[set[str], dict[str, set[str]]]:
    scalars = {k for k, v in payload.items() if not isinstance(v, list)}
    children: dict[str, set[str]] = {}
    for key, value in payload.items():
        if isinstance(value, list):
            rows = cast(list[dict[str, Any]], value)
            children[key] = {name for row in rows for name in row}
    return scalars, children


def test_fusion_write_lists_cover_what_the_payload_builders_send() -> None:
    """The check's attribute lists against payloads the real builders produce."""
    from datetime import date, datetime, timezone
    from decimal import Decimal

    from paysync_core.canonical import Invoice, Receipt, RefundRequest
    from paysync_core.mapping import (
        FusionReceivablesConfig,
        credit_memo_to_fusion,
        invoice_to_fusion,
        receipt_to_fusion,
    )
    from paysync_core.mapping._fusion_meta import fusion_writes
    from paysync_core.usecases import OrderToCashConfig, RefundsConfig

    config = FusionReceivablesConfig(receivable_account="01-000-1210-0000")
    writes = {
        w.resource: w
        for w in fusion_writes({"order_to_cash": OrderToCashConfig(), "refunds": RefundsConfig()})
    }
    receipt = receipt_to_fusion(
        Receipt(
            number="PT-1",
            customer_account="1008",
            amount=Decimal("12.50"),
            receipt_date=date(2026, 3, 1),
            invoice_number="INV-1",
        ),
        config,
    ).to_dict()
    invoice = invoice_to_fusion(
        Invoice(
            number="INV-1",
            customer_account="1008",
            amount=Decimal("12.50"),
            invoice_date=date(2026, 3, 1),
            revenue_account="01-000-4110-0000",
        ),
        config,
    ).to_dict()
    memo = credit_memo_to_fusion(
        RefundRequest(
            request_id="R1",
            original_transaction_id="1000",
            amount=Decimal("5.00"),
            salesforce_payment_key="1000",
            fusion_customer_account="1008",
            requested_at=datetime(2026, 3, 2, tzinfo=timezone.utc),
        ),
        number="CM-1",
        refund_transaction_id="1001",
        revenue_account="01-000-4110-0000",
        credit_date=datetime(2026, 3, 2, tzinfo=timezone.utc),
        config=config,
    ).to_dict()
    for resource, payload in (
        ("standardReceipts", receipt),
        ("receivablesInvoices", invoice),
        ("receivablesCreditMemos", memo),
    ):
        scalars, children = _keys(payload)
        write = writes[resource]
        assert scalars <= set(write.attributes), resource
        for child, names in children.items():
            assert names <= set(write.children[child]), f"{resource}.{child}"


def test_live_check_and_suggest_call_the_configured_fusion_pod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from oracle_fusion_client.emulator import running_emulator

    monkeypatch.setenv("FU_USER", "casey.brown")
    monkeypatch.setenv("FU_PASS", "pw")
    with running_emulator() as (url, emulator):
        _fusion_on(url).http.json(
            "POST",
            "standardReceipts",
            body={
                "ReceiptNumber": "PT-2002",
                "ReceiptMethod": "Manual",
                "BusinessUnit": "Vision Operations",
                "Amount": "40.00",
                "Currency": "USD",
                "CustomerAccountNumber": "1008",
            },
        )
        config = tmp_path / "paysync.toml"
        config.write_text(
            f'[fusion]\nbase_url = "{url}"\nauth = "basic"\n'
            'username = "env:FU_USER"\npassword = "env:FU_PASS"\n'
        )
        code = main(["mapping", "check", "--config", str(config), "--json"])
        report = json.loads(capsys.readouterr().out)
        assert code == 0, report
        # every use case `paysync run` runs by default, not only order_to_cash
        assert report["systems"]["fusion"]["checked"] == [
            "journalBatches",
            "receivablesCreditMemos",
            "receivablesInvoices",
            "salesOrdersForOrderHub",
            "standardReceipts",
        ]
        assert emulator.state is not None
        code = main(
            [
                "mapping",
                "suggest",
                "--config",
                str(config),
                "--fusion-resource",
                "standardReceipts",
                "--target",
                "receipt",
            ]
        )
        out = capsys.readouterr().out
    assert code == 0
    assert 'amount = "Amount"' in out
    assert "samples look like money" in out


def _fusion_on(url: str) -> FusionClient:
    return FusionClient(base_url=url, auth=BasicAuth("casey.brown", "pw"))


def test_live_salesforce_check_and_suggest_with_soql_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live mode against the demo org served over TLS (as ``paysync run`` reaches it)."""
    from paysync_core.app import demo_salesforce_emulator
    from salesforce_bridge.emulator import serve

    for name, value in {"SF_ID": "cid", "SF_SECRET": "cs", "SF_USER": "ops@example.com"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SF_PASSWORD", "pw")
    server = serve(demo_salesforce_emulator(), port=0, tls_dir=tmp_path / "tls")
    assert server.ca_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
    try:
        config = tmp_path / "paysync.toml"
        config.write_text(
            f'[salesforce]\nlogin_url = "{server.url}"\nauth = "password"\n'
            'client_id = "env:SF_ID"\nclient_secret = "env:SF_SECRET"\n'
            'username = "env:SF_USER"\npassword = "env:SF_PASSWORD"\n'
        )
        code = main(["mapping", "check", "--config", str(config), "--json"])
        report = json.loads(capsys.readouterr().out)
        # every use case `paysync run` runs by default, not only order_to_cash
        assert report["systems"]["salesforce"]["checked"] == [
            "Case",
            "Order",
            "Payment__c",
            "Subscription__c",
            "Task",
        ]
        assert report["systems"]["fusion"]["skipped"] == [
            "journalBatches",
            "receivablesCreditMemos",
            "receivablesInvoices",
            "salesOrdersForOrderHub",
            "standardReceipts",
        ]
        assert code == (0 if report["ok"] else 1)
        code = main(
            ["mapping", "suggest", "--config", str(config), "--object", "Account", "--json"]
        )
        ranked = json.loads(capsys.readouterr().out)
        grant = PasswordGrant(
            client_id="cid",
            client_secret="cs",
            username="ops@example.com",
            password="pw",
            login_url=server.url,
        )
        SalesforceBridge(grant=grant).create_many(
            "Payment__c", [{"Payment_ID__c": "77001", "Amount__c": 12.5, "Currency__c": "USD"}]
        )
        code_payment = main(
            [
                "mapping",
                "suggest",
                "--config",
                str(config),
                "--object",
                "Payment__c",
                "--target",
                "payment",
                "--json",
            ]
        )
        payment = {s["target"]: s for s in json.loads(capsys.readouterr().out)}
    finally:
        server.stop()
    assert code == 0
    assert {r["target"] for r in ranked} == {
        "payment",
        "order",
        "refund",
        "subscription",
        "task",
        "case",
    }
    assert [r["fit"] for r in ranked] == sorted((r["fit"] for r in ranked), reverse=True)
    # The sample row read over SOQL is part of the evidence.
    assert code_payment == 0
    assert payment["amount"]["source"] == "Amount__c"
    assert "samples look like money" in payment["amount"]["reason"]
    assert "samples look like currency_code" in payment["currency"]["reason"]


def test_every_use_case_map_matches_the_demo_org_and_pod_live(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No false drift: all default maps against the demo org and the Fusion emulator."""
    from oracle_fusion_client.emulator import running_emulator
    from paysync_core.app import demo_salesforce_emulator
    from salesforce_bridge.emulator import serve

    env = {"SF_ID": "cid", "SF_SECRET": "cs", "SF_USER": "ops@example.com", "FU_USER": "u"}
    for name, value in {**env, "SF_PASSWORD": "pw", "FU_PASS": "pw"}.items():
        monkeypatch.setenv(name, value)
    server = serve(demo_salesforce_emulator(), port=0, tls_dir=tmp_path / "tls")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
    try:
        with running_emulator() as (url, _emulator):
            config = tmp_path / "paysync.toml"
            config.write_text(
                f'[salesforce]\nlogin_url = "{server.url}"\nauth = "password"\n'
                'client_id = "env:SF_ID"\nclient_secret = "env:SF_SECRET"\n'
                'username = "env:SF_USER"\npassword = "env:SF_PASSWORD"\n'
                f'[fusion]\nbase_url = "{url}"\nauth = "basic"\n'
                'username = "env:FU_USER"\npassword = "env:FU_PASS"\n'
                + "".join(
                    f"[usecases.{name}]\n"
                    for name in (
                        "order_to_cash",
                        "ecommerce",
                        "refunds",
                        "declines_chargebacks",
                        "settlement_gl",
                        "recurring_billing",
                    )
                )
            )
            code = main(["mapping", "check", "--config", str(config), "--json"])
    finally:
        server.stop()
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["drift"]
    assert report["drift"] == []
    assert report["systems"]["salesforce"]["checked"] == [
        "Case",
        "Order",
        "Payment__c",
        "Subscription__c",
        "Task",
    ]
    assert report["systems"]["fusion"]["checked"] == [
        "journalBatches",
        "receivablesCreditMemos",
        "receivablesInvoices",
        "salesOrdersForOrderHub",
        "standardReceipts",
    ]
