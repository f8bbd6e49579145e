"""The real app, as a subprocess, on a real X server (Xvfb, platform xcb), on the sandbox: a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


def free_display() -> int:
    for number in range(140, 240):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture
def xvfb() -> str:
    if shutil.which("Xvfb") is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is required in CI (.ci/run installs it)")
        pytest.skip("Xvfb is not installed")
    for _attempt in range(3):
        number = free_display()
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        if proc.poll() is None:
            break  # up (a display taken meanwhile makes Xvfb exit: try the next number)
    else:
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_window_on_xvfb_shows_a_sandbox_answer_and_saves_a_screenshot(xvfb: str, tmp_path: Path) -> None:
    shot = ARTIFACTS / "window-xvfb.png"
    shot.unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "B24X_HOME": str(tmp_path / "home")}
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "b24explorer", "--sandbox", "--screenshot", str(shot)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    qt_warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert qt_warnings == [], "the app printed warnings on a real X server"
    assert shot.exists()

    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 1000
    assert image.height() >= 700
    # Not a blank frame: a painted window has many distinct colours (text, icons, highlighting).
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50
