"""Pins the public surface: adding or removing a public name is a deliberate change."""

from __future__ import annotations

from pathlib import Path

import oracle_fusion_client

EXPECTED = frozenset((Path(__file__).parent / "public_api.txt").read_text().split())


def test_all_is_pinned() -> None:
    assert len(oracle_fusion_client.__all__) == len(set(oracle_fusion_client.__all__))
    assert set(oracle_fusion_client.__all__) == EXPECTED


def test_every_public_attribute_is_exported() -> None:
    public = {n for n in vars(oracle_fusion_client) if not n.startswith("_")}
    # subpackages imported by tests (``emulator``) are modules, not re-exported names
    public.discard("emulator")
    assert public | {"__version__"} == set(oracle_fusion_client.__all__)
