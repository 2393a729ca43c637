"""The hash of one audit-chain link (shared by the stores and the verifier)."""

from __future__ import annotations

import hashlib
import json

__all__ = ["GENESIS_HASH", "canonical_json", "link_hash"]

GENESIS_HASH = "0" * 64


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(
    *, seq: int, at: str, flow_id: str | None, kind: str, detail_json: str, prev_hash: str
) -> str:
    payload = canonical_json([seq, at, flow_id, kind, detail_json, prev_hash])
    return hashlib.sha256(payload.encode()).hexdigest()
