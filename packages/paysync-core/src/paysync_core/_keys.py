"""Deterministic idempotency keys derived from business identity."""

from __future__ import annotations

import hashlib
import json

__all__ = ["idempotency_key", "step_key"]

_KEY_HEX_CHARS = 32  # 128 bits: collision-free in practice, short enough for correlation fields


def idempotency_key(use_case: str, source_system: str, source_id: str, version: str | int) -> str:
    """The key of one business change: same identity, same key, on every worker and restart.

    The four parts are encoded unambiguously (a JSON array), so ``("a:b", "c")`` and
    ``("a", "b:c")`` never collide. Returns 32 lowercase hex characters.
    """
    identity = json.dumps([use_case, source_system, source_id, str(version)], separators=(",", ":"))
    return hashlib.sha256(identity.encode()).hexdigest()[:_KEY_HEX_CHARS]


def step_key(flow_key: str, step_name: str) -> str:
    """The idempotency key of one step of a flow (stable across retries and workers)."""
    identity = json.dumps([flow_key, step_name], separators=(",", ":"))
    return hashlib.sha256(identity.encode()).hexdigest()[:_KEY_HEX_CHARS]
