"""The ledger side of running a flow: lease-fenced writes, audit + log, parking, quotas.

Every write renews the lease and is fenced on it: a worker that lost its lease stops with
:class:`LeaseLostError` instead of overwriting the new owner's progress. Events are logged only
after their transaction committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from ._audit_hash import canonical_json
from ._errors import LeaseLostError
from ._ledger import LedgerTransaction
from ._model import FlowState, StepRecord, format_ts
from ._runtime import Runtime
from ._sqltx import SqlTx
from ._steps import FlowDefinition, Step

__all__ = ["FlowWriter", "ParkedError"]

T = TypeVar("T")
log = logging.getLogger("paysync_core")


class ParkedError(Exception):
    """Internal: the flow was parked (released with ``not_before``); stop driving it."""


class FlowWriter:
    """Writes for one leased flow."""

    def __init__(self, rt: Runtime, flow_id: str, definition: FlowDefinition) -> None:
        self.rt = rt
        self.flow_id = flow_id
        self.definition = definition
        self.flow_key = ""
        self._committed_events: list[tuple[str, Mapping[str, object]]] = []
        self._pending_audits: list[tuple[str, Mapping[str, object]]] = []
        self.committed: list[StepRecord] = []
        """Step records written by the last successful step (its outcome, the next intent)."""
        self.released = False
        """The lease was released in a committed write (flow finished, dead or parked)."""

    # -- ledger helpers ----------------------------------------------------------------
    def write(
        self,
        fn: Callable[[LedgerTransaction, datetime], T],
        *,
        state: FlowState | None = None,
        current_step: int | None = None,
    ) -> T:
        """Run ``fn`` in one transaction that first renews (and is fenced on) the lease.

        ``state`` / ``current_step`` ride along in the lease-renewing ``UPDATE`` (one statement
        fewer per step than a separate flow update).
        """
        self._committed_events.clear()
        self._pending_audits.clear()
        self.released = False
        with self.rt.store.transaction() as tx:
            now = self.rt.clock()
            renew = tx.renew_lease if isinstance(tx, SqlTx) else tx.update_flow
            renewed = renew(
                self.flow_id,
                now=now,
                owner=self.rt.owner,
                lease_expires_at=now + self.rt.lease_ttl,
                state=state,
                current_step=current_step,
            )
            if not renewed:
                raise LeaseLostError(f"worker {self.rt.owner} lost the lease of {self.flow_id}")
            result = fn(tx, now)
            # the transaction's audit records go last, in one statement: the shard chain's
            # head row is then locked only from here to the commit
            if isinstance(tx, SqlTx):  # on PostgreSQL sent with the renewal, at the commit
                events = tx.defer_audits(self._pending_audits, flow_id=self.flow_id, now=now)
            else:
                records = tx.append_audits(self._pending_audits, flow_id=self.flow_id, now=now)
                events = [(r.kind, r.detail) for r in records]
            self._pending_audits.clear()
            self._committed_events.extend(events)
        for kind, detail in self._committed_events:  # logged only once durable
            self.log(kind, detail)
        self._committed_events.clear()
        return result

    def log(self, kind: str, detail: Mapping[str, object]) -> None:
        """One structured log line; flow id and key ride along as ``extra`` attributes.

        ``detail`` is the audit record's, already redacted when it was appended.
        """
        if self.rt.metrics is not None:
            self.rt.metrics.count_event(self.definition.use_case, kind)
        level = logging.WARNING if kind in ("flow.dead_lettered", "step.unknown") else logging.INFO
        if not log.isEnabledFor(level):  # skip the JSON and the record when nobody listens
            return
        log.log(
            level,
            "%s flow=%s use_case=%s key=%s %s",
            kind,
            self.flow_id,
            self.definition.use_case,
            self.flow_key,
            canonical_json(detail),
            extra={
                "paysync_flow_id": self.flow_id,
                "paysync_use_case": self.definition.use_case,
                "paysync_flow_key": self.flow_key,
                "paysync_event": kind,
                "paysync_worker": self.rt.owner,
            },
        )

    def audit(
        self, tx: LedgerTransaction, now: datetime, kind: str, detail: Mapping[str, object]
    ) -> None:
        """Queue an audit record; :meth:`write` appends the queue just before its commit."""
        self._pending_audits.append((kind, detail))

    def record(self, kind: str, detail: Mapping[str, object]) -> None:
        """Append one audit record in its own (lease-fenced) transaction."""
        self.write(lambda tx, now: self.audit(tx, now, kind, detail))

    def wait(self, seconds: float) -> None:
        """Sleep for a short wait; park the flow (and stop driving it) for a long one."""
        if seconds <= self.rt.policy.park_after:
            self.rt.sleep(seconds)
            return

        self.write(
            lambda tx, now: self.park(tx, now, now + timedelta(seconds=seconds), {"wait": seconds})
        )
        raise ParkedError

    def park(
        self, tx: LedgerTransaction, now: datetime, until: datetime, why: Mapping[str, object]
    ) -> None:
        """Release the flow until ``until``; any worker resumes it from the ledger then."""
        tx.update_flow(self.flow_id, now=now, not_before=until)
        tx.release(self.flow_id, owner=self.rt.owner, now=now)
        self.released = True
        self.audit(tx, now, "flow.parked", {"until": format_ts(until), **why})

    def take_quota(self, step: Step) -> None:
        """Draw one call from the step's system budget; park until the window ends if spent."""
        quota = self.rt.quotas.get(step.system)
        if quota is None:
            return

        def draw(tx: LedgerTransaction, now: datetime) -> bool:
            windows = quota.windows(now)
            spent = tx.draw_quota(
                step.system, [(w.span, format_ts(w.start), w.limit) for w in windows]
            )
            if spent is None:
                return True
            window = windows[spent]
            self.park(
                tx, now, window.end, {"quota": step.system, "span": window.span, "step": step.name}
            )
            return False

        if not self.write(draw):
            raise ParkedError
