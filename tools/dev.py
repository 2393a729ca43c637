"""One entry point for developers and CI: ``python3 tools/dev.py <command>``.

It needs nothing but Python >= 3.10 with pip: on first use it installs a pinned ``uv`` into
``.tools/`` (a private virtual environment), lets uv build the workspace environment from
``uv.lock`` into ``.venv/``, and then runs the command there.

Commands:
    demo       `paysync demo`: the three emulators in-process, every use case end to end
    demo-paytrace  the PayTrace-only demo (sale, capture, refund, vault sale over HTTP)
    test       the whole test suite (every package and the cross-package tests)
    lint       ruff check + ruff format --check
    typecheck  pyright (strict)
    check      lint, typecheck and test: what ``.ci/run`` runs
    bench      the benchmarks in bench/
    browser    install Debian's chromium for the dashboard's browser tests (root + apt only)
    sync       only install / update the environment
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"

# pytest exits with 5 when it collected nothing; a suite that ran no test is a failure here.
PYTEST_NO_TESTS_COLLECTED = 5


def _uv() -> Path:
    """Return the path of a uv binary of the pinned version, installing it if needed."""
    bindir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    uv = bindir / ("uv.exe" if os.name == "nt" else "uv")
    marker = TOOLS / f"uv-{UV_VERSION}"
    if uv.exists() and marker.exists():
        return uv
    print(f"dev.py: installing uv {UV_VERSION} into {TOOLS}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"uv=={UV_VERSION}",
        ],
        check=True,
    )
    marker.touch()
    return uv


def _run(args: list[str]) -> int:
    print("+ " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(args, cwd=ROOT, check=False).returncode


def _sync(uv: Path) -> int:
    return _run([str(uv), "sync", "--all-packages", "--locked", "--quiet"])


def _in_env(uv: Path, *args: str) -> int:
    return _run([str(uv), "run", "--no-sync", *args])


def lint(uv: Path) -> int:
    return _in_env(uv, "ruff", "check", ".") or _in_env(uv, "ruff", "format", "--check", ".")


def typecheck(uv: Path) -> int:
    return _in_env(uv, "pyright")


CHROMIUM = Path("/usr/bin/chromium")


def browser() -> int:
    """Install Debian's chromium (Playwright drives it; its own browser download is not used)."""
    if CHROMIUM.exists():
        return 0
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not Path("/usr/bin/apt-get").exists():
        print("dev.py: chromium is missing; install Debian's 'chromium' package", file=sys.stderr)
        return 1
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        print("+ " + " ".join(args), file=sys.stderr, flush=True)
        code = subprocess.run(args, env=env, check=False, stdout=subprocess.DEVNULL).returncode
        if code:
            return code
    return 0


def test(uv: Path, extra: list[str]) -> int:
    code = _in_env(uv, "pytest", *extra)
    if code == PYTEST_NO_TESTS_COLLECTED:
        print("dev.py: no tests were collected; that is a failure", file=sys.stderr)
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, extra = argv[0], argv[1:]
    commands: dict[str, Callable[[Path], int]] = {
        "sync": lambda _uv: 0,
        "demo": lambda uv: _in_env(uv, "python", "-m", "paysync_core.cli", "demo", *extra),
        "demo-paytrace": lambda uv: _in_env(uv, "python", "-m", "paytrace_client.demo", *extra),
        "test": lambda uv: test(uv, extra),
        "lint": lint,
        "typecheck": typecheck,
        "check": lambda uv: lint(uv) or typecheck(uv) or test(uv, extra),
        "bench": lambda uv: _in_env(uv, "python", "bench/run_all.py", *extra),
    }
    if command == "browser":
        return browser()
    if command not in commands:
        print(f"dev.py: unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    uv = _uv()
    return _sync(uv) or commands[command](uv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
