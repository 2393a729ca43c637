"""Run every benchmark script in bench/ in turn (``python3 tools/dev.py bench``).

Each script measures its own baseline in the same run and prints ratios against it, so the
numbers compare like with like on whatever machine runs them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failures = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name.startswith("_"):
            continue
        if wanted and script.stem not in wanted:
            continue
        print(f"=== {script.stem} ===", flush=True)
        failures += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
