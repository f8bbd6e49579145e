"""Start time: command → first painted main window, the real app against a bare PySide6 QMainWindow.

Both are started the same way (a fresh `python` process of the same interpreter and environment, the same
probe that prints the time of the first paint event of a QMainWindow and exits) with a fresh app home, so no
settings or history carry over between runs. Median of several alternating runs. Target (issue 7): at most
1.5 × the bare window.

Bytecode: an installed app runs from compiled bytecode (pip and PyInstaller compile it when installing), but a
development shell may forbid writing `.pyc` files (PYTHONDONTWRITEBYTECODE), which would make every start
compile the project's sources again. Both sides therefore get the same private bytecode cache
(PYTHONPYCACHEPREFIX in a temporary directory, filled by a warm-up run of each).

The app shows its main window first and installs what the first paint does not show (batch and list-all modes,
the history dock, copy as code) right after it; an informative row gives the time until that is done too.

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


def start_once(mode: str, *args: str, pycache: str, mark: str = "FIRST_PAINT") -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, B24X_HOME=home, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   PYTHONPYCACHEPREFIX=pycache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        started = time.time()
        proc = subprocess.run([sys.executable, str(PROBE), mode, *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(mark + " "):
            return float(line.split()[1]) - started
    raise RuntimeError(f"{mode}: no {mark} (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")


def rows(quick: bool = False, runs: int | None = None) -> list[Row]:
    runs = runs or (3 if quick else 7)
    with tempfile.TemporaryDirectory() as pycache:
        start_once("bare", pycache=pycache)  # warm the bytecode cache and the OS file cache for both sides
        start_once("app", "--ready", pycache=pycache)
        start_once("plain", pycache=pycache)
        bare, plain, app, sandbox, ready = [], [], [], [], []
        for _ in range(runs):
            bare.append(start_once("bare", pycache=pycache))
            plain.append(start_once("plain", pycache=pycache))
            app.append(start_once("app", pycache=pycache))
            sandbox.append(start_once("app", "--sandbox", pycache=pycache))
            ready.append(start_once("app", "--ready", pycache=pycache, mark="READY"))
    bare_s, app_s, sandbox_s = statistics.median(bare), statistics.median(app), statistics.median(sandbox)
    return [
        Row("Start: command → first painted main window", app_s, "s", "bare QMainWindow", bare_s, target=1.5,
            note=f"median of {runs}"),
        Row("  the same with --sandbox (embedded portal)", sandbox_s, "s", "bare QMainWindow", bare_s,
            note=f"median of {runs}"),
        Row("  command → all modes and the history dock installed", statistics.median(ready), "s",
            "bare QMainWindow", bare_s, note=f"median of {runs}"),
        Row("  PySide alone: a plain window of the same kinds of widgets, no app code", statistics.median(plain),
            "s", "bare QMainWindow", bare_s, note=f"median of {runs}; the part of the gap that is not the app's"),
    ]


def main() -> int:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else None
    print(render(rows(runs=runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
