"""The connection dialogs wired to the registry: add, edit, rename, delete, and the keyring failure path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b24explorer.core.vault import VaultError
from b24explorer.ui import qt
from b24explorer.ui.dialogs import run_dialog

if TYPE_CHECKING:
    from b24explorer.ui.connections import ConnectionInfo
    from b24explorer.ui.qt import QDialog, QWidget
    from b24explorer.ui.services import Services


def _dialogs() -> Any:
    """The dialog classes, loaded on first use: the start does not need them (see connection_dialogs)."""
    from b24explorer.ui import connection_dialogs

    return connection_dialogs


class ConnectionFlow:
    """Runs the dialogs for one window. Every step is a coroutine; nothing blocks the loop."""

    def __init__(self, window: QWidget, services: Services) -> None:
        self.window = window
        self.services = services
        self.registry = services.connections
        self.dialog: QDialog | None = None  # the dialog on screen, for tests and for closing on exit

    def _renamed(self, old: str, new: str) -> None:
        self.services.renamed(old, new)
        renamed = getattr(self.window, "connection_renamed", None)
        if renamed is not None:
            renamed(old, new)

    def _parent(self) -> QWidget:
        """The dialog on screen (so a dialog opened from "Connections…" is modal over it), else the window."""
        return self.dialog if self.dialog is not None else self.window

    def _refresh(self, select: str | None = None) -> None:
        refresh = getattr(self.window, "refresh_connections", None)
        if refresh is not None:
            refresh(select)

    async def _show(self, dialog: QDialog) -> int:
        previous, self.dialog = self.dialog, dialog
        try:
            return await run_dialog(dialog)
        finally:
            self.dialog = previous
            dialog.deleteLater()

    async def manage(self) -> None:
        dialog = _dialogs().ConnectionsDialog(
            self.window, list_connections=self.registry.infos, add=self.add, edit=self.edit,
            rename=self.rename, delete=self.delete)
        await self._show(dialog)

    async def add(self) -> str | None:
        dialog = _dialogs().ConnectionDialog(self._parent(), taken_names=set(self.registry.names()),
                                             tester=self.services.test_connection)
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return None
        name, hook, limits = dialog.name(), dialog.webhook(), dialog.limits()
        assert hook is not None
        try:
            await self.registry.add(name, hook, limits)
        except VaultError as exc:
            if not await self.keyring_failed(exc, name):
                return None
            self.registry.add_for_this_run(name, hook, limits)
        self._refresh(name)
        return name

    async def keyring_failed(self, error: VaultError, name: str) -> bool:
        """Explain the failure; True when the user chose "use for this run only (not saved)"."""
        self.services.log_bus.warning("KEYRING_" + error.kind.upper(), error.message,
                                      context={"connection": name, "detail": error.detail})
        dialog = _dialogs().KeyringFailureDialog(self._parent(), error, name)
        return await self._show(dialog) == _dialogs().KeyringFailureDialog.USE_THIS_RUN

    async def edit(self, conn: ConnectionInfo) -> None:
        dialog = _dialogs().ConnectionDialog(self._parent(), existing=conn,
                                             taken_names=set(self.registry.names()),
                                             tester=self.services.test_connection)
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return
        name, new_name, hook, limits = conn.name, dialog.name(), dialog.webhook(), dialog.limits()
        if limits != conn.limits:
            self.registry.set_limits(name, limits)  # the next call builds a client with the new preset
        if new_name != name:
            self._renamed(name, new_name)
            self.registry.rename(name, new_name)
            name = new_name
        if hook is not None:
            try:
                await self.registry.update_webhook(name, hook)
            except VaultError as exc:
                if await self.keyring_failed(exc, name):
                    await self.registry.delete(name)
                    self.registry.add_for_this_run(name, hook, limits)
            await self.services.forget_client(name)
        self._refresh(name)

    async def edit_by_name(self, name: str) -> None:
        info = self.registry.info(name)
        if info is not None and info.kind != "sandbox":
            await self.edit(info)

    async def rename(self, conn: ConnectionInfo) -> None:
        dialog = _dialogs().RenameDialog(self._parent(), conn.name, set(self.registry.names()))
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return
        new_name = dialog.name()
        self._renamed(conn.name, new_name)  # first, so the registry's change notice finds the new name
        self.registry.rename(conn.name, new_name)
        self._refresh(new_name)

    async def delete(self, conn: ConnectionInfo) -> None:
        buttons = qt.QMessageBox.StandardButton
        box = qt.QMessageBox(qt.QMessageBox.Icon.Question, "Delete connection",
                             f"Delete “{conn.name}” and remove its webhook from the keyring?",
                             buttons.Yes | buttons.No, self._parent())
        if await self._show(box) != buttons.Yes:
            return
        try:
            await self.registry.delete(conn.name)
        except VaultError as exc:
            # Settings no longer list it; the keyring entry may stay behind — say so.
            warn = qt.QMessageBox(qt.QMessageBox.Icon.Warning, "Keyring",
                                  f"The connection was removed, but its keyring entry could not be deleted.\n\n"
                                  f"{exc.message}\n{exc.action}", buttons.Ok, self._parent())
            await self._show(warn)
        await self.services.forget_client(conn.name)
        self._refresh()
