"""The raw view: the answer pretty-printed, one page at a time.

A 32 MB answer is about 2.5 million pretty lines; putting them all in a text widget stalls the UI for
seconds and takes hundreds of MB. The view pretty-prints only the page on screen (2,000 lines, a few
ms), remembers where each page starts, and walks to the last page in small timer slices that never
block the event loop. Small answers fit one page and look like a plain text view.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .qt import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    monospace_font,
)

if TYPE_CHECKING:
    from .pretty import PrettyLines, TextLines
    from .qt import QPushButton

PAGE_LINES = 2_000
SLICE_SECONDS = 0.012


class RawView(QWidget):
    """Paged, read-only pretty text of a JSON value (or of a body that is not JSON)."""

    page_shown = Signal(int)  # page number (0-based), after its text is in the editor
    first_button: QPushButton  # the page buttons and position come with the first answer of several pages
    prev_button: QPushButton
    next_button: QPushButton
    last_button: QPushButton
    position_label: QLabel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pager: PrettyLines | TextLines | None = None
        self._page_states: list[Any] = []  # state at the start of each page seen so far
        self._page = 0
        self._last_page: int | None = None  # known once the end was reached
        self._source: tuple[str, Any] | None = None
        self._dirty = False
        self._seek_target: int | None = None
        self._seek_timer = QTimer(self)
        self._seek_timer.setInterval(0)
        self._seek_timer.timeout.connect(self._seek_step)

        self.editor = QPlainTextEdit(self)
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(monospace_font())
        self.editor.setUndoRedoEnabled(False)
        self._nav: QWidget | None = None  # the page buttons, made with the first answer of several pages

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)

    def _navigation(self) -> QWidget:
        if self._nav is not None:
            return self._nav
        from .qt import QPushButton

        self.first_button = QPushButton("⏮ First", self)
        self.prev_button = QPushButton("◀ Previous", self)
        self.next_button = QPushButton("Next ▶", self)
        self.last_button = QPushButton("Last ⏭", self)
        self.position_label = QLabel(self)
        for button in (self.first_button, self.prev_button, self.next_button, self.last_button):
            button.setAutoDefault(False)
        self.first_button.clicked.connect(lambda: self.show_page(0))
        self.prev_button.clicked.connect(lambda: self.show_page(self._page - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self._page + 1))
        self.last_button.clicked.connect(self.show_last_page)

        nav = QHBoxLayout()
        nav.setContentsMargins(0, 0, 0, 0)
        for w in (self.first_button, self.prev_button, self.position_label, self.next_button, self.last_button):
            nav.addWidget(w)
        nav.insertStretch(2)
        nav.insertStretch(4)
        self._nav = QWidget(self)
        self._nav.setLayout(nav)
        self._nav.hide()
        layout = self.layout()
        assert layout is not None
        layout.addWidget(self._nav)
        return self._nav

    @property
    def navigation_shown(self) -> bool:
        """Whether the page buttons show (an answer of more than one page)."""
        return self._nav is not None and not self._nav.isHidden()

    # --- content --------------------------------------------------------------------------------------
    def set_value(self, value: Any) -> None:
        """Show a JSON value (lazy node or plain Python). Rendered when the view is visible."""
        self._set_source(("json", value))

    def set_text(self, text: str) -> None:
        """Show a text that is not JSON as it is."""
        self._set_source(("text", text))

    def clear(self) -> None:
        self._stop_seek()
        self._source = None
        self._pager = None
        self._page_states = []
        self._last_page = None
        self._page = 0
        self._dirty = False
        self.editor.clear()
        if self._nav is not None:
            self._nav.hide()

    def refresh(self) -> None:
        """Re-render from the current source (after it changed in place, e.g. items appended)."""
        if self._source is not None:
            self._set_source(self._source)

    def _set_source(self, source: tuple[str, Any]) -> None:
        self.clear()
        self._source = source
        self._dirty = True
        if self.isVisible():
            self._render_first()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._dirty:
            self._render_first()

    def _render_first(self) -> None:
        self._dirty = False
        if self._source is None:
            return
        kind, payload = self._source
        from .pretty import PrettyLines, TextLines  # with the first answer shown

        self._pager = PrettyLines(payload) if kind == "json" else TextLines(payload)
        self._page_states = [self._pager.state()]
        self.show_page(0)

    # --- paging ---------------------------------------------------------------------------------------
    @property
    def page(self) -> int:
        return self._page

    @property
    def page_count(self) -> int | None:
        """The number of pages, once known (the end has been reached)."""
        return None if self._last_page is None else self._last_page + 1

    def text(self) -> str:
        """The text of the page on screen."""
        return self.editor.toPlainText()

    def show_page(self, page: int) -> None:
        """Show a page already reached (or the next one). Further pages: `show_last_page` or Next."""
        if self._dirty:
            self._render_first()
        if self._pager is None:
            return
        self._stop_seek()
        page = max(0, min(page, len(self._page_states) - 1))
        self._pager.restore(self._page_states[page])
        lines = self._pager.take(PAGE_LINES)
        if self._pager.done:
            self._last_page = page
        elif page + 1 == len(self._page_states):
            self._page_states.append(self._pager.state())
        self._page = page
        self.editor.setPlainText("\n".join(lines))
        self._update_nav(first_line=page * PAGE_LINES + 1, count=len(lines))
        self.page_shown.emit(page)

    def show_last_page(self) -> None:
        """Walk to the end in timer slices (the UI stays live), then show the last page."""
        if self._pager is None:
            return
        if self._last_page is not None:
            self.show_page(self._last_page)
            return
        self._seek_target = -1
        self._navigation()
        self.position_label.setText("Finding the end…")
        self._seek_timer.start()

    def _seek_step(self) -> None:
        pager = self._pager
        if pager is None or self._seek_target is None:
            self._stop_seek()
            return
        deadline = time.perf_counter() + SLICE_SECONDS
        pager.restore(self._page_states[-1])
        while time.perf_counter() < deadline:
            pager.take(PAGE_LINES)
            if pager.done:
                self._last_page = len(self._page_states) - 1
                self._stop_seek()
                self.show_page(self._last_page)
                return
            self._page_states.append(pager.state())
        self.position_label.setText(f"Finding the end… {len(self._page_states) * PAGE_LINES:,} lines")

    def _stop_seek(self) -> None:
        self._seek_timer.stop()
        self._seek_target = None

    @property
    def seeking(self) -> bool:
        return self._seek_timer.isActive()

    def _update_nav(self, first_line: int, count: int) -> None:
        single = self._last_page == 0
        if single:
            if self._nav is not None:
                self._nav.hide()
            return
        self._navigation().show()
        total = f" of {self.page_count:,}" if self.page_count else ""
        self.position_label.setText(
            f"Page {self._page + 1:,}{total} · lines {first_line:,}–{first_line + max(count, 1) - 1:,}"
        )
        self.first_button.setEnabled(self._page > 0)
        self.prev_button.setEnabled(self._page > 0)
        at_end = self._last_page is not None and self._page >= self._last_page
        self.next_button.setEnabled(not at_end)
        self.last_button.setEnabled(not at_end)
