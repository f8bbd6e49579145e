"""Start time: command → first painted main window, the real app against a plain PySide6 window of the same kinds
of widgets with no app code.

Both are started the same way (a fresh `python` process of the same interpreter and environment, the same
probe that prints the time of the first paint event of a QMainWindow and exits) with a fresh app home, so no
settings or history carry over between runs. Median of several alternating runs. Target (issue 19): at most
1.2 × the plain window — what PySide itself costs for such a window (the Python enum classes it builds on the
first use of `Qt`, `QStyle` and each widget class) is not the app's to save. A bare QMainWindow, which pays
none of that, is shown for information.

Bytecode: an installed app runs from compiled bytecode (pip and PyInstaller compile it when installing), but a
development shell may forbid writing `.pyc` files (PYTHONDONTWRITEBYTECODE), which would make every start
compile the project's sources again. Both sides therefore get the same private bytecode cache
(PYTHONPYCACHEPREFIX in a temporary directory, filled by a warm-up run of each).

The app shows its main window first and installs what the first paint does not show (batch and list-all modes,
the history dock, copy as code) right after it; an informative row gives the time until that is done too.

The target row is a first start (an empty app home). A second start reads more before its first paint (the
settings file, the saved connections, the last request into the editor) and finds its folders through platformdirs
rather than ``B24X_HOME``: an informative row times that too, against the same plain window.

Frozen: when the probe has been frozen as the app is (packaging/start_probe.spec: the same analysis, exclusions
and trims, one folder), the frozen app and the frozen plain window are timed the same way, alternating, and
reported for information.

Usage: python bench/bench_start.py [--runs 9] [--frozen PATH_TO_FROZEN_PROBE]
"""

from __future__ import annotations

import argparse
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
FROZEN_PROBE = HERE.parent / "build" / "start-probe" / "dist" / "b24x-start-probe" / (
    "b24x-start-probe.exe" if sys.platform == "win32" else "b24x-start-probe")
RUNS = 9
TARGET = 1.2


def saved_settings(config_dir: Path) -> None:
    """What a user's second start reads: two saved connections, each with its last request, and recent methods
    (written with the app's own settings code; the secrets would be in the keyring, which the start does not read)."""
    sys.path.insert(0, str(HERE.parent))
    from b24explorer.core import settings as core_settings

    settings = core_settings.Settings()
    for ref, name in (("bench-production", "Production"), ("bench-staging", "Staging")):
        settings.add_connection(core_settings.ConnectionProfile(
            name=name, portal=f"https://{name.lower()}.bitrix24.example", user_id=1, keyring_ref=ref))
        settings.remember_request(ref, "crm.deal.list", '{\n  "select": ["ID", "TITLE", "STAGE_ID"],\n'
                                  '  "filter": {">OPPORTUNITY": 1000}\n}')
    settings.ui.last_connection = "bench-production"
    core_settings.SettingsStore(config_dir / core_settings.FILE_NAME).save(settings)


def start_once(mode: str, *args: str, pycache: str, mark: str = "FIRST_PAINT", frozen: Path | None = None,
               second_start: bool = False) -> float:
    """Seconds from the command to the mark the probe prints (from source, or the frozen probe if given).

    A fresh app home each time (``B24X_HOME``); ``second_start``: instead the per-user locations the app finds
    through platformdirs (XDG directories in a temporary folder), holding :func:`saved_settings`."""
    command = [str(frozen)] if frozen is not None else [sys.executable, str(PROBE)]
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, B24X_HOME=home, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   PYTHONPYCACHEPREFIX=pycache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if second_start:
            del env["B24X_HOME"]
            for kind in ("CONFIG", "DATA", "CACHE", "STATE"):
                env[f"XDG_{kind}_HOME"] = str(Path(home, kind.lower()))
            saved_settings(Path(home, "config", "b24explorer"))
        started = time.time()
        proc = subprocess.run([*command, mode, *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(mark + " "):
            return float(line.split()[1]) - started
    raise RuntimeError(f"{mode}: no {mark} (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")


def spread(values: list[float]) -> str:
    return f"{min(values) * 1000:.0f}–{max(values) * 1000:.0f} ms"


def frozen_rows(frozen: Path, runs: int, pycache: str) -> list[Row]:
    """The frozen app against the plain window frozen the same way, alternating."""
    start_once("plain", pycache=pycache, frozen=frozen)  # the OS file cache, for both sides
    start_once("app", pycache=pycache, frozen=frozen)
    plain, app = [], []
    for _ in range(runs):
        plain.append(start_once("plain", pycache=pycache, frozen=frozen))
        app.append(start_once("app", pycache=pycache, frozen=frozen))
    plain_s = statistics.median(plain)
    return [
        Row("  frozen (one folder): command → first painted main window", statistics.median(app), "s",
            "frozen plain window", plain_s, note=f"median of {runs}, runs {spread(app)} vs {spread(plain)}"),
    ]


def rows(quick: bool = False, runs: int | None = None, frozen: Path | None = None) -> list[Row]:
    runs = runs or (3 if quick else RUNS)
    if frozen is None and FROZEN_PROBE.exists():
        frozen = FROZEN_PROBE
    with tempfile.TemporaryDirectory() as pycache:
        start_once("bare", pycache=pycache)  # warm the bytecode cache and the OS file cache for every side
        start_once("app", "--ready", pycache=pycache)
        start_once("plain", pycache=pycache)
        start_once("app", pycache=pycache, second_start=True)
        bare, plain, app, sandbox, ready, second = [], [], [], [], [], []
        for _ in range(runs):
            plain.append(start_once("plain", pycache=pycache))
            app.append(start_once("app", pycache=pycache))
            bare.append(start_once("bare", pycache=pycache))
            sandbox.append(start_once("app", "--sandbox", pycache=pycache))
            ready.append(start_once("app", "--ready", pycache=pycache, mark="READY"))
            second.append(start_once("app", pycache=pycache, second_start=True))
        out = [
            Row("Start: command → first painted main window", statistics.median(app), "s",
                "plain PySide window, same widget kinds", statistics.median(plain), target=TARGET,
                note=f"median of {runs} alternating runs, {spread(app)} vs {spread(plain)}"),
            Row("  a second start: two saved connections, the last request, per-user locations",
                statistics.median(second), "s", "plain PySide window, same widget kinds", statistics.median(plain),
                note=f"median of {runs}"),
            Row("  the same with --sandbox (embedded portal)", statistics.median(sandbox), "s",
                "plain PySide window, same widget kinds", statistics.median(plain), note=f"median of {runs}"),
            Row("  command → all modes and the history dock installed", statistics.median(ready), "s",
                "plain PySide window, same widget kinds", statistics.median(plain), note=f"median of {runs}"),
            Row("  the app against a bare QMainWindow (no widgets, no enum classes)", statistics.median(app), "s",
                "bare QMainWindow", statistics.median(bare), note=f"median of {runs}, bare runs {spread(bare)}"),
        ]
        if frozen is not None:
            out += frozen_rows(frozen, runs, pycache)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--frozen", type=Path, help=f"the frozen probe (default {FROZEN_PROBE.relative_to(HERE.parent)} "
                                                    "when it exists; build it with packaging/start_probe.spec)")
    args = parser.parse_args()
    table = rows(runs=args.runs, frozen=args.frozen)
    print(render(table))
    return 1 if any(r.passed is False for r in table) else 0


if __name__ == "__main__":
    sys.exit(main())
