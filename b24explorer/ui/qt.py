"""The one place that imports Qt.

Every UI module imports Qt names from here, so the binding choice and its quirks live in one file.
qasync picks its binding from ``QT_API`` or from whichever binding is already imported, so PySide6 is
imported (and ``QT_API`` set) before qasync is touched.

Names are resolved on first use (module ``__getattr__``): PySide6 builds a class, with all its enums, only
when it is first looked up, and that costs about a millisecond per class (``Qt`` and ``QStyle`` far more), so a
list of eager imports here would make every start pay for classes the first window never uses. For the same
reason qasync (and with it asyncio) is imported only when one of its names is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

os.environ.setdefault("QT_API", "pyside6")

import PySide6  # noqa: F401  (must precede qasync)
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from b24explorer.ui import feature_check

feature_check.quicken()  # PySide's check of every later import, without a tokenizer

if TYPE_CHECKING:
    from typing import Protocol

    import qasync
    from PySide6.QtCore import (
        QAbstractItemModel,
        QAbstractTableModel,
        QByteArray,
        QEvent,
        QItemSelectionModel,
        QModelIndex,
        QObject,
        QPersistentModelIndex,
        QPoint,
        QProcess,
        QRegularExpression,
        QSettings,
        QSize,
        QSortFilterProxyModel,
        QStringListModel,
        Qt,
        QTimer,
        QUrl,
        Signal,
        SignalInstance,
        Slot,
    )
    from PySide6.QtGui import (
        QAction,
        QActionGroup,
        QBrush,
        QClipboard,
        QCloseEvent,
        QColor,
        QDesktopServices,
        QFont,
        QFontDatabase,
        QGuiApplication,
        QIcon,
        QKeyEvent,
        QKeySequence,
        QPainter,
        QPaintEvent,
        QPalette,
        QPen,
        QPixmap,
        QShortcut,
        QStandardItem,
        QStandardItemModel,
        QSyntaxHighlighter,
        QTextCharFormat,
        QTextCursor,
        QTextDocument,
    )
    from PySide6.QtWidgets import (
        QAbstractItemView,
        QApplication,
        QButtonGroup,
        QCheckBox,
        QComboBox,
        QCompleter,
        QDialog,
        QDialogButtonBox,
        QDockWidget,
        QFileDialog,
        QFormLayout,
        QFrame,
        QHBoxLayout,
        QHeaderView,
        QLabel,
        QLineEdit,
        QListWidget,
        QListWidgetItem,
        QMainWindow,
        QMenu,
        QMessageBox,
        QPlainTextEdit,
        QProgressBar,
        QPushButton,
        QRadioButton,
        QSizePolicy,
        QSpinBox,
        QSplitter,
        QStackedWidget,
        QStatusBar,
        QStyle,
        QTableView,
        QTabWidget,
        QTextBrowser,
        QToolBar,
        QToolButton,
        QTreeView,
        QVBoxLayout,
        QWidget,
    )
    from qasync import QEventLoop, asyncClose, asyncSlot

    class PaintsOnce(Protocol):
        """A window that says when it has painted for the first time (``MainWindow.first_painted``)."""

        @property
        def first_painted(self) -> SignalInstance: ...

        def show(self) -> None: ...

_QT_MODULES = (QtCore, QtGui, QtWidgets)
_QASYNC_NAMES = ("QEventLoop", "asyncClose", "asyncSlot")


def __getattr__(name: str) -> Any:
    """A name of ``__all__`` on first use: from PySide6 (built now, not at import), or from qasync."""
    if name not in __all__ or name in globals():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "qasync" or name in _QASYNC_NAMES:
        import qasync

        value = qasync if name == "qasync" else getattr(qasync, name)
    else:
        value = next(v for module in _QT_MODULES if (v := getattr(module, name, None)) is not None)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ = [
    "QAbstractItemModel",
    "QAbstractItemView",
    "QAbstractTableModel",
    "QAction",
    "QActionGroup",
    "QApplication",
    "QBrush",
    "QButtonGroup",
    "QByteArray",
    "QCheckBox",
    "QClipboard",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QCompleter",
    "QDesktopServices",
    "QDialog",
    "QDialogButtonBox",
    "QDockWidget",
    "QEvent",
    "QEventLoop",
    "QFileDialog",
    "QFont",
    "QFontDatabase",
    "QFormLayout",
    "QFrame",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QIcon",
    "QItemSelectionModel",
    "QKeyEvent",
    "QKeySequence",
    "QLabel",
    "QLineEdit",
    "QListWidget",
    "QListWidgetItem",
    "QMainWindow",
    "QMenu",
    "QMessageBox",
    "QModelIndex",
    "QObject",
    "QPaintEvent",
    "QPainter",
    "QPalette",
    "QPen",
    "QPersistentModelIndex",
    "QPixmap",
    "QPlainTextEdit",
    "QPoint",
    "QProcess",
    "QProgressBar",
    "QPushButton",
    "QRadioButton",
    "QRegularExpression",
    "QSettings",
    "QShortcut",
    "QSize",
    "QSizePolicy",
    "QSortFilterProxyModel",
    "QSpinBox",
    "QSplitter",
    "QStackedWidget",
    "QStandardItem",
    "QStandardItemModel",
    "QStatusBar",
    "QStringListModel",
    "QStyle",
    "QSyntaxHighlighter",
    "QTabWidget",
    "QTableView",
    "QTextBrowser",
    "QTextCharFormat",
    "QTextCursor",
    "QTextDocument",
    "QTimer",
    "QToolBar",
    "QToolButton",
    "QTreeView",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "Signal",
    "SignalInstance",
    "Slot",
    "asyncClose",
    "asyncSlot",
    "dark_palette",
    "follow_system_scheme",
    "is_alive",
    "is_dark",
    "monospace_font",
    "qasync",
    "shortcut",
    "show_until_painted",
    "standard_icon",
]


def is_alive(obj: QObject) -> bool:
    """Whether the C++ side of a Qt object still exists (a deleted widget raises on any call)."""
    return shiboken6.isValid(obj)


def show_until_painted(window: PaintsOnce, timeout_ms: int = 1000) -> bool:
    """Show ``window`` and run Qt's own event loop until it has painted (True) or ``timeout_ms`` passed.

    For the start, before any asyncio loop exists. User input is not handled meanwhile but kept queued: Qt
    delivers it once the application's loop runs, so nothing typed or clicked in between is lost.

    The window tells of its first paint itself (a signal from its ``paintEvent``; a top-level widget paints itself
    before its children, in the same pass). An event filter would do too, but the first event PySide hands to
    Python as a plain ``QEvent`` makes it build the Python class of every event type — milliseconds the first
    paint need not wait for; and an application-wide filter would also make it wrap every object that gets an
    event.
    """
    loop = QtCore.QEventLoop()
    painted = False

    def done() -> None:
        nonlocal painted
        painted = True
        loop.quit()  # takes effect once this paint (and the rest of the window's) is done

    timer = QtCore.QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    window.first_painted.connect(done)
    try:
        window.show()
        if not painted:
            timer.start(timeout_ms)
            loop.exec(QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    finally:
        timer.stop()
        window.first_painted.disconnect(done)
    return painted


def standard_icon(name: str) -> QIcon:
    """An icon of the current style by its ``QStyle.StandardPixmap`` name, e.g. ``"SP_MediaPlay"``."""
    style = QtWidgets.QApplication.style()
    return style.standardIcon(getattr(QtWidgets.QStyle.StandardPixmap, name))


def shortcut(key: QKeySequence | QKeySequence.StandardKey, parent: QObject, slot: Callable[[], object]) -> QShortcut:
    """A keyboard shortcut on ``parent`` that calls ``slot``."""
    made = QtGui.QShortcut(QtGui.QKeySequence(key), parent)
    made.activated.connect(slot)
    return made


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette in use (default: the application's) is a dark one.

    Judged by the palette actually painted, not by the platform's colour-scheme hint: the two disagree when a
    style ignores the hint, and colours must suit what is on screen.
    """
    pal = palette or QtGui.QGuiApplication.palette()
    return pal.color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A dark palette for styles (Fusion) on platforms that report a dark scheme but paint light."""
    QPalette, QColor = QtGui.QPalette, QtGui.QColor
    pal = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.ToolTipBase: "#2b2b2b", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a8a8a", QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#333333", QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Link: "#6cb4ff",
        QPalette.ColorRole.Highlight: "#2f65ca", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Light: "#3c3c3c", QPalette.ColorRole.Midlight: "#363636",
        QPalette.ColorRole.Mid: "#2a2a2a", QPalette.ColorRole.Dark: "#1a1a1a", QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return pal


_dark_palette_set = False  # whether follow_system_scheme painted the app dark (and so may undo it)


def follow_system_scheme(app: QApplication) -> None:
    """Paint dark when the system asks for dark and the style did not already switch its palette; back to the
    style's own palette when the system turns light again. A light start has nothing to do (and reads no palette)."""
    global _dark_palette_set
    hints = QtGui.QGuiApplication.styleHints()
    if hints is None:
        return
    wants_dark = hints.colorScheme() == QtCore.Qt.ColorScheme.Dark
    if wants_dark and not _dark_palette_set:
        if not is_dark(app.style().standardPalette()):
            app.setPalette(dark_palette())
            _dark_palette_set = True
    elif not wants_dark and _dark_palette_set:
        app.setPalette(app.style().standardPalette())
        _dark_palette_set = False


def monospace_font(point_size: int | None = None) -> QFont:
    font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
    if point_size:
        font.setPointSize(point_size)
    return font
