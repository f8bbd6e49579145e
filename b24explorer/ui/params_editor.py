"""The params editor: JSON with highlighting, live validation (line and column), format/compact.

Invalid JSON is never handed out: ``params()`` raises :class:`ParamsInvalid` and the caller sends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from b24explorer.ui import qt
from b24explorer.ui.qt import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
    monospace_font,
)

if TYPE_CHECKING:
    from b24explorer.ui.json_highlighter import JsonHighlighter
    from b24explorer.ui.qt import QKeyEvent


class JsonProblem(NamedTuple):
    """Where and why a text is not valid JSON (1-based line and column)."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class ParamsInvalid(ValueError):
    def __init__(self, problem: JsonProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def parse_params(text: str) -> dict[str, Any] | list[Any]:
    """Parse the editor's text. Empty text means no params (``{}``). Raises :class:`ParamsInvalid`."""
    if not text.strip():
        return {}
    import json  # loaded with the first params read: an empty editor at the start needs no parser

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsInvalid(JsonProblem(exc.lineno, exc.colno, exc.msg)) from None
    if not isinstance(value, dict | list):
        raise ParamsInvalid(JsonProblem(1, 1, "params must be a JSON object (or an array)"))
    return value


class CompletionHook(Protocol):
    """Key completion attached to a :class:`JsonTextEdit` (see ``ui/params_completer.py``)."""

    def takes_key(self, event: QKeyEvent) -> bool:
        """True when the completion handles this key itself (its popup is open, or the key opens it)."""
        ...

    def key_typed(self, event: QKeyEvent) -> None:
        """After the editor handled a key: offer what fits where the cursor is now."""
        ...


class JsonTextEdit(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.completion: CompletionHook | None = None
        self.setFont(monospace_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 2)
        self.setPlaceholderText('{"select": ["ID", "TITLE"], "filter": {">ID": 0}}')

    def source_text(self) -> str:
        """The text exactly as typed. Not toPlainText(): it turns non-breaking spaces into plain ones (and so
        would change the values sent)."""
        return self.document().toRawText().replace("\u2029", "\n")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        from b24explorer.ui.qt import Qt

        if self.completion is not None and self.completion.takes_key(event):
            return
        # Tab indents with spaces, as JSON is usually written.
        if event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.insertPlainText("  ")
            return
        super().keyPressEvent(event)
        if self.completion is not None:
            self.completion.key_typed(event)


class ParamsEditor(QWidget):
    """JSON params with a header row (title, format, compact, template) and a validation line."""

    validity_changed = Signal(bool)
    template_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, colour_now: bool = True) -> None:
        """``colour_now=False``: the syntax colours come with :meth:`colour_syntax` (the window's start calls it
        right after the first paint)."""
        super().__init__(parent)
        self._template_text = ""
        self._valid = True
        self.editor = JsonTextEdit(self)
        self.highlighter: JsonHighlighter | None = None
        if colour_now:
            self.colour_syntax()

        title = QLabel("<b>Params</b> <span style='color:gray'>(JSON)</span>", self)
        self.format_button = self._tool_button("Format", "Pretty-print the JSON (Ctrl+Shift+F)")
        self.compact_button = self._tool_button("Compact", "Put the JSON on one line")
        self.template_button = self._tool_button("Template", "Replace the params with the method's template")
        self.format_button.clicked.connect(self.format_json)
        self.compact_button.clicked.connect(self.compact_json)
        self.template_button.clicked.connect(self.apply_template)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(title)
        header.addStretch(1)
        for button in (self.template_button, self.format_button, self.compact_button):
            header.addWidget(button)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("paramsStatus")
        self.status_label.setTextInteractionFlags(self.status_label.textInteractionFlags())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.status_label)

        # Validate shortly after typing stops, so large pastes do not re-parse on every keystroke.
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(150)
        self._validate_timer.timeout.connect(self.validate)
        self.editor.textChanged.connect(self._validate_timer.start)
        self._show_ok()  # the editor starts empty: no params, valid (reading its document now would cost the start)

    def add_below(self, widget: QWidget) -> None:
        """A line under the editor, above the validation line (the pre-send checks)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.status_label), widget)

    def colour_syntax(self) -> None:
        """Colour the JSON (once; the colours follow the palette from then on)."""
        if self.highlighter is None:
            from b24explorer.ui.json_highlighter import JsonHighlighter

            self.highlighter = JsonHighlighter(self.editor.document())

    def _tool_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    # --- text -------------------------------------------------------------------------------------
    def text(self) -> str:
        return self.editor.source_text()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        self._validate_timer.stop()  # validated now
        # A text the editor holds exactly as given is checked as given (a restored request, at the start: reading
        # the editor's document back would cost the start); one it changes (line and paragraph separators, a
        # byte-order mark, control characters) is checked as the editor holds it.
        plain = text.replace("\n", "").replace("\t", "")
        self.validate(text if plain.isprintable() and "\ufffc" not in plain else None)

    def set_params(self, params: Any) -> None:
        import json

        self.set_text(json.dumps(params, ensure_ascii=False, indent=2) if params not in (None, {}) else "{}")

    def set_template(self, text: str) -> None:
        """The template the Template button restores (e.g. from the method hints)."""
        self._template_text = text
        self.template_button.setEnabled(bool(text))

    def apply_template(self) -> None:
        if self._template_text:
            self.set_text(self._template_text)

    # --- validation -------------------------------------------------------------------------------
    def problem(self, text: str | None = None) -> JsonProblem | None:
        """Why the editor's text (or ``text``) is not valid params; None when it is."""
        try:
            parse_params(self.text() if text is None else text)
        except ParamsInvalid as exc:
            return exc.problem
        return None

    def is_valid(self) -> bool:
        if self._validate_timer.isActive():  # an edit not validated yet
            return self.problem() is None
        return self._valid

    def params(self) -> dict[str, Any] | list[Any]:
        """The parsed params; raises :class:`ParamsInvalid` (and shows where) when the text is not JSON."""
        self._validate_timer.stop()
        try:
            value = parse_params(self.text())
        except ParamsInvalid as exc:
            self._show_problem(exc.problem)
            raise
        self._show_ok()
        return value

    def validate(self, text: str | None = None) -> bool:
        problem = self.problem(text)
        if problem is None:
            self._show_ok()
        else:
            self._show_problem(problem)
        return problem is None

    def _show_ok(self) -> None:
        self.status_label.setText("<span style='color:#2e7d32'>✔ valid JSON</span>")
        self._set_valid(True)

    def _show_problem(self, problem: JsonProblem) -> None:
        self.status_label.setText(f"<span style='color:#c62828'>✖ Invalid JSON at {problem}</span>")
        self._set_valid(False)

    def _set_valid(self, valid: bool) -> None:
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def goto_problem(self) -> None:
        problem = self.problem()
        if problem is None:
            return
        block = self.editor.document().findBlockByNumber(problem.line - 1)
        cursor = qt.QTextCursor(block)
        # The column counts code points; Qt positions count UTF-16 units (moving "Right" would skip whole
        # grapheme clusters such as e + combining accent).
        units = len(block.text()[: max(0, problem.column - 1)].encode("utf-16-le")) // 2
        cursor.setPosition(block.position() + min(units, max(0, block.length() - 1)))
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()

    # --- reformatting -----------------------------------------------------------------------------
    def format_json(self) -> None:
        self._reformat(indent=2)

    def compact_json(self) -> None:
        self._reformat(indent=None)

    def _reformat(self, indent: int | None) -> None:
        try:
            value = parse_params(self.text())
        except ParamsInvalid as exc:
            self._show_problem(exc.problem)
            self.goto_problem()
            return
        import json

        separators = (",", ": ") if indent else (",", ":")
        text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
        cursor = self.editor.textCursor()
        cursor.select(qt.QTextCursor.SelectionType.Document)
        cursor.insertText(text)  # one undo step, unlike setPlainText
        self.validate()
