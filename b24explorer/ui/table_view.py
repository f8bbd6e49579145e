"""The Table view: an array of records of the answer (:class:`~b24explorer.core.records.RecordTable`) as rows and
columns — columns from the records' keys, sorted by a header click (in slices: the window stays live), the whole
array exported to CSV or NDJSON, and list-all pages streamed in as they arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b24explorer.core import lazyjson, records

from .job_timer import JobTimer
from .qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from .qt import QPersistentModelIndex

EXPORTS = {"csv": ("CSV", "CSV files (*.csv)"), "ndjson": ("NDJSON", "NDJSON files (*.ndjson *.jsonl)")}


class RecordTableModel(QAbstractTableModel):
    """A :class:`~b24explorer.core.records.RecordTable` for a QTableView: rows are read when painted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = records.RecordTable([])
        self._rows = 0
        self._columns = 0

    def set_table(self, table: records.RecordTable) -> None:
        self.beginResetModel()
        self.table = table
        self._rows = len(table)
        self._columns = len(table.columns)
        self.endResetModel()

    def sync(self) -> None:
        """Show the rows and columns the table gained (list-all pages, keys found later)."""
        columns = len(self.table.columns)
        if columns > self._columns:
            self.beginInsertColumns(QModelIndex(), self._columns, columns - 1)
            self._columns = columns
            self.endInsertColumns()
        rows = len(self.table)
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = rows
            self.endInsertRows()

    def reordered(self) -> None:
        """The table's order changed (a sort finished)."""
        self.layoutAboutToBeChanged.emit()
        self.layoutChanged.emit()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._columns

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.table.columns[section] if section < len(self.table.columns) else None
        return section + 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        text = records.cell_text(self.table.cell(index.row(), self.table.columns[index.column()]))
        if role == Qt.ItemDataRole.DisplayRole and len(text) > 300:
            return text[:299] + "…"
        return text


class TableView(QWidget):
    """Pick an array of records of the answer, sort it, export it. ``exported(path, rows)`` after an export."""

    exported = Signal(str, int)
    sorted = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tableView")
        self._root: Any = None
        self.model = RecordTableModel(self)
        self.sorter = JobTimer(self)
        self.sorter.finished.connect(lambda _r: self._sorted())
        self.sorter.failed.connect(self._not_sorted)
        self.exporter = JobTimer(self)
        self._export_path = ""
        self.exporter.failed.connect(self._not_exported)
        self.exporter.finished.connect(lambda rows: self._exported(self._export_path, int(rows)))
        self._sorting: tuple[str, bool] = ("", False)

        self.array_combo = QComboBox(self)
        self.array_combo.setToolTip("The array of records shown (a JSON Pointer into the answer)")
        self.array_combo.setMinimumWidth(160)
        self.array_combo.currentIndexChanged.connect(lambda _i: self._show_array())
        self.export_buttons = {}
        for kind, (label, _filter) in EXPORTS.items():
            button = QPushButton(f"Export {label}…", self)
            button.setToolTip(f"Every record of the array (not only the rows on screen) as {label}")
            button.clicked.connect(lambda _c=False, k=kind: self._ask_export(k))
            self.export_buttons[kind] = button
        self.status = QLabel("No array of records in this answer.", self)
        self.status.setObjectName("tableStatus")

        self.table = QTableView(self)
        self.table.setObjectName("recordTable")
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(130)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.sectionClicked.connect(self._header_clicked)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Array", self))
        bar.addWidget(self.array_combo)
        bar.addWidget(self.status, 1)
        for button in self.export_buttons.values():
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._set_exportable(False)

    # --- what is shown ----------------------------------------------------------------------------------------
    def show_value(self, root: Any) -> list[str]:
        """Show the answer's arrays of records (the first, nearest the top); returns their pointers."""
        self.sorter.cancel()
        self._root = root
        pointers = records.record_arrays(root) if root is not None else []
        self.array_combo.blockSignals(True)
        self.array_combo.clear()
        self.array_combo.addItems([p or "/" for p in pointers])
        self.array_combo.blockSignals(False)
        self._show_array()
        return pointers

    def begin_stream(self, title: str) -> None:
        """A list-all run starts: an empty table its pages go into (:meth:`extend`)."""
        self.sorter.cancel()
        self._root = None
        self.array_combo.blockSignals(True)
        self.array_combo.clear()
        self.array_combo.addItem(title)
        self.array_combo.blockSignals(False)
        self._use(records.RecordTable())
        self.status.setText("Waiting for the first page…")

    def extend(self, items: list[Any]) -> None:
        """Records of a list-all page, added at the end."""
        self.model.table.extend(items)
        self.model.sync()
        self._set_exportable(len(self.model.table) > 0)
        self.status.setText(f"{len(self.model.table):,} records, {len(self.model.table.columns)} columns")

    def _show_array(self) -> None:
        pointer = self.array_combo.currentText()
        if self._root is None or not pointer:
            self._use(records.RecordTable([]))
            self.status.setText("No array of records in this answer.")
            return
        array = self._root if pointer == "/" else lazyjson.at_pointer(self._root, pointer)
        self._use(records.RecordTable(array))
        self.status.setText(f"{len(array):,} records, {len(self.model.table.columns)} columns")

    def _use(self, table: records.RecordTable) -> None:
        self.model.set_table(table)
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self._set_exportable(len(table) > 0)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Columns as wide as their first rows need (measured on a few rows only: an answer may have 100,000),
        none wider than a third of the view."""
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(40)
        widest = max(120, self.table.viewport().width() // 3)
        for column in range(self.model.columnCount()):
            self.table.resizeColumnToContents(column)
            if self.table.columnWidth(column) > widest:
                self.table.setColumnWidth(column, widest)

    def _set_exportable(self, on: bool) -> None:
        for button in self.export_buttons.values():
            button.setEnabled(on)

    # --- sorting ----------------------------------------------------------------------------------------------
    def sort_by(self, column: str, descending: bool = False) -> None:
        """Sort by a column, in slices (the rows keep their order until it is done)."""
        table = self.model.table
        self.status.setText(f"Sorting {len(table):,} records by {column}…")
        self._sorting = (column, descending)
        self.sorter.start(table.sort_job(column, descending))

    def _header_clicked(self, section: int) -> None:
        table = self.model.table
        if section >= len(table.columns):
            return
        column = table.columns[section]
        descending = table.sorted_by == (column, False)
        self.sort_by(column, descending)

    def _not_sorted(self, message: str) -> None:
        self.status.setText(f"Not sorted: {message}")

    def _not_exported(self, message: str) -> None:
        self.status.setText(f"Not exported: {message}")

    def _sorted(self) -> None:
        column, descending = self._sorting
        self.model.reordered()
        section = self.model.table.columns.index(column)
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.table.horizontalHeader().setSortIndicator(section, order)
        self.status.setText(f"{len(self.model.table):,} records, sorted by {column}"
                            f"{' (descending)' if descending else ''}")
        self.sorted.emit(column, descending)

    # --- export -----------------------------------------------------------------------------------------------
    def _ask_export(self, kind: str) -> None:
        label, name_filter = EXPORTS[kind]
        dialog = QFileDialog(self, f"Export the records as {label}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(name_filter)
        dialog.setDefaultSuffix(kind)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.export(path, kind))
        dialog.open()  # not exec(): no nested event loop under the asyncio one

    def export(self, path: str, kind: str) -> None:
        """Write every record of the array (in the order shown) to ``path``, in slices."""
        table = self.model.table
        job = table.export_csv(path) if kind == "csv" else table.export_ndjson(path)
        self._export_path = path
        self.status.setText(f"Exporting {len(table):,} records…")
        self.exporter.start(job)

    def _exported(self, path: str, rows: int) -> None:
        self.status.setText(f"Exported {rows:,} records to {path}")
        self.exported.emit(path, rows)
