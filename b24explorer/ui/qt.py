"""The one place that imports Qt.

Every UI module imports Qt names from here, so the binding choice and its quirks live in one file.
qasync picks its binding from ``QT_API`` or from whichever binding is already imported, so PySide6 is
imported (and ``QT_API`` set) before qasync is touched.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_API", "pyside6")

import PySide6  # noqa: F401  (must precede qasync)
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
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QBrush,
    QClipboard,
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
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
    QSizePolicy,
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

# isort: split
import qasync
from qasync import QEventLoop, asyncClose, asyncSlot

__all__ = [
    "QAbstractItemModel", "QAbstractItemView", "QAbstractTableModel", "QAction", "QActionGroup",
    "QApplication", "QBrush", "QButtonGroup", "QByteArray", "QCheckBox", "QClipboard", "QColor",
    "QComboBox", "QDesktopServices", "QDialog", "QDialogButtonBox", "QDockWidget", "QEvent", "QEventLoop",
    "QFileDialog", "QFont", "QFontDatabase", "QFormLayout", "QFrame", "QGuiApplication", "QHBoxLayout", "QHeaderView",
    "QIcon", "QItemSelectionModel", "QKeyEvent", "QKeySequence", "QLabel", "QLineEdit", "QListWidget",
    "QListWidgetItem", "QMainWindow", "QMenu", "QMessageBox", "QModelIndex", "QObject", "QPainter",
    "QPalette", "QPersistentModelIndex", "QPixmap", "QPlainTextEdit", "QPoint", "QProcess", "QProgressBar",
    "QPushButton", "QRegularExpression", "QSettings", "QShortcut", "QSize", "QSizePolicy",
    "QSortFilterProxyModel", "QSplitter", "QStackedWidget", "QStandardItem", "QStandardItemModel",
    "QStatusBar", "QStyle", "QSyntaxHighlighter", "QTabWidget", "QTableView", "QTextBrowser",
    "QTextCharFormat", "QTextCursor", "QTextDocument", "QTimer", "QToolBar", "QToolButton", "QTreeView",
    "QUrl", "QVBoxLayout", "QWidget", "Qt", "Signal", "Slot", "asyncClose", "asyncSlot", "is_dark",
    "monospace_font", "qasync", "standard_icon",
]


def standard_icon(name: str) -> QIcon:
    """An icon of the current style by its ``QStyle.StandardPixmap`` name, e.g. ``"SP_MediaPlay"``."""
    style = QApplication.style()
    return style.standardIcon(getattr(QStyle.StandardPixmap, name))


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette (default: the application's) is a dark one."""
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    if scheme != Qt.ColorScheme.Unknown and palette is None:
        return scheme == Qt.ColorScheme.Dark
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def monospace_font(point_size: int | None = None) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if point_size:
        font.setPointSize(point_size)
    return font
