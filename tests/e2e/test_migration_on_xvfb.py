"""The REST v3 migration in the real app on a real X server, driven by keystrokes only (xdotool).

v2 `tasks.task.get {"taskId": 1, "select": ["ID","TITLE"]}` → the v3 warning → Ctrl+Shift+M → the v3 request goes
out with `id` (not `taskId`) and succeeds; read back from the history database, with a screenshot of the view.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_window_on_xvfb import ARTIFACTS, ROOT

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

V2_PARAMS = '{"taskId": 1, "select": ["ID", "TITLE"]}'


def wait_for(probe: Callable[[], Any], what: str, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {within} s waiting for {what}")


def history_rows(db: Path) -> list[tuple[str, int, str, int | None]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2) as conn:
            return list(conn.execute("SELECT method, api, params, status FROM requests ORDER BY id"))
    except sqlite3.Error:  # not created yet
        return []


def grab_screen(display: str, path: Path) -> None:
    """A screenshot of the whole X screen, taken by a separate Qt process (no window of its own)."""
    code = ("import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication(sys.argv); "
            "ok = app.primaryScreen().grabWindow(0).save(sys.argv[1]); sys.exit(0 if ok else 1)")
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True, timeout=30)


def test_keys_only_v2_warning_then_ctrl_shift_m_sends_the_v3_form(xvfb: str, tmp_path: Path) -> None:
    if shutil.which("xdotool") is None:
        if os.environ.get("CI"):
            pytest.fail("xdotool is required in CI (.ci/run installs it)")
        pytest.skip("xdotool is not installed")
    shot = ARTIFACTS / "migration-xvfb.png"
    shot.unlink(missing_ok=True)
    home = tmp_path / "home"
    db = home / "data" / "history.sqlite3"
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "B24X_HOME": str(home)}
    env.pop("WAYLAND_DISPLAY", None)

    def xdo(*args: str) -> str:
        return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, check=True,
                              timeout=30).stdout

    def keys(*combos: str) -> None:
        for combo in combos:
            xdo("key", "--clearmodifiers", combo)
            time.sleep(0.25)

    def type_text(text: str) -> None:
        xdo("type", "--delay", "30", text)
        time.sleep(0.3)

    app = subprocess.Popen([sys.executable, "-m", "b24explorer", "--sandbox"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        window = wait_for(lambda: subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "b24explorer"],
                                                 env=env, capture_output=True, text=True).stdout.split(),
                          "the window")[-1]
        wait_for(lambda: "Sandbox" in xdo("getwindowname", window), "the sandbox connection", within=30)
        wait_for(lambda: subprocess.run(["xdotool", "windowfocus", window], env=env).returncode == 0,
                 "the keyboard focus")
        time.sleep(1.0)  # the method list of the sandbox loads

        keys("ctrl+k")  # find method
        type_text("tasks.task.get")
        keys("Return")  # picks it and puts the cursor in the params
        keys("ctrl+2", "ctrl+e", "ctrl+a")  # REST v2, the params editor, all of its text
        type_text(V2_PARAMS)
        keys("ctrl+Return")
        v2 = wait_for(lambda: [r for r in history_rows(db) if r[0] == "tasks.task.get" and r[1] == 2],
                      "the v2 call in the history")
        assert json.loads(v2[0][2]) == json.loads(V2_PARAMS)
        time.sleep(0.5)  # the warning reaches the log pane

        keys("ctrl+shift+m")
        v3 = wait_for(lambda: [r for r in history_rows(db) if r[0] == "tasks.task.get" and r[1] == 3],
                      "the v3 call in the history")
        time.sleep(1.0)  # the comparison is painted
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        grab_screen(xvfb, shot)
        keys("ctrl+q")
        app.wait(30)
    finally:
        if app.poll() is None:
            app.terminate()
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait(5)
    _out, err = app.communicate()

    params = json.loads(v3[0][2])
    assert params == {"id": 1, "select": ["id", "title"]}  # `id`, not `taskId`: the v3 form
    assert "taskId" not in v3[0][2]
    assert v3[0][3] == 200  # and the portal, which validates v3 params strictly, answered it
    assert len([r for r in history_rows(db) if r[1] == 2]) == 1  # the v2 answer was reused, not re-sent
    assert app.returncode == 0, err
    assert shot.exists()

    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 1000
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50  # a painted window, not a blank frame
