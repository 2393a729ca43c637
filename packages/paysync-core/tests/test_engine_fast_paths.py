"""The engine's hot-path shortcuts give exactly what the plain code gives (issue 7 overhead):
the audit hash payload written out by hand, the shared JSON encoder, the redaction fast paths,
the timestamp memo and ``evolve`` instead of ``dataclasses.replace``. An audit hash that
changed would make every existing chain fail verification, so these compare byte for byte."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import string
from datetime import datetime, timedelta, timezone

import pytest

from paysync_core._audit_hash import canonical_json, link_hash, shard_link_hash
from paysync_core._model import StepRecord, StepState, evolve, format_ts
from paysync_core._redact import REDACTED, REDACTED_PAN, redact
from paysync_core._rows import fast_ts

_ALPHABET = string.printable + 'é\u2028\x00\x1f"\\ü中\U0001f600'


def _reference(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(rnd: random.Random) -> str:
    return "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 40)))


def test_canonical_json_is_json_dumps_with_the_audit_options() -> None:
    rnd = random.Random(7)
    for _ in range(500):
        value: dict[str, object] = {
            _text(rnd): _text(rnd),
            "list": [1, -2.5, None, True, False, _text(rnd)],
            "nested": {_text(rnd): rnd.randint(-(10**20), 10**20), "z": {}, "a": []},
        }
        assert canonical_json(value) == _reference(value)
    assert canonical_json('quote " and \\') == _reference('quote " and \\')
    with pytest.raises(TypeError, match="not JSON serializable"):
        canonical_json({"a": object()})


def test_shard_link_hash_covers_the_same_payload_as_before() -> None:
    rnd = random.Random(11)
    for _ in range(500):
        shard, shard_seq = rnd.randint(0, 31), rnd.randint(1, 10**12)
        at, kind, prev = _text(rnd), _text(rnd), _text(rnd)
        flow_id = rnd.choice([None, _text(rnd)])
        detail_json = _reference({_text(rnd): _text(rnd)})
        payload = _reference(["shard", shard, shard_seq, at, flow_id, kind, detail_json, prev])
        assert (
            shard_link_hash(
                shard=shard,
                shard_seq=shard_seq,
                at=at,
                flow_id=flow_id,
                kind=kind,
                detail_json=detail_json,
                prev_hash=prev,
            )
            == hashlib.sha256(payload.encode()).hexdigest()
        )
    legacy = _reference([3, "t", "f", "k", "{}", "0" * 64])
    assert (
        link_hash(seq=3, at="t", flow_id="f", kind="k", detail_json="{}", prev_hash="0" * 64)
        == hashlib.sha256(legacy.encode()).hexdigest()
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4111111111111111, REDACTED_PAN),  # a Luhn-valid 16-digit int
        (-4111111111111111, REDACTED_PAN),
        (999_999_999_999, 999_999_999_999),  # 12 digits: no PAN possible
        (-999_999_999_999, -999_999_999_999),
        (
            {"card": "x", "ok": "4111 1111 1111 1111", "n": 7},
            {"card": REDACTED, "ok": REDACTED_PAN, "n": 7},
        ),
        ({1: "password=hunter2"}, {"1": f"password={REDACTED}"}),
        ("short", "short"),
        ("a:b", "a:b"),
        ("token: abcdefgh", f"token: {REDACTED}"),
        ("Bearer abcdefgh1234", f"Bearer {REDACTED}"),
    ],
)
def test_redaction_fast_paths_redact_what_the_rules_say(value: object, expected: object) -> None:
    assert redact(value) == expected


def test_fast_ts_is_format_ts_for_every_moment() -> None:
    base = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    other = timezone(timedelta(hours=-5))
    moments = [base + timedelta(microseconds=n * 7919) for n in range(50)]
    moments += [m.astimezone(other) for m in moments[:10]]
    for moment in moments + moments[::-1] + [moments[0]] * 3:  # memo hits and misses
        assert fast_ts(moment) == format_ts(moment)


def test_evolve_is_replace_and_refuses_unknown_fields() -> None:
    record = StepRecord(
        "f", 1, "n", "k", StepState.INTENDED, 0, datetime(2026, 1, 1, tzinfo=timezone.utc)
    )
    changed = evolve(record, state=StepState.REQUESTED, attempts=2)
    assert changed == dataclasses.replace(record, state=StepState.REQUESTED, attempts=2)
    assert record.state is StepState.INTENDED  # the original is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.attempts = 3  # type: ignore[misc]  # still frozen
    with pytest.raises(TypeError, match="no field"):
        evolve(record, atempts=1)
