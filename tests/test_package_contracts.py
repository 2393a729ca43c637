"""Contracts every package keeps (ARCHITECTURE.md section 2.1 and the style guide).

- A client package never imports another paysync package, so it can be vendored alone.
- Each package ships py.typed, a README, a CHANGELOG, the "Typing :: Typed" classifier, its
  own version, hatchling, lower bounds on every dependency and an explicit ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import re
from importlib.metadata import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "paytrace-client": "paytrace_client",
    "oracle-fusion-client": "oracle_fusion_client",
    "salesforce-bridge": "salesforce_bridge",
    "paysync-core": "paysync_core",
}
CLIENTS = ["paytrace-client", "oracle-fusion-client", "salesforce-bridge"]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("dist", CLIENTS)
def test_client_packages_never_import_a_sibling(dist: str) -> None:
    own = PACKAGES[dist]
    siblings = set(PACKAGES.values()) - {own}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & siblings)
        for path in (ROOT / "packages" / dist / "src").rglob("*.py")
        if imported_roots(path) & siblings
    }
    assert offenders == {}


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_package_metadata(dist: str) -> None:
    """Checked on the installed metadata: what users of the published package get."""
    folder = ROOT / "packages" / dist
    meta = metadata(dist)
    assert meta["Name"] == dist
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", meta["Version"])
    assert meta["Requires-Python"] == ">=3.10"
    assert "Typing :: Typed" in (meta.get_all("Classifier") or [])
    for requirement in meta.get_all("Requires-Dist") or []:
        if "extra ==" in requirement:
            continue
        assert ">=" in requirement, f"{dist}: {requirement} has no lower bound"
    for name in ("README.md", "CHANGELOG.md"):
        assert (folder / name).is_file()
    assert (folder / "src" / PACKAGES[dist] / "py.typed").is_file()


@pytest.mark.parametrize("module_name", sorted(PACKAGES.values()))
def test_explicit_all_lists_only_real_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
