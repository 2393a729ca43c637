"""The audit trail: hash-chained, append-only records; export as JSON lines; verify.

The trail is :data:`~paysync_core._audit_hash.AUDIT_SHARDS` chains keyed by a hash of the flow
id (plus the legacy ledger-wide chain of records written before schema migration 7), so
concurrent workers do not queue on one lock. Each record's hash covers its chain, its position
in the chain, time, flow, kind, detail and the previous record's hash, so editing, deleting or
reordering any record breaks its chain from there on. Deleting records at the *end* of a chain
leaves a valid shorter chain: it is caught by the ``audit_heads`` table (unless rewound too)
and by the anchor hash (:attr:`AuditReport.head`, over every chain's head) recorded somewhere
else and passed back as ``expected_head``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, cast

from ._audit_hash import GENESIS_HASH, anchor_hash, canonical_json, link_hash, shard_link_hash
from ._errors import AuditVerificationError
from ._ledger import LedgerStore
from ._model import AuditRecord

__all__ = ["AuditReport", "AuditTrail", "check_heads", "verify_chain"]


@dataclass(frozen=True)
class AuditReport:
    count: int
    head: str
    """The trail's anchor: the hash over every chain's head (``GENESIS`` zeros when empty; the
    legacy chain's head while no shard chain exists). Record it elsewhere and pass it back as
    ``expected_head``: it changes when records are removed from the end of any chain."""
    shard_heads: Mapping[int, str] = field(default_factory=dict[int, str])
    """Head hash of every shard chain that has records."""


def verify_chain(
    records: Iterable[AuditRecord], *, expected_head: str | None = None
) -> AuditReport:
    """Check records in ``seq`` order; raise :class:`AuditVerificationError` at the first break.

    Legacy records (no shard) must be numbered 1, 2, 3, ... and come first; every shard's
    records must be numbered 1, 2, 3, ... within the shard, in ``seq`` order, each linking to
    its predecessor in the shard. So an edit breaks a hash, a deletion leaves a gap in its
    shard, and a reordering breaks a shard's numbering.
    """
    legacy = GENESIS_HASH
    legacy_count = 0
    heads: dict[int, tuple[int, str]] = {}
    count = 0
    for record in records:
        count += 1
        if record.shard is None or record.shard_seq is None:
            legacy_count += 1
            if heads or record.seq != legacy_count:
                raise AuditVerificationError(
                    f"audit record {record.seq} found where {legacy_count} was expected "
                    "(records deleted or reordered)",
                    seq=record.seq,
                )
            prev, digest = (
                legacy,
                link_hash(
                    seq=record.seq,
                    at=record.at,
                    flow_id=record.flow_id,
                    kind=record.kind,
                    detail_json=canonical_json(record.detail),
                    prev_hash=record.prev_hash,
                ),
            )
        else:
            last, prev = heads.get(record.shard, (0, GENESIS_HASH))
            if record.shard_seq != last + 1:
                raise AuditVerificationError(
                    f"audit record {record.seq} is number {record.shard_seq} of chain "
                    f"{record.shard} where {last + 1} was expected (records deleted or reordered)",
                    seq=record.seq,
                )
            digest = shard_link_hash(
                shard=record.shard,
                shard_seq=record.shard_seq,
                at=record.at,
                flow_id=record.flow_id,
                kind=record.kind,
                detail_json=canonical_json(record.detail),
                prev_hash=record.prev_hash,
            )
        if record.prev_hash != prev:
            raise AuditVerificationError(
                f"audit record {record.seq} does not link to its predecessor", seq=record.seq
            )
        if digest != record.hash:
            raise AuditVerificationError(
                f"audit record {record.seq} was modified (hash mismatch)", seq=record.seq
            )
        if record.shard is None or record.shard_seq is None:
            legacy = record.hash
        else:
            heads[record.shard] = (record.shard_seq, record.hash)
    shard_heads = {shard: head for shard, (_, head) in heads.items()}
    anchor = anchor_hash(legacy, shard_heads)
    if expected_head is not None and anchor != expected_head:
        raise AuditVerificationError(
            "audit trail does not end at the expected head (records removed at the end?)",
            seq=None,
        )
    return AuditReport(count=count, head=anchor, shard_heads=shard_heads)


def check_heads(report: AuditReport, recorded: Mapping[int, tuple[int, str]]) -> None:
    """Compare the chains' heads with the ledger's ``audit_heads`` table.

    Catches records removed from the end of a chain by someone who did not also rewind the
    table; an attacker who did is caught only by an ``expected_head`` recorded elsewhere.
    """
    for shard, (shard_seq, head) in sorted(recorded.items()):
        found = report.shard_heads.get(shard, GENESIS_HASH)
        if (shard_seq == 0 and found != GENESIS_HASH) or (shard_seq > 0 and found != head):
            raise AuditVerificationError(
                f"audit chain {shard} does not end at its recorded head (record {shard_seq} of "
                "the chain; records removed at the end?)",
                seq=None,
            )


def _to_json(record: AuditRecord) -> str:
    data: dict[str, object] = {
        "seq": record.seq,
        "at": record.at,
        "flow_id": record.flow_id,
        "kind": record.kind,
        "detail": record.detail,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }
    if record.shard is not None:
        data["shard"] = record.shard
        data["shard_seq"] = record.shard_seq
    return canonical_json(data)


def parse_jsonl(lines: Iterable[str]) -> Iterator[AuditRecord]:
    """Records from an export produced by :meth:`AuditTrail.export_jsonl`."""
    for line in lines:
        if not line.strip():
            continue
        data = cast(dict[str, object], json.loads(line))
        flow_id = data.get("flow_id")
        shard = data.get("shard")
        shard_seq = data.get("shard_seq")
        yield AuditRecord(
            seq=int(str(data["seq"])),
            at=str(data["at"]),
            flow_id=None if flow_id is None else str(flow_id),
            kind=str(data["kind"]),
            detail=cast(dict[str, object], data["detail"]),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
            shard=None if shard is None else int(str(shard)),
            shard_seq=None if shard_seq is None else int(str(shard_seq)),
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
        """Verify every chain, their heads against ``audit_heads``, and ``expected_head``."""
        with self._store.transaction() as tx:
            records = tx.audit_records()
            recorded = tx.audit_heads()
        report = verify_chain(records, expected_head=expected_head)
        check_heads(report, recorded)
        return report
