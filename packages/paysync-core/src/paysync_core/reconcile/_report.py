"""Reports of a reconciliation: JSON, CSV, Markdown and one self-contained HTML page.

The HTML page carries its own CSS and inline SVG charts and links nothing outside itself, so
it can be mailed or archived as a single file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from html import escape
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from ._fixes import fix_plan
from ._model import (
    Discrepancy,
    DiscrepancyClass,
    ReconcileInputError,
    ReconcileResult,
    cents_to_decimal,
)

__all__ = ["ReportFormat", "render_report", "write_report"]

ReportFormat = Literal["json", "csv", "md", "html"]
_CSV_COLUMNS: tuple[str, ...] = (
    "class",
    "key",
    "day",
    "batch",
    "paytrace_amount",
    "fusion_amount",
    "salesforce_amount",
    "evidence",
    "fix_action",
    "fix_system",
    "fix_source_id",
    "fix_step",
    "fix_field",
    "fix_value",
)
#: Rows per class in the HTML drill-down; the CSV / JSON reports carry every row.
HTML_ROWS_PER_CLASS = 2000


def _amount(cents: int | None) -> str:
    return "" if cents is None else str(cents_to_decimal(cents))


def _row(d: Discrepancy) -> dict[str, str]:
    fix = d.fix
    return {
        "class": d.kind.value,
        "key": d.key,
        "day": d.day or "",
        "batch": d.batch or "",
        "paytrace_amount": _amount(d.paytrace_cents),
        "fusion_amount": _amount(d.fusion_cents),
        "salesforce_amount": _amount(d.salesforce_cents),
        "evidence": d.evidence,
        "fix_action": fix.action if fix else "",
        "fix_system": fix.system if fix else "",
        "fix_source_id": fix.source_id if fix else "",
        "fix_step": (fix.step or "") if fix else "",
        "fix_field": (fix.field or "") if fix else "",
        "fix_value": (fix.value or "") if fix else "",
    }


def _summary(result: ReconcileResult) -> dict[str, Any]:
    return {
        "engine": result.engine,
        "keys": result.keys,
        "counts": {k.value: v for k, v in result.counts.items()},
        "batches": [
            {
                "batch": b.batch,
                "reported": str(cents_to_decimal(b.reported_cents)),
                "computed": str(cents_to_decimal(b.computed_cents)),
                "reported_count": b.reported_count,
                "computed_count": b.computed_count,
                "ok": b.ok,
            }
            for b in result.batch_checks
        ],
        "days": [
            {
                "day": t.day,
                "paytrace": str(cents_to_decimal(t.paytrace_cents)),
                "fusion": str(cents_to_decimal(t.fusion_cents)),
                "salesforce": str(cents_to_decimal(t.salesforce_cents)),
            }
            for t in result.day_totals
        ],
    }


def _json(result: ReconcileResult) -> str:
    body = {
        **_summary(result),
        "discrepancies": [_row(d) for d in result.discrepancies],
        "fixes": fix_plan(result),
    }
    return json.dumps(body, indent=2) + "\n"


def _csv(result: ReconcileResult) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for d in result.discrepancies:
        writer.writerow(_row(d))
    return buffer.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(result: ReconcileResult) -> str:
    lines = [
        "# Reconciliation report",
        "",
        f"{result.keys} keys reconciled by the {result.engine} engine.",
        "",
        "| class | count |",
        "|---|---:|",
    ]
    lines += [f"| {k.value} | {v} |" for k, v in result.counts.items()]
    if result.batch_checks:
        lines += ["", "## Batches", "", "| batch | reported | computed | variance | ok |"]
        lines += ["|---|---:|---:|---:|---|"]
        for b in result.batch_checks:
            lines.append(
                f"| {_md_cell(b.batch)} | {cents_to_decimal(b.reported_cents)} | "
                f"{cents_to_decimal(b.computed_cents)} | {b.variance} | {'yes' if b.ok else 'NO'} |"
            )
    lines += ["", "## Discrepancies", ""]
    if not result.discrepancies:
        lines.append("None.")
    else:
        lines += ["| class | key | day | PayTrace | Fusion | Salesforce | evidence | fix |"]
        lines += ["|---|---|---|---:|---:|---:|---|---|"]
        for d in result.discrepancies:
            r = _row(d)
            fix = " ".join(x for x in (r["fix_action"], r["fix_system"], r["fix_step"]) if x)
            cells = [
                r["class"],
                r["key"],
                r["day"],
                r["paytrace_amount"],
                r["fusion_amount"],
                r["salesforce_amount"],
                r["evidence"],
                fix,
            ]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _bars_svg(values: list[tuple[str, float]], title: str, *, signed: bool) -> str:
    """A horizontal bar chart; ``signed`` centres the axis for variances."""
    width, label_w, row_h = 640, 170, 18
    height = 24 + row_h * max(1, len(values))
    peak = max((abs(v) for _, v in values), default=0.0) or 1.0
    span = (width - label_w - 70) / (2 if signed else 1)
    zero = label_w + (span if signed else 0)
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{zero:.1f}" y1="18" x2="{zero:.1f}" y2="{height}" stroke="#888"/>',
    ]
    for i, (label, value) in enumerate(values):
        y = 22 + i * row_h
        length = abs(value) / peak * span
        x = zero - length if value < 0 else zero
        colour = "#c0392b" if value < 0 else ("#e67e22" if signed and value else "#2e86c1")
        parts.append(f'<text x="4" y="{y + 12}" font-size="11">{escape(label)}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{max(length, 0.5):.1f}" height="{row_h - 4}" '
            f'fill="{colour}"/>'
        )
        text_x = zero + (span if signed else length) + 4
        parts.append(f'<text x="{text_x:.1f}" y="{y + 12}" font-size="11">{value:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}"
    "th{background:#f3f3f3}tr.bad td{background:#fdecea}"
    "summary{cursor:pointer;font-weight:bold;margin:.4em 0}"
)


def _html(result: ReconcileResult, sections: Sequence[str] = ()) -> str:
    counts = result.counts
    class_chart = _bars_svg(
        [(k.value, float(v)) for k, v in counts.items()], "Keys per class", signed=False
    )
    variance = [
        (
            t.day,
            float(cents_to_decimal(t.fusion_cents - t.paytrace_cents)),
        )
        for t in result.day_totals
    ]
    sf_variance = [
        (t.day, float(cents_to_decimal(t.salesforce_cents - t.paytrace_cents)))
        for t in result.day_totals
    ]
    days_table = _table(
        ["day", "PayTrace", "Fusion", "Salesforce", "Fusion - PayTrace", "Salesforce - PayTrace"],
        [
            [
                t.day,
                _amount(t.paytrace_cents),
                _amount(t.fusion_cents),
                _amount(t.salesforce_cents),
                _amount(t.fusion_cents - t.paytrace_cents),
                _amount(t.salesforce_cents - t.paytrace_cents),
            ]
            for t in result.day_totals
        ],
    )
    batch_rows = [
        [
            b.batch,
            _amount(b.reported_cents),
            _amount(b.computed_cents),
            str(b.variance),
            "" if b.reported_count is None else str(b.reported_count),
            str(b.computed_count),
            "yes" if b.ok else "NO",
        ]
        for b in result.batch_checks
    ]
    batches_table = _table(
        ["batch", "reported", "computed", "variance", "reported count", "count", "ok"], batch_rows
    )
    drill: list[str] = []
    for cls in DiscrepancyClass:
        if cls is DiscrepancyClass.MATCHED:
            continue
        rows = [d for d in result.discrepancies if d.kind is cls]
        if not rows:
            continue
        shown = rows[:HTML_ROWS_PER_CLASS]
        cells = [
            [
                r["key"],
                r["day"],
                r["batch"],
                r["paytrace_amount"],
                r["fusion_amount"],
                r["salesforce_amount"],
                r["evidence"],
                " ".join(x for x in (r["fix_action"], r["fix_system"], r["fix_step"]) if x),
            ]
            for r in map(_row, shown)
        ]
        note = (
            f"<p>First {len(shown)} of {len(rows)}; the CSV report has all.</p>"
            if len(rows) > len(shown)
            else ""
        )
        drill.append(
            f"<details><summary>{escape(cls.value)} ({len(rows)})</summary>{note}"
            + _table(
                ["key", "day", "batch", "PayTrace", "Fusion", "Salesforce", "evidence", "fix"],
                cells,
            )
            + "</details>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>paysync reconciliation</title><style>{_CSS}</style></head><body>"
        "<h1>Reconciliation report</h1>"
        f"<p>{result.keys} keys reconciled by the {escape(result.engine)} engine; "
        f"{len(result.discrepancies)} discrepancies, "
        f"{len(result.batch_mismatches)} batch total mismatches.</p>"
        f"{class_chart}"
        "<h2>Totals per day</h2>"
        f"{_bars_svg(variance, 'Fusion - PayTrace per day', signed=True)}"
        f"{_bars_svg(sf_variance, 'Salesforce - PayTrace per day', signed=True)}"
        f"{days_table}"
        "<h2>Totals per batch</h2>"
        f"{batches_table}"
        "<h2>Discrepancies</h2>"
        + ("".join(drill) or "<p>None.</p>")
        + "".join(sections)
        + "</body></html>\n"
    )


_RENDER = {"json": _json, "csv": _csv, "md": _markdown}


def render_report(
    result: ReconcileResult, format: ReportFormat, *, html_sections: Sequence[str] = ()
) -> str:
    """The report as text. ``html_sections`` are trusted HTML fragments appended to the HTML
    page (the anomaly section, for one); the other formats ignore them."""
    if format == "html":
        return _html(result, html_sections)
    render = _RENDER.get(format)
    if render is None:
        raise ReconcileInputError("format", f"{format!r} is not json, csv, md or html")
    return render(result)


def write_report(
    result: ReconcileResult,
    path: str | PathLike[str],
    format: ReportFormat | None = None,
) -> Path:
    """Write the report; the format defaults to the file's suffix (``.markdown`` too)."""
    target = Path(path)
    chosen = format or _from_suffix(target)
    text = render_report(result, chosen)
    target.write_text(text, encoding="utf-8")
    return target


def _from_suffix(path: Path) -> ReportFormat:
    suffix = path.suffix.lower().lstrip(".")
    known: dict[str, ReportFormat] = {
        "json": "json",
        "csv": "csv",
        "md": "md",
        "markdown": "md",
        "html": "html",
        "htm": "html",
    }
    if suffix not in known:
        raise ReconcileInputError("format", f"cannot tell the format of {path.name}")
    return known[suffix]
