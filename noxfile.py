"""nox sessions for the paysync workspace.

The everyday entry point is ``python3 tools/dev.py`` (one shared environment from ``uv.lock``,
fast). These sessions add isolation: each package tested alone in its own environment, against
its newest or its lowest allowed dependencies, built and checked as a distribution.

    uvx nox -l                         list sessions
    uvx nox -s "tests(package='paytrace-client')"
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
# Sibling packages a package needs from the workspace rather than from PyPI.
WORKSPACE_DEPS: dict[str, list[str]] = {
    "paysync-core": ["paytrace-client", "oracle-fusion-client", "salesforce-bridge"],
}
TEST_TOOLS = ["pytest>=8.3", "pytest-timeout>=2.3", "hypothesis>=6.100", "responses>=0.25"]

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "tests", "integration"]


def _install_package(session: nox.Session, package: str, *, lowest: bool = False) -> None:
    siblings = [str(ROOT / "packages" / dep) for dep in WORKSPACE_DEPS.get(package, [])]
    if siblings:
        session.install(*siblings)
    args = [str(ROOT / "packages" / package), *TEST_TOOLS]
    if lowest:
        # uv picks the lowest version allowed by each direct dependency's lower bound.
        session.install("--resolution", "lowest-direct", *args)
    else:
        session.install(*args)


@nox.session
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """One package's own tests, in an environment holding only that package."""
    _install_package(session, package)
    session.run("pytest", str(ROOT / "packages" / package / "tests"), *session.posargs)


@nox.session
@nox.parametrize("package", PACKAGES)
def lowest(session: nox.Session, package: str) -> None:
    """One package's tests against the lowest versions its dependency bounds allow."""
    _install_package(session, package, lowest=True)
    session.run("pytest", str(ROOT / "packages" / package / "tests"), *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """Cross-package tests in tests/ (the core against the three emulators)."""
    session.install(*(str(ROOT / "packages" / p) for p in PACKAGES), *TEST_TOOLS)
    session.run("pytest", str(ROOT / "tests"), *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.8")
    session.run("ruff", "check", str(ROOT))
    session.run("ruff", "format", "--check", str(ROOT))


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install(*(str(ROOT / "packages" / p) for p in PACKAGES), *TEST_TOOLS)
    session.install("pyright[nodejs]>=1.1.390", "nox>=2024.10.9")
    session.run("pyright", "--project", str(ROOT / "pyproject.toml"))


@nox.session
@nox.parametrize("package", PACKAGES)
def build(session: nox.Session, package: str) -> None:
    """Build sdist and wheel and check their metadata renders on PyPI."""
    session.install("build>=1.2", "twine>=5.1")
    outdir = session.create_tmp()
    session.run("python", "-m", "build", "--outdir", outdir, str(ROOT / "packages" / package))
    session.run("twine", "check", "--strict", *(str(p) for p in Path(outdir).iterdir()))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks; each prints ratios against a baseline measured in the same run."""
    session.install(*(str(ROOT / "packages" / p) for p in PACKAGES))
    session.run("python", str(ROOT / "bench" / "run_all.py"), *session.posargs)
