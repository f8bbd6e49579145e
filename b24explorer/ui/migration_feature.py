"""Plugs the REST v3 migration assistant into the window: the v3 warning's action (Ctrl+Shift+M) opens the
migration view as a request mode; the migration report; and the methods kept on v3 per connection.

Uses the window's extension points only (``add_mode``, ``add_api_preference``, ``request_menu``, the log pane's
``switch_to_v3_requested``, ``response_shown``) and the workspace; the window knows nothing about migration.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..core import migration
from ..core.result import AjaxResult
from .migration_report import MigrationReportDialog
from .migration_view import MigrationView
from .modes import MODE_MIGRATION, MODE_SINGLE
from .params_editor import ParamsInvalid
from .qt import QAction, QKeySequence

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .main_window import MainWindow

MIGRATE_SHORTCUT = "Ctrl+Shift+M"


class MigrationFeature:
    def __init__(self, window: MainWindow, workspace: Workspace, webhook: Callable[[], Awaitable[Any]],
                 kept: migration.KeptV3 | None = None) -> None:
        self.window = window
        self.workspace = workspace
        self.kept = kept if kept is not None else migration.KeptV3()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_shown: Any = None

        self.view = MigrationView(window.client, self._outcome, window.request_done, webhook, window,
                                  secrets=workspace.known_secrets)
        window.add_mode(MODE_MIGRATION, "REST v3 migration", self.view, self.view,
                        busy_changed=self.view.busy_changed)
        self.view.kept_changed.connect(self.keep_v3)
        self.view.open_in_editor.connect(self.edit_v3)
        self.view.back_requested.connect(lambda: window.set_mode(MODE_SINGLE))

        self.migrate_action = QAction("Migrate this request to REST v3", window)
        self.migrate_action.setObjectName("migrateToV3")
        self.migrate_action.setShortcut(QKeySequence(MIGRATE_SHORTCUT))
        self.migrate_action.setToolTip("Open the REST v3 form of the request beside it, send it and compare "
                                       f"the answers ({MIGRATE_SHORTCUT})")
        self.migrate_action.triggered.connect(lambda: self.migrate())
        self.report_action = QAction("REST v3 migration report…", window)
        self.report_action.setObjectName("migrationReport")
        self.report_action.triggered.connect(lambda: self.show_report())
        window.request_menu.addSeparator()
        window.request_menu.addAction(self.migrate_action)
        window.request_menu.addAction(self.report_action)
        window.addAction(self.migrate_action)

        window.log_pane.switch_to_v3_requested.connect(self.migrate)
        window.response_shown.connect(self._remember_shown)
        window.add_api_preference(self.preferred_api)

    # --- state --------------------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _remember_shown(self, value: Any) -> None:
        self._last_shown = value

    def _outcome(self, api: int, method: str, params: Any, request_id: str | None) -> Any:
        return self.window.new_outcome("call", method, api, params, request_id)

    def preferred_api(self, connection: str, method: str) -> int | None:
        """REST v3 for a method this connection keeps on v3; None: no preference."""
        return 3 if connection and self.kept.keeps(connection, method) else None

    # --- actions ------------------------------------------------------------------------------------
    def migrate(self, method: str = "") -> asyncio.Task[Any] | None:
        """The v3 warning's action: the current single request (over v2) in the migration view, its v3 form sent."""
        window = self.window
        if window.current_mode() == MODE_MIGRATION:
            return self.view.send()
        if window.current_mode() != MODE_SINGLE:
            window.set_mode(MODE_SINGLE)
        if method and method != window.method_field.method():
            window.choose_method(method, restore=True)
        method = window.method_field.method()
        if not method or not window.connection_id:
            window.statusBar().showMessage("Pick a connection and a method first.", 6000)
            return None
        if not migration.can_translate(method):
            window.statusBar().showMessage(f"{method} has no REST v2 → v3 translation rule yet.", 8000)
            return None
        try:
            params = window.params_editor.params()
        except ParamsInvalid as exc:
            window.params_editor.goto_problem()
            window.statusBar().showMessage(f"Not migrated — invalid JSON at {exc.problem}", 8000)
            return None
        if window.api_switch.api() == 3:
            window.statusBar().showMessage(f"{method} already goes over REST v3.", 6000)
            return None
        window.log_pane.hide_banner()
        shown = self._last_shown
        v2_result = shown if (isinstance(shown, AjaxResult) and shown.api == 2 and shown.method == method
                              and shown.params == params and shown.is_success) else None
        window.set_mode(MODE_MIGRATION)
        kept = self.kept.keeps(window.connection_id, method)
        return self._spawn(self.view.open(method, params, v2_result, kept=kept))

    def keep_v3(self, method: str, keep: bool) -> None:
        """Keep (or stop keeping) the method on v3 for the current connection; the single editor follows."""
        window = self.window
        connection = window.connection_id
        if not connection or not method:
            return
        self.kept.set(connection, method, keep)
        self._spawn(asyncio.to_thread(self.kept.save))
        if window.method_field.method() == method:
            if keep and self.view.translation is not None:
                self._put_in_editor(method, self.view.translation.params)
            elif not keep:
                window.api_switch.set_api(2)
                window.params_editor.set_text(json.dumps(self.view.v2_params, ensure_ascii=False, indent=2))
        window.statusBar().showMessage(
            f"{method} now goes over REST v3 on this connection." if keep else
            f"{method} goes over REST v2 again on this connection.", 6000)

    def edit_v3(self, method: str, params: Any) -> None:
        self._put_in_editor(method, params)
        self.window.set_mode(MODE_SINGLE)

    def _put_in_editor(self, method: str, params: Any) -> None:
        window = self.window
        if window.method_field.method() != method:
            window.choose_method(method, restore=True)
        window.api_switch.set_api(3)
        window.params_editor.set_text(json.dumps(params, ensure_ascii=False, indent=2))

    def show_report(self) -> asyncio.Task[Any] | None:
        connection = self.window.connection
        if connection is None:
            self.window.statusBar().showMessage("Pick a connection first.", 6000)
            return None
        dialog = MigrationReportDialog(connection.name, self.window)
        dialog.open_method.connect(self._open_from_report)
        dialog.show()

        async def load() -> MigrationReportDialog:
            try:
                client = await self.window.client()
                v3_methods = await client.v3.methods()
                openapi = await client.v3_openapi()
                report = await asyncio.to_thread(migration.report_for_connection, self.workspace.history,
                                                 connection.id, v3_methods, openapi)
            except Exception as exc:  # keyring, network or history trouble: the dialog says so
                dialog.show_failure(str(exc))
            else:
                dialog.show_report(report)
            return dialog

        return self._spawn(load())

    def _open_from_report(self, method: str, params: Any) -> None:
        window = self.window
        window.set_mode(MODE_SINGLE)
        window.choose_method(method, restore=True)
        window.api_switch.set_api(2)
        window.params_editor.set_text(json.dumps(params if params is not None else {}, ensure_ascii=False,
                                                 indent=2))
        self.migrate()

    async def aclose(self) -> None:
        self.view.cancel()
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
