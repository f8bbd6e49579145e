"""Child process of bench_start: prints `FIRST_PAINT <unix time>` when a main window first paints, then exits.

`python bench/_start_probe.py bare` shows a bare QMainWindow; `app [ARGS…]` runs the real app's `main(ARGS)`,
exactly what the `b24explorer` command runs. Both build the QApplication here first (the app reuses an existing
one) so the same probe sees both paints. With `--ready`, the probe waits on after the first paint until the
window's deferred features are installed (`window.power`), prints `READY <unix time>`, then exits.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

PAINT = QEvent.Type.Paint


class FirstPaint(QObject):
    def __init__(self, app: QApplication, wait_ready: bool) -> None:
        super().__init__()
        self.app = app
        self.wait_ready = wait_ready
        self.poll: QTimer | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == PAINT and isinstance(obj, QWidget) and isinstance(obj.window(), QMainWindow):
            print(f"FIRST_PAINT {time.time():.6f}", flush=True)
            if not self.wait_ready:
                os._exit(0)
            self.app.removeEventFilter(self)
            self.poll = QTimer()
            self.poll.setInterval(2)
            self.poll.timeout.connect(lambda: self.check_ready(obj.window()))
            self.poll.start()
        return False

    @staticmethod
    def check_ready(window: QWidget) -> None:
        if getattr(window, "power", None) is not None:
            print(f"READY {time.time():.6f}", flush=True)
            os._exit(0)


def main() -> None:
    wait_ready = "--ready" in sys.argv
    argv = [a for a in sys.argv if a != "--ready"]
    mode, args = argv[1], argv[2:]
    app = QApplication([argv[0]])
    probe = FirstPaint(app, wait_ready)
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
