"""List-all mode: every item of a list method, through the core's chained fast path.

v2 lists go ``start=-1`` with an ID cursor chained inside batches (50 pages of 50 per request), so 10,000 deals
cost at most 5 HTTP requests. Pages are appended to the response tree as they arrive; a progress line shows
items, requests, elapsed time and rate-limit waits; Cancel stops the fetch and keeps what already arrived.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .batch_editor import resolve_client
from .json_highlighter import JsonHighlighter
from .params_editor import JsonTextEdit
from .qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from .response_view import ResponseView


class ListInputError(ValueError):
    """The method or params cannot be used for list-all; the message says why."""


@dataclass
class ListRunStats:
    """What the progress line shows; updated from the core's progress callback and from each page."""

    items: int = 0
    requests: int = 0
    pages: int = 0
    waited: float = 0.0  # seconds spent waiting for rate limits and before retries
    total: int | None = None  # when the portal told the list's size
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def text(self) -> str:
        items = f"{self.items:,} of {self.total:,}" if self.total else f"{self.items:,}"
        return (
            f"{items} items · {self.requests} requests · {self.elapsed:.1f} s elapsed · "
            f"rate-limit waits {self.waited:.1f} s"
        )


@dataclass(frozen=True)
class ListRequest:
    method: str
    params: dict[str, Any]
    api: int
    options: dict[str, str]


class ListAllPanel(QWidget):
    """Method, params and options of a list-all fetch, its progress, and the response tree it fills."""

    page_arrived = Signal(int)  # items so far
    page_items = Signal(list)  # the items of the page that just arrived
    busy_changed = Signal(bool)
    finished = Signal(object)  # the ListRunStats of the run

    def __init__(
        self,
        client_provider: Callable[[], Any] | Any,
        response_view: ResponseView | None = None,
        *,
        on_finished: Callable[[ListRequest, ListRunStats, BaseException | None], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client_provider = client_provider
        if response_view is None:
            from .response_view import ResponseView as View

            response_view = View()
        self.response_view = response_view
        self._on_finished = on_finished
        self._task: asyncio.Task[Any] | None = None
        self._cancel: asyncio.Event | None = None
        self.progress = ListRunStats()
        self.items_received = 0
        self.cancelled = False
        self.last_error: BaseException | None = None
        self.last_request: ListRequest | None = None

        self.method_edit = QLineEdit(self)
        self.method_edit.setObjectName("listAllMethod")
        self.method_edit.setPlaceholderText("crm.deal.list")
        self.params_edit = JsonTextEdit(self)
        self.params_edit.setObjectName("listAllParams")
        self.params_edit.setPlaceholderText('{"filter": {">OPPORTUNITY": 0}, "select": ["ID", "TITLE"]}')
        self._highlighter = JsonHighlighter(self.params_edit.document())
        self.api_combo = QComboBox(self)
        self.api_combo.addItem("REST v2", 2)
        self.api_combo.addItem("REST v3", 3)

        self.id_key_edit = QLineEdit(self)
        self.id_key_edit.setPlaceholderText("auto (ID on v2; id for crm.item.list, tasks.task.list and v3)")
        self.cursor_key_edit = QLineEdit(self)
        self.cursor_key_edit.setPlaceholderText("auto (the id key)")
        self.result_key_edit = QLineEdit(self)
        self.result_key_edit.setPlaceholderText("auto (items for crm.item.list, tasks for tasks.task.list)")

        self.start_button = QPushButton("Fetch all", self)
        self.start_button.setToolTip("Fetch every item (Ctrl+Enter in the window)")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop; the items that arrived stay")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)
        self.progress_label = QLabel(
            "Fetches every item: start=-1 with an ID cursor chained inside batches (2,500 items per request).",
            self,
        )
        self.progress_label.setObjectName("listAllProgress")
        self.progress_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Method", self.method_edit)
        form.addRow("Params", self.params_edit)
        api_row = QHBoxLayout()
        api_row.addWidget(self.api_combo)
        api_row.addWidget(QLabel("id key", self))
        api_row.addWidget(self.id_key_edit, 1)
        api_row.addWidget(QLabel("cursor key", self))
        api_row.addWidget(self.cursor_key_edit, 1)
        api_row.addWidget(QLabel("result key", self))
        api_row.addWidget(self.result_key_edit, 1)
        form.addRow("API", api_row)

        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress_bar, 1)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(6, 6, 6, 0)
        top_layout.addWidget(QLabel("<b>List all</b> — every item of a list method", top))
        top_layout.addLayout(form)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.progress_label)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("listAllSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(response_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self._ticker = QTimer(self)
        self._ticker.setInterval(250)
        self._ticker.timeout.connect(self._refresh)

    # --- input -------------------------------------------------------------------------------------------------

    def set_request(self, method: str, params: Any = None, api: int = 2) -> None:
        self.method_edit.setText(method)
        self.params_edit.setPlainText(json.dumps(params or {}, ensure_ascii=False, indent=2))
        index = self.api_combo.findData(int(api))
        if index >= 0:
            self.api_combo.setCurrentIndex(index)

    def request(self) -> ListRequest:
        method = self.method_edit.text().strip()
        if not method:
            raise ListInputError("Name a list method, e.g. crm.deal.list")
        text = self.params_edit.source_text()
        try:
            params = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ListInputError(f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        if not isinstance(params, dict):
            raise ListInputError("Params must be a JSON object")
        options = {
            key: edit.text().strip()
            for key, edit in (
                ("id_key", self.id_key_edit),
                ("cursor_id_key", self.cursor_key_edit),
                ("result_key", self.result_key_edit),
            )
            if edit.text().strip()
        }
        return ListRequest(method, params, int(self.api_combo.currentData()), options)

    # --- running -----------------------------------------------------------------------------------------------

    @property
    def items_shown(self) -> int:
        """How many items the response tree holds (big lists show them in ranges of rows)."""
        value = self.response_view.root_value
        return len(value) if isinstance(value, list) else 0

    def is_busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> asyncio.Task[Any] | None:
        """Starts the fetch; returns its task (None when the input is refused: nothing is sent)."""
        if self.is_busy():
            return None
        try:
            request = self.request()
        except ListInputError as exc:
            self._show_status(str(exc), error=True)
            return None
        self.progress = ListRunStats()
        self.items_received = 0
        self.cancelled = False
        self.last_error = None
        self.last_request = request
        self._cancel = asyncio.Event()
        self.response_view.clear()
        self._set_busy(True)
        self._show_status(f"Fetching {request.method}…")
        self._task = asyncio.ensure_future(self._run(request, self._cancel))
        return self._task

    def send(self) -> asyncio.Task[Any] | None:
        """The window's Send action in this mode."""
        return self.start()

    def cancel(self) -> None:
        """Stops the fetch; the items already shown stay."""
        if self.is_busy() and self._cancel is not None:
            self.cancelled = True
            self._cancel.set()

    async def _run(self, request: ListRequest, cancel: asyncio.Event) -> None:
        error: BaseException | None = None
        try:
            client = await resolve_client(self._client_provider)
            if client is None:
                raise LookupError("No connection: add or pick a portal connection first")
            pages = client.fetch_list(
                request.method, request.params, api=request.api, progress=self._on_progress, cancel=cancel,
                **request.options,
            )
            async for page in pages:
                if cancel.is_set():
                    break
                self.items_received += len(page)
                self.progress.items = self.items_received
                self.response_view.append_items(page)
                self._refresh()
                self.page_items.emit(page)
                self.page_arrived.emit(self.items_received)
        except asyncio.CancelledError:
            self.cancelled = True
        except Exception as exc:  # API errors arrive as SdkError; nothing may take the window down
            error = exc
        finally:
            self.progress.finished = time.monotonic()
            self._set_busy(False)
        self.last_error = error
        if error is not None and not self.items_received:
            self.response_view.show_result(_error_value(error))
        self._finish(error)
        self.finished.emit(self.progress)
        if self._on_finished is not None:
            try:
                outcome = self._on_finished(request, self.progress, error)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:  # recording history must not break the mode
                self._show_status(f"{self.progress_label.text()} (not recorded in history: {exc})")

    def _on_progress(self, info: Any) -> None:
        """The core's progress callback (after each request)."""
        self.progress.requests = int(getattr(info, "requests", self.progress.requests) or 0)
        self.progress.pages = int(getattr(info, "pages", self.progress.pages) or 0)
        self.progress.waited = float(getattr(info, "waited", self.progress.waited) or 0.0)
        total = getattr(info, "total", None)
        if isinstance(total, int) and total > 0:
            self.progress.total = total

    def _finish(self, error: BaseException | None) -> None:
        total = self.progress.total
        if total:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(self.items_received, total))
        else:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1 if error is None and not self.cancelled else 0)
        kept = f"kept {self.items_received:,} items"
        if error is not None:
            original = getattr(error, "original_error", None)
            shown = original if original is not None and hasattr(original, "code") else error
            code = getattr(shown, "code", type(shown).__name__)
            message = getattr(shown, "message", None) or str(shown)
            self._show_status(f"{code}: {message} — {kept}. {self.progress.text()}", error=True)
        elif self.cancelled:
            self._show_status(f"Cancelled — {kept}. {self.progress.text()}")
        else:
            self._show_status(f"Done: {self.progress.text()}")

    def _refresh(self) -> None:
        total = self.progress.total
        if total and self.is_busy():
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(self.items_received, total))
        self.progress_label.setText(self.progress.text())

    def use_host_actions(self) -> None:
        """Hosted in the window: its Send and Cancel (Ctrl+Enter, Esc) act on this panel, so its own buttons
        go (one Send and one Cancel per mode)."""
        self.start_button.hide()
        self.cancel_button.hide()

    def _set_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.busy_changed.emit(busy)
        if busy:
            self.progress_bar.setRange(0, 0)  # a busy indicator until the first answer tells the total
            self._ticker.start()
        else:
            self._ticker.stop()

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.progress_label.setText(text)
        self.progress_label.setStyleSheet("color: #c62828;" if error else "")


def _error_value(error: BaseException) -> dict[str, Any]:
    """What the tree shows when a fetch failed before any item arrived: the portal's error, readably."""
    original = getattr(error, "original_error", None)
    shown = original if original is not None and hasattr(original, "code") else error
    to_dict = getattr(shown, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    return {"error": type(shown).__name__, "message": str(shown)}
