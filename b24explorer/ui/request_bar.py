"""The request bar widgets: the method field, the REST v2/v3 switch, and the error banner above the answer."""

from __future__ import annotations

from b24explorer.ui.qt import QButtonGroup, QHBoxLayout, QLabel, QLineEdit, Qt, QToolButton, QWidget, Signal


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
    """The method being sent; editable, so any method name (even one the catalog lacks) can be called."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("method, e.g. crm.deal.list")
        self.setMinimumWidth(240)
        self.setClearButtonEnabled(False)
        self.setToolTip("The REST method (pick one on the left, or type it)")

    def method(self) -> str:
        return self.text().strip()


class ErrorBanner(QLabel):
    """A readable error above the response: code, description, HTTP status, method, request id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.setStyleSheet(
            "#errorBanner { background: rgba(198,40,40,0.12); border: 1px solid #c62828; border-radius: 4px;"
            " padding: 6px; }"
        )
        self.hide()

    def show_error(self, title: str, lines: list[str]) -> None:
        body = "<br>".join(lines)
        self.setText(f"<b>{title}</b><br>{body}")
        self.show()
