"""The engine: submit flows, run them (one, or many in a thread pool), resume after crashes."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ._errors import ConfigurationError, FlowBusyError, LedgerError, UnknownFlowError
from ._executor import run_leased_flow
from ._keys import idempotency_key as derive_key
from ._ledger import LedgerStore, LedgerTransaction
from ._metrics import Metrics
from ._model import FlowRecord, FlowState, StepRecord, StepState, evolve, utc_now
from ._plan import PlannedWrite, plan_flow
from ._quota import Quota
from ._redact import ensure_no_sensitive_data
from ._retry import DefaultClassifier, ErrorClassifier, RetryPolicy
from ._runtime import CheckpointHook, Runtime, intent_for, is_armed
from ._sqltx import SqlTx
from ._steps import FlowDefinition

__all__ = ["Engine", "RunReport", "SubmitHook"]

_PREFETCH_FROM = 8
"""Pools of at least this many threads keep claimed flows queued (see run_pending)."""
_CLAIM_GATHER = 0.02
"""Seconds a claim for fewer than a batch of free slots may wait for more slots to free."""

SubmitHook = Callable[[LedgerTransaction, FlowRecord], None]
"""Called inside the transaction that records a submitted flow (e.g. to store a replay id)."""


@dataclass(frozen=True)
class _Claimed:
    """A flow this worker just leased, as read in the claim's transaction."""

    flow: FlowRecord
    steps: list[StepRecord]
    armed: bool
    """The claim armed the current step's intent: this worker calls it without a lookup."""


@dataclass
class RunReport:
    """What one :meth:`Engine.run_pending` call did."""

    succeeded: list[str] = field(default_factory=list[str])
    dead: list[str] = field(default_factory=list[str])
    parked: list[str] = field(default_factory=list[str])
    """Flows waiting (long backoff, Retry-After, lookup lag); a later pass resumes them."""
    errors: dict[str, str] = field(default_factory=dict[str, str])
    """Flows that stopped on an engine error (ledger down, lease lost): still resumable."""

    @property
    def processed(self) -> int:
        return len(self.succeeded) + len(self.dead) + len(self.parked) + len(self.errors)


class Engine:
    """Runs flows exactly once per effect on top of a ledger store.

    ``worker_id`` names this worker in leases (default: a random id). ``lease_ttl`` must
    exceed the longest sleep the policy can ask for and the longest call a step makes: a worker
    silent for longer is presumed dead and its flows are taken over.
    ``quotas`` maps a step's ``system`` to its shared API budget; ``metrics`` collects counts
    and call timings (share one :class:`Metrics` between engines).
    ``idle_poll``: in :meth:`run_pending`, after a claim found fewer runnable flows than free
    workers, slots freed within this many seconds wait for the next claim instead of each
    sending its own query.
    ``clock``, ``sleep`` and ``rand`` are injectable for tests.
    """

    def __init__(
        self,
        store: LedgerStore,
        flows: Iterable[FlowDefinition],
        *,
        policy: RetryPolicy | None = None,
        classifier: ErrorClassifier | None = None,
        worker_id: str | None = None,
        lease_ttl: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        on_step_committed: CheckpointHook | None = None,
        quotas: Mapping[str, Quota] | None = None,
        metrics: Metrics | None = None,
        idle_poll: float = 0.05,
    ) -> None:
        self._flows: dict[str, FlowDefinition] = {}
        for definition in flows:
            if definition.use_case in self._flows:
                raise ConfigurationError(f"use case {definition.use_case!r} defined twice")
            self._flows[definition.use_case] = definition
        policy = policy or RetryPolicy()
        if lease_ttl.total_seconds() <= policy.longest_sleep:
            raise ConfigurationError(
                f"lease_ttl ({lease_ttl}) must exceed the policy's longest in-thread sleep "
                f"({policy.longest_sleep} s), or flows would be taken over while they sleep"
            )
        self._store = store
        self._clock = clock
        self._use_cases = sorted(self._flows)
        self._idle_poll = idle_poll
        self._rt = Runtime(
            store=store,
            policy=policy,
            classifier=classifier or DefaultClassifier(clock=clock),
            owner=worker_id or f"worker-{uuid.uuid4().hex[:12]}",
            lease_ttl=lease_ttl,
            clock=clock,
            sleep=sleep,
            rand=rand,
            on_step_committed=on_step_committed,
            quotas=dict(quotas or {}),
            metrics=metrics,
        )

    @property
    def worker_id(self) -> str:
        return self._rt.owner

    @property
    def store(self) -> LedgerStore:
        return self._store

    def _definition(self, use_case: str) -> FlowDefinition:
        try:
            return self._flows[use_case]
        except KeyError:
            raise UnknownFlowError(f"no flow definition for use case {use_case!r}") from None

    # -- submitting --------------------------------------------------------------------
    def submit(
        self,
        use_case: str,
        *,
        source_system: str,
        source_id: str,
        version: str | int,
        input: Mapping[str, object],
        entity_key: str | None = None,
        idempotency_key: str | None = None,
        checkpoint: SubmitHook | None = None,
    ) -> FlowRecord:
        """Record a flow durably (idempotent: the same key returns the existing flow).

        The key is ``idempotency_key`` if given (the caller's key wins), else derived from
        (use case, source system, source id, version). Flows with the same ``entity_key``
        (default ``source_system:source_id``) run one at a time, in submission order.
        ``input`` must not hold secrets or PANs (:class:`SensitiveDataError`).
        """
        definition = self._definition(use_case)
        ensure_no_sensitive_data(input, what="flow input")
        key = idempotency_key or derive_key(use_case, source_system, source_id, version)
        now = self._clock()
        flow = FlowRecord(
            flow_id=uuid.uuid4().hex,
            flow_key=key,
            use_case=use_case,
            source_system=source_system,
            source_id=source_id,
            version=str(version),
            entity_key=entity_key or f"{source_system}:{source_id}",
            input=dict(input),
            state=FlowState.PENDING,
            current_step=0,
            created_at=now,
            updated_at=now,
        )
        with self._store.transaction() as tx:
            if tx.insert_flow(flow):
                tx.put_step(intent_for(flow, definition, 0, now))
                tx.append_audit(
                    "flow.submitted",
                    flow_id=flow.flow_id,
                    detail={
                        "use_case": use_case,
                        "source_system": source_system,
                        "source_id": source_id,
                        "version": str(version),
                        "flow_key": key,
                        "entity_key": flow.entity_key,
                    },
                    now=now,
                )
            stored = tx.get_flow_by_key(key)
            if stored is None:  # pragma: no cover - the insert or the conflict guarantees it
                raise LedgerError(f"flow with key {key} missing right after insert")
            if checkpoint is not None:
                checkpoint(tx, stored)
        return stored

    def plan(
        self,
        use_case: str,
        *,
        source_system: str,
        source_id: str,
        version: str | int,
        input: Mapping[str, object],
        idempotency_key: str | None = None,
    ) -> list[PlannedWrite]:
        """Dry run: the writes this flow would make (no port is called, nothing is stored)."""
        return plan_flow(
            self._definition(use_case),
            source_system=source_system,
            source_id=source_id,
            version=version,
            input=input,
            idempotency_key=idempotency_key,
        )

    # -- reading -----------------------------------------------------------------------
    def flow(self, flow_id: str) -> FlowRecord:
        with self._store.transaction() as tx:
            flow = tx.get_flow(flow_id)
        if flow is None:
            raise UnknownFlowError(f"no flow {flow_id}")
        return flow

    def steps(self, flow_id: str) -> list[StepRecord]:
        with self._store.transaction() as tx:
            return tx.get_steps(flow_id)

    def flows_for_entity(self, use_case: str, entity_key: str) -> list[FlowRecord]:
        """Every flow of ``use_case`` on the business entity ``entity_key``, oldest first."""
        with self._store.transaction() as tx:
            return tx.flows_for_entity(use_case, entity_key)

    # -- running -----------------------------------------------------------------------
    def _claim(
        self, limit: int, flow_id: str | None = None, exclude: Sequence[str] = ()
    ) -> list[_Claimed]:
        """Lease up to ``limit`` flows, read them (and their steps) and arm their next intent,
        all in the claim's transaction.

        Arming (see :func:`intent_for`): a flow's current step still ``intended`` and unarmed
        (nothing was ever sent) is marked armed for this worker, which then calls it without
        committing ``requested`` first; anyone else who later reads the armed intent (this
        worker died) looks it up before any call. So a claimed one-step flow costs one commit.
        """
        now = self._clock()
        with self._store.transaction() as tx:
            loaded = self._claim_in(tx, now, limit, flow_id, exclude)
            claimed: list[_Claimed] = []
            arm: list[StepRecord] = []
            for flow, steps in loaded:
                current = next((s for s in steps if s.index == flow.current_step), None)
                if (
                    current is None
                    or current.state is not StepState.INTENDED
                    or is_armed(current)
                    or flow.current_step >= len(self._definition(flow.use_case).steps)
                ):
                    claimed.append(_Claimed(flow, steps, armed=False))
                    continue
                armed = evolve(current, requested_at=now)
                arm.append(armed)
                armed_steps = [armed if s is current else s for s in steps]
                claimed.append(_Claimed(flow, armed_steps, armed=True))
            tx.put_steps(arm)  # one statement for the batch
        return claimed

    def _claim_in(
        self,
        tx: LedgerTransaction,
        now: datetime,
        limit: int,
        flow_id: str | None,
        exclude: Sequence[str],
    ) -> list[tuple[FlowRecord, list[StepRecord]]]:
        ids = tx.claim(
            owner=self._rt.owner,
            now=now,
            lease_expires_at=now + self._rt.lease_ttl,
            limit=limit,
            flow_id=flow_id,
            use_cases=self._use_cases,
            exclude=exclude,
        )
        if not ids:
            return []
        if isinstance(tx, SqlTx):  # our stores: two queries for the whole batch
            return tx.load_flows(ids)
        loaded: list[tuple[FlowRecord, list[StepRecord]]] = []
        for claimed in ids:
            flow = tx.get_flow(claimed)
            if flow is None:  # pragma: no cover - claimed in this very transaction
                raise LedgerError(f"flow {claimed} vanished from the ledger")
            loaded.append((flow, tx.get_steps(claimed)))
        return loaded

    def _execute(self, claimed: _Claimed) -> FlowState:
        flow = claimed.flow
        try:
            state, released = run_leased_flow(
                self._rt,
                flow.flow_id,
                self._definition(flow.use_case),
                loaded=(flow, claimed.steps),
                armed=claimed.armed,
            )
        except Exception:
            self._release_quietly(flow.flow_id)
            raise
        if not released:
            self._release_quietly(flow.flow_id)
        return state

    def _release_quietly(self, flow_id: str) -> None:
        try:
            with self._store.transaction() as tx:
                tx.release(flow_id, owner=self._rt.owner, now=self._clock())
        except LedgerError:
            pass  # the lease expires on its own

    def run_flow(self, flow_id: str) -> FlowRecord:
        """Run one flow now, in this thread, until it succeeds or is dead-lettered.

        Raises :class:`FlowBusyError` if another live worker holds it or an older flow of the
        same entity is still unfinished.
        """
        claimed = self._claim(1, flow_id)
        if not claimed:
            flow = self.flow(flow_id)
            if flow.state in (FlowState.SUCCEEDED, FlowState.DEAD):
                return flow
            raise FlowBusyError(
                f"flow {flow_id} is leased by another worker, parked until {flow.not_before}, "
                f"or waits for another flow of entity {flow.entity_key!r}"
            )
        self._execute(claimed[0])
        return self.flow(flow_id)

    def run_pending(self, *, max_workers: int = 8, limit: int | None = None) -> RunReport:
        """Run every runnable flow with up to ``max_workers`` threads; return when none is left.

        With 8 or more threads, up to ``max_workers // 4`` further flows are claimed ahead and
        queued for the next free thread (they are leased by this worker while they wait).

        Flows leased by other live workers, and flows of use cases this engine does not know,
        are left alone; flows whose lease expired are taken over (resumed from their ledger
        state). A flow that stops on an engine error is not retried in the same call.
        """
        report = RunReport()
        started = 0
        # Claims go in batches: a claim for a handful of freed slots waits (at most
        # ``_CLAIM_GATHER`` s) until a twentieth of the pool is free, and after a claim that
        # found fewer runnable flows than free slots the next one waits for ``idle_poll``
        # (or for the pool to drain), instead of one claim query per finished flow.
        batch = max(1, max_workers // 20)
        # Up to a quarter of the pool of claimed flows wait in the pool's queue, so a thread
        # that finishes a flow starts the next one at once instead of waiting for the next
        # claim (which queues behind the other threads' commits); a large pool then stays
        # full and its threads do not fall into lockstep.
        capacity = max_workers + (max_workers // 4 if max_workers >= _PREFETCH_FROM else 0)
        gather_until = 0.0  # waiting for a batch of free slots until then
        idle_until = 0.0  # the last claim came back short: no claim before then
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="paysync") as pool:
            in_flight: dict[Future[FlowState], str] = {}
            while True:
                free = capacity - len(in_flight)
                if limit is not None:
                    free = min(free, limit - started)
                now = time.monotonic()
                if 0 < free < batch and in_flight and not gather_until:
                    gather_until = now + _CLAIM_GATHER
                if free > 0 and (
                    not in_flight or (now >= idle_until and (free >= batch or now >= gather_until))
                ):
                    claimed = self._claim(free, exclude=sorted(report.errors))
                    for loaded in claimed:
                        in_flight[pool.submit(self._execute, loaded)] = loaded.flow.flow_id
                        started += 1
                    gather_until = 0.0
                    idle_until = now + self._idle_poll if len(claimed) < free else 0.0
                    free -= len(claimed)
                if not in_flight:
                    return report
                timeout: float | None = None
                if free > 0:
                    deadline = max(idle_until, gather_until if free < batch else 0.0)
                    timeout = max(0.0, deadline - time.monotonic())
                done, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    _record(report, in_flight.pop(future), future)


def _record(report: RunReport, flow_id: str, future: Future[FlowState]) -> None:
    error = future.exception()
    if error is not None:
        # BaseExceptions (a simulated crash) leave the lease to expire.
        report.errors[flow_id] = f"{type(error).__name__}: {error}"
        return
    state = future.result()
    if state is FlowState.SUCCEEDED:
        report.succeeded.append(flow_id)
    elif state is FlowState.DEAD:
        report.dead.append(flow_id)
    else:
        report.parked.append(flow_id)
