"""The hash of one audit-chain link (shared by the stores and the verifier).

Records written before schema migration 6 form one ledger-wide chain (:func:`link_hash`).
Since then the trail is split into :data:`AUDIT_SHARDS` chains keyed by a hash of the flow id
(:func:`audit_shard`), so concurrent workers append to different chains instead of queueing on
one lock; each link (:func:`shard_link_hash`) covers its shard and its position in the shard.
:func:`anchor_hash` folds the heads of all chains into the one head an operator records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

__all__ = [
    "AUDIT_SHARDS",
    "GENESIS_HASH",
    "anchor_hash",
    "audit_shard",
    "canonical_json",
    "link_hash",
    "shard_link_hash",
]

GENESIS_HASH = "0" * 64
AUDIT_SHARDS = 32
"""Number of audit chains; fixed by migration 6 (it creates one head row per shard)."""


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_shard(flow_id: str | None) -> int:
    """The chain a flow's records go to (records without a flow go to chain 0)."""
    if flow_id is None:
        return 0
    digest = hashlib.sha256(flow_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % AUDIT_SHARDS


def link_hash(
    *, seq: int, at: str, flow_id: str | None, kind: str, detail_json: str, prev_hash: str
) -> str:
    """A link of the legacy (pre-migration 6) ledger-wide chain."""
    payload = canonical_json([seq, at, flow_id, kind, detail_json, prev_hash])
    return hashlib.sha256(payload.encode()).hexdigest()


def shard_link_hash(
    *,
    shard: int,
    shard_seq: int,
    at: str,
    flow_id: str | None,
    kind: str,
    detail_json: str,
    prev_hash: str,
) -> str:
    """A link of one shard's chain: its position in the shard is covered, not the global seq."""
    payload = canonical_json(["shard", shard, shard_seq, at, flow_id, kind, detail_json, prev_hash])
    return hashlib.sha256(payload.encode()).hexdigest()


def anchor_hash(legacy_head: str, heads: Mapping[int, str]) -> str:
    """One head for the whole trail: the legacy chain's head if no shard was written yet (so
    heads recorded before the upgrade stay valid), else a hash over it and every shard head."""
    if not heads:
        return legacy_head
    payload = canonical_json([legacy_head, [[s, heads[s]] for s in sorted(heads)]])
    return hashlib.sha256(payload.encode()).hexdigest()
