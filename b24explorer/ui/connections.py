"""Connections: what the UI knows of one (never its secret), and the picker in the toolbar.

The dialogs (add/edit, manage, rename, keyring failure) live in ``connection_dialogs``, loaded when first
used rather than at the start; their names are still importable from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from b24explorer.ui.qt import QComboBox, Qt, QWidget, Signal, standard_icon

if TYPE_CHECKING:
    from b24explorer.core.connection_check import ConnectionReport
    from b24explorer.core.connections import Connection
    from b24explorer.core.webhook import Webhook
    from b24explorer.ui.connection_dialogs import (
        ConnectionDialog,
        ConnectionsDialog,
        KeyringFailureDialog,
        RenameDialog,
    )

_DIALOGS = ("ConnectionDialog", "ConnectionsDialog", "KeyringFailureDialog", "RenameDialog")


def __getattr__(name: str) -> Any:
    if name in _DIALOGS:
        from b24explorer.ui import connection_dialogs

        return getattr(connection_dialogs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

MANAGE_ITEM = "__manage__"
LIMIT_CHOICES = (
    ("standard", "Standard plan — 2 requests/s after a burst of 50"),
    ("enterprise", "Enterprise plan — 5 requests/s after a burst of 250"),
    ("unlimited", "No client-side throttling (on-premise, or you know better)"),
)


Tester = Callable[["Webhook", "str | None"], Awaitable["ConnectionReport"]]
"""Checks a webhook (with the connection's CA file, if any) before it is saved (the workspace's
``test_connection``)."""


def webhook_problem(text: str) -> str | None:
    """The reason ``text`` is not a usable webhook URL, or None. Never contains the URL."""
    from b24explorer.core.errors import SdkError
    from b24explorer.core.webhook import Webhook

    try:
        Webhook.parse(text)
    except SdkError as exc:
        return exc.message
    return None


class ConnectionPicker(QComboBox):
    """The toolbar combo: connections (each item's data is its id), then "Manage connections…".

    Signals:
        connection_selected(str): the id the user picked.
        manage_requested(): "Manage connections…" was picked.
    """

    connection_selected = Signal(str)
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumContentsLength(22)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setToolTip("The portal connection requests go to")
        self._last = ""
        self.activated.connect(self._activated)
        self.set_connections([])

    def set_connections(self, connections: list[Connection], current: str | None = None) -> None:
        """``current``: the id to show (default: the one shown before)."""
        self.blockSignals(True)
        self.clear()
        for conn in connections:
            icon = {"sandbox": "SP_ComputerIcon", "session": "SP_BrowserReload"}.get(conn.kind, "SP_DriveNetIcon")
            self.addItem(standard_icon(icon), conn.label, conn.id)
            self.setItemData(self.count() - 1, f"{conn.host} · user {conn.user_id}", Qt.ItemDataRole.ToolTipRole)
        if not connections:
            self.addItem("No connection", "")
        self.insertSeparator(self.count())
        self.addItem(standard_icon("SP_FileDialogDetailedView"), "Manage connections…", MANAGE_ITEM)
        target = current if current is not None else self._last
        index = self.findData(target) if target else -1
        self.setCurrentIndex(index if index >= 0 else 0)
        self._last = self.current_id()
        self.blockSignals(False)

    def current_id(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) and data != MANAGE_ITEM else ""

    def _activated(self, index: int) -> None:
        data = self.itemData(index)
        if data == MANAGE_ITEM:
            back = self.findData(self._last)
            self.setCurrentIndex(back if back >= 0 else 0)
            self.manage_requested.emit()
            return
        if data and data != self._last:
            self._last = data
            self.connection_selected.emit(data)


__all__ = [
    "LIMIT_CHOICES",
    "MANAGE_ITEM",
    "ConnectionDialog",
    "ConnectionPicker",
    "ConnectionsDialog",
    "KeyringFailureDialog",
    "RenameDialog",
    "Tester",
    "webhook_problem",
]
