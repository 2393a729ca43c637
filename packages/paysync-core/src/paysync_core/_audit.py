"""The audit trail: hash-chained, append-only records; export as JSON lines; verify.

Each record's hash covers its sequence number, time, flow, kind, detail and the previous
record's hash, so editing, deleting or reordering any record breaks the chain from there on.
Deleting records at the *end* leaves a valid shorter chain: keep the head hash reported by
:meth:`AuditTrail.verify` (or an export) somewhere else and pass it as ``expected_head``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, cast

from ._audit_hash import GENESIS_HASH, canonical_json, link_hash
from ._errors import AuditVerificationError
from ._ledger import LedgerStore
from ._model import AuditRecord

__all__ = ["AuditReport", "AuditTrail", "verify_chain"]


@dataclass(frozen=True)
class AuditReport:
    count: int
    head: str
    """Hash of the last record (``GENESIS`` zeros for an empty trail)."""


def verify_chain(
    records: Iterable[AuditRecord], *, expected_head: str | None = None
) -> AuditReport:
    """Check a sequence of records; raise :class:`AuditVerificationError` at the first break."""
    prev = GENESIS_HASH
    count = 0
    for expected_seq, record in enumerate(records, start=1):
        if record.seq != expected_seq:
            raise AuditVerificationError(
                f"audit record {record.seq} found where {expected_seq} was expected "
                "(records deleted or reordered)",
                seq=record.seq,
            )
        if record.prev_hash != prev:
            raise AuditVerificationError(
                f"audit record {record.seq} does not link to its predecessor", seq=record.seq
            )
        digest = link_hash(
            seq=record.seq,
            at=record.at,
            flow_id=record.flow_id,
            kind=record.kind,
            detail_json=canonical_json(record.detail),
            prev_hash=record.prev_hash,
        )
        if digest != record.hash:
            raise AuditVerificationError(
                f"audit record {record.seq} was modified (hash mismatch)", seq=record.seq
            )
        prev = record.hash
        count = expected_seq
    if expected_head is not None and prev != expected_head:
        raise AuditVerificationError(
            "audit trail does not end at the expected head (records removed at the end?)",
            seq=None,
        )
    return AuditReport(count=count, head=prev)


def _to_json(record: AuditRecord) -> str:
    return canonical_json(
        {
            "seq": record.seq,
            "at": record.at,
            "flow_id": record.flow_id,
            "kind": record.kind,
            "detail": record.detail,
            "prev_hash": record.prev_hash,
            "hash": record.hash,
        }
    )


def parse_jsonl(lines: Iterable[str]) -> Iterator[AuditRecord]:
    """Records from an export produced by :meth:`AuditTrail.export_jsonl`."""
    for line in lines:
        if not line.strip():
            continue
        data = cast(dict[str, object], json.loads(line))
        flow_id = data.get("flow_id")
        yield AuditRecord(
            seq=int(str(data["seq"])),
            at=str(data["at"]),
            flow_id=None if flow_id is None else str(flow_id),
            kind=str(data["kind"]),
            detail=cast(dict[str, object], data["detail"]),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
        )


class AuditTrail:
    """Read, export and verify the audit trail of a ledger."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    def records(self) -> list[AuditRecord]:
        with self._store.transaction() as tx:
            return tx.audit_records()

    def export_jsonl(self, out: IO[str]) -> int:
        """Write every record as one JSON line; returns the number written."""
        records = self.records()
        for record in records:
            out.write(_to_json(record) + "\n")
        return len(records)

    def verify(self, *, expected_head: str | None = None) -> AuditReport:
        return verify_chain(self.records(), expected_head=expected_head)
