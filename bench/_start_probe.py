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
    """The kinds of widgets the app's first paint shows, with no app code — what PySide itself costs for such a
    window, beyond a bare one: a menu bar with menus of actions (shortcuts), a toolbar with pickers, a method
    field, checkable tool buttons and Send/Cancel actions (style icons), a method tree, a monospace params editor,
    the response's find bar and tabs (a tree with column headers, raw text), a stacked centre, the log as a table
    with column headers in a dock, and a status bar. Views get their models and headers as a plain PySide
    program gives them (QStandardItemModel)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAction, QFontDatabase, QKeySequence, QStandardItemModel
    from PySide6.QtWidgets import (
        QComboBox,
        QDockWidget,
        QHBoxLayout,
        QLabel,
        QLineEdit,
        QPlainTextEdit,
        QSplitter,
        QStackedWidget,
        QStyle,
        QTableView,
        QTabWidget,
        QToolBar,
        QToolButton,
        QTreeView,
        QVBoxLayout,
    )

    def view(kind: type, headers: list[str]) -> Any:
        model = QStandardItemModel(window)
        model.setHorizontalHeaderLabels(headers)
        shown = kind()
        shown.setModel(model)
        return shown

    def column(*parts: QWidget | QHBoxLayout) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        for part in parts:
            if isinstance(part, QHBoxLayout):
                layout.addLayout(part)
            else:
                layout.addWidget(part)
        return box

    def row(*parts: QWidget) -> QHBoxLayout:
        layout = QHBoxLayout()
        for part in parts:
            layout.addWidget(part)
        return layout

    window = QMainWindow()
    style = app.style()
    send = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Send", window)
    send.setShortcut(QKeySequence("Ctrl+Return"))
    cancel = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Cancel", window)
    cancel.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    for title, actions in (("&File", ("Connections…", "Quit")), ("&Request", ("Format params", "Insert template")),
                           ("&View", ("Find method", "Edit params")), ("&Help", ("Documentation", "About"))):
        menu = window.menuBar().addMenu(title)
        if title == "&Request":
            menu.addActions([send, cancel])
        for text in actions:
            action = QAction(text, window)
            action.setShortcut(QKeySequence(f"Ctrl+{text[0]}"))
            menu.addAction(action)
    toolbar = QToolBar()
    window.addToolBar(toolbar)
    toolbar.addWidget(QComboBox())
    toolbar.addWidget(QLineEdit())
    for api in ("v2", "v3"):
        switch = QToolButton()
        switch.setText(api)
        switch.setCheckable(True)
        toolbar.addWidget(switch)
    toolbar.addSeparator()
    toolbar.addActions([send, cancel])
    toolbar.addWidget(QLabel())
    methods = view(QTreeView, ["Method", "API"])
    methods.setHeaderHidden(True)
    params = QPlainTextEdit()
    params.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    params.setPlainText('{\n  "select": ["ID", "TITLE"]\n}')
    tabs = QTabWidget()
    tabs.addTab(view(QTreeView, ["Key", "Value", "Type"]), "Tree")
    tabs.addTab(QPlainTextEdit(), "Raw")
    find = row(QLineEdit(), QToolButton(), QToolButton(), QLineEdit())
    centre = QSplitter(Qt.Orientation.Vertical)
    centre.addWidget(column(params, row(QLabel("Request id"), QLineEdit())))
    centre.addWidget(column(QLabel("Response"), find, tabs))
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(column(QLineEdit(), methods))
    split.addWidget(centre)
    stack = QStackedWidget()
    stack.addWidget(split)
    window.setCentralWidget(stack)
    log = QDockWidget("Log", window)
    log.setWidget(column(row(QLabel("Level"), QComboBox(), QToolButton()),
                         view(QTableView, ["Time", "Level", "Code", "Method", "Request id", "Message"])))
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, log)
    window.statusBar().addPermanentWidget(QLabel("Ready"))
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
