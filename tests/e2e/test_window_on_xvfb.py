"""The real app, as a subprocess, on a real X server (Xvfb, platform xcb), on the sandbox: a screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


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
