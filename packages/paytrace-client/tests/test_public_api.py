"""Pin the public surface: a name added or removed here is a deliberate API change."""

from __future__ import annotations

from pathlib import Path

import paytrace_client

EXPECTED = (Path(__file__).parent / "public_api.txt").read_text().split()


def test_all_is_pinned() -> None:
    assert sorted(paytrace_client.__all__) == sorted(EXPECTED)


def test_every_public_name_is_exported_and_importable() -> None:
    public = {
        name
        for name in vars(paytrace_client)
        if not name.startswith("_") and name not in {"models", "resources", "emulator", "demo"}
    }
    assert public == set(EXPECTED)
    for name in EXPECTED:
        assert getattr(paytrace_client, name) is not None


def test_every_exception_derives_from_the_root() -> None:
    errors = [getattr(paytrace_client, n) for n in EXPECTED if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, paytrace_client.PayTraceError)
