"""The connection dialogs wired to the workspace's registry: add (a webhook, or an application), edit, rename,
delete, and the keyring failure path. The flow only changes the registry; the window, the history and the client
cache follow its events."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from b24explorer.core.connections import Connection, Storage
from b24explorer.core.vault import VaultError
from b24explorer.ui import qt

if TYPE_CHECKING:
    from b24explorer.core.workspace import Workspace
    from b24explorer.ui.qt import QDialog, QWidget

APP_SECRET = "application credentials"  # what an application connection's keyring entry holds, in words


def _dialogs() -> ModuleType:
    """The dialog classes, loaded on first use: the start does not need them (see connection_dialogs)."""
    from b24explorer.ui import connection_dialogs

    return connection_dialogs


def _app_dialogs() -> ModuleType:
    from b24explorer.ui import app_connection_dialog

    return app_connection_dialog


def open_in_browser(url: str) -> bool:
    """The system's browser (the portal's authorize page)."""
    return bool(qt.QDesktopServices.openUrl(qt.QUrl(url)))


class ConnectionFlow:
    """Runs the dialogs for one window. Every step is a coroutine; nothing blocks the loop."""

    def __init__(self, window: QWidget, workspace: Workspace,
                 open_browser: Callable[[str], object] = open_in_browser) -> None:
        self.window = window
        self.workspace = workspace
        self.open_browser = open_browser  # where "Connect an application" opens the authorize page
        self.registry = workspace.connections
        self.dialog: QDialog | None = None  # the dialog on screen, for tests and for closing on exit

    def _parent(self) -> QWidget:
        """The dialog on screen (so a dialog opened from "Connections…" is modal over it), else the window."""
        return self.dialog if self.dialog is not None else self.window

    async def _show(self, dialog: QDialog) -> int:
        from b24explorer.ui.dialogs import run_dialog

        previous, self.dialog = self.dialog, dialog
        try:
            return await run_dialog(dialog)
        finally:
            self.dialog = previous
            dialog.deleteLater()

    async def manage(self) -> None:
        dialog = _dialogs().ConnectionsDialog(
            self.window, list_connections=self.registry.all, add=self.add, edit=self.edit,
            rename=self.rename, delete=self.delete, add_app=self.connect_app)
        await self._show(dialog)

    async def add(self) -> Connection | None:
        dialog = _dialogs().ConnectionDialog(self._parent(), taken_names=set(self.registry.names()),
                                             tester=self.workspace.test_connection)
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return None
        name, hook, limits, ca_file = dialog.name(), dialog.webhook(), dialog.limits(), dialog.ca_file()
        read_only = dialog.read_only()
        assert hook is not None
        try:
            added = await self.registry.add(name, hook, limits, ca_file)
        except VaultError as exc:
            if not await self.keyring_failed(exc, name):
                return None
            added = self.registry.add_for_this_run(name, hook, limits, ca_file)
        return self.registry.set_read_only(added.id, True) if read_only else added

    async def connect_app(self) -> Connection | None:
        """"Connect an application": authorized in the browser (or pasted tokens), saved in the keyring."""
        dialog = _app_dialogs().AppConnectionDialog(self._parent(), taken_names=set(self.registry.names()),
                                                    open_browser=self.open_browser)
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted or dialog.credentials is None:
            return None
        name, creds, limits, ca_file = dialog.name(), dialog.credentials, dialog.limits(), dialog.ca_file()
        try:
            return await self.registry.add_app(name, creds, limits, ca_file)
        except VaultError as exc:
            if not await self.keyring_failed(exc, name, secret=APP_SECRET):
                return None
            return self.registry.add_app_for_this_run(name, creds, limits, ca_file)

    async def edit_app(self, conn: Connection) -> None:
        """Rename, limits, CA file — or authorize the application again (new credentials, same connection)."""
        try:
            current = (await self.registry.session(conn.id)).credentials
        except Exception:  # unreadable keyring entry: authorizing again replaces it
            current = None
        dialog = _app_dialogs().AppConnectionDialog(self._parent(), taken_names=set(self.registry.names()),
                                                    open_browser=self.open_browser, existing=conn, current=current)
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return
        self.registry.set_limits(conn.id, dialog.limits())
        self.registry.set_ca_file(conn.id, dialog.ca_file())
        self.registry.rename(conn.id, dialog.name())
        if dialog.credentials is not None:
            try:
                await self.registry.update_app(conn.id, dialog.credentials)
            except VaultError as exc:
                await self.keyring_failed(exc, dialog.name(), secret=APP_SECRET)

    async def keyring_failed(self, error: VaultError, name: str, *, secret: str = "webhook") -> bool:
        """Explain the failure; True when the user chose "use for this run only (not saved)". ``secret``: what the
        keyring entry holds, in words ("webhook", or an application's credentials)."""
        self.workspace.log_bus.warning("KEYRING_" + error.kind.upper(), error.message,
                                       context={"connection": name, "detail": error.detail})
        dialog = _dialogs().KeyringFailureDialog(self._parent(), error, name, secret=secret)
        return bool(await self._show(dialog) == _dialogs().KeyringFailureDialog.USE_THIS_RUN)

    async def edit(self, conn: Connection) -> None:
        if conn.is_app:
            await self.edit_app(conn)
            return
        dialog = _dialogs().ConnectionDialog(self._parent(), existing=conn,
                                             taken_names=set(self.registry.names()),
                                             tester=self.workspace.test_connection)
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return
        new_name, hook, limits, read_only = dialog.name(), dialog.webhook(), dialog.limits(), dialog.read_only()
        self.registry.set_limits(conn.id, limits)  # the next call builds a client with the new preset
        self.registry.set_read_only(conn.id, read_only)
        self.registry.set_ca_file(conn.id, dialog.ca_file())
        self.registry.rename(conn.id, new_name)
        if hook is not None:
            try:
                await self.registry.update_webhook(conn.id, hook)
            except VaultError as exc:
                if await self.keyring_failed(exc, new_name):
                    await self.registry.remove(conn.id)
                    again = self.registry.add_for_this_run(new_name, hook, limits, dialog.ca_file())
                    self.registry.set_read_only(again.id, read_only)

    async def edit_by_key(self, key: str) -> None:
        conn = self.registry.get(key)
        if conn is not None and conn.storage is not Storage.SANDBOX:
            await self.edit(conn)

    async def rename(self, conn: Connection) -> None:
        dialog = _dialogs().RenameDialog(self._parent(), conn.name, set(self.registry.names()))
        if await self._show(dialog) != qt.QDialog.DialogCode.Accepted:
            return
        self.registry.rename(conn.id, dialog.name())

    async def delete(self, conn: Connection) -> None:
        buttons = qt.QMessageBox.StandardButton
        box = qt.QMessageBox(qt.QMessageBox.Icon.Question, "Delete connection",
                             f"Delete “{conn.name}” and remove its "
                             f"{'credentials' if conn.is_app else 'webhook'} from the keyring?",
                             buttons.Yes | buttons.No, self._parent())
        if await self._show(box) != buttons.Yes:
            return
        try:
            await self.registry.remove(conn.id)
        except VaultError as exc:
            # The registry no longer lists it; the keyring entry may stay behind — say so.
            warn = qt.QMessageBox(qt.QMessageBox.Icon.Warning, "Keyring",
                                  f"The connection was removed, but its keyring entry could not be deleted.\n\n"
                                  f"{exc.message}\n{exc.action}", buttons.Ok, self._parent())
            await self._show(warn)
