"""The history panel: every request sent, searchable, re-openable and re-sendable; saved requests by name.

History tab: search over method, params text and error code (``core.history`` does the matching), "this
connection only" and "errors only" filters, a details pane, and Open / Send again / Save as… / Delete / Clear.
Saved tab: named requests grouped per connection. Every database access runs on the store's worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.history import HistoryEntry, HistoryStore, SavedRequest, method_label
from .qt import (
    QAbstractItemView,
    QCheckBox,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QTabWidget,
    QTimer,
    QTreeView,
    QVBoxLayout,
    QWidget,
    Signal,
    monospace_font,
    shortcut,
)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW_BYTES = 4_000


@dataclass(frozen=True)
class StoredRequest:
    """A request taken from the history or the saved list, ready to load into an editor or send."""

    connection: str  # the connection's id
    kind: str  # call | batch | list
    method: str
    api: int
    params: Any
    request_id: str = ""
    name: str = ""
    connection_name: str = ""  # its name when the request was recorded or saved
    entry_id: int | None = None  # the history row it came from (its recorded answer), None for a saved one

    @classmethod
    def from_entry(cls, entry: HistoryEntry) -> StoredRequest:
        return cls(entry.connection, entry.kind, entry.method, entry.api, entry.params_value(),
                   entry.request_id or "", connection_name=entry.connection_name, entry_id=entry.id)

    @classmethod
    def from_saved(cls, saved: SavedRequest) -> StoredRequest:
        try:
            params = json.loads(saved.params)
        except ValueError:
            params = {}
        kind = getattr(saved, "kind", "")
        if kind not in ("call", "batch", "list"):  # saved before requests kept their kind
            kind = "batch" if saved.method == "batch" and isinstance(params, dict) and "cmd" in params else "call"
        return cls(saved.connection, kind, saved.method, saved.api, params, name=saved.name,
                   connection_name=saved.connection_name)


def _when(timestamp: float) -> str:
    """Today's requests by time only; older ones with their date."""
    from datetime import datetime

    moment = datetime.fromtimestamp(timestamp)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""


def _loop_not_running(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and "no running event loop" in str(exc)


class HistoryPanel(QWidget):
    """The History dock's content."""

    # Narrow enough for a side dock (the columns but Method fit their contents, Method takes the rest): size,
    # request id, params and the answer are in the tooltip and the details pane.
    COLUMNS = ("Time", "Connection", "Method", "API", "Status", "Duration")
    METHOD_COLUMN = 2
    STATUS_COLUMN = 4
    CAPPED_COLUMNS: ClassVar[dict[int, int]] = {1: 110, 4: 90}  # Connection, Status: cut (tooltip: whole)
    refreshed = Signal(int)  # rows shown
    notice = Signal(str)

    def __init__(
        self,
        store: HistoryStore,
        *,
        on_open: Callable[[StoredRequest], Any] | None = None,
        on_send: Callable[[StoredRequest], Any] | None = None,
        on_copy_as: Callable[[StoredRequest, str], Any] | None = None,
        copy_formats: dict[str, str] | None = None,
        current_connection: Callable[[], str] | None = None,
        current_request: Callable[[], StoredRequest | None] | None = None,
        secrets: Callable[[], Iterable[str]] | None = None,
        name_of: Callable[[str], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``current_connection``: the id of the window's connection; ``name_of``: a connection's name by its id
        ("" when it is gone — then the name a row was recorded under is shown)."""
        super().__init__(parent)
        self.store = store
        self._on_open = on_open
        self._on_send = on_send
        self._on_copy_as = on_copy_as
        self._copy_formats = dict(copy_formats or {})  # format → menu label
        self._current_connection = current_connection or (lambda: "")
        self._current_request = current_request
        self._secrets = secrets or (lambda: ())
        self._name_of = name_of or (lambda _conn_id: "")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._entries: dict[int, Any] = {}
        self._saved: dict[int, Any] = {}

        # --- history tab
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("historySearch")
        self.search_edit.setPlaceholderText("Search method, params or error code…")
        self.search_edit.setClearButtonEnabled(True)
        self.this_connection_box = QCheckBox("This connection", self)
        self.errors_box = QCheckBox("Errors only", self)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.schedule_refresh)
        self.search_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.this_connection_box.toggled.connect(lambda _on: self.schedule_refresh())
        self.errors_box.toggled.connect(lambda _on: self.schedule_refresh())

        self.model = QStandardItemModel(0, len(self.COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        for column in range(len(self.COLUMNS)):
            mode = (QHeaderView.ResizeMode.Stretch if column == self.METHOD_COLUMN
                    else QHeaderView.ResizeMode.Interactive if column in self.CAPPED_COLUMNS
                    else QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(column, mode)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.activated.connect(lambda _i: self.open_selected())  # double-click or Enter
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        delete = shortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._show_details())

        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setFont(monospace_font())
        self.details.setPlaceholderText("Select a request to see its params and the start of its answer.")

        self.open_button = QPushButton("Open", self)
        self.open_button.setToolTip("Load the request into the editor (double-click or Enter)")
        self.open_button.clicked.connect(self.open_selected)
        self.send_button = QPushButton("Send again", self)
        self.send_button.setToolTip("Load the request into the editor and send it")
        self.send_button.clicked.connect(self.send_selected)
        self.save_name_edit = QLineEdit(self)
        self.save_name_edit.setPlaceholderText("Name, to keep the selected request in Saved")
        self.save_button = QPushButton("Save as", self)
        self.save_button.setToolTip("Keep the selected request under a name (Saved tab)")
        self.save_button.clicked.connect(self.save_selected)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button = QPushButton("Clear…", self)
        self.clear_button.setToolTip("Delete every history entry (saved requests stay)")
        self.clear_button.clicked.connect(lambda: self.clear_history(confirm=True))

        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 1)
        filters.addWidget(self.this_connection_box)
        filters.addWidget(self.errors_box)
        actions = QHBoxLayout()
        for widget in (self.open_button, self.send_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        for widget in (self.delete_button, self.clear_button):
            actions.addWidget(widget)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_name_edit, 1)
        save_row.addWidget(self.save_button)

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        history_tab = QWidget(self)
        history_layout = QVBoxLayout(history_tab)
        history_layout.setContentsMargins(4, 4, 4, 4)
        history_layout.addLayout(filters)
        history_layout.addWidget(split, 1)
        history_layout.addLayout(actions)
        history_layout.addLayout(save_row)

        # --- saved tab
        self.saved_model = QStandardItemModel(0, 3, self)
        self.saved_model.setHorizontalHeaderLabels(["Name", "Method", "API"])
        self.saved_tree = QTreeView(self)
        self.saved_tree.setObjectName("savedTree")
        self.saved_tree.setModel(self.saved_model)
        self.saved_tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.saved_tree.activated.connect(lambda _i: self.open_saved())
        self.saved_name_edit = QLineEdit(self)
        self.saved_name_edit.setPlaceholderText("name for the current request")
        self.save_current_button = QPushButton("Save current request", self)
        self.save_current_button.clicked.connect(self.save_current)
        self.saved_open_button = QPushButton("Open", self)
        self.saved_open_button.clicked.connect(self.open_saved)
        self.saved_send_button = QPushButton("Send", self)
        self.saved_send_button.clicked.connect(self.send_saved)
        self.saved_delete_button = QPushButton("Delete", self)
        self.saved_delete_button.clicked.connect(self.delete_saved)
        saved_actions = QHBoxLayout()
        saved_actions.addWidget(self.saved_name_edit, 1)
        saved_actions.addWidget(self.save_current_button)
        saved_buttons = QHBoxLayout()
        for widget in (self.saved_open_button, self.saved_send_button):
            saved_buttons.addWidget(widget)
        saved_buttons.addStretch(1)
        saved_buttons.addWidget(self.saved_delete_button)
        saved_tab = QWidget(self)
        saved_layout = QVBoxLayout(saved_tab)
        saved_layout.setContentsMargins(4, 4, 4, 4)
        saved_layout.addLayout(saved_actions)
        saved_layout.addWidget(self.saved_tree, 1)
        saved_layout.addLayout(saved_buttons)

        self.status = QLabel(self)
        self.status.setObjectName("historyStatus")
        self.status.setWordWrap(True)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(history_tab, "History")
        self.tabs.addTab(saved_tab, "Saved")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

    # --- async plumbing ----------------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _fail(self, what: str, exc: BaseException) -> None:
        self._say(f"{what} failed: {exc}", error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")

    def _show_notices(self) -> None:
        for text in self.store.notices[:]:
            self._say(text, error=True)
            self.notice.emit(text)
        with contextlib.suppress(AttributeError):
            self.store.notices.clear()

    # --- loading -----------------------------------------------------------------------------------------------

    def schedule_refresh(self) -> asyncio.Task[Any]:
        return self._spawn(self.refresh())

    async def refresh(self) -> int:
        """Reloads the history list (with the current search and filters) and the saved requests."""
        text = self.search_edit.text().strip()
        connection = self._current_connection() if self.this_connection_box.isChecked() else None
        try:
            entries = await self.store.asearch(text, connection=connection or None,
                                               errors_only=self.errors_box.isChecked(), limit=500)
            saved = await self.store.asaved_requests()
        except RuntimeError as exc:
            if _loop_not_running(exc):  # stepped while the event loop is between runs: simply try again soon
                QTimer.singleShot(100, self.schedule_refresh)
                return 0
            self._fail("Reading the history", exc)
            return 0
        except Exception as exc:  # a broken database is the store's to replace; never the window's crash
            self._fail("Reading the history", exc)
            return 0
        finally:
            self._show_notices()
        self._fill(entries)
        self._fill_saved(saved)
        self.refreshed.emit(len(entries))
        return len(entries)

    def _fill(self, entries: list[Any]) -> None:
        selected = self.selected_id()
        self.model.removeRows(0, self.model.rowCount())
        self._entries = {entry.id: entry for entry in entries}
        for entry in entries:
            status = entry.error_code or ("" if entry.status is None else str(entry.status))
            method = method_label(entry.kind, entry.method, entry.params)
            cells = (
                _when(entry.timestamp), self.connection_label(entry), method, f"v{entry.api}", status,
                "" if entry.duration is None else f"{entry.duration:.2f} s",
            )
            items = [QStandardItem(text) for text in cells]
            items[0].setData(entry.id, ID_ROLE)
            tip = (f"{entry.when.astimezone():%Y-%m-%d %H:%M:%S} · {self.connection_label(entry)} · REST v{entry.api}"
                   + (f" · HTTP {entry.status}" if entry.status is not None else "")
                   + (f" · {_size(entry.size)}" if entry.size is not None else ""))
            for item in items:
                item.setToolTip(tip)
            if entry.is_error:
                items[self.STATUS_COLUMN].setForeground(Qt.GlobalColor.red)
            if entry.api == 3:
                items[3].setForeground(QColor("#7e57c2"))
            self.model.appendRow(items)
        for column, cap in self.CAPPED_COLUMNS.items():
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), cap))
        if selected is not None:
            self.select_id(selected)

    def _fill_saved(self, groups: dict[str, list[Any]]) -> None:
        self.saved_model.removeRows(0, self.saved_model.rowCount())
        self._saved = {}
        for connection, items in groups.items():
            group = QStandardItem(self.connection_label(items[0]))
            group.setData(connection, ID_ROLE)
            group.setSelectable(False)
            for saved in items:
                self._saved[saved.id] = saved
                name = QStandardItem(saved.name)
                name.setData(saved.id, ID_ROLE)
                group.appendRow([name, QStandardItem(saved.method), QStandardItem(f"v{saved.api}")])
            self.saved_model.appendRow([group, QStandardItem(""), QStandardItem("")])
        self.saved_tree.expandAll()

    # --- selection ---------------------------------------------------------------------------------------------

    def row_ids(self) -> list[int]:
        return [self.model.index(row, 0).data(ID_ROLE) for row in range(self.model.rowCount())]

    def select_id(self, entry_id: int) -> bool:
        for row, value in enumerate(self.row_ids()):
            if value == entry_id:
                self.table.selectRow(row)
                self.table.setCurrentIndex(self.model.index(row, 0))
                return True
        return False

    def selected_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.index(index.row(), 0).data(ID_ROLE)

    def selected_saved_id(self) -> int | None:
        index = self.saved_tree.currentIndex()
        if not index.isValid():
            return None
        value = index.sibling(index.row(), 0).data(ID_ROLE)
        return int(value) if value is not None else None

    def connection_label(self, row: HistoryEntry | SavedRequest) -> str:
        """How a row names its connection: its name now, else the one it was recorded under."""
        return self._name_of(row.connection) or row.connection_name or row.connection

    def select_saved(self, name: str, connection: str | None = None) -> bool:
        """Select a saved request by name (``connection``: its connection's id or name)."""
        for row in range(self.saved_model.rowCount()):
            group = self.saved_model.item(row, 0)
            if connection is not None and connection not in (group.text(), group.data(ID_ROLE)):
                continue
            for child in range(group.rowCount()):
                item = group.child(child, 0)
                if item.text() == name:
                    self.saved_tree.setCurrentIndex(item.index())
                    return True
        return False

    def _show_details(self) -> None:
        entry_id = self.selected_id()
        if entry_id is None:
            self.details.clear()
            return
        self._spawn(self._load_details(entry_id))

    async def _load_details(self, entry_id: int) -> None:
        try:
            entry = await self.store.aget(entry_id)
        except Exception as exc:
            self._fail("Reading the entry", exc)
            return
        if entry is None or entry_id != self.selected_id():
            return
        params = json.dumps(entry.params_value(), ensure_ascii=False, indent=2)
        facts = [entry.method, f"REST v{entry.api}", self.connection_label(entry),
                 f"{entry.when.astimezone():%Y-%m-%d %H:%M:%S}"]
        if entry.status is not None:
            facts.append(f"HTTP {entry.status}")
        if entry.size is not None:
            facts.append(_size(entry.size))
        lines = [" · ".join(facts)]
        if entry.request_id:
            lines.append(f"request id {entry.request_id}")
        lines += ["", "params:", params]
        if entry.response:
            body = entry.response[:PREVIEW_BYTES].decode("utf-8", "replace")
            more = len(entry.response) > PREVIEW_BYTES or entry.response_truncated
            lines += ["", "answer:", body + (" …" if more else "")]
        self.details.setPlainText("\n".join(lines))

    # --- actions on history entries ---------------------------------------------------------------------------

    async def selected_request(self) -> StoredRequest | None:
        entry_id = self.selected_id()
        if entry_id is None:
            self._say("Select a request first.")
            return None
        entry = self._entries.get(entry_id) or await self.store.aget(entry_id)
        return StoredRequest.from_entry(entry) if entry is not None else None

    def open_selected(self) -> asyncio.Task[Any]:
        return self._spawn(self._deliver(self.selected_request(), self._on_open, "Opened"))

    def copy_selected_as(self, fmt: str) -> asyncio.Task[Any]:
        """The selected request as code (curl, python, …), to the clipboard; the secret stays a placeholder."""
        callback = None
        if self._on_copy_as is not None:
            on_copy_as = self._on_copy_as

            def callback(request: StoredRequest) -> Any:
                return on_copy_as(request, fmt)

        return self._spawn(self._deliver(self.selected_request(), callback, f"Copied as {fmt}"))

    def _context_menu(self, pos: Any) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction("Open", self.open_selected)
        menu.addAction("Send again", self.send_selected)
        if self._on_copy_as is not None and self._copy_formats:
            copy_menu = menu.addMenu("Copy as")
            for fmt, label in self._copy_formats.items():
                copy_menu.addAction(label, functools.partial(self.copy_selected_as, fmt))
        menu.addSeparator()
        menu.addAction("Delete", self.delete_selected)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def send_selected(self) -> asyncio.Task[Any]:
        return self._spawn(self._deliver(self.selected_request(), self._on_send, "Sent again"))

    async def _deliver(self, request_coro: Any, callback: Callable[[StoredRequest], Any] | None, done: str) -> Any:
        request = await request_coro
        if request is None or callback is None:
            return None
        try:
            outcome = callback(request)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:
            self._fail(done, exc)
            return None
        self._say(f"{done}: {request.method}" + (f" ({request.name})" if request.name else ""))
        return outcome

    def delete_selected(self) -> asyncio.Task[Any]:
        async def run() -> None:
            entry_id = self.selected_id()
            if entry_id is None:
                self._say("Select a request first.")
                return
            try:
                await self.store.adelete(entry_id)
            except Exception as exc:
                self._fail("Deleting", exc)
                return
            await self.refresh()
            self._say("Deleted.")

        return self._spawn(run())

    def clear_history(self, *, confirm: bool = True) -> asyncio.Task[Any] | None:
        if confirm:
            answer = QMessageBox.question(
                self, "Clear history", "Delete every request in the history? Saved requests stay.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None

        async def run() -> None:
            try:
                count = await self.store.aclear()
            except Exception as exc:
                self._fail("Clearing", exc)
                return
            await self.refresh()
            self._say(f"History cleared ({count} request{'' if count == 1 else 's'}).")

        return self._spawn(run())

    def save_selected(self) -> asyncio.Task[Any]:
        async def run() -> None:
            request = await self.selected_request()
            if request is not None:
                await self._save(request, self.save_name_edit.text())

        return self._spawn(run())

    def save_current(self) -> asyncio.Task[Any] | None:
        request = self._current_request() if self._current_request is not None else None
        if request is None:
            self._say("There is no request in the editor to save.")
            return None
        return self._spawn(self._save(request, self.saved_name_edit.text()))

    async def _save(self, request: StoredRequest, name: str) -> None:
        name = name.strip()
        if not name:
            self._say("Give the request a name first.", error=True)
            return
        params = request.params
        method = request.method
        if request.kind == "batch":
            method = "batch"
        try:
            await self.store.asave_request(request.connection, name, method, params, request.api,
                                           tuple(self._secrets()), kind=request.kind,
                                           connection_name=self._name_of(request.connection)
                                           or request.connection_name)
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        except Exception as exc:
            self._fail("Saving", exc)
            return
        await self.refresh()
        self.tabs.setCurrentIndex(1)
        self.select_saved(name, request.connection)
        self._say(f"Saved as “{name}” for {self._name_of(request.connection) or request.connection}.")

    # --- actions on saved requests -----------------------------------------------------------------------------

    def _saved_request(self) -> StoredRequest | None:
        saved_id = self.selected_saved_id()
        saved = self._saved.get(saved_id) if saved_id is not None else None
        if saved is None:
            self._say("Select a saved request first.")
            return None
        return StoredRequest.from_saved(saved)

    async def _ready(self, request: StoredRequest | None) -> StoredRequest | None:
        return request

    def open_saved(self) -> asyncio.Task[Any]:
        return self._spawn(self._deliver(self._ready(self._saved_request()), self._on_open, "Opened"))

    def send_saved(self) -> asyncio.Task[Any]:
        return self._spawn(self._deliver(self._ready(self._saved_request()), self._on_send, "Sent"))

    def delete_saved(self) -> asyncio.Task[Any]:
        async def run() -> None:
            saved_id = self.selected_saved_id()
            if saved_id is None:
                self._say("Select a saved request first.")
                return
            try:
                await self.store.adelete_saved(saved_id)
            except Exception as exc:
                self._fail("Deleting", exc)
                return
            await self.refresh()
            self._say("Saved request deleted.")

        return self._spawn(run())

    def saved_names(self) -> dict[str, list[str]]:
        """Saved request names per connection, as shown."""
        out: dict[str, list[str]] = {}
        for row in range(self.saved_model.rowCount()):
            group = self.saved_model.item(row, 0)
            out[group.text()] = [group.child(i, 0).text() for i in range(group.rowCount())]
        return out
