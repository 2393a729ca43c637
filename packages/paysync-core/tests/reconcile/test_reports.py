"""Report formats and the ``paysync reconcile`` command."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paysync_core.reconcile import (
    BATCH_COLUMNS,
    ReconcileInputError,
    ReconcileResult,
    RecordWriter,
    fix_plan,
    reconcile,
    render_report,
    write_report,
)
from paysync_core.reconcile.cli import reconcile_app


def _rec(ref: str, cents: int, **extra: str) -> dict[str, str | int]:
    base: dict[str, str | int] = {
        "ref": ref,
        "id": ref,
        "kind": "payment",
        "amount_cents": cents,
        "status": "captured",
        "day": "2026-03-02",
        "customer": "C1",
        "invoice": "",
        "batch": "",
    }
    base.update(extra)
    return base


def _files(folder: Path) -> dict[str, Path]:
    data = {
        "paytrace": [
            _rec("1", 1000, batch="55"),
            _rec("2", 500, batch="55", day="2026-03-03"),
            _rec("3", 700, batch="55", customer="<script>alert(1)</script>"),
        ],
        "fusion": [_rec("PT-1", 1000), _rec("PT-2", 400, day="2026-03-03"), _rec("PT-3", 700)],
        "salesforce": [_rec("1", 1000), _rec("2", 500, day="2026-03-03")],
    }
    paths: dict[str, Path] = {}
    for name, rows in data.items():
        with RecordWriter(folder / f"{name}.csv") as out:
            for r in rows:
                out.write(r)
        paths[name] = out.path
    with RecordWriter(folder / "batches.csv", BATCH_COLUMNS) as out:
        out.write({"batch": "55", "net_cents": 2300, "count": 3})
    paths["batches"] = out.path
    return paths


@pytest.fixture
def result(tmp_path: Path) -> ReconcileResult:
    paths = _files(tmp_path)
    return reconcile(
        paytrace=paths["paytrace"],
        fusion=paths["fusion"],
        salesforce=paths["salesforce"],
        batches=paths["batches"],
        engine="python",
    )


def test_json_report_carries_counts_rows_and_fix_plan(result: ReconcileResult) -> None:
    body = json.loads(render_report(result, "json"))
    assert body["counts"]["amount_mismatch"] == 1
    assert body["counts"]["missing_in_salesforce"] == 1
    assert body["counts"]["matched"] == 1
    assert {d["class"] for d in body["discrepancies"]} == {
        "amount_mismatch",
        "missing_in_salesforce",
    }
    assert body["batches"] == [
        {
            "batch": "55",
            "reported": "23.00",
            "computed": "22.00",
            "reported_count": 3,
            "computed_count": 3,
            "ok": False,
        }
    ]
    plan = body["fixes"]
    assert plan["dry_run"] is True
    assert [(r["key"], r["step"]) for r in plan["replays"]] == [("3", "salesforce_payment")]
    assert [(c["key"], c["field"], c["value"]) for c in plan["corrections"]] == [
        ("2", "amount", "5.00")
    ]
    assert fix_plan(result) == plan


def test_csv_and_markdown_reports(result: ReconcileResult, tmp_path: Path) -> None:
    target = write_report(result, tmp_path / "r.csv")
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["class"], r["key"], r["paytrace_amount"], r["fusion_amount"]) for r in rows] == [
        ("amount_mismatch", "2", "5.00", "4.00"),
        ("missing_in_salesforce", "3", "7.00", "7.00"),
    ]
    md = write_report(result, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| amount_mismatch | 1 |" in md
    assert "| 55 | 23.00 | 22.00 | -1.00 | NO |" in md


def test_html_is_self_contained_escaped_and_charted(
    result: ReconcileResult, tmp_path: Path
) -> None:
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(?i)https?:|//[a-z]|<script|<link|src=|href=|url\(", page)
    assert page.count("<svg") == 3
    assert "Fusion - PayTrace per day" in page
    assert "<details><summary>amount_mismatch (1)</summary>" in page
    assert "2026-03-03" in page


def test_unknown_format_is_a_typed_error(result: ReconcileResult, tmp_path: Path) -> None:
    with pytest.raises(ReconcileInputError, match="format"):
        render_report(result, "pdf")  # type: ignore[arg-type]
    with pytest.raises(ReconcileInputError, match="format"):
        write_report(result, tmp_path / "r.pdf")


def test_cli_writes_report_and_fix_plan(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    args = [f"--{k}={v}" for k, v in paths.items()]
    out = tmp_path / "report.html"
    plan = tmp_path / "plan.json"
    done = CliRunner().invoke(
        reconcile_app,
        [
            *args,
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--format",
            "html",
            "--output",
            str(out),
            "--fix",
            "--fix-output",
            str(plan),
            "--engine",
            "python",
        ],
    )
    assert done.exit_code == 1, done.output  # discrepancies found
    assert "<h1>Reconciliation report</h1>" in out.read_text(encoding="utf-8")
    assert json.loads(plan.read_text(encoding="utf-8"))["dry_run"] is True
    narrow = CliRunner().invoke(reconcile_app, [*args, "--from", "2026-03-03", "--format", "json"])
    assert json.loads(narrow.stdout)["keys"] == 1


def test_cli_rejects_bad_dates_with_exit_2(tmp_path: Path) -> None:
    args = [f"--{k}={v}" for k, v in _files(tmp_path).items()]
    done = CliRunner().invoke(reconcile_app, [*args, "--from", "03/01/2026"])
    assert done.exit_code == 2
    assert "--from" in done.stderr
