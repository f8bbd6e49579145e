"""The request bar widgets: the method field, the REST v2/v3 switch, and the error banner above the answer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from b24explorer.ui import qt
from b24explorer.ui.qt import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    Qt,
    QToolButton,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from b24explorer.ui.qt import QCompleter, QEvent, QObject, QStringListModel


class ApiSwitch(QWidget):
    """Two toggle buttons, v2 and v3; exactly one is on."""

    changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.buttons: dict[int, QToolButton] = {}
        for api, tip in ((2, "REST v2: /rest/<user>/<secret>/<method>"),
                         (3, "REST v3: /rest/api/<user>/<secret>/<method>")):
            button = QToolButton(self)
            button.setText(f"v{api}")
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setObjectName(f"api{api}")
            self.group.addButton(button, api)
            layout.addWidget(button)
            self.buttons[api] = button
        self.buttons[2].setChecked(True)
        self.group.idToggled.connect(self._toggled)

    def _toggled(self, api: int, checked: bool) -> None:
        if checked:
            self.changed.emit(api)

    def api(self) -> int:
        return self.group.checkedId() if self.group.checkedId() in (2, 3) else 2

    def set_api(self, api: int) -> None:
        self.buttons[3 if api == 3 else 2].setChecked(True)


class MethodField(QLineEdit):
    """The method being sent; editable, so any method name (even one the catalog lacks) can be called.

    Typing completes against the catalog's names (a popup of the names containing what was typed); the
    completer is made with the first list of names, not with the window.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("methodField")
        self.setPlaceholderText("method, e.g. crm.deal.list  (Ctrl+L)")
        self.setMinimumWidth(260)
        self.setClearButtonEnabled(False)
        self.setToolTip("The REST method (Ctrl+L; type it — names complete from the catalog — or pick one)")
        self._names: frozenset[str] = frozenset()
        self._names_model: QStringListModel | None = None
        self.completer_widget: QCompleter | None = None

    def method(self) -> str:
        return self.text().strip()

    def keep_window_shortcuts(self) -> None:
        """From now on Ctrl+E and Ctrl+K reach the window's shortcuts (see :meth:`eventFilter`). The window calls it
        once it has painted: a watch on events from construction on would make PySide build every event type's
        class before the first paint."""
        self.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # On X11 a line edit keeps Ctrl+E (end of line) and Ctrl+K (delete to the end) for itself; here the
        # window's shortcuts (edit params, find method) win, so the keys work from the method box too.
        if obj is self and event.type() == qt.QEvent.Type.ShortcutOverride and isinstance(event, qt.QKeyEvent) \
                and event.modifiers() == Qt.KeyboardModifier.ControlModifier \
                and event.key() in (Qt.Key.Key_E, Qt.Key.Key_K):
            event.ignore()
            return True
        return super().eventFilter(obj, event)

    def set_names(self, names: Iterable[str]) -> None:
        """The catalog's method names, for completion and :meth:`is_known`."""
        ordered = sorted(set(names))
        self._names = frozenset(ordered)
        if self._names_model is None:
            self._names_model = qt.QStringListModel(ordered, self)
            completer = qt.QCompleter(self._names_model, self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(qt.QCompleter.CompletionMode.PopupCompletion)
            completer.setMaxVisibleItems(12)
            self.setCompleter(completer)
            self.completer_widget = completer
        else:
            self._names_model.setStringList(ordered)

    def is_known(self, name: str) -> bool:
        """Whether ``name`` is exactly a method of the catalog."""
        return name in self._names


class ErrorBanner(QLabel):
    """A readable error above the response: code, description, HTTP status, method, request id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.hide()

    def show_error(self, title: str, lines: list[str]) -> None:
        if not self.styleSheet():  # styled when first shown: a style sheet costs its widget's first paint time
            self.setStyleSheet(
                "#errorBanner { background: rgba(198,40,40,0.12); border: 1px solid #c62828; border-radius: 4px;"
                " padding: 6px; }"
            )
        body = "<br>".join(lines)
        self.setText(f"<b>{title}</b><br>{body}")
        self.show()
