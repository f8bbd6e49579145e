"""Start time: command → first painted main window, the real app against a bare PySide6 QMainWindow.

Both are started the same way (a fresh `python` process, the same probe that prints the time of the first
paint event of a QMainWindow and exits) with a fresh app home, so nothing is cached between runs apart from
the OS file cache. Median of several alternating runs. Target (issue 7): at most 1.5 × the bare window.

Usage: python bench/bench_start.py [--runs 7]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _table import Row, render  # noqa: E402

PROBE = HERE / "_start_probe.py"


def start_once(mode: str, *args: str) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, B24X_HOME=home, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        started = time.time()
        proc = subprocess.run([sys.executable, str(PROBE), mode, *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("FIRST_PAINT "):
            return float(line.split()[1]) - started
    raise RuntimeError(f"{mode}: no first paint (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")


def rows(quick: bool = False, runs: int | None = None) -> list[Row]:
    runs = runs or (3 if quick else 7)
    start_once("bare")  # warm the OS file cache for both sides
    start_once("app")
    bare, app, sandbox = [], [], []
    for _ in range(runs):
        bare.append(start_once("bare"))
        app.append(start_once("app"))
        sandbox.append(start_once("app", "--sandbox"))
    bare_s, app_s, sandbox_s = statistics.median(bare), statistics.median(app), statistics.median(sandbox)
    return [
        Row("Start: command → first painted main window", app_s, "s", "bare QMainWindow", bare_s, target=1.5,
            note=f"median of {runs}"),
        Row("  the same with --sandbox (embedded portal)", sandbox_s, "s", "bare QMainWindow", bare_s,
            note=f"median of {runs}"),
    ]


def main() -> int:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else None
    print(render(rows(runs=runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
