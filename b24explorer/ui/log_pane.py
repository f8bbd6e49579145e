"""The log pane: every core log record, coloured by level, filterable; v3 migration warnings stand out.

A v3 migration warning (code ``METHOD_AVAILABLE_IN_API_V3``) gets its own colour and icon in the table and a
banner above it with an action that opens the REST v3 form of the current request beside it (the migration view).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from b24explorer.ui.masking import mask_text
from b24explorer.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QAction,
    QApplication,
    QColor,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    QSortFilterProxyModel,
    Qt,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
    is_dark,
    standard_icon,
)

if TYPE_CHECKING:
    from datetime import datetime

    from b24explorer.ui.qt import QPoint

V3_WARNING_CODE = "METHOD_AVAILABLE_IN_API_V3"
LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
COLUMNS = ("Time", "Level", "Connection", "Code", "Method", "Request id", "Message")


def level_name(level: Any) -> str:
    name = getattr(level, "name", None) or str(level)
    name = name.upper().rsplit(".", 1)[-1]
    return "WARNING" if name == "WARN" else name


def level_rank(name: str) -> int:
    return LEVELS.index(name) if name in LEVELS else 1


class LogRow(NamedTuple):
    """One record as the pane shows it (already masked; a tuple: the pane keeps up to 10,000 of them)."""

    time: datetime
    level: str
    code: str
    method: str
    request_id: str
    message: str
    connection: str = ""  # the connection whose client logged it ("" for the app's own records)

    @property
    def is_v3_warning(self) -> bool:
        return self.code == V3_WARNING_CODE

    def as_text(self) -> str:
        return "\t".join(
            (self.time.strftime("%H:%M:%S.%f")[:-3], self.level, self.connection, self.code, self.method,
             self.request_id, self.message)
        )

    @classmethod
    def from_record(cls, record: Any, secrets: tuple[str, ...] = ()) -> LogRow:
        from datetime import datetime  # here: loaded with the first record, not with the window

        stamp = getattr(record, "timestamp", None)
        if isinstance(stamp, int | float):
            stamp = datetime.fromtimestamp(stamp)
        elif not isinstance(stamp, datetime):
            stamp = datetime.now()
        elif stamp.tzinfo is not None:
            stamp = stamp.astimezone().replace(tzinfo=None)

        def text(name: str) -> str:
            value = getattr(record, name, None)
            return mask_text(str(value), secrets) if value not in (None, "") else ""

        return cls(stamp, level_name(getattr(record, "level", "INFO")), text("code"), text("method"),
                   text("request_id"), text("message"), text("connection"))


def _level_colours() -> dict[str, QColor]:
    if is_dark():
        return {"DEBUG": QColor("#8a8a8a"), "INFO": QColor("#9cdcfe"), "NOTICE": QColor("#4ec9b0"),
                "WARNING": QColor("#e5c07b"), "ERROR": QColor("#f48771"), "CRITICAL": QColor("#ff5555"),
                "ALERT": QColor("#ff5555"), "EMERGENCY": QColor("#ff5555")}
    return {"DEBUG": QColor("#757575"), "INFO": QColor("#1565c0"), "NOTICE": QColor("#00796b"),
            "WARNING": QColor("#b26a00"), "ERROR": QColor("#c62828"), "CRITICAL": QColor("#b71c1c"),
            "ALERT": QColor("#b71c1c"), "EMERGENCY": QColor("#b71c1c")}


def v3_colours() -> tuple[QColor, QColor]:
    """Background and foreground of a v3 migration row: a violet that no level uses."""
    if is_dark():
        return QColor("#3b2a5c"), QColor("#d7c4ff")
    return QColor("#ede4ff"), QColor("#4a2a8a")


class _RowLooks:
    """The colours and icons of the rows, for the palette in use."""

    def __init__(self) -> None:
        self.colours = _level_colours()
        self.v3_bg, self.v3_fg = v3_colours()
        self.v3_icon = standard_icon("SP_ArrowUp")
        self.icons = {"WARNING": standard_icon("SP_MessageBoxWarning"),
                      "ERROR": standard_icon("SP_MessageBoxCritical"),
                      "INFO": standard_icon("SP_MessageBoxInformation")}


class LogModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None, limit: int = 10_000) -> None:
        super().__init__(parent)
        self.rows: list[LogRow] = []
        self._limit = limit
        self._looks: _RowLooks | None = None  # made for the first row shown, again after a palette change

    def refresh_colours(self) -> None:
        self._looks = None
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def _row_looks(self) -> _RowLooks:
        if self._looks is None:
            self._looks = _RowLooks()
        return self._looks

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == 0:
                return row.time.strftime("%H:%M:%S.%f")[:-3]
            value = (row.time, row.level, row.connection, row.code, row.method, row.request_id, row.message)[col]
            return value
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.is_v3_warning:
                return self._row_looks().v3_fg
            if col == 1 or level_rank(row.level) >= level_rank("WARNING"):
                return self._row_looks().colours.get(row.level)
        if role == Qt.ItemDataRole.BackgroundRole and row.is_v3_warning:
            return self._row_looks().v3_bg
        if role == Qt.ItemDataRole.DecorationRole and col == 1:
            looks = self._row_looks()
            return looks.v3_icon if row.is_v3_warning else looks.icons.get(row.level)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def append(self, row: LogRow) -> None:
        if len(self.rows) >= self._limit:
            drop = len(self.rows) - self._limit + 1
            self.beginRemoveRows(QModelIndex(), 0, drop - 1)
            del self.rows[:drop]
            self.endRemoveRows()
        n = len(self.rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self.rows.append(row)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows.clear()
        self.endResetModel()


class LevelFilter(QSortFilterProxyModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._min_rank = 0

    def set_min_level(self, name: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10; invalidateRowsFilter() is deprecated there
            self.beginFilterChange()
            self._min_rank = level_rank(name)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._min_rank = level_rank(name)
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, LogModel)
        row = model.rows[source_row]
        return row.is_v3_warning or level_rank(row.level) >= self._min_rank


class V3Banner(QFrame):
    """Shows the latest v3 migration warning with a button that opens the migration to v3."""

    switch_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("v3Banner")
        self._method = ""
        self.icon = QLabel(self)
        self.icon.setPixmap(standard_icon("SP_ArrowUp").pixmap(16, 16))
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.button = QPushButton("Migrate to REST v3 (Ctrl+Shift+M)", self)
        self.button.setIcon(standard_icon("SP_ArrowForward"))
        self.button.setToolTip("Open the v3 form of the request beside it, send it and compare the answers")
        self.button.clicked.connect(lambda: self.switch_requested.emit(self._method))
        self.close_button = QToolButton(self)
        self.close_button.setIcon(standard_icon("SP_TitleBarCloseButton"))
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(self.close_button)
        self.apply_palette()
        self.hide()

    @property
    def method(self) -> str:
        return self._method

    def apply_palette(self) -> None:
        bg, fg = v3_colours()
        self.setStyleSheet(
            f"#v3Banner {{ background: {bg.name()}; border: 1px solid {fg.name()}; border-radius: 4px; }}"
            f"#v3Banner QLabel {{ color: {fg.name()}; }}"
        )

    def show_warning(self, row: LogRow) -> None:
        self._method = row.method
        self.label.setText(f"<b>REST v3</b> — {row.message}")
        self.show()


class LogPane(QWidget):
    """Table of log records with a level filter, copy, clear and the v3 banner."""

    switch_to_v3_requested = Signal(str)
    _record_arrived = Signal(object)  # marshals records from any thread onto the UI thread

    def __init__(self, parent: QWidget | None = None, secrets: Callable[[], Iterable[str]] | None = None) -> None:
        super().__init__(parent)
        self._secrets = secrets or (lambda: ())
        self.model = LogModel(self)
        self.proxy = LevelFilter(self)
        self.proxy.setSourceModel(self.model)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((90, 95, 110, 200, 150, 140)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._double_clicked)

        self.level_combo = QComboBox(self)
        self.level_combo.addItems(LEVELS[:5])
        self.level_combo.setCurrentText("DEBUG")
        self.level_combo.setToolTip("Show records of this level and above (v3 warnings always show)")
        self.level_combo.currentTextChanged.connect(self.proxy.set_min_level)

        self.copy_action = QAction(standard_icon("SP_FileIcon"), "Copy", self)
        self.copy_action.setShortcut("Ctrl+C")
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.table.addAction(self.copy_action)
        self._menu_method = ""
        self._menu: QMenu | None = None  # the context menu, made when first asked for
        self.switch_action = QAction("Migrate to REST v3", self)
        self.switch_action.triggered.connect(lambda: self.switch_to_v3_requested.emit(self._menu_method))
        copy_button = QToolButton(self)
        copy_button.setDefaultAction(self.copy_action)
        copy_button.setToolTip("Copy the selected records (all shown records if none is selected)")
        clear_button = QToolButton(self)
        clear_button.setIcon(standard_icon("SP_DialogResetButton"))
        clear_button.setToolTip("Clear the log")
        clear_button.clicked.connect(self.model.clear)
        self.count_label = QLabel(self)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Level ≥", self))
        bar.addWidget(self.level_combo)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(copy_button)
        bar.addWidget(clear_button)

        self._banner: V3Banner | None = None  # made with the first v3 warning (hidden until then)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

        self._record_arrived.connect(self._append_record, Qt.ConnectionType.AutoConnection)
        self.model.rowsInserted.connect(self._rows_inserted)
        self.model.modelReset.connect(self._update_count)

    @property
    def banner(self) -> V3Banner:
        """The v3 migration banner above the table (made on first use; hidden until a v3 warning comes)."""
        if self._banner is None:
            self._banner = V3Banner(self)
            self._banner.switch_requested.connect(self.switch_to_v3_requested)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.table), self._banner)
        return self._banner

    def hide_banner(self) -> None:
        if self._banner is not None:
            self._banner.hide()

    @property
    def menu(self) -> QMenu:
        """The table's context menu (made on first use)."""
        if self._menu is None:
            self.switch_action.setIcon(standard_icon("SP_ArrowForward"))
            self._menu = QMenu(self)
            self._menu.addAction(self.copy_action)
            self._menu.addAction(self.switch_action)
        return self._menu

    # --- feeding ----------------------------------------------------------------------------------
    def on_record(self, record: Any) -> None:
        """LogBus subscriber: safe to call from any thread."""
        with contextlib.suppress(RuntimeError):  # the pane is gone (window closed); the record has no reader
            self._record_arrived.emit(record)

    def _append_record(self, record: Any) -> None:
        row = LogRow.from_record(record, tuple(s for s in self._secrets() if s))
        self.model.append(row)
        if row.is_v3_warning:
            self.banner.show_warning(row)

    def _rows_inserted(self) -> None:
        self._update_count()
        bar = self.table.verticalScrollBar()
        if bar.value() >= bar.maximum() - 2:
            self.table.scrollToBottom()

    def _update_count(self) -> None:
        self.count_label.setText(f"{len(self.model.rows)} records")

    def apply_palette(self) -> None:
        self.model.refresh_colours()
        if self._banner is not None:
            self._banner.apply_palette()

    # --- reading ----------------------------------------------------------------------------------
    def visible_rows(self) -> list[LogRow]:
        return [self.proxy.data(self.proxy.index(r, 0), Qt.ItemDataRole.UserRole)
                for r in range(self.proxy.rowCount())]

    def selected_rows(self) -> list[LogRow]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.proxy.data(self.proxy.index(r, 0), Qt.ItemDataRole.UserRole) for r in rows]

    def copy_selection(self) -> None:
        rows = self.selected_rows() or self.visible_rows()
        QApplication.clipboard().setText("\n".join(row.as_text() for row in rows))

    def _row_at(self, index: QModelIndex) -> LogRow | None:
        return self.proxy.data(self.proxy.index(index.row(), 0), Qt.ItemDataRole.UserRole)

    def _double_clicked(self, index: QModelIndex) -> None:
        row = self._row_at(index)
        if row is not None and row.is_v3_warning:
            self.switch_to_v3_requested.emit(row.method)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        row = self._row_at(index) if index.isValid() else None
        self._menu_method = row.method if row is not None and row.is_v3_warning else ""
        self.switch_action.setText(f"Migrate {self._menu_method} to REST v3")
        self.switch_action.setVisible(bool(self._menu_method))
        # One menu, reused: popup() rather than exec() (no nested event loop) and nothing to delete afterwards.
        self.menu.popup(self.table.viewport().mapToGlobal(pos))
