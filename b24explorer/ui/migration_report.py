"""The REST v3 migration report of a connection: the methods its history called over v2 that the portal offers in
v3, how often, and whether their recorded params translate cleanly (``core.migration.report_for_connection``).

Double-clicking a method (or "Migrate") opens its latest recorded params in the migration view.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..core import migration
from .qt import (
    QAbstractItemView,
    QBrush,
    QColor,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QModelIndex,
    QPushButton,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)

COLUMNS = ("method", "v2 calls", "translate cleanly", "state", "what does not translate")


def usage_state(usage: migration.MethodUsage) -> str:
    if not usage.has_rule:
        return "no translation rule yet"
    if usage.translates_cleanly:
        return "ready"
    return "needs changes"


class MigrationReportDialog(QDialog):
    open_method = Signal(str, object)  # method, params of its example call

    def __init__(self, connection_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("migrationReportDialog")
        self.setWindowTitle(f"REST v3 migration report — {connection_name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.report: migration.MigrationReport | None = None
        self.summary = QLabel("Reading the history…", self)
        self.summary.setWordWrap(True)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().resizeSection(0, 200)
        self.table.doubleClicked.connect(self._activated)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.migrate_button = QPushButton("Migrate", self)
        self.migrate_button.setToolTip("Open the method's latest recorded params in the migration view")
        self.migrate_button.setEnabled(False)
        self.migrate_button.clicked.connect(lambda: self._activated(self.table.currentIndex()))
        buttons.addButton(self.migrate_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(900, 420)

    def show_failure(self, text: str) -> None:
        self.summary.setText(f"<span style='color:#c62828'>The report could not be made: {text}</span>")

    def show_report(self, report: migration.MigrationReport) -> None:
        self.report = report
        self.model.removeRows(0, self.model.rowCount())
        for usage in report.methods:
            cells = [usage.method, str(usage.calls), f"{usage.clean} of {usage.calls}", usage_state(usage),
                     "; ".join(usage.reasons)]
            items = [QStandardItem(text) for text in cells]
            last = dt.datetime.fromtimestamp(usage.last_called).strftime("%Y-%m-%d %H:%M")
            items[0].setToolTip(f"last called {last}")
            if not usage.translates_cleanly:
                for item in items:
                    item.setForeground(QBrush(QColor("#b26a00")))
            self.model.appendRow(items)
        self.migrate_button.setEnabled(bool(report.methods))
        if report.methods:
            self.table.selectRow(0)
        self.summary.setText(
            f"{report.scanned} REST v2 calls in the history; {len(report.methods)} methods the portal also offers "
            f"in REST v3, {len(report.ready)} ready to migrate as they are.")

    def _activated(self, index: QModelIndex) -> None:
        if self.report is None or not index.isValid() or index.row() >= len(self.report.methods):
            return
        usage = self.report.methods[index.row()]
        if usage.has_rule:
            self.open_method.emit(usage.method, usage.example)
            self.accept()

    def rows(self) -> list[list[Any]]:
        return [[self.model.item(r, c).text() for c in range(len(COLUMNS))] for r in range(self.model.rowCount())]
