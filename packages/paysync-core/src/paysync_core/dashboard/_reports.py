"""The reconciliation reports folder: ``*.html`` / ``*.json`` files listed by day.

A report's day is the first ``YYYY-MM-DD`` in its relative path (``2026-11-23/batch-7.html``
or ``recon-2026-11-23-b7.json``), else the file's modification day (UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["REPORT_SUFFIXES", "Report", "list_reports"]

REPORT_SUFFIXES = (".html", ".json")
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Report:
    day: str
    path: str
    """Relative to the reports folder, with ``/`` separators."""
    size: int


def list_reports(folder: Path, *, limit: int = 2000) -> dict[str, list[Report]]:
    """Reports grouped by day, newest day first (at most ``limit`` files)."""
    found: list[Report] = []
    if not folder.is_dir():
        return {}
    for file in sorted(folder.rglob("*")):
        if not file.is_file() or file.suffix.lower() not in REPORT_SUFFIXES:
            continue
        relative = file.relative_to(folder).as_posix()
        match = _DAY.search(relative)
        stat = file.stat()
        day = (
            match.group(1)
            if match
            else datetime.fromtimestamp(stat.st_mtime, timezone.utc).date().isoformat()
        )
        found.append(Report(day, relative, stat.st_size))
        if len(found) >= limit:
            break
    days: dict[str, list[Report]] = {}
    for report in sorted(found, key=lambda r: (r.day, r.path), reverse=True):
        days.setdefault(report.day, []).append(report)
    return days
