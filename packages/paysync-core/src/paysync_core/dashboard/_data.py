"""What each page shows, as plain redacted data (shared by the HTML pages and the JSON API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app

from paysync_core import (
    DeadLetterQueue,
    DeadLetterStatus,
    LedgerStore,
    UnknownFlowError,
    quota_usage,
)
from paysync_core._status import StreamReporter

from ._config import DashboardConfig
from ._present import audit_rows, dead_letter_view, flow_view, safe_text, step_view
from ._queries import WINDOWS, FinishedSeries, FlowTotals, overview, recent_flows
from ._streams import stream_rows
from ._usecases import UseCasePage

__all__ = ["DashboardState", "dlq_data", "flow_data", "overview_data", "state"]

EXTENSION = "paysync_dashboard"


@dataclass(frozen=True)
class DashboardState:
    config: DashboardConfig
    store: LedgerStore
    totals: FlowTotals
    use_cases: Mapping[str, UseCasePage] = field(default_factory=dict[str, UseCasePage])
    reporters: tuple[StreamReporter, ...] = ()
    series: FinishedSeries = field(default_factory=FinishedSeries)

    def system_of(self, use_case: str, step_name: str) -> str:
        """The system a step of a flow touches (``use_case`` is the flow's, not the page's)."""
        for page in self.use_cases.values():
            for flow in page.flows:
                if flow.use_case == use_case:
                    for step in flow.steps:
                        if step.name == step_name:
                            return step.system
        return ""


def state() -> DashboardState:
    return current_app.extensions[EXTENSION]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def overview_data(window: str) -> dict[str, object]:
    if window not in WINDOWS:
        window = "1h"
    st = state()
    now = _now()
    data = overview(st.store, st.totals, now=now, window=window, series=st.series)
    by_use_case: dict[str, dict[str, int]] = {}
    for row in data.counts:
        by_use_case.setdefault(row.use_case, {})[row.state] = row.count
    config = st.config
    quotas = [
        {
            "system": u.system,
            "span": u.span,
            "used": u.used,
            "limit": u.limit,
            "remaining": u.remaining,
            "resets_at": u.resets_at.isoformat(),
        }
        for u in quota_usage(st.store, config.quotas, now)
    ]
    streams = stream_rows(st.store, config, st.reporters, now)
    return {
        "now": now.isoformat(),
        "window": window,
        "flows": by_use_case,
        "series": [
            {
                "start": b.start,
                "succeeded": b.succeeded,
                "dead": b.dead,
                "error_rate": round(b.error_rate, 4),
            }
            for b in data.buckets
        ],
        "open_dead_letters": data.open_dead_letters,
        "oldest_pending_at": data.oldest_pending_at,
        "recent_dead": [
            {
                "flow_id": f.flow_id,
                "use_case": f.use_case,
                "updated_at": f.updated_at,
                "last_error": safe_text(f.last_error) or None,
            }
            for f in recent_flows(st.store, state="dead", limit=8)
        ],
        "quotas": quotas,
        "streams": streams,
        "streams_configured": bool(st.reporters)
        or config.streams is not None
        or config.cursors is not None,
    }


def flow_data(flow_id: str) -> dict[str, object]:
    """A flow, its steps with timings and links, and its audit entries (404 if unknown)."""
    st = state()
    with st.store.transaction() as tx:
        flow = tx.get_flow(flow_id)
        if flow is None:
            raise UnknownFlowError(f"no flow {flow_id}")
        steps = tx.get_steps(flow_id)
        audit = tx.execute(
            "SELECT seq, at, flow_id, kind, detail_json, hash FROM audit_log"
            " WHERE flow_id = ? ORDER BY seq",
            (flow_id,),
        )
        # dead_letters stays small (entries are per failure, not per flow): no index needed
        entries = [
            {"entry_id": str(e), "status": str(s), "step_name": str(n)}
            for e, s, n in tx.execute(
                "SELECT entry_id, status, step_name FROM dead_letters WHERE flow_id = ?"
                " ORDER BY seq",
                (flow_id,),
            )
        ]
    links = st.config.links
    return {
        "flow": flow_view(flow),
        "steps": [
            step_view(s, system=st.system_of(flow.use_case, s.name), links=links) for s in steps
        ],
        "audit": audit_rows(audit),
        "dead_letters": entries,
    }


def dlq_data(status: str, query: str) -> list[dict[str, object]]:
    """Entries with ``status`` (``all`` for every status) whose fields contain ``query``."""
    wanted = None if status == "all" else DeadLetterStatus(status)
    entries = DeadLetterQueue(state().store).list(wanted)
    views = [dead_letter_view(e) for e in reversed(entries)]
    needle = query.strip().lower()
    if needle:
        views = [
            v
            for v in views
            if any(
                needle in str(v[k]).lower()
                for k in ("entry_id", "flow_id", "step_name", "reason", "last_error")
            )
        ]
    return views
