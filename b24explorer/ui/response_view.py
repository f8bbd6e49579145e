"""The response panel: a lazy tree and a paged raw view of the answer, find, and a jq filter.

Built for big answers: the tree is a lazy model over a lazy document (a 32 MB answer shows its
first level in a fraction of `json.loads`'s time), find walks the document in short timer slices, and the
jq filter runs in a child process. Nothing here ever blocks the event loop for long.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import json_node as jn
from . import qt
from .json_model import KEY, TYPE, VALUE, JsonTreeModel
from .qt import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMenu,
    QModelIndex,
    QPlainTextEdit,
    QPoint,
    QStackedWidget,
    Qt,
    QTabWidget,
    QTimer,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
    Signal,
    monospace_font,
    shortcut,
)
from .raw_view import RawView

if TYPE_CHECKING:
    from .jq_runner import JqRunner
    from .qt import QProgressBar

FIND_SLICE_SECONDS = 0.010
MAX_HITS = 100_000
EXPAND_ALL_LIMIT = 5_000  # rows an "expand all below" may open before it stops
PRETTY_COPY_LIMIT = 8 * 1024 * 1024  # above this a subtree is copied as compact JSON


class ResponseView(QWidget):
    """Tree / Raw tabs over one answer, with find (keys and values) and a jq filter box."""

    message = Signal(str)  # short notices for the user (copied, filter errors, truncated expand)
    find_finished = Signal(int)  # number of hits, when a search has walked the whole document
    filter_finished = Signal(bool)  # True when the filter output is shown, False on error or cancel

    filter_busy: QProgressBar  # these two come with the first filter (see `_jq_runner`)
    filter_cancel_button: QToolButton

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._root: Any = None  # the answer's value (lazy or plain); the filter never replaces it
        self._raw: bytes | None = None
        self._own_list: list[Any] | None = None  # the list append_items grows
        self._filtered = False
        self._raw_forced = False

        self.model = JsonTreeModel(None, self)
        self.model.clear()
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)  # lets the view skip measuring every row
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(KEY, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(VALUE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(TYPE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(KEY, 220)
        header.resizeSection(TYPE, 110)

        self.raw_view = RawView(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.tree, "Tree")
        self.tabs.addTab(self.raw_view, "Raw")

        # find
        self.find_edit = QLineEdit(self)
        self.find_edit.setPlaceholderText("Find in keys and values")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.textChanged.connect(self._find_text_changed)
        self.find_edit.returnPressed.connect(self.find_next)
        self.find_prev_button = QToolButton(self)
        self.find_prev_button.setText("▲")
        self.find_prev_button.setToolTip("Previous match (Shift+F3)")
        self.find_prev_button.clicked.connect(self.find_previous)
        self.find_next_button = QToolButton(self)
        self.find_next_button.setText("▼")
        self.find_next_button.setToolTip("Next match (F3, Enter)")
        self.find_next_button.clicked.connect(self.find_next)
        self.find_label = QLabel(self)
        self._hits: list[jn.Path] = []
        self._hit_pos = -1
        self._find_gen: Any = None
        self._find_needle = ""
        self._find_complete = False
        self._want_hit: int | None = None  # a hit asked for before the search reached it
        self._find_timer = QTimer(self)
        self._find_timer.setInterval(0)
        self._find_timer.timeout.connect(self._find_step)

        # jq filter
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText('jq filter, e.g. .result[] | select(.STAGE_ID == "WON") | .TITLE')
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(self._filter_text_changed)
        self.filter_label = QLabel(self)
        self._jq: JqRunner | None = None  # made with the first filter, with its busy bar and Cancel button
        self._filter_error: QPlainTextEdit | None = None  # made with the first invalid filter
        self.body = QStackedWidget(self)
        self.body.addWidget(self.tabs)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.find_edit, 2)
        bar.addWidget(self.find_prev_button)
        bar.addWidget(self.find_next_button)
        bar.addWidget(self.find_label)
        bar.addSpacing(12)
        bar.addWidget(self.filter_edit, 3)
        bar.addWidget(self.filter_label)
        self._bar = bar

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.body, 1)

        shortcut(QKeySequence.StandardKey.Find, self, self._focus_find)
        shortcut(QKeySequence.StandardKey.FindNext, self, self.find_next)
        shortcut(QKeySequence.StandardKey.FindPrevious, self, self.find_previous)
        copy = shortcut(QKeySequence.StandardKey.Copy, self.tree, self._copy_current_value)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)

    def _jq_runner(self) -> JqRunner:
        if self._jq is None:
            from .jq_runner import JqRunner

            self.filter_busy = qt.QProgressBar(self)
            self.filter_busy.setRange(0, 0)  # indeterminate
            self.filter_busy.setMaximumWidth(90)
            self.filter_busy.setTextVisible(False)
            self.filter_busy.hide()
            self.filter_cancel_button = QToolButton(self)
            self.filter_cancel_button.setText("Cancel")
            self.filter_cancel_button.clicked.connect(self.cancel_filter)
            self.filter_cancel_button.hide()
            at = self._bar.indexOf(self.filter_label)
            self._bar.insertWidget(at, self.filter_busy)
            self._bar.insertWidget(at + 1, self.filter_cancel_button)
            self._jq = JqRunner(self)
            self._jq.finished.connect(self._filter_output)
            self._jq.failed.connect(self._filter_failed)
            self._jq.running_changed.connect(self._filter_running)
            # Esc in the box cancels a running filter. Watched from the first filter on, not from the start: the
            # first event PySide hands to Python as a plain QEvent makes it build every event type's class.
            self.filter_edit.installEventFilter(self)
        return self._jq

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if (obj is self.filter_edit and event.type() == qt.QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Escape and self.filtering):
            self.cancel_filter()
            return True
        return super().eventFilter(obj, event)

    # --- showing an answer ------------------------------------------------------------------------------
    def show_result(self, obj: Any) -> None:
        """Show an answer: an AjaxResult-like object (`raw`, `document`), raw bytes, or a plain value."""
        self._reset()
        raw, root = _unpack(obj)
        self._raw = raw
        if root is _NOT_JSON:
            text = (raw or b"").decode("utf-8", "replace")
            self._root = None
            self.model.clear()
            self.raw_view.set_text(text)
            self.tabs.setCurrentWidget(self.raw_view)
            self._raw_forced = True
            self.message.emit("The answer is not JSON; shown as text.")
            return
        if self._raw_forced:  # back to the tree after a body that was not JSON
            self._raw_forced = False
            self.tabs.setCurrentWidget(self.tree)
        self._root = root
        self.model.set_value(root)
        self.raw_view.set_value(root)

    def append_items(self, items: list[Any]) -> None:
        """Add list items as they arrive (list-all pages); the tree shows them under one root list."""
        if self._own_list is None:
            self._reset()
            self._own_list = []
            self._root = self._own_list
            self.model.set_value(self._own_list)
        if self._filtered:
            self.clear_filter()
        self.model.append_items(list(items))
        if self.raw_view.isVisible():
            self.raw_view.refresh()
        else:
            self.raw_view.set_value(self._own_list)

    def clear(self) -> None:
        self._reset()
        self.model.clear()
        self.raw_view.clear()

    def _reset(self) -> None:
        self._stop_find()
        self._hits = []
        self._hit_pos = -1
        self._find_needle = ""  # Enter in the find box searches the new answer
        self.find_label.clear()
        if self._jq is not None:
            self._jq.cancel()
        self._filtered = False
        self.filter_label.clear()
        self._hide_filter_error()
        self._root = None
        self._raw = None
        self._own_list = None

    @property
    def root_value(self) -> Any:
        """The answer's value (lazy or plain), whatever the filter shows."""
        return self._root

    @property
    def shown_value(self) -> Any:
        """What the tree shows: the answer, or the filter's output."""
        return self.model.root_value

    # --- context menu and copying -------------------------------------------------------------------------
    def _context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        if not index.isValid():
            return
        index = index.siblingAtColumn(0)
        menu = QMenu(self)
        menu.addAction("Copy value", lambda: self.copy_value(index))
        menu.addAction("Copy path", lambda: self.copy_path(index))
        menu.addAction("Copy path (jq)", lambda: self.copy_path(index, jq=True))
        menu.addAction("Copy subtree as JSON", lambda: self.copy_subtree(index))
        menu.addSeparator()
        expandable = self.model.hasChildren(index)
        menu.addAction("Expand all below", lambda: self.expand_all_below(index)).setEnabled(expandable)
        menu.addAction("Collapse all below", lambda: self.collapse_all_below(index)).setEnabled(expandable)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def value_text_for_copy(self, index: QModelIndex) -> str:
        """A string as its text, a number/boolean/null as JSON, a container as compact JSON."""
        value = self.model.value_at(index)
        if isinstance(value, str):
            return value
        return jn.compact_json(value) if jn.is_container(value) else jn.scalar_text(value)

    def path_text(self, index: QModelIndex, *, jq: bool = False) -> str:
        return jn.format_path(self.model.path_of(index), jq=jq)

    def subtree_json(self, index: QModelIndex) -> str:
        """The node as JSON: indented, or compact when it is very big."""
        value = self.model.value_at(index)
        if not jn.is_container(value):
            return jn.scalar_text(value)
        if jn.json_size_hint(value) > PRETTY_COPY_LIMIT:
            return jn.compact_json(value)
        from .pretty import PrettyLines

        pager = PrettyLines(value)
        return "\n".join(pager.take(1 << 62))

    def copy_value(self, index: QModelIndex) -> None:
        self._to_clipboard(self.value_text_for_copy(index), "value")

    def copy_path(self, index: QModelIndex, *, jq: bool = False) -> None:
        self._to_clipboard(self.path_text(index, jq=jq), "path")

    def copy_subtree(self, index: QModelIndex) -> None:
        self._to_clipboard(self.subtree_json(index), "subtree")

    def _copy_current_value(self) -> None:
        index = self.tree.currentIndex()
        if index.isValid():
            self.copy_value(index.siblingAtColumn(0))

    def _to_clipboard(self, text: str, what: str) -> None:
        QApplication.clipboard().setText(text)
        self.message.emit(f"Copied {what} ({len(text):,} characters)")

    # --- expand / collapse ------------------------------------------------------------------------------------
    def expand_all_below(self, index: QModelIndex, limit: int = EXPAND_ALL_LIMIT) -> int:
        """Expand the node and its descendants breadth-first, opening at most `limit` rows. Returns rows opened."""
        index = index.siblingAtColumn(0)
        queue = [index]
        opened = 0
        while queue and opened < limit:
            current = queue.pop(0)
            rows = self.model.rowCount(current)
            if rows == 0:
                continue
            self.tree.expand(current)
            opened += rows
            queue.extend(
                child for r in range(rows) if self.model.hasChildren(child := self.model.index(r, 0, current))
            )
        if queue:
            self.message.emit(f"Expanded the first {opened:,} rows; the rest stays closed (too big to open at once)")
        return opened

    def collapse_all_below(self, index: QModelIndex) -> None:
        index = index.siblingAtColumn(0)
        self.tree.collapse(index)
        stack = [index]
        while stack:  # only expanded nodes can have expanded children, so this walks what is open
            current = stack.pop()
            for r in range(self.model.rowCount(current)):
                child = self.model.index(r, 0, current)
                if self.tree.isExpanded(child):
                    self.tree.collapse(child)
                    stack.append(child)

    # --- find -----------------------------------------------------------------------------------------------
    def _focus_find(self) -> None:
        self.find_edit.setFocus()
        self.find_edit.selectAll()

    def _find_text_changed(self, text: str) -> None:
        self.start_find(text)

    def start_find(self, needle: str) -> None:
        """Start (or restart) a search over what the tree shows; hits arrive in slices."""
        self._stop_find()
        self._hits = []
        self._hit_pos = -1
        self._want_hit = None
        self._find_needle = needle
        self._find_complete = False
        if not needle or (self.model.root_value is None and not self._own_list):
            self.find_label.clear()
            return
        from .json_find import iter_matches

        self._find_gen = iter_matches(self.model.root_value, needle)
        self.find_label.setText("Searching…")
        self._find_timer.start()

    @property
    def searching(self) -> bool:
        return self._find_timer.isActive()

    @property
    def hits(self) -> list[jn.Path]:
        return list(self._hits)

    def cancel_find(self) -> None:
        self._stop_find()
        self._update_find_label()

    def _stop_find(self) -> None:
        self._find_timer.stop()
        self._find_gen = None

    def _find_step(self) -> None:
        gen = self._find_gen
        if gen is None:
            self._find_timer.stop()
            return
        deadline = time.perf_counter() + FIND_SLICE_SECONDS
        while time.perf_counter() < deadline:
            try:
                path = next(gen)
            except StopIteration:
                self._find_complete = True
                self._stop_find()
                break
            if path is None:
                continue
            self._hits.append(path)
            if len(self._hits) >= MAX_HITS:
                self._stop_find()
                break
        if self._want_hit is not None and self._want_hit < len(self._hits):
            self._go_to_hit(self._want_hit)
            self._want_hit = None
        elif self._want_hit is None and self._hit_pos < 0 and self._hits:
            self._go_to_hit(0)  # show the first match as soon as it is found
        self._update_find_label()
        if not self.searching:
            if self._want_hit is not None and self._hits:  # asked past the end: wrap around
                self._go_to_hit(self._want_hit % len(self._hits))
                self._want_hit = None
            self.find_finished.emit(len(self._hits))

    def _update_find_label(self) -> None:
        if not self._find_needle:
            self.find_label.clear()
            return
        count = len(self._hits)
        more = "+" if self.searching or count >= MAX_HITS else ""
        if count == 0:
            self.find_label.setText("Searching…" if self.searching else "No matches")
        else:
            self.find_label.setText(f"{self._hit_pos + 1:,} of {count:,}{more}")

    def find_next(self) -> None:
        if self.find_edit.text() != self._find_needle:
            self.start_find(self.find_edit.text())
            return
        if not self._hits:
            return
        target = self._hit_pos + 1
        if target < len(self._hits):
            self._go_to_hit(target)
        elif self.searching:
            self._want_hit = target
        else:
            self._go_to_hit(0)
        self._update_find_label()

    def find_previous(self) -> None:
        if not self._hits:
            return
        if self._hit_pos > 0:
            self._go_to_hit(self._hit_pos - 1)
        elif not self.searching:
            self._go_to_hit(len(self._hits) - 1)
        self._update_find_label()

    def _go_to_hit(self, pos: int) -> None:
        self._hit_pos = pos
        index = self.model.index_for_path(self._hits[pos])
        if not index.isValid():
            return
        self.reveal(index)

    def reveal(self, index: QModelIndex) -> None:
        """Expand every ancestor of an index, select it and scroll to it."""
        ancestors = []
        parent = index.parent()
        while parent.isValid():
            ancestors.append(parent)
            parent = parent.parent()
        for ancestor in reversed(ancestors):
            self.tree.expand(ancestor)
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    # --- jq filter ------------------------------------------------------------------------------------------
    def apply_filter(self, program: str | None = None) -> None:
        """Run a jq program over the answer in a child process; its output replaces the tree until cleared."""
        program = (self.filter_edit.text() if program is None else program).strip()
        if program != self.filter_edit.text().strip():
            self.filter_edit.setText(program)
        if not program:
            self.clear_filter()
            return
        if self._root is None and self._raw is None:
            return
        document = self._raw if self._raw is not None and self._own_list is None else None
        if document is None:
            document = jn.compact_json(self._root).encode("utf-8")
        self.filter_label.setText("Filtering…")
        self._jq_runner().run(program, document)

    def cancel_filter(self) -> None:
        if self._jq is not None and self._jq.running:
            self._jq.cancel()
            self.filter_label.setText("Cancelled")
            self.filter_finished.emit(False)

    @property
    def filtering(self) -> bool:
        return self._jq is not None and self._jq.running

    def _filter_text_changed(self, text: str) -> None:
        if not text.strip():
            self.clear_filter()

    def clear_filter(self) -> None:
        if self._jq is not None:
            self._jq.cancel()
        self.filter_label.clear()
        self._hide_filter_error()
        if self._filtered:
            self._filtered = False
            self.model.set_value(self._root)
            self.raw_view.set_value(self._root)
            self.start_find(self.find_edit.text())

    def _filter_running(self, running: bool) -> None:
        self.filter_busy.setVisible(running)
        self.filter_cancel_button.setVisible(running)

    def _filter_output(self, output: bytes) -> None:
        lines = output.strip().split(b"\n") if output.strip() else []
        # several outputs (e.g. `.result[]`) show as one list
        body = lines[0] if len(lines) == 1 else b"[" + b",".join(lines) + b"]"
        try:
            value = jn.parse_lazy(body)
        except ValueError as exc:
            self._filter_failed(f"Unreadable jq output: {exc}")
            return
        self._filtered = True
        self._hide_filter_error()
        self.model.set_value(value)
        self.raw_view.set_value(value)
        self.tabs.setCurrentWidget(self.tree)
        count = f"{len(lines):,} outputs" if len(lines) != 1 else "1 output"
        self.filter_label.setText(count)
        self.start_find(self.find_edit.text())
        self.filter_finished.emit(True)

    @property
    def filter_error(self) -> QPlainTextEdit:
        """Where an invalid filter's message (with its line and column) takes the output's place until it is
        fixed (made on first use)."""
        if self._filter_error is None:
            self._filter_error = QPlainTextEdit(self)
            self._filter_error.setObjectName("filterError")
            self._filter_error.setReadOnly(True)
            self._filter_error.setFont(monospace_font())
            self.body.addWidget(self._filter_error)
        return self._filter_error

    def _filter_failed(self, message: str) -> None:
        self.filter_label.setText("Error")
        self.filter_error.setPlainText(f"The filter did not run:\n\n{message}")
        self.body.setCurrentWidget(self.filter_error)
        self.message.emit(f"jq: {message.splitlines()[0] if message else 'error'}")
        self.filter_finished.emit(False)

    @property
    def filter_error_shown(self) -> bool:
        return self._filter_error is not None and self.body.currentWidget() is self._filter_error

    def _hide_filter_error(self) -> None:
        self.body.setCurrentWidget(self.tabs)
        if self._filter_error is not None:
            self._filter_error.clear()


_NOT_JSON = object()


def _unpack(obj: Any) -> tuple[bytes | None, Any]:
    """(raw body or None, root value) of whatever `show_result` was given."""
    if isinstance(obj, bytes | bytearray | memoryview):
        raw = bytes(obj)
        return raw, _parse_or_not_json(raw)
    body = getattr(obj, "raw", None)
    if isinstance(body, bytes | bytearray):
        document = getattr(obj, "document", None)
        if document is not None:
            return bytes(body), getattr(document, "root", document)
        return bytes(body), _parse_or_not_json(bytes(body))
    response = getattr(obj, "response", None)  # a BatchResult carries its HTTP answer
    if response is not None and isinstance(getattr(response, "raw", None), bytes | bytearray):
        return _unpack(response)
    items = getattr(obj, "items", None)  # a ListResult
    if isinstance(items, list) and not isinstance(obj, dict):
        return None, items
    return None, obj


def _parse_or_not_json(raw: bytes) -> Any:
    try:
        return jn.parse_lazy(raw)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON

