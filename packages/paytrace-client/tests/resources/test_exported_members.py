"""Pin the public surface of ``paytrace_client.models`` and ``paytrace_client.resources``."""

from __future__ import annotations

from types import ModuleType

import pytest

import paytrace_client.models
import paytrace_client.resources


@pytest.mark.parametrize("module", [paytrace_client.models, paytrace_client.resources])
def test_all_is_the_sorted_set_of_public_names(module: ModuleType) -> None:
    public = {name for name in vars(module) if not name.startswith("_")}
    # Submodules (``_base`` ...) are private; anything public must be listed in __all__.
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    assert set(module.__all__) == public
