"""Completion of the params editor: a popup of the keys and field names that fit where the cursor is (see
``core/completion.py``), opened as a key or a ``select``/``filter`` field is typed, or with Ctrl+Space.

Enter or Tab takes the highlighted word: it replaces what was typed of it, closes the quote and, for a key,
adds ``": "``. Esc closes the popup. Typing goes on into the editor while the popup is open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from b24explorer.core.completion import CursorContext, cursor_context
from b24explorer.ui.qt import QCompleter, QObject, QStringListModel, Qt, QTextCursor

if TYPE_CHECKING:
    from b24explorer.ui.params_editor import JsonTextEdit
    from b24explorer.ui.qt import QKeyEvent

Provider = Callable[[CursorContext], list[str]]
_POPUP_KEYS = (Qt.Key.Key_Enter, Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Tab, Qt.Key.Key_Backtab)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ParamsCompleter(QObject):
    """Attaches itself to ``editor`` (its ``completion`` hook); ``provider`` gives the words for a context."""

    def __init__(self, editor: JsonTextEdit, provider: Provider) -> None:
        super().__init__(editor)
        self.editor = editor
        self.provider = provider
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setWidget(editor)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated.connect(self.insert)
        self.context: CursorContext | None = None
        editor.completion = self

    # --- the editor's hook ----------------------------------------------------------------------------------------
    def takes_key(self, event: QKeyEvent) -> bool:
        if self.popup_visible() and event.key() in _POPUP_KEYS:
            event.ignore()  # the completer's popup acts on it
            return True
        if event.key() == Qt.Key.Key_Space and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.offer(force=True)
            return True
        return False

    def key_typed(self, event: QKeyEvent) -> None:
        text = event.text()
        typing = bool(text) and text.isprintable() and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        moved = self.popup_visible() and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home,
                                                         Qt.Key.Key_End)
        if typing or moved or event.key() == Qt.Key.Key_Backspace:
            self.offer(force=False)

    # --- offering ------------------------------------------------------------------------------------------------
    def popup_visible(self) -> bool:
        popup = self.completer.popup()
        return popup is not None and popup.isVisible()

    def current_context(self) -> CursorContext | None:
        cursor = self.editor.textCursor()
        before = QTextCursor(cursor)
        before.setPosition(0, QTextCursor.MoveMode.KeepAnchor)
        text = before.selectedText().replace("\u2029", "\n")
        return cursor_context(text, len(text))

    def offer(self, force: bool = False) -> list[str]:
        """Show the words that fit at the cursor (``force``: even before anything of the word is typed);
        returns what the popup lists."""
        context = self.current_context()
        words = self.provider(context) if context is not None else []
        typed = context is not None and (context.quoted or bool(context.word))
        if context is None or not words or not (force or typed):
            self.hide()
            return []
        self.context = context
        typed_word = context.word.lower()
        words = sorted(words, key=lambda w: not w.lower().startswith(typed_word))  # starts-with first, then contains
        self.model.setStringList(words)
        self.completer.setCompletionPrefix(context.word)
        if self.completer.completionCount() == 0 or self._already_complete(context, words):
            self.hide()
            return []
        popup = self.completer.popup()
        rect = self.editor.cursorRect()
        if popup is not None:
            popup.setCurrentIndex(self.completer.completionModel().index(0, 0))
            rect.setWidth(max(220, popup.sizeHintForColumn(0) + 24))
        self.completer.complete(rect)
        return self.shown()

    def shown(self) -> list[str]:
        """The words the popup lists now (filtered by what is typed)."""
        model = self.completer.completionModel()
        return [str(model.index(row, 0).data()) for row in range(model.rowCount())]

    @staticmethod
    def _already_complete(context: CursorContext, words: list[str]) -> bool:
        return [w for w in words if w.lower().startswith(context.word.lower())] == [context.word]

    def hide(self) -> None:
        popup = self.completer.popup()
        if popup is not None and popup.isVisible():
            popup.hide()

    # --- taking a word --------------------------------------------------------------------------------------------
    def insert(self, word: str) -> None:
        """Replace what is typed of the word with ``word``, close its quote and, for a key, add ``": "``."""
        context, self.context = self.context, None
        if context is None:
            return
        cursor = self.editor.textCursor()
        end = cursor.position()
        typed = context.word if context.quoted else context.prefix
        start = end - _utf16_len(typed)
        rest = self._text_after(end, 40)
        text = word if context.quoted else f'"{context.operator}{word}'
        if context.quoted and rest.startswith('"'):  # the closing quote is there already: write over it
            end += 1
            rest = rest[1:]
        text += '"'
        if context.role == "key" and not rest.lstrip().startswith(":"):
            text += ": "
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        self.editor.setTextCursor(cursor)

    def _text_after(self, position: int, length: int) -> str:
        cursor = QTextCursor(self.editor.document())
        last = self.editor.document().characterCount() - 1
        cursor.setPosition(min(position, last))
        cursor.setPosition(min(position + length, last), QTextCursor.MoveMode.KeepAnchor)
        return cursor.selectedText().replace("\u2029", "\n")
