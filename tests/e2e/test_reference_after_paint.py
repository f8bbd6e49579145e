"""The reference catalog (every documented method) is read after the window's first paint, never before it: at the
first paint its module is not even imported; once the deferred features are in, the picker gets every method."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([sys.argv[0]])
    original = QMainWindow.paintEvent
    seen = []

    def at_first_paint(window, event):
        original(window, event)
        if seen:
            return
        seen.append(window)
        reference = sys.modules.get("b24explorer.core.reference")
        print("AT_FIRST_PAINT " + json.dumps({"imported": reference is not None,
                                              "loaded": bool(reference and reference.is_loaded())}), flush=True)
        poll = QTimer(window)
        poll.setInterval(20)

        def check():
            if len(window.method_picker.entries()) > 1500:
                print("DOCUMENTED " + str(len(window.method_picker.entries())), flush=True)
                os._exit(0)

        poll.timeout.connect(check)
        poll.start()

    QMainWindow.paintEvent = at_first_paint
    QTimer.singleShot(30000, lambda: os._exit(4))
    from b24explorer.app import main
    main([])
    os._exit(3)
    """
)


def test_the_catalog_loads_after_the_first_paint(tmp_path: Path) -> None:
    env = dict(os.environ, B24X_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=90, check=False)
    lines = proc.stdout.splitlines()
    first = [line for line in lines if line.startswith("AT_FIRST_PAINT ")]
    assert first, f"no first paint (exit {proc.returncode}): {proc.stderr[-2000:]}"
    assert json.loads(first[0].split(" ", 1)[1]) == {"imported": False, "loaded": False}
    documented = [line for line in lines if line.startswith("DOCUMENTED ")]
    assert documented, f"the picker never got the documented methods (exit {proc.returncode}): {proc.stderr[-2000:]}"
