"""Child process of bench_start: prints `FIRST_PAINT <unix time>` when a main window first paints, then exits.

`python bench/_start_probe.py bare` shows a bare QMainWindow; `app [ARGS…]` runs the real app's `main(ARGS)`.
Both build the QApplication here first (the app reuses an existing one) so the same probe sees both paints.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

PAINT = QEvent.Type.Paint


class FirstPaint(QObject):
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == PAINT and isinstance(obj, QWidget) and isinstance(obj.window(), QMainWindow):
            print(f"FIRST_PAINT {time.time():.6f}", flush=True)
            os._exit(0)
        return False


def main() -> None:
    mode, args = sys.argv[1], sys.argv[2:]
    app = QApplication([sys.argv[0]])
    probe = FirstPaint()
    app.installEventFilter(probe)
    if mode == "bare":
        window = QMainWindow()
        window.setWindowTitle("bare")
        window.resize(1200, 800)
        window.show()
        app.exec()
    else:
        from b24explorer.app import main as app_main

        app_main(args)
    print("NO_PAINT", flush=True)
    os._exit(3)


if __name__ == "__main__":
    main()
