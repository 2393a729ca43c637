"""The dead-letter queue: list, show, retry (optionally with edited input), resolve."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ._errors import PaysyncError, UnknownFlowError
from ._ledger import LedgerStore, LedgerTransaction
from ._model import (
    DeadLetter,
    DeadLetterStatus,
    FlowRecord,
    FlowState,
    StepRecord,
    StepState,
    utc_now,
)
from ._redact import ensure_no_sensitive_data

__all__ = ["DeadLetterDetail", "DeadLetterQueue"]


@dataclass(frozen=True)
class DeadLetterDetail:
    """An entry with the flow and steps it refers to (the evidence behind it)."""

    entry: DeadLetter
    flow: FlowRecord
    steps: list[StepRecord]


class DeadLetterQueue:
    """Operator actions on dead-lettered flows; every action is audited."""

    def __init__(self, store: LedgerStore, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def list(self, status: DeadLetterStatus | None = DeadLetterStatus.OPEN) -> list[DeadLetter]:
        """Entries with ``status`` (open by default; ``None`` for all), oldest first."""
        with self._store.transaction() as tx:
            return tx.list_dead_letters(status)

    @staticmethod
    def _entry(tx: LedgerTransaction, entry_id: str) -> DeadLetter:
        entry = tx.get_dead_letter(entry_id)
        if entry is None:
            raise UnknownFlowError(f"no dead-letter entry {entry_id}")
        return entry

    def show(self, entry_id: str) -> DeadLetterDetail:
        with self._store.transaction() as tx:
            entry = self._entry(tx, entry_id)
            flow = tx.get_flow(entry.flow_id)
            if flow is None:
                raise UnknownFlowError(f"dead-letter entry {entry_id} names missing flow")
            return DeadLetterDetail(entry, flow, tx.get_steps(entry.flow_id))

    def retry(
        self,
        entry_id: str,
        *,
        input: Mapping[str, object] | None = None,
        actor: str | None = None,
    ) -> FlowRecord:
        """Re-queue the flow (the engine runs it on its next pass).

        The dead step restarts as ``unknown`` with a fresh attempt budget, so the engine looks
        the effect up before performing it again: a retry can never duplicate an effect that
        happened before the flow was dead-lettered. ``input`` replaces the flow's input.
        ``actor`` (who asked, e.g. a dashboard user) is recorded in the same audit record.
        """
        if input is not None:
            ensure_no_sensitive_data(input, what="edited flow input")
        with self._store.transaction() as tx:
            entry = self._entry(tx, entry_id)
            if entry.status is not DeadLetterStatus.OPEN:
                raise PaysyncError(f"dead-letter entry {entry_id} is {entry.status.value}")
            flow = tx.get_flow(entry.flow_id)
            if flow is None or flow.state is not FlowState.DEAD:
                raise PaysyncError(f"flow of dead-letter entry {entry_id} is not dead")
            now = self._clock()
            for step in tx.get_steps(flow.flow_id):
                if step.state is StepState.DEAD:
                    tx.put_step(
                        replace(
                            step,
                            state=StepState.UNKNOWN,
                            attempts=0,
                            lookup_checks=0,
                            finished_at=None,
                        )
                    )
            tx.update_flow(flow.flow_id, now=now, state=FlowState.PENDING, input=input)
            tx.set_dead_letter_status(entry_id, status=DeadLetterStatus.RETRIED, note=None, now=now)
            tx.append_audit(
                "dlq.retried",
                flow_id=flow.flow_id,
                detail=_with_actor(
                    {"entry_id": entry_id, "input_edited": input is not None}, actor
                ),
                now=now,
            )
            updated = tx.get_flow(flow.flow_id)
        assert updated is not None
        return updated

    def resolve(
        self, entry_id: str, *, note: str | None = None, actor: str | None = None
    ) -> DeadLetter:
        """Close an entry without retrying (fixed by hand, or not needed); the flow stays dead.

        ``actor`` (who asked) is recorded in the same audit record as the resolution.
        """
        with self._store.transaction() as tx:
            entry = self._entry(tx, entry_id)
            now = self._clock()
            tx.set_dead_letter_status(
                entry_id, status=DeadLetterStatus.RESOLVED, note=note, now=now
            )
            tx.append_audit(
                "dlq.resolved",
                flow_id=entry.flow_id,
                detail=_with_actor({"entry_id": entry_id, "note": note}, actor),
                now=now,
            )
            return self._entry(tx, entry_id)


def _with_actor(detail: dict[str, object], actor: str | None) -> dict[str, object]:
    # the key is only added when given, so records written without an actor stay unchanged
    return detail if actor is None else {**detail, "actor": actor}
