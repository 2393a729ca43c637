"""Suggested fixes as data for the engine (``paysync reconcile --fix``).

Replays become flow submissions the engine can run (use case, step to restart from, the
PayTrace transaction id as source id); corrections and duplicates are listed for a person or
a later correction flow. Nothing here calls out: the plan is a dry run until someone runs it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ._model import ReconcileResult

__all__ = ["fix_plan"]


def fix_plan(result: ReconcileResult) -> dict[str, Any]:
    """``{"dry_run": True, "replays": [...], "corrections": [...], "reviews": [...]}``."""
    replays: list[dict[str, Any]] = []
    corrections: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    for d in result.discrepancies:
        if d.fix is None:
            continue
        entry = {"key": d.key, "class": d.kind.value, **asdict(d.fix)}
        if d.fix.action == "replay":
            replays.append(entry)
        elif d.fix.action == "correct":
            corrections.append(entry)
        else:
            reviews.append(entry)
    return {"dry_run": True, "replays": replays, "corrections": corrections, "reviews": reviews}
