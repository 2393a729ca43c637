from __future__ import annotations

from pathlib import Path
from types import ModuleType

import paysync_core

EXPECTED = (Path(__file__).parent / "public_api.txt").read_text().split()


def test_all_is_pinned_and_sorted() -> None:
    assert paysync_core.__all__ == EXPECTED
    assert sorted(paysync_core.__all__) == paysync_core.__all__


def test_every_public_name_is_exported() -> None:
    # Subpackages and submodules (cli, testing, canonical, ...) become attributes once any
    # test imports them; they are namespaces, not part of the flat surface.
    public = {
        n
        for n, value in vars(paysync_core).items()
        if not n.startswith("_") and not isinstance(value, ModuleType) and n != "annotations"
    }
    assert public == set(EXPECTED)


def test_one_exception_root() -> None:
    for name in EXPECTED:
        obj = getattr(paysync_core, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, paysync_core.PaysyncError), name


def test_testing_helpers_surface() -> None:
    from paysync_core import testing

    assert testing.__all__ == [
        "Crash",
        "FakeClock",
        "FakeSystem",
        "Fault",
        "HttpStatusError",
        "drop_audit_guard",
    ]
    assert not issubclass(testing.Crash, Exception)  # must escape the engine's handlers
