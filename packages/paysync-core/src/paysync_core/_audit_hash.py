"""The hash of one audit-chain link (shared by the stores and the verifier).

Records written before schema migration 6 form one ledger-wide chain (:func:`link_hash`).
Since then the trail is split into :data:`AUDIT_SHARDS` chains keyed by a hash of the flow id
(:func:`audit_shard`), so concurrent workers append to different chains instead of queueing on
one lock; each link (:func:`shard_link_hash`) covers its shard and its position in the shard.
:func:`anchor_hash` folds the heads of all chains into the one head an operator records.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring

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


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _not_serializable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _c_encoder() -> Callable[[object, int], tuple[str, ...]] | None:
    """``json.dumps`` (and ``JSONEncoder.encode``) builds a new C encoder per call; the engine
    encodes a few audit details per step, so one encoder with the same options is made once.
    (No circular-reference check: every value encoded here is a fresh tree from ``redact``.)"""
    try:
        from _json import make_encoder
    except ImportError:  # pragma: no cover - CPython always has the C accelerator
        return None
    return make_encoder(
        None, _not_serializable, encode_basestring, None, ":", ",", True, False, True
    )


_C_ENCODE = _c_encoder()


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the text the audit hashes cover (never change it)."""
    if _C_ENCODE is None:  # pragma: no cover - CPython always has the C accelerator
        return _ENCODE(value)
    return "".join(_C_ENCODE(value, 0))


@functools.lru_cache(maxsize=8192)  # a flow's steps hash the same id several times
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
    # = canonical_json(["shard", shard, shard_seq, at, flow_id, kind, detail_json, prev_hash]),
    # written out: a list of strings and ints needs no encoder (test_audit_hash_payload)
    flow = "null" if flow_id is None else encode_basestring(flow_id)
    payload = (
        f'["shard",{int(shard)},{int(shard_seq)},{encode_basestring(at)},{flow},'
        f"{encode_basestring(kind)},{encode_basestring(detail_json)},{encode_basestring(prev_hash)}]"
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def anchor_hash(legacy_head: str, heads: Mapping[int, str]) -> str:
    """One head for the whole trail: the legacy chain's head if no shard was written yet (so
    heads recorded before the upgrade stay valid), else a hash over it and every shard head."""
    if not heads:
        return legacy_head
    payload = canonical_json([legacy_head, [[s, heads[s]] for s in sorted(heads)]])
    return hashlib.sha256(payload.encode()).hexdigest()
