"""Columns of the ledger tables and the conversion of their rows into records."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import cast

from ._errors import ConfigurationError
from ._model import (
    AuditRecord,
    DeadLetter,
    DeadLetterStatus,
    FlowRecord,
    FlowState,
    StepRecord,
    StepState,
    parse_ts,
)
from ._redact import redact_text

__all__ = [
    "AUDIT_COLS",
    "DLQ_COLS",
    "FLOW_COLS",
    "STEP_COLS",
    "Row",
    "RunSql",
    "audit_from_row",
    "dead_letter_from_row",
    "fast_ts",
    "flow_from_row",
    "int_value",
    "safe_error",
    "step_from_row",
]

Row = tuple[object, ...]
UTC = timezone.utc
RunSql = Callable[[str, Sequence[object]], tuple[list[Row], int]]

FLOW_COLS = (
    "flow_id, flow_key, use_case, source_system, source_id, version, entity_key, input_json, "
    "state, current_step, created_at, updated_at, lease_owner, lease_expires_at, last_error, "
    "not_before"
)
STEP_COLS = (
    "flow_id, step_index, name, idempotency_key, state, attempts, request_summary_json, "
    "external_ids_json, intended_at, requested_at, finished_at, last_error, lookup_checks"
)
DLQ_COLS = (
    "entry_id, fingerprint, flow_id, step_name, reason, last_error, evidence_json, occurrences, "
    "status, note, created_at, updated_at"
)
AUDIT_COLS = "seq, at, flow_id, kind, detail_json, prev_hash, hash, shard, shard_seq"


_LAST_TS: list[tuple[datetime, str]] = [(datetime.min.replace(tzinfo=UTC), "")]
"""The last datetime formatted and its text: a step writes the same ``now`` several times."""


def fast_ts(moment: datetime) -> str:
    """:func:`~paysync_core._model.format_ts` (same text), without ``strftime``: every write
    formats several timestamps. ``isoformat`` of an aware UTC datetime with
    ``timespec="microseconds"`` is exactly the fixed-width form the ledger stores."""
    last = _LAST_TS[0]  # (one read of one tuple: safe with other threads replacing it)
    if last[0] is moment:
        return last[1]
    tz = moment.tzinfo
    if tz is None:
        raise ConfigurationError("naive datetime; paysync only stores aware datetimes")
    text = (moment if tz is UTC else moment.astimezone(UTC)).isoformat(timespec="microseconds")
    _LAST_TS[0] = (moment, text)
    return text


def _ts(value: object) -> datetime:
    return parse_ts(str(value))


def _opt_ts(value: object) -> datetime | None:
    return None if value is None else parse_ts(str(value))


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def int_value(value: object) -> int:
    return int(cast(int, value))


def _json_obj(value: object) -> dict[str, object]:
    return cast(dict[str, object], json.loads(str(value)))


def safe_error(error: str | None) -> str | None:
    return None if error is None else redact_text(error)[:2000]


def flow_from_row(row: Row) -> FlowRecord:
    return FlowRecord(
        flow_id=str(row[0]),
        flow_key=str(row[1]),
        use_case=str(row[2]),
        source_system=str(row[3]),
        source_id=str(row[4]),
        version=str(row[5]),
        entity_key=str(row[6]),
        input=_json_obj(row[7]),
        state=FlowState(row[8]),
        current_step=int_value(row[9]),
        created_at=_ts(row[10]),
        updated_at=_ts(row[11]),
        lease_owner=_opt_str(row[12]),
        lease_expires_at=_opt_ts(row[13]),
        last_error=_opt_str(row[14]),
        not_before=_opt_ts(row[15]),
    )


def step_from_row(row: Row) -> StepRecord:
    return StepRecord(
        flow_id=str(row[0]),
        index=int_value(row[1]),
        name=str(row[2]),
        idempotency_key=str(row[3]),
        state=StepState(row[4]),
        attempts=int_value(row[5]),
        request_summary=_json_obj(row[6]),
        external_ids={k: str(v) for k, v in _json_obj(row[7]).items()},
        intended_at=_ts(row[8]),
        requested_at=_opt_ts(row[9]),
        finished_at=_opt_ts(row[10]),
        last_error=_opt_str(row[11]),
        lookup_checks=int_value(row[12]),
    )


def dead_letter_from_row(row: Row) -> DeadLetter:
    return DeadLetter(
        entry_id=str(row[0]),
        fingerprint=str(row[1]),
        flow_id=str(row[2]),
        step_name=str(row[3]),
        reason=str(row[4]),
        last_error=_opt_str(row[5]),
        evidence=cast(list[object], json.loads(str(row[6]))),
        occurrences=int_value(row[7]),
        status=DeadLetterStatus(row[8]),
        note=_opt_str(row[9]),
        created_at=_ts(row[10]),
        updated_at=_ts(row[11]),
    )


def audit_from_row(row: Row) -> AuditRecord:
    return AuditRecord(
        seq=int_value(row[0]),
        at=str(row[1]),
        flow_id=_opt_str(row[2]),
        kind=str(row[3]),
        detail=_json_obj(row[4]),
        prev_hash=str(row[5]),
        hash=str(row[6]),
        shard=None if row[7] is None else int_value(row[7]),
        shard_seq=None if row[8] is None else int_value(row[8]),
    )
