"""Anomaly reports: JSON lines (one flag per line), a Markdown section, and an HTML section
for the reconciliation page."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Literal

from ._model import AnomalyFlag, AnomalyInputError, AnomalyKind

__all__ = ["AnomalyFormat", "render_anomalies", "to_html_section", "to_json_lines", "to_markdown"]

AnomalyFormat = Literal["json", "md"]
#: Record ids listed per flag in Markdown (a spike can hold thousands); JSON lists them all.
MD_RECORDS = 10


def to_json_lines(flags: Sequence[AnomalyFlag]) -> str:
    return "".join(json.dumps(f.as_dict(), ensure_ascii=False) + "\n" for f in flags)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _records(flag: AnomalyFlag) -> str:
    shown = ", ".join(flag.records[:MD_RECORDS])
    more = len(flag.records) - MD_RECORDS
    return shown + (f" (+{more} more)" if more > 0 else "")


def to_markdown(flags: Sequence[AnomalyFlag], *, heading: str = "## Anomalies") -> str:
    """A section (``heading`` level 2 by default) to append to a reconciliation report."""
    lines = [heading, ""]
    if not flags:
        return "\n".join([*lines, "No anomalies found.", ""])
    counts = Counter(f.kind for f in flags)
    lines += ["| kind | flags |", "|---|---:|"]
    lines += [f"| {k.value} | {counts[k]} |" for k in AnomalyKind if counts[k]]
    lines += [
        "",
        "| kind | severity | subject | statistic | value | threshold | records | reason |",
        "|---|---|---|---|---:|---:|---|---|",
    ]
    for f in flags:
        cells = [
            f.kind.value,
            f.severity.value,
            f.subject,
            f.statistic.name,
            str(f.statistic.value),
            str(f.statistic.threshold),
            _records(f),
            f.reason,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def to_html_section(flags: Sequence[AnomalyFlag], *, heading: str = "Anomalies") -> str:
    """An HTML ``<section>`` (no styles or links of its own) for the reconciliation page."""
    parts = [f'<section id="anomalies"><h2>{escape(heading)}</h2>']
    if not flags:
        return "".join([*parts, "<p>No anomalies found.</p></section>"])
    counts = Counter(f.kind for f in flags)
    summary = ", ".join(f"{k.value} {counts[k]}" for k in AnomalyKind if counts[k])
    parts.append(f"<p>{len(flags)} flags: {escape(summary)}.</p>")
    headers = ["kind", "severity", "subject", "statistic", "value", "threshold", "records"]
    parts.append("<table><thead><tr>")
    parts += [f"<th>{h}</th>" for h in [*headers, "reason"]]
    parts.append("</tr></thead><tbody>")
    for f in flags:
        cells = [
            f.kind.value,
            f.severity.value,
            f.subject,
            f.statistic.name,
            str(f.statistic.value),
            str(f.statistic.threshold),
            _records(f),
            f.reason,
        ]
        parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    parts.append("</tbody></table></section>")
    return "".join(parts)


def render_anomalies(flags: Sequence[AnomalyFlag], format: AnomalyFormat) -> str:
    if format == "json":
        return to_json_lines(flags)
    if format == "md":
        return to_markdown(flags)
    raise AnomalyInputError("format", f"{format!r} is not json or md")
