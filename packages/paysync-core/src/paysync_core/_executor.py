"""Driving one leased flow through its steps: intent, request, outcome, lookup, dead letter.

Durability protocol for one attempt of a step:

1. the step's intent (``intended``) was committed together with the previous step's outcome
   (or, for the first step, by the worker that then calls it);
2. ``requested`` (+ attempt count) is committed before the call, so a later reader knows the
   call may have been sent ("look it up first") -- **except** for an *armed* intent: the next
   step's intent committed with an outcome by the lease holder is written armed
   (``requested_at`` set while still ``intended``), which already says "maybe sent" to any
   other reader. Every step has a ``lookup`` (or is ``safe_to_retry``), so an armed intent
   read back from the ledger is resolved by lookup before any call, like
   ``requested``/``unknown``; the run that wrote it knows it has not called yet and calls at
   once. So the steady state is one durable commit per step; the first step of a run (an
   unarmed intent from the submission) and retries still commit ``requested`` first;
3. the outcome (``succeeded`` + external ids, or ``unknown``/``failed`` + attempt count)
   commits in **one** transaction with the ``step.requested`` audit record of the attempt, the
   next step's intent and the caller's checkpoint hook. One durable commit per step.

Writes, parking and quotas live in :class:`~paysync_core._writer.FlowWriter`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from ._errors import LeaseLostError, LedgerError
from ._ledger import LedgerTransaction
from ._model import FlowRecord, FlowState, StepRecord, StepState, evolve, format_ts
from ._redact import redact_text
from ._retry import Classification, ErrorKind, backoff_delay, next_delay
from ._runtime import Runtime, intent_for, is_armed
from ._steps import FlowDefinition, LookupResult, LookupStatus, Step, StepContext
from ._writer import FlowWriter, ParkedError

__all__ = ["run_leased_flow"]


def _error_text(error: BaseException) -> str:
    return redact_text(f"{type(error).__name__}: {error}")[:2000]


class _FlowRun(FlowWriter):
    # -- main loop ---------------------------------------------------------------------
    def run(
        self, loaded: tuple[FlowRecord, list[StepRecord]] | None = None, *, armed: bool = False
    ) -> FlowState:
        """Drive the flow; its state when this run stopped (the lease is then released iff
        :attr:`released`). ``loaded``: the flow and steps as read after this worker claimed it
        (in the claim's transaction), so the run starts without another read."""
        known: tuple[FlowRecord, list[StepRecord]] | None = None
        while True:
            fresh = False  # the step's intent was written by this run: nothing was sent yet
            if loaded is not None:
                flow, steps = loaded
                loaded = None
                fresh = armed  # our claim armed the current intent: nothing was sent yet
            elif known is None:
                with self.rt.store.transaction() as tx:
                    read = tx.get_flow(self.flow_id)
                    steps = tx.get_steps(self.flow_id)
                if read is None:
                    raise LedgerError(f"flow {self.flow_id} vanished from the ledger")
                flow = read
            else:
                # After a committed success the ledger holds exactly what we wrote (every write
                # is fenced on our lease), so the next step starts without re-reading it.
                flow, steps = known
                fresh = True
            self.flow_key = flow.flow_key
            if flow.lease_owner != self.rt.owner:
                raise LeaseLostError(f"worker {self.rt.owner} lost the lease of {self.flow_id}")
            if flow.state is not FlowState.RUNNING:
                return flow.state
            index = flow.current_step
            step = self.definition.steps[index]
            by_index = {s.index: s for s in steps}
            record = by_index.get(index)
            if record is None:
                record = intent_for(flow, self.definition, index, self.rt.clock())
                self.write(lambda tx, _now, r=record: tx.put_step(r))
                fresh = True
            elif record.name != step.name:
                raise LedgerError(
                    f"flow {self.flow_id} step {index} is {record.name!r} in the ledger but "
                    f"{step.name!r} in the definition of {self.definition.use_case!r}"
                )
            results = {s.name: s.external_ids for s in steps if s.state is StepState.SUCCEEDED}
            try:
                if not self.run_step(flow, step, record, results, fresh=fresh):
                    return FlowState.DEAD
            except ParkedError:
                return FlowState.PENDING
            known = self.advanced(flow, steps)
            if known is None:
                return FlowState.SUCCEEDED

    def advanced(
        self, flow: FlowRecord, steps: list[StepRecord]
    ) -> tuple[FlowRecord, list[StepRecord]] | None:
        """Flow and steps as committed by the last :meth:`succeed` (None: flow finished)."""
        committed = self.committed
        self.committed = []
        if len(committed) != 2:  # the last step: the flow succeeded
            return None
        done, intent = committed
        kept = [s for s in steps if s.index not in (done.index, intent.index)]
        return evolve(flow, current_step=intent.index), [*kept, done, intent]

    def context(
        self, flow: FlowRecord, record: StepRecord, results: Mapping[str, Mapping[str, str]]
    ) -> StepContext:
        return StepContext(
            flow_id=flow.flow_id,
            flow_key=flow.flow_key,
            use_case=flow.use_case,
            step_name=record.name,
            step_index=record.index,
            idempotency_key=record.idempotency_key,
            input=flow.input,
            results=results,
            attempt=record.attempts,
        )

    def run_step(
        self,
        flow: FlowRecord,
        step: Step,
        record: StepRecord,
        results: Mapping[str, Mapping[str, str]],
        *,
        fresh: bool,
    ) -> bool:
        """Drive one step to success (True) or the dead-letter queue (False).

        ``fresh``: this run wrote the step's intent, so it was certainly not sent yet.
        """
        policy = self.rt.policy
        checks = record.lookup_checks
        evidence: list[object] = []
        last_kind = "none"
        # An armed intent read back from the ledger may have been sent by an owner that died
        # after calling (no ``requested`` commit marks that call). Count that possible attempt
        # so a step that kills its worker every time still reaches max_attempts.
        recovered = is_armed(record) and not fresh
        if recovered:
            record = evolve(record, attempts=record.attempts + 1)
        while True:
            maybe_sent = recovered or record.state in (StepState.REQUESTED, StepState.UNKNOWN)
            if maybe_sent and not step.safe_to_retry:
                self.take_quota(step)
                result = self.lookup(step, self.context(flow, record, results))
                evidence.append({"lookup": result.status.value, "detail": result.detail})
                if result.status is LookupStatus.FOUND:
                    self.succeed(flow, record, result.external_ids, via="lookup")
                    return True
                if result.status is LookupStatus.PENDING:
                    if checks >= len(policy.lookup_delays):
                        self.dead_letter(flow, record, "unresolved_unknown_outcome", evidence)
                        return False
                    delay = policy.lookup_delays[checks]
                    checks += 1
                    record = evolve(record, lookup_checks=checks)
                    self.write(
                        lambda tx, now, r=record, d=delay, why=result.detail: self.lookup_pending(
                            tx, now, r, d, why
                        )
                    )
                    self.wait(delay)
                    continue
                self.note_absent(record, result.detail, persist=recovered)
                recovered = False
                if record.attempts:
                    self.wait(backoff_delay(policy, record.attempts, self.rt.rand))
            if record.attempts >= policy.max_attempts:
                self.dead_letter(flow, record, f"max_attempts:{last_kind}", evidence)
                return False
            recovered = False
            self.take_quota(step)
            record, request = self.mark_requested(flow, step, record, results)
            # (request is None when ``requested`` was committed before the call)
            started = self.started()
            try:
                ids = step.perform(self.context(flow, record, results))
            except Exception as exc:  # every port failure is classified, none escapes
                self.observe(step, "perform", started, "error")
                verdict = self.rt.classifier.classify(exc)
                last_kind = verdict.kind.value
                error = _error_text(exc)
                evidence.append({"attempt": record.attempts, "error": error, "kind": last_kind})
                outcome = self.on_failure(
                    flow,
                    step,
                    record,
                    verdict=verdict,
                    error=error,
                    evidence=evidence,
                    request=request,
                )
                if outcome is None:
                    return False
                record = outcome
                continue
            self.observe(step, "perform", started, "ok")
            self.succeed(flow, record, ids, via="perform", request=request)
            return True

    def lookup_pending(
        self, tx: LedgerTransaction, now: datetime, record: StepRecord, delay: float, why: str
    ) -> None:
        tx.put_step(record)
        self.audit(
            tx,
            now,
            "step.lookup_pending",
            {
                "step": record.name,
                "check": record.lookup_checks,
                "recheck_in": delay,
                "detail": why,
            },
        )

    def note_absent(self, record: StepRecord, why: str, *, persist: bool) -> None:
        """Audit an ``absent`` verdict; ``persist``: with the recovered attempt's count."""

        def apply(tx: LedgerTransaction, now: datetime) -> None:
            if persist:
                tx.put_step(record)
            self.audit(tx, now, "step.lookup_absent", {"step": record.name, "detail": why})

        self.write(apply)

    def lookup(self, step: Step, ctx: StepContext) -> LookupResult:
        started = self.started()
        try:
            result = step.lookup(ctx)
        except Exception as exc:  # a failing lookup cannot decide: treat as pending
            self.observe(step, "lookup", started, "error")
            return LookupResult.pending(f"lookup failed: {_error_text(exc)}")
        self.observe(step, "lookup", started, result.status.value)
        return result

    def started(self) -> float:
        return 0.0 if self.rt.metrics is None else self.rt.metrics.timer()

    def observe(self, step: Step, call: str, started: float, outcome: str) -> None:
        metrics = self.rt.metrics
        if metrics is not None:
            metrics.observe_call(
                use_case=self.definition.use_case,
                step=step.name,
                system=step.system,
                call=call,
                outcome=outcome,
                seconds=metrics.timer() - started,
            )

    def mark_requested(
        self,
        flow: FlowRecord,
        step: Step,
        record: StepRecord,
        results: Mapping[str, Mapping[str, str]],
    ) -> tuple[StepRecord, dict[str, object] | None]:
        """The record of the attempt about to be sent, and its ``step.requested`` audit detail.

        If the durable record is an *armed* intent (written by a lease holder, so any reader
        after us treats it as maybe sent), nothing is committed here: the attempt and its audit
        record commit with the outcome, and the detail is returned for that. Otherwise (an
        intent written at submission, a retry after ``failed``/``unknown``) ``requested`` is
        committed before the call, as that state is what tells a later reader to look first;
        the detail is then already audited and ``None`` is returned.
        """
        attempt = record.attempts + 1
        summary: dict[str, object] = {}
        if step.summarize:
            ctx = evolve(self.context(flow, record, results), attempt=attempt)
            summary = dict(step.summarize(ctx))
        detail: dict[str, object] = {
            "step": record.name,
            "key": record.idempotency_key,
            "attempt": attempt,
            "summary": summary,
        }
        if is_armed(record):
            armed = evolve(
                record,
                state=StepState.REQUESTED,
                attempts=attempt,
                request_summary=summary,
                requested_at=self.rt.clock(),
            )
            return armed, detail
        updated = evolve(
            record, state=StepState.REQUESTED, attempts=attempt, request_summary=summary
        )

        def apply(tx: LedgerTransaction, now: datetime) -> StepRecord:
            durable = evolve(updated, requested_at=now)
            tx.put_step(durable)
            self.audit(tx, now, "step.requested", detail)
            return durable

        return self.write(apply), None

    def on_failure(
        self,
        flow: FlowRecord,
        step: Step,
        record: StepRecord,
        *,
        verdict: Classification,
        error: str,
        evidence: list[object],
        request: Mapping[str, object] | None,
    ) -> StepRecord | None:
        """Record a failed attempt; the new record to continue with, or None if dead."""
        kind = verdict.kind
        if kind in (ErrorKind.PERMANENT, ErrorKind.NEEDS_HUMAN):
            record = evolve(record, last_error=error)
            self.dead_letter(flow, record, kind.value, evidence, request=request)
            return None
        delay: float | None = None
        if kind is ErrorKind.RETRYABLE or step.safe_to_retry:
            delay = next_delay(self.rt.policy, record.attempts, verdict, self.rt.rand)
            if delay is None:
                record = evolve(record, last_error=error)
                self.dead_letter(
                    flow, record, f"retries_exhausted:{kind.value}", evidence, request=request
                )
                return None
        new_state = StepState.UNKNOWN if kind is ErrorKind.UNKNOWN_OUTCOME else StepState.FAILED
        updated = evolve(record, state=new_state, last_error=error)

        def apply(tx: LedgerTransaction, now: datetime) -> None:
            tx.put_step(updated)
            if request is not None:
                self.audit(tx, now, "step.requested", request)
            self.audit(
                tx,
                now,
                f"step.{new_state.value}",
                {
                    "step": record.name,
                    "attempt": record.attempts,
                    "kind": kind.value,
                    "error": error,
                    "retry_in": delay,
                },
            )

        self.write(apply)
        if delay is not None:
            self.wait(delay)
        return updated

    def succeed(
        self,
        flow: FlowRecord,
        record: StepRecord,
        ids: Mapping[str, str],
        *,
        via: str,
        request: Mapping[str, object] | None = None,
    ) -> None:
        done = evolve(
            record,
            state=StepState.SUCCEEDED,
            external_ids={str(k): str(v) for k, v in ids.items()},
            last_error=None,
        )
        following = record.index + 1
        last = following >= len(self.definition.steps)

        def apply(tx: LedgerTransaction, now: datetime) -> None:
            final = evolve(done, finished_at=now)
            self.committed = [final]
            if not last:
                # armed: once this commits, a reader other than this run must look it up first
                self.committed.append(intent_for(flow, self.definition, following, now, armed=True))
            tx.put_steps(self.committed)  # outcome and next intent in one statement
            if request is not None:
                self.audit(tx, now, "step.requested", request)
            self.audit(
                tx,
                now,
                "step.succeeded",
                {
                    "step": record.name,
                    "key": record.idempotency_key,
                    "via": via,
                    "external_ids": dict(final.external_ids),
                },
            )
            if last:
                self.audit(tx, now, "flow.succeeded", {"use_case": flow.use_case})
                # the finished flow's lease goes in the same commit (no release transaction)
                tx.release(self.flow_id, owner=self.rt.owner, now=now)
                self.released = True
            if self.rt.on_step_committed is not None:
                self.rt.on_step_committed(tx, flow, final)

        # the flow's new position rides in the lease-renewing UPDATE of the same transaction
        self.write(apply, state=FlowState.SUCCEEDED if last else None, current_step=following)

    def dead_letter(
        self,
        flow: FlowRecord,
        record: StepRecord,
        reason: str,
        evidence: list[object],
        *,
        request: Mapping[str, object] | None = None,
    ) -> None:
        fingerprint = hashlib.sha256(
            "\x00".join((flow.flow_key, record.name, reason)).encode()
        ).hexdigest()[:32]
        error = record.last_error or reason

        def apply(tx: LedgerTransaction, now: datetime) -> None:
            tx.put_step(evolve(record, state=StepState.DEAD, finished_at=now))
            if request is not None:
                self.audit(tx, now, "step.requested", request)
            tx.update_flow(self.flow_id, now=now, state=FlowState.DEAD, last_error=error)
            tx.release(self.flow_id, owner=self.rt.owner, now=now)
            self.released = True
            entry = tx.upsert_dead_letter(
                fingerprint=fingerprint,
                flow_id=self.flow_id,
                step_name=record.name,
                reason=reason,
                last_error=error,
                evidence=[*evidence, {"at": format_ts(now), "attempts": record.attempts}],
                now=now,
            )
            self.audit(
                tx,
                now,
                "flow.dead_lettered",
                {
                    "step": record.name,
                    "reason": reason,
                    "entry_id": entry.entry_id,
                    "occurrences": entry.occurrences,
                },
            )

        self.write(apply)


def run_leased_flow(
    rt: Runtime,
    flow_id: str,
    definition: FlowDefinition,
    *,
    loaded: tuple[FlowRecord, list[StepRecord]] | None = None,
    armed: bool = False,
) -> tuple[FlowState, bool]:
    """Run a flow this worker has leased until it succeeds, dead-letters, parks or the lease is
    lost (:class:`LeaseLostError`). Returns the flow's state and whether the lease was released
    in the run's last commit (finished and parked flows); otherwise the caller releases it.
    ``armed``: the caller's claim armed the current step's intent in ``loaded`` (see
    :func:`~paysync_core._runtime.intent_for`), so this run calls it without a lookup."""
    run = _FlowRun(rt, flow_id, definition)
    state = run.run(loaded, armed=armed)
    return state, run.released
