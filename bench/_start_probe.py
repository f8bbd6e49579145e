"""Child process of bench_start: prints `FIRST_PAINT <unix time>` when a main window first paints, then exits.

`python bench/_start_probe.py bare` shows a bare QMainWindow; `app [ARGS…]` runs the real app's `main(ARGS)`,
exactly what the `b24explorer` command runs. Both build the QApplication here first (the app reuses an existing
one) so the same probe sees both paints. With `--ready`, the probe waits on after the first paint until the
window's deferred features are installed (`window.power`), prints `READY <unix time>`, then exits.

The probe sees the paint through ``QMainWindow.paintEvent`` (the app's window is a QMainWindow subclass; a
top-level widget paints itself first, then its children, in the same pass). It deliberately does not use an
application-wide Python event filter: with one, PySide must hand every object that receives any event to
Python, building the Python class (with all its enums) of each kind of object it meets — for a window with a
toolbar and docks that alone added about 75 ms on this machine, a cost the probe would add to the app's side
only (the bare window has none of those objects) and that no real start pays.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget


class FirstPaint:
    def __init__(self, wait_ready: bool) -> None:
        self.wait_ready = wait_ready
        self.poll: QTimer | None = None
        self.seen = False
        self.original = QMainWindow.paintEvent

    def install(self) -> None:
        probe = self

        def paint_event(window: QMainWindow, event: Any) -> None:
            if not probe.seen:
                probe.seen = True
                probe.painted(window)
            probe.original(window, event)

        QMainWindow.paintEvent = paint_event  # type: ignore[method-assign]

    def painted(self, window: QMainWindow) -> None:
        print(f"FIRST_PAINT {time.time():.6f}", flush=True)
        if not self.wait_ready:
            os._exit(0)
        self.poll = QTimer()
        self.poll.setInterval(2)
        self.poll.timeout.connect(lambda: self.check_ready(window))
        self.poll.start()

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
    FirstPaint(wait_ready).install()
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
