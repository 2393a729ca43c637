"""The public surface is pinned: ``__all__`` lists exactly the public names, sorted."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import salesforce_bridge
import salesforce_bridge.emulator


def public_names(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(module.__name__)
    )


def test_package_all_is_pinned() -> None:
    assert (
        salesforce_bridge.__all__ == (Path(__file__).parent / "public_api.txt").read_text().split()
    )


def test_all_matches_the_public_names() -> None:
    for module in (salesforce_bridge, salesforce_bridge.emulator):
        exported = set(module.__all__)
        assert all(hasattr(module, name) for name in exported)
        assert public_names(module) == sorted(n for n in exported if n.upper() != n)


def test_every_error_derives_from_the_root() -> None:
    errors = [
        getattr(salesforce_bridge, n) for n in salesforce_bridge.__all__ if n.endswith("Error")
    ]
    assert len(errors) == 15
    assert all(issubclass(e, salesforce_bridge.SalesforceBridgeError) for e in errors)
