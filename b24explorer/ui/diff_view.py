"""The Diff view: two answers compared by path (:class:`~b24explorer.core.jsondiff.JsonDiff`) — added, removed and
changed values, arrays of records matched by ID — as a table that fills while the diff runs in slices, so a
30 MB answer never freezes the window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b24explorer.core import jsondiff

from .job_timer import JobTimer
from .qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QProgressBar,
    Qt,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
    is_dark,
)

if TYPE_CHECKING:
    from .qt import QPersistentModelIndex

COLUMNS = ("Change", "Path", "Left", "Right")
KIND_MARK = {"added": "+ added", "removed": "− removed", "changed": "~ changed"}


def kind_colours() -> dict[str, QColor]:
    if is_dark():
        return {"added": QColor("#1f3d26"), "removed": QColor("#4a1f1f"), "changed": QColor("#4a3f1a")}
    return {"added": QColor("#e3f6e5"), "removed": QColor("#fbe3e3"), "changed": QColor("#fff4d6")}


class DiffModel(QAbstractTableModel):
    """The rows a diff has found so far; :meth:`sync` adds the ones found since the last call."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diff: jsondiff.JsonDiff | None = None
        self._shown = 0
        self._colours = kind_colours()

    def set_diff(self, diff: jsondiff.JsonDiff | None) -> None:
        self.beginResetModel()
        self.diff = diff
        self._shown = 0
        self._colours = kind_colours()
        self.endResetModel()
        self.sync()

    def sync(self) -> None:
        found = len(self.diff.rows) if self.diff is not None else 0
        if found > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, found - 1)
            self._shown = found
            self.endInsertRows()

    def row(self, row: int) -> jsondiff.DiffRow:
        assert self.diff is not None
        return self.diff.rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.diff is None:
            return None
        row = self.diff.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return KIND_MARK[row.kind]
            if column == 1:
                return row.path_text
            return jsondiff.preview(row.left if column == 2 else row.right)
        if role == Qt.ItemDataRole.ToolTipRole and column >= 2:
            pointer = row.left_pointer if column == 2 else row.right_pointer
            return f"{pointer or '(absent)'}\n{jsondiff.preview(row.left if column == 2 else row.right, 2000)}"
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._colours[row.kind]
        return None


class DiffView(QWidget):
    """Compare two answers; ``compared(DiffSummary)`` once a diff is over."""

    compared = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diffView")
        self.model = DiffModel(self)
        self.runner = JobTimer(self)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.progressed.connect(self._progressed)
        self.left_label = QLabel("Left: —", self)
        self.right_label = QLabel("Right: —", self)
        for label in (self.left_label, self.right_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel("Pick two answers to compare.", self)
        self.summary.setObjectName("diffSummary")
        self.summary.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(140)
        self.progress.hide()
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Stop")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()

        self.table = QTableView(self)
        self.table.setObjectName("diffTable")
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((90, 300, 260)):
            header.resizeSection(column, width)

        self.tools = QHBoxLayout()  # the features that feed the view add their buttons here
        self.tools.setContentsMargins(0, 0, 0, 0)
        sides = QHBoxLayout()
        sides.addWidget(self.left_label, 1)
        sides.addWidget(self.right_label, 1)
        status = QHBoxLayout()
        status.addWidget(self.summary, 1)
        status.addWidget(self.progress)
        status.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self.tools)
        layout.addLayout(sides)
        layout.addLayout(status)
        layout.addWidget(self.table, 1)

    @property
    def running(self) -> bool:
        return self.runner.running

    def compare(self, left: Any, right: Any, left_label: str, right_label: str) -> jsondiff.JsonDiff:
        """Start comparing two answers (raw bytes, documents or values); rows show as they are found."""
        diff = jsondiff.JsonDiff(left, right)
        self.left_label.setText(f"Left: {left_label}")
        self.right_label.setText(f"Right: {right_label}")
        self.summary.setText("Comparing…")
        self.model.set_diff(diff)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.runner.start(diff.job(), after_slice=self.model.sync)
        return diff

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.model.sync()
            self._done(f"Stopped: {len(self.model.diff.rows) if self.model.diff else 0:,} differences so far.")

    def _progressed(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _finished(self, summary: jsondiff.DiffSummary) -> None:
        if summary.identical:
            text = "Identical: no difference."
        else:
            text = (f"{summary.total:,} differences: +{summary.added:,} added, −{summary.removed:,} removed, "
                    f"~{summary.changed:,} changed")
            if summary.truncated:
                text += f" (the first {summary.rows_kept:,} are listed)"
        self._done(text)
        self.compared.emit(summary)

    def _failed(self, message: str) -> None:
        self._done(f"<span style='color:#c62828'>Not compared: {message}</span>")

    def _done(self, text: str) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.summary.setText(text)

    def say(self, text: str) -> None:
        """A short notice in the summary line (what to pick next, why nothing was compared)."""
        self.summary.setText(text)
