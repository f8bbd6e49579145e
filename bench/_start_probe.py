"""Child process of bench_start: prints `FIRST_PAINT <unix time>` when a main window first paints, then exits.

`python bench/_start_probe.py bare` shows a bare QMainWindow; `plain` a QMainWindow holding the kinds of widgets the
app's window shows, with no app code (what PySide alone costs for them); `app [ARGS…]` runs the real app's `main(ARGS)`,
exactly what the `b24explorer` command runs. Both build the QApplication here first (the app reuses an existing
one) so the same probe sees both paints. With `--ready`, the probe waits on after the first paint until the
window's deferred features are installed (the history dock exists), prints `READY <unix time>`, then exits.

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
        from PySide6.QtWidgets import QDockWidget

        if window.findChild(QDockWidget, "historyDock") is not None:  # the deferred features are installed
            print(f"READY {time.time():.6f}", flush=True)
            os._exit(0)


def plain_window(app: QApplication) -> QMainWindow:
    """The kinds of widgets the app's first paint shows, with no app code: a toolbar with pickers and a Send
    action (a style icon, a shortcut), a method list, a monospace params editor, response tabs (tree, raw), a
    log pane and a status bar. What PySide itself costs for such a window, beyond a bare one."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
    from PySide6.QtWidgets import (
        QComboBox,
        QLabel,
        QLineEdit,
        QListView,
        QPlainTextEdit,
        QPushButton,
        QSplitter,
        QStyle,
        QTabWidget,
        QToolBar,
        QTreeView,
        QVBoxLayout,
    )

    window = QMainWindow()
    toolbar = QToolBar()
    window.addToolBar(toolbar)
    toolbar.addWidget(QComboBox())
    toolbar.addWidget(QLineEdit())
    send = QAction(app.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Send", window)
    send.setShortcut(QKeySequence("Ctrl+Return"))
    toolbar.addAction(send)
    methods = QWidget()
    column = QVBoxLayout(methods)
    column.addWidget(QLineEdit())
    column.addWidget(QListView())
    params = QPlainTextEdit()
    params.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    params.setPlainText('{\n  "select": ["ID", "TITLE"]\n}')
    tabs = QTabWidget()
    tabs.addTab(QTreeView(), "Tree")
    tabs.addTab(QPlainTextEdit(), "Raw")
    log = QPlainTextEdit()
    log.setReadOnly(True)
    right = QSplitter(Qt.Orientation.Vertical)
    for part in (params, tabs, log):
        right.addWidget(part)
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(methods)
    split.addWidget(right)
    window.setCentralWidget(split)
    window.statusBar().addWidget(QLabel("Ready"))
    window.statusBar().addPermanentWidget(QPushButton("Copy"))
    return window


def main() -> None:
    wait_ready = "--ready" in sys.argv
    argv = [a for a in sys.argv if a != "--ready"]
    mode, args = argv[1], argv[2:]
    app = QApplication([argv[0]])
    FirstPaint(wait_ready).install()
    if mode in ("bare", "plain"):
        window = QMainWindow() if mode == "bare" else plain_window(app)
        window.setWindowTitle(mode)
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
