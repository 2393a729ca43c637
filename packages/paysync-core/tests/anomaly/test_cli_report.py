"""``paysync anomalies`` through typer's runner, and the JSON-lines / Markdown reports."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner

from paysync_core.anomaly import (
    AnomalyKind,
    detect_anomalies,
    render_anomalies,
    to_json_lines,
    to_markdown,
)
from paysync_core.anomaly.cli import anomalies_command

from .conftest import NOW, START, Dataset, Row, txn

app = typer.Typer()
app.command("anomalies")(anomalies_command)
app.command("noop")(lambda: None)  # two commands: "anomalies" stays a subcommand, as when mounted
runner = CliRunner()
AS_OF = ["--as-of", NOW.isoformat()]


def dataset() -> Dataset:
    rows: list[Row] = [
        txn(
            f"D{i}",
            START + timedelta(minutes=i),
            4_999,
            token="tok_abcdef123",
            last4="4242",
            batch="9",
        )
        for i in range(3)
    ]
    old: Row = {
        "ref": "PT-1",
        "id": "RCPT-1",
        "kind": "payment",
        "amount_cents": 5_000,
        "status": "captured",
        "day": "2026-02-01",
        "customer": "C1",
        "invoice": "",
        "batch": "",
        "unapplied_cents": 5_000,
    }
    return Dataset(rows, [old])


def test_json_lines_carry_every_flag_with_its_statistic(tmp_path: Path) -> None:
    dataset().write(tmp_path)
    result = runner.invoke(app, ["anomalies", "--input", str(tmp_path), "--format", "json", *AS_OF])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["kind"] for line in lines] == ["duplicate_charge", "unapplied_receipt"]
    dup = lines[0]
    assert dup["records"] == ["D0", "D1", "D2"]
    assert dup["statistic"] == {"name": "charges", "value": "3", "threshold": "2", "unit": "count"}
    assert dup["start"] == "2026-03-02T00:00:00+00:00"
    assert dup["severity"] == "high"
    assert "tok_abcdef123" not in result.stdout


def test_markdown_section_and_output_file(tmp_path: Path) -> None:
    dataset().write(tmp_path)
    out = tmp_path / "anomalies.md"
    result = runner.invoke(
        app, ["anomalies", "--input", str(tmp_path), "--format", "md", "--output", str(out), *AS_OF]
    )
    assert result.exit_code == 1
    assert "2 anomalies; report written to" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("## Anomalies\n")
    assert "| duplicate_charge | 1 |" in text
    assert (
        "| duplicate_charge | high | tok_abcd… (…4242) | charges | 3 | 2 | D0, D1, D2 "
        "| 3 charges of 49.99" in text
    )


def test_window_rules_file_and_clean_exit(tmp_path: Path) -> None:
    dataset().write(tmp_path)
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[duplicates]\nmin_count = 4\n[unapplied]\nmax_age_days = 90\n", encoding="utf-8"
    )
    result = runner.invoke(
        app, ["anomalies", "--input", str(tmp_path), "--rules", str(rules), *AS_OF]
    )
    assert result.exit_code == 0, result.output
    assert "No anomalies found." in result.stdout
    windowed = runner.invoke(
        app,
        [
            "anomalies",
            "--input",
            str(tmp_path),
            "--from",
            "2026-03-03",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            *AS_OF,
        ],
    )
    assert [json.loads(x)["kind"] for x in windowed.stdout.splitlines()] == ["unapplied_receipt"]


def test_bad_input_exits_2_naming_the_problem(tmp_path: Path) -> None:
    dataset().write(tmp_path)
    cases = [
        (["--format", "html"], "--format"),
        (["--engine", "spark"], "--engine"),
        (["--from", "March"], "--from"),
        (["--as-of", "2026-04-01T00:00:00"], "--as-of"),
    ]
    for extra, field in cases:
        result = runner.invoke(app, ["anomalies", "--input", str(tmp_path), *extra])
        assert result.exit_code == 2, extra
        assert f"error: {field}: " in result.stderr
    rules = tmp_path / "bad.toml"
    rules.write_text("[outliers]\nz_threshold = -2\n", encoding="utf-8")
    result = runner.invoke(app, ["anomalies", "--input", str(tmp_path), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "error: outliers.z_threshold: " in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["anomalies", "--input", str(empty)])
    assert result.exit_code == 2
    assert "no paytrace.csv" in result.stderr


def test_reconcile_fusion_file_without_unapplied_column_is_skipped(tmp_path: Path) -> None:
    from paysync_core.reconcile import RECORD_COLUMNS

    from .conftest import write

    dataset().write(tmp_path)
    write(tmp_path / "fusion.csv", [], RECORD_COLUMNS)
    result = runner.invoke(app, ["anomalies", "--input", str(tmp_path), "--format", "json", *AS_OF])
    assert result.exit_code == 1
    assert "fusion.csv has no unapplied_cents column; skipped" in result.stderr
    assert [json.loads(x)["kind"] for x in result.stdout.splitlines()] == ["duplicate_charge"]


def test_report_renderers(tmp_path: Path) -> None:
    paths = dataset().write(tmp_path)
    flags = detect_anomalies(*paths, now=NOW)
    assert render_anomalies(flags, "json") == to_json_lines(flags)
    assert render_anomalies(flags, "md") == to_markdown(flags)
    assert to_markdown([]) == "## Anomalies\n\nNo anomalies found.\n"
    assert to_json_lines([]) == ""
    many = [txn(f"X{i:02d}", START + timedelta(seconds=i), 100, token="tok_m") for i in range(12)]
    other = tmp_path / "many"
    other.mkdir()
    (flag,) = detect_anomalies(Dataset(many).write(other)[0], now=NOW)
    assert flag.kind is AnomalyKind.DUPLICATE_CHARGE
    assert "X00, X01, X02, X03, X04, X05, X06, X07, X08, X09 (+2 more)" in to_markdown([flag])
    assert json.loads(to_json_lines([flag]))["records"] == [f"X{i:02d}" for i in range(12)]
