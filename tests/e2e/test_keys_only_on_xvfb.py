"""The real app on its own X server, driven by keystrokes only (xdotool): Ctrl+L, a method typed, Ctrl+Enter
without Enter. Read back from the history database, each method went with its own params (issue 15)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_migration_on_xvfb import wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


def recorded(home: Path) -> list[tuple[str, Any]]:
    """(method, params) of every recorded request, oldest first, from the app's history file."""
    files = list(home.rglob("history.sqlite3"))
    if not files:
        return []
    try:
        with sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True, timeout=2) as db:
            rows = db.execute("SELECT method, params FROM requests ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    return [(method, json.loads(params)) for method, params in rows]


def test_keys_only_each_typed_method_goes_with_its_own_params(xvfb: str, tmp_path: Path) -> None:
    if shutil.which("xdotool") is None:
        if os.environ.get("CI"):
            pytest.fail("xdotool is required in CI (.ci/run installs it)")
        pytest.skip("xdotool is not installed")
    home = tmp_path / "home"
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "B24X_HOME": str(home)}
    env.pop("WAYLAND_DISPLAY", None)

    def xdo(*args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30)
        return done.stdout.strip()

    def keys(*names: str) -> None:
        xdo("key", "--clearmodifiers", "--delay", "60", *names)

    def typed(text: str) -> None:
        xdo("type", "--delay", "40", text)

    def sent(count: int) -> list[tuple[str, Any]]:
        return wait_for(lambda: (rows := recorded(home)) and len(rows) >= count and rows,
                        f"{count} recorded requests")

    app = subprocess.Popen([sys.executable, "-m", "b24explorer", "--sandbox"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        window = wait_for(lambda: xdo("search", "--onlyvisible", "--name", "b24explorer — Sandbox").split(),
                          "the window on the sandbox")[0]
        xdo("windowfocus", "--sync", window)
        time.sleep(1.5)  # the sandbox's method list loads meanwhile (the names then complete as typed)

        keys("ctrl+l")
        typed("crm.deal.get")
        keys("ctrl+Return")
        first = sent(1)[0]
        keys("ctrl+e", "ctrl+a")
        typed('{"id": 5}')
        keys("ctrl+Return")
        sent(2)
        keys("ctrl+l")
        typed("tasks.task.list")
        keys("ctrl+Return")  # no Enter after the name
        sent(3)
        keys("ctrl+l")
        typed("crm.deal.get")
        keys("ctrl+Return")
        rows = sent(4)

        shot = ARTIFACTS / "window-keys-only.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        grab = ("from PySide6.QtGui import QGuiApplication\n"
                "app = QGuiApplication([])\n"
                f"assert app.primaryScreen().grabWindow(0).save({str(shot)!r})\n")
        subprocess.run([sys.executable, "-c", grab], env=env, check=True, timeout=30)
        keys("ctrl+q")
        app.wait(30)
    finally:
        if app.poll() is None:
            app.terminate()
            app.wait(10)
    assert app.returncode == 0, app.stderr.read() if app.stderr else ""

    assert [method for method, _params in rows] == ["crm.deal.get", "crm.deal.get", "tasks.task.list",
                                                    "crm.deal.get"]
    assert first[1] != {"id": 5}  # its template: the first call of the run
    assert rows[1][1] == {"id": 5}
    tasks_params = rows[2][1]
    assert tasks_params != {"id": 5}  # never the previous method's params
    assert "id" not in tasks_params
    assert "select" in tasks_params  # tasks.task.list's own template
    assert rows[3][1] == {"id": 5}  # crm.deal.get's params on this connection came back with it
    assert shot.exists()
