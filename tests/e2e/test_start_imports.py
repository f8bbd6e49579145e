"""The start paints the real window before the machinery it does not show: asyncio, qasync, the HTTP client,
the keyring and the JSON reader load after the first paint (issue 7: start at most 1.5 × a bare window).

Runs `b24explorer.app.main` in a fresh interpreter, as the command does, and looks at what is imported at the
moment the main window first paints, and at what that window holds then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LATER = ("asyncio", "qasync", "httpx", "keyring", "msgspec", "b24explorer.core.client", "b24explorer.sandbox")

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from PySide6.QtWidgets import QApplication, QMainWindow, QComboBox, QPlainTextEdit, QTreeView

    app = QApplication([sys.argv[0]])
    original = QMainWindow.paintEvent

    def first_paint(window, event):
        original(window, event)
        from PySide6 import QtWidgets

        found = {
            "loaded": sorted(m for m in %r if m in sys.modules),
            # PySide builds every event type's Python class when the first plain QEvent reaches Python (an event
            # filter, an event()/changeEvent() override): a graphics-scene event class is one of them.
            "event classes built": "QGraphicsSceneEvent" in vars(QtWidgets),
            "title": window.windowTitle(),
            "combos": len(window.findChildren(QComboBox)),
            "editors": len(window.findChildren(QPlainTextEdit)),
            "trees": len(window.findChildren(QTreeView)),
        }
        print("AT_FIRST_PAINT " + json.dumps(found), flush=True)
        os._exit(0)

    QMainWindow.paintEvent = first_paint
    from b24explorer.app import main
    main([])
    os._exit(3)
    """
)


def test_the_window_paints_before_the_machinery_it_does_not_show(tmp_path: Path) -> None:
    env = dict(os.environ, B24X_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", CHILD % (LATER,)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("AT_FIRST_PAINT ")]
    assert lines, f"no first paint (exit {proc.returncode}): {proc.stderr[-2000:]}"
    found = json.loads(lines[0].split(" ", 1)[1])
    assert found["loaded"] == []
    assert found["event classes built"] is False
    assert "b24explorer" in found["title"]
    # the real window, not a placeholder: its connection and method pickers, params editor, response tree
    assert found["combos"] >= 2
    assert found["editors"] >= 1
    assert found["trees"] >= 1
