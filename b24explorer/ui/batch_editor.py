"""Batch mode: up to 50 labelled commands in one request, the answer shown per command.

The editor takes a JSON map ``{"a": ["crm.deal.get", {"id": 1}], "b": ["crm.deal.list", {...}]}`` or a list
of such rows (or ``{"method": …, "params": …}`` objects, or the wire form ``{"cmd": …, "halt": …}``); later
commands may reference earlier ones with ``$result[a][…]``. More than 50 commands are refused before anything
is sent, with the count shown.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.batch_input import MAX_COMMANDS, BatchInputError, split_batch
from .json_highlighter import JsonHighlighter
from .params_editor import JsonTextEdit
from .qt import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QPushButton,
    QSplitter,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from .response_view import ResponseView

EXAMPLE = """{
  "deal": ["crm.deal.get", {"id": 1}],
  "same_company": ["crm.deal.list", {
      "filter": {"COMPANY_ID": "$result[deal][COMPANY_ID]"},
      "select": ["ID", "TITLE"]}]
}"""


@dataclass(frozen=True)
class BatchDraft:
    commands: dict[str, Any] | list[Any]
    halt: bool
    api: int

    @property
    def count(self) -> int:
        return len(self.commands)

    def wire_params(self) -> dict[str, Any]:
        """How history keeps a batch: the commands as written plus the halt flag."""
        return {"cmd": self.commands, "halt": self.halt}


def parse_batch_text(text: str) -> tuple[dict[str, Any] | list[Any], bool | None]:
    """Parses the editor's text into commands (and a halt flag when the wire form ``{"cmd", "halt"}`` is used)."""
    if not text.strip():
        raise BatchInputError("The batch is empty: write a JSON map of commands or a list")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BatchInputError(f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return split_batch(value)


def count_commands(text: str) -> int | None:
    """How many commands the text holds, or None while it is not valid JSON."""
    try:
        value = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None
    if isinstance(value, dict) and "cmd" in value and set(value) <= {"cmd", "halt"}:
        value = value["cmd"]
    return len(value) if isinstance(value, dict | list) else 0


def batch_tree(result: Any) -> dict[str, Any]:
    """The answer as a tree: one expandable node per command with its result or error, total, next and time."""
    from ..core.result import BASE_ERROR

    tree: dict[str, Any] = {}
    base = result.errors.get(BASE_ERROR)
    if base is not None:
        tree["batch error"] = {"error": base.code, "error_description": base.description, "status": base.status}
    for row in result.rows:
        node: dict[str, Any] = {"method": row.method}
        if row.error is not None:
            node["error"] = {"error": row.error.code, "error_description": row.error.description}
        elif not row.executed:
            node["not run"] = "an earlier command failed and halt is on" if base is None else "the batch failed"
        else:
            node["result"] = row.result
        if row.total or row.next is not None:
            node["total"] = row.total
            node["next"] = row.next
        if row.time is not None:
            node["time"] = row.time.to_dict()
        tree[str(row.key)] = node
    return tree


def _new_response_view() -> ResponseView:
    from .response_view import ResponseView

    return ResponseView()


def _row_status(row: Any) -> str:
    if row.error is not None:
        return str(row.error.code)
    return "ok" if row.executed else "not run"


async def resolve_client(provider: Callable[[], Any] | Any) -> Any:
    """The client of the current connection; the provider may be sync or async (the window's is async), or
    simply the client itself."""
    client = provider() if callable(provider) else provider
    if inspect.isawaitable(client):
        client = await client
    return client


class BatchEditor(QWidget):
    """The batch editor, its per-command summary table and the response tree below them."""

    finished = Signal(object)  # the core's BatchResult
    failed = Signal(str)
    busy_changed = Signal(bool)

    COLUMNS = ("Command", "Method", "Status", "Total", "Next", "Time, s")

    def __init__(
        self,
        client_provider: Callable[[], Any] | Any,
        response_view: ResponseView | None = None,
        *,
        on_sent: Callable[[BatchDraft, Any, BaseException | None, float], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client_provider = client_provider
        self.response_view = response_view if response_view is not None else _new_response_view()
        self._on_sent = on_sent
        self._task: asyncio.Task[Any] | None = None
        self.last_result: Any = None
        self.last_error: BaseException | None = None
        self.last_request: BatchDraft | None = None

        self.editor = JsonTextEdit(self)
        self.editor.setObjectName("batchEditor")
        self.editor.setPlaceholderText(EXAMPLE)
        self._highlighter = JsonHighlighter(self.editor.document())
        self.editor.textChanged.connect(self._update_count)

        self.halt_box = QCheckBox("Stop at the first error (halt)", self)
        self.halt_box.setChecked(True)
        self.api_combo = QComboBox(self)
        self.api_combo.addItem("REST v2", 2)
        self.api_combo.addItem("REST v3", 3)
        self.api_combo.setToolTip("v2: $result[label][…] references; v3: the array form, all-or-nothing")
        self.count_label = QLabel(self)
        self.count_label.setObjectName("batchCount")
        self.example_button = QPushButton("Example", self)
        self.example_button.setToolTip("Insert two commands, the second referencing the first")
        self.example_button.clicked.connect(lambda: self.set_text(EXAMPLE))
        self.send_button = QPushButton("Send batch", self)
        self.send_button.setToolTip("Send the batch (Ctrl+Enter in the window)")
        self.send_button.clicked.connect(self.send)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("batchStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.rows_model = QStandardItemModel(0, len(self.COLUMNS), self)
        self.rows_model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table = QTableView(self)
        self.table.setModel(self.rows_model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.clicked.connect(self._reveal_row)

        bar = QHBoxLayout()
        bar.addWidget(self.api_combo)
        bar.addWidget(self.halt_box)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.example_button)
        bar.addWidget(self.send_button)
        bar.addWidget(self.cancel_button)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(6, 6, 6, 0)
        top_layout.addWidget(QLabel("<b>Batch</b> — up to 50 commands; later ones may use $result[label][…]", top))
        top_layout.addWidget(self.editor, 1)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.status_label)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("batchSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.response_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 4)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([280, 160, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._update_count()

    # --- input -------------------------------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)

    def set_commands(self, commands: Any, *, halt: bool | None = None, api: int | None = None) -> None:
        """Loads commands (a map or list) into the editor, e.g. when a history entry is re-opened."""
        self.editor.setPlainText(json.dumps(commands, ensure_ascii=False, indent=2))
        if halt is not None:
            self.halt_box.setChecked(bool(halt))
        if api is not None:
            self.set_api(api)

    def add_command(self, method: str, params: Any = None) -> str:
        """Appends a command (e.g. the single-request editor's) and returns its label."""
        text = self.editor.source_text()
        try:
            current: Any = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise BatchInputError(
                f"Fix the batch first: invalid JSON at line {exc.lineno}, column {exc.colno}"
            ) from None
        wire = isinstance(current, dict) and "cmd" in current and set(current) <= {"cmd", "halt"}
        commands = current["cmd"] if wire else current
        if not isinstance(commands, dict | list):
            raise BatchInputError("The batch must be a JSON object or a list to add a command to it")
        if len(commands) >= MAX_COMMANDS:
            raise BatchInputError(f"The batch already has {MAX_COMMANDS} commands")
        row = [method, params if params is not None else {}]
        if isinstance(commands, list):
            commands.append(row)
            label = str(len(commands) - 1)
        else:
            base = "_".join(part for part in method.lower().split(".")[-2:] if part) or "cmd"
            label, n = base, 2
            while label in commands:
                label, n = f"{base}_{n}", n + 1
            commands[label] = row
        self.editor.setPlainText(json.dumps(current, ensure_ascii=False, indent=2))
        return label

    def set_api(self, api: int) -> None:
        index = self.api_combo.findData(int(api))
        if index >= 0:
            self.api_combo.setCurrentIndex(index)

    def api(self) -> int:
        return int(self.api_combo.currentData())

    def request(self) -> BatchDraft:
        """The request the editor describes; raises BatchInputError when it cannot be sent."""
        commands, halt = parse_batch_text(self.editor.source_text())
        if halt is not None:
            self.halt_box.setChecked(halt)
        return BatchDraft(commands=commands, halt=self.halt_box.isChecked(), api=self.api())

    def _update_count(self) -> None:
        count = count_commands(self.editor.source_text())
        if count is None:
            self.count_label.setText("invalid JSON")
            self.count_label.setStyleSheet("color: #c62828;")
            return
        too_many = count > MAX_COMMANDS
        self.count_label.setText(f"{count} / {MAX_COMMANDS} commands" + (" — too many" if too_many else ""))
        self.count_label.setStyleSheet("color: #c62828; font-weight: bold;" if too_many else "")

    # --- sending -----------------------------------------------------------------------------------------------

    def is_busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def send(self) -> asyncio.Task[Any] | None:
        """Validates and sends; returns the running task (None when refused: nothing goes on the wire)."""
        if self.is_busy():
            return None
        try:
            request = self.request()
        except BatchInputError as exc:
            self._show_error(str(exc))
            return None
        self._set_busy(True)
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"Sending {request.count} commands over REST v{request.api}…")
        self._task = asyncio.ensure_future(self._send(request))
        return self._task

    def cancel(self) -> None:
        if self.is_busy() and self._task is not None:
            self._task.cancel()

    async def _send(self, request: BatchDraft) -> None:
        from ..core.errors import SdkError

        self.last_request = request
        error: BaseException | None = None
        result: Any = None
        started = time.monotonic()
        try:
            client = await resolve_client(self._client_provider)
            if client is None:
                raise LookupError("No connection: add or pick a portal connection first")
            result = await client.batch(request.commands, halt=request.halt, api=request.api)
        except asyncio.CancelledError:
            error = asyncio.CancelledError()
            self._show_error(f"Cancelled after {time.monotonic() - started:.2f} s")
        except SdkError as exc:
            error = exc
            self._show_error(f"{exc.code}: {exc.message}")
            self.rows_model.removeRows(0, self.rows_model.rowCount())
            self.response_view.show_result(exc.to_dict())  # what failed, readably, in place of an answer
        except Exception as exc:  # the UI must survive anything the network or keyring throws at it
            error = exc
            self._show_error(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        finally:
            self._set_busy(False)
        self.last_error = error
        if result is not None:
            self.last_result = result
            self._show_result(result)
            self.finished.emit(result)
        if self._on_sent is not None:
            try:
                outcome = self._on_sent(request, result, error, time.monotonic() - started)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:  # recording history must not break the mode
                self.status_label.setText(f"{self.status_label.text()} (not recorded in history: {exc})")

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.busy_changed.emit(busy)

    def use_host_actions(self) -> None:
        """Hosted in the window: its Send and Cancel (Ctrl+Enter, Esc) act on this editor, so its own buttons
        go (one Send and one Cancel per mode)."""
        self.send_button.hide()
        self.cancel_button.hide()

    def _show_error(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #c62828;")
        self.failed.emit(text)

    # --- the answer --------------------------------------------------------------------------------------------

    def _show_result(self, result: Any) -> None:
        rows = list(result.rows)
        failed = sum(1 for row in rows if row.error is not None)
        skipped = sum(1 for row in rows if not row.executed and row.error is None)
        summary = f"{len(rows) - skipped} of {len(rows)} commands answered, {failed} failed"
        if skipped:
            summary += f", {skipped} not run"
        response = result.response
        if response is not None:
            summary += f" · HTTP {response.status} · {response.elapsed:.3f} s · {response.size:,} bytes"
        for error in list(result.errors.values())[:1]:
            summary += f" · {error.code}: {error.message}"  # the code classifies, the message explains
        self.status_label.setText(summary)
        self.status_label.setStyleSheet("color: #c62828;" if result.errors else "")
        self.rows_model.removeRows(0, self.rows_model.rowCount())
        for row in rows:
            status = _row_status(row)
            duration = row.time.duration if row.time is not None else None
            cells = (
                str(row.key),
                row.method,
                status,
                str(row.total) if row.total or row.next is not None else "",
                "" if row.next is None else str(row.next),
                f"{duration:.3f}" if duration is not None else "",
            )
            items = [QStandardItem(text) for text in cells]
            if row.error is not None:
                items[2].setForeground(Qt.GlobalColor.red)
            self.rows_model.appendRow(items)
        for column in (0, 2):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 260))
        self.response_view.show_result(batch_tree(result))
        self._expand_failed({str(row.key) for row in rows if row.error is not None})

    def _expand_failed(self, labels: set[str]) -> None:
        """Failed commands open in the tree, so their error is in view without a click."""
        tree, model = self.response_view.tree, self.response_view.model
        if not labels:
            return
        for row in range(model.rowCount()):
            node = model.index(row, 0)
            if node.data() in labels:
                tree.expand(node)

    def _reveal_row(self, index: QModelIndex) -> None:
        """Clicking a summary row expands that command in the response tree."""
        tree, model = self.response_view.tree, self.response_view.model
        label = self.rows_model.index(index.row(), 0).data()
        for row in range(model.rowCount()):
            node = model.index(row, 0)
            if node.data() == label:
                tree.setCurrentIndex(node)
                tree.expand(node)
                tree.scrollTo(node)
                return
