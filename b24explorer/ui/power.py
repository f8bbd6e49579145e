"""Plugs the power features into the main window: Batch and List-all modes, the History dock (every request
recorded), the "Copy as…" menu and "Save response as JSON…", and the documented API (``reference_feature``: the
picker's documented methods, the docs panel, completion and the pre-send checks).

Uses only the window's extension points (``add_mode``, ``add_dock``, ``copy_as_menu``, ``response_shown``), the
window as the modes' :class:`~b24explorer.ui.modes.ModeHost` (the current connection's client; a finished request
goes to :meth:`~b24explorer.ui.main_window.MainWindow.request_done`, which records it), plus its public editors, so
the window knows nothing about these features. The composition root keeps the :class:`PowerFeatures` it gets
from :func:`install`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core import export as code_export
from ..core.outcome import RequestOutcome
from ..core.result import AjaxResult
from ..core.webhook import Webhook
from .batch_editor import BatchDraft, BatchEditor
from .export_dialog import ExportDialog, copy_to_clipboard, render, save_response_dialog
from .history_panel import HistoryPanel, StoredRequest
from .list_all import ListAllPanel, ListRequest, ListRunStats
from .modes import MODE_BATCH, MODE_LIST, MODE_SINGLE, ModeHost
from .qt import QAction, QKeySequence, Qt, QTimer
from .reference_feature import ReferenceFeatures

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .main_window import MainWindow

__all__ = ["MODE_BATCH", "MODE_LIST", "PowerFeatures", "install"]


class PowerFeatures:
    """Everything this module added to one window; ``aclose()`` releases what it holds."""

    def __init__(self, window: MainWindow, workspace: Workspace) -> None:
        from .main_window import make_response_view

        self.window = window
        self.host: ModeHost = window
        self.workspace = workspace
        self.history = workspace.history
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._last_single: Any = None  # the AjaxResult shown in the single-request view

        self.batch = BatchEditor(self.host.client, make_response_view(window), on_sent=self._record_batch)
        self.list_all = ListAllPanel(self.host.client, make_response_view(window), on_finished=self._record_list)
        for key, title, panel in ((MODE_BATCH, "Batch", self.batch), (MODE_LIST, "List all", self.list_all)):
            panel.use_host_actions()
            window.add_mode(key, title, panel, panel, busy_changed=panel.busy_changed)
        window.mode_combo.currentIndexChanged.connect(lambda _i: self._mode_changed())

        self.history_panel = HistoryPanel(
            self.history,
            on_open=self.open_request,
            on_send=self.send_request,
            on_copy_as=self.copy_stored_as,
            copy_formats={str(fmt): label for fmt, label in code_export.FORMAT_LABELS.items()},
            current_connection=lambda: window.connection_id,
            current_request=self.current_request,
            secrets=workspace.known_secrets,
            name_of=self._connection_name,
        )
        self.history_dock = window.add_dock("History", self.history_panel, Qt.DockWidgetArea.RightDockWidgetArea,
                                            "historyDock")
        self.history_panel.notice.connect(lambda text: workspace.log_bus.warning("HISTORY_NOTICE", text))

        # The panel follows what it shows: recorded requests, and connection names (rows refer to ids).
        self._unsubscribe: list[Callable[[], None]] = [
            workspace.recorded.connect(lambda _outcome: self._refresh_history()),
            workspace.connections.events.renamed.connect(lambda _renamed: self._refresh_history()),
        ]
        window.response_shown.connect(self._remember_shown)
        self._build_menu()
        self.reference = ReferenceFeatures(window, workspace, batch_request=self.batch.request)
        from .answer_tools import install as install_answer_tools

        self.answer_tools = install_answer_tools(window, workspace, self)
        self._open_history_soon(0)  # once the event loop runs

    # --- plumbing ----------------------------------------------------------------------------------------------

    def _open_history_soon(self, delay_ms: int) -> None:
        # Not once closed: a window closed right after it opened must not leave a task behind its loop.
        QTimer.singleShot(delay_ms, lambda: None if self._closed else self._spawn(self._open_history()))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _connection_name(self, conn_id: str) -> str:
        conn = self.workspace.connections.get(conn_id)
        return conn.name if conn is not None else ""

    def _refresh_history(self) -> None:
        if not self._closed:
            self._spawn(self.history_panel.refresh())

    def _secrets(self) -> tuple[str, ...]:
        return tuple(self.workspace.known_secrets())

    async def _open_history(self) -> None:
        log = self.workspace.log_bus
        try:
            await self.workspace.open_history()
        except RuntimeError as exc:
            if "no running event loop" in str(exc):  # started between runs of the loop: try again soon
                self._open_history_soon(100)
                return
            log.error("HISTORY_UNAVAILABLE", f"The request history cannot be used: {exc}")
            return
        except Exception as exc:  # the window works without history; say why it is missing
            log.error("HISTORY_UNAVAILABLE", f"The request history cannot be used: {exc}")
            return
        await self.history_panel.refresh()

    async def aclose(self) -> None:
        """Stop listening and cancel this module's tasks (the workspace closes the history itself)."""
        self._closed = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.answer_tools.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.reference.aclose()

    # --- modes -------------------------------------------------------------------------------------------------

    def _mode_changed(self) -> None:
        mode = self.window.current_mode()
        if mode == MODE_LIST and not self.list_all.method_edit.text().strip():
            method = self.window.method_field.method()
            if method.endswith(".list"):
                with contextlib.suppress(ValueError):
                    api = self.window.api_switch.api()
                    params = self.window.params_editor.params()
                    if isinstance(params, dict):
                        params = self._without_paging_defaults(method, api, params)
                    self.list_all.set_request(method, params, api)

    def _without_paging_defaults(self, method: str, api: int, params: dict[str, Any]) -> dict[str, Any]:
        """The single editor's params for List all, less the template's own ``order`` and ``start``: List all
        pages by the id itself, so keeping them would only make it warn about the app's own default."""
        try:
            template = json.loads(self.workspace.template_for(method, api, self.window.connection_id) or "{}")
        except ValueError:
            template = {}
        if not isinstance(template, dict):
            return params
        return {key: value for key, value in params.items()
                if not (key in ("order", "start") and key in template and template[key] == value)}

    def send_current(self) -> asyncio.Task[Any] | None:
        """Send in the current mode (what Ctrl+Enter does)."""
        return self.window.send()

    # --- history recording: outcomes of the modes, recorded by the window ------------------------------------

    def _record_batch(self, request: BatchDraft, result: Any, error: BaseException | None, elapsed: float) -> None:
        outcome = self.host.new_outcome("batch", "batch", request.api, request.wire_params())
        if error is not None:
            outcome.failed(error, elapsed)
        else:
            outcome.batch_answered(result, elapsed)
        self.host.request_done(outcome)

    def _record_list(self, request: ListRequest, stats: ListRunStats, error: BaseException | None) -> None:
        outcome: RequestOutcome = self.host.new_outcome("list", request.method, request.api, request.params)
        if error is not None:
            outcome.failed(error, stats.elapsed)
        outcome.cancelled = outcome.cancelled or self.list_all.cancelled
        self.host.request_done(outcome.listed(stats.items, stats.requests, stats.elapsed))

    def _remember_shown(self, value: Any) -> None:
        self._last_single = value if isinstance(value, AjaxResult) else None

    # --- history → editors -------------------------------------------------------------------------------------

    def current_request(self) -> StoredRequest | None:
        """The request in the current mode's editor (None while it is not valid)."""
        window = self.window
        mode = window.current_mode()
        try:
            if mode == MODE_BATCH:
                batch = self.batch.request()
                return StoredRequest(window.connection_id, "batch", "batch", batch.api, batch.wire_params())
            if mode == MODE_LIST:
                lst = self.list_all.request()
                return StoredRequest(window.connection_id, "list", lst.method, lst.api, lst.params)
            method = window.method_field.method()
            if not method:
                return None
            return StoredRequest(window.connection_id, "call", method, window.api_switch.api(),
                                 window.params_editor.params(), window.request_id_edit.text().strip())
        except ValueError:
            return None

    def open_request(self, request: StoredRequest) -> None:
        """Loads a stored request into the editor of its kind (and its connection, if it still exists)."""
        window = self.window
        if request.connection and request.connection != window.connection_id:
            if self.workspace.connections.get(request.connection) is not None:
                window.select_connection(request.connection)
            else:
                here = window.connection
                window.statusBar().showMessage(
                    f"The connection “{request.connection_name or request.connection}” no longer exists; "
                    f"loaded into “{here.name if here else 'no connection'}”.", 8000)
        if request.kind == "batch":
            params = request.params if isinstance(request.params, dict) else {}
            window.set_mode(MODE_BATCH)
            self.batch.set_commands(params.get("cmd", params), halt=params.get("halt", True), api=request.api)
        elif request.kind == "list":
            window.set_mode(MODE_LIST)
            self.list_all.set_request(request.method, request.params, request.api)
        else:
            window.set_mode(MODE_SINGLE)
            window.choose_method(request.method, restore=True)
            window.api_switch.set_api(request.api)
            window.params_editor.set_params(request.params)
        if request.entry_id is not None:
            self._spawn(self._show_recorded(request))

    async def _show_recorded(self, request: StoredRequest) -> None:
        """The recorded answer of an opened history row, in the view of its kind (or the pane visibly cleared)."""
        assert request.entry_id is not None
        entry = await self.history.aget(request.entry_id)
        view = {"batch": self.batch.response_view, "list": self.list_all.response_view}.get(request.kind)
        answer = entry.response if entry is not None else None
        when = entry.when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if entry is not None else ""
        cut = " (cut to the history's size limit)" if entry is not None and entry.response_truncated else ""
        if view is not None:
            if answer:
                view.show_result(answer)
            else:
                view.clear()
        elif answer:
            self.window.show_answer(answer, note=f"recorded answer of {when}{cut}")
        else:
            self.window.show_answer(None, note="no answer was recorded for this request")

    def send_request(self, request: StoredRequest) -> asyncio.Task[Any] | None:
        """Loads a stored request and sends it the way the window sends (so it shows and is recorded)."""
        self.open_request(request)
        return self.send_current()

    def add_to_batch(self) -> str | None:
        """The single-request editor's request, appended to the batch editor as a labelled command."""
        window = self.window
        if window.current_mode() != MODE_SINGLE:
            return None
        request = self.current_request()
        if request is None:
            window.statusBar().showMessage("Nothing to add: pick a method and write valid params first.", 6000)
            return None
        try:
            label = self.batch.add_command(request.method, request.params)
        except ValueError as exc:
            window.statusBar().showMessage(str(exc), 8000)
            return None
        count = len(self.batch.request().commands)
        window.statusBar().showMessage(
            f"Added to the batch as “{label}” ({count} commands) — switch to Batch mode to send it.", 6000)
        return label

    # --- copy as code, save response ---------------------------------------------------------------------------

    def _build_menu(self) -> None:
        window = self.window
        menu = window.copy_as_menu
        self.copy_actions: dict[str, QAction] = {}
        for fmt, label in code_export.FORMAT_LABELS.items():
            action = QAction(label, window)
            action.setObjectName(f"copyAs_{fmt}")
            action.triggered.connect(lambda _checked=False, f=str(fmt): self.copy_as(f))
            menu.addAction(action)
            self.copy_actions[str(fmt)] = action
        menu.addSeparator()
        self.export_action = QAction("Export code…", window)
        self.export_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_action.triggered.connect(lambda: self.open_export_dialog())
        menu.addAction(self.export_action)
        menu.menuAction().setVisible(True)
        window.addAction(self.export_action)
        self.save_response_action = QAction("Save response as JSON…", window)
        self.save_response_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_response_action.triggered.connect(self.save_response)
        window.request_menu.addAction(self.save_response_action)
        window.addAction(self.save_response_action)
        self.add_to_batch_action = QAction("Add to batch", window)
        self.add_to_batch_action.setShortcut(QKeySequence("Ctrl+B"))
        self.add_to_batch_action.setToolTip("Append the current request to the batch editor (Batch mode)")
        self.add_to_batch_action.triggered.connect(self.add_to_batch)
        window.request_menu.addAction(self.add_to_batch_action)
        window.addAction(self.add_to_batch_action)
        self.history_action = self.history_dock.toggleViewAction()
        self.history_action.setShortcut(QKeySequence("Ctrl+H"))

    def export_request(self, stored: StoredRequest | None = None) -> Any:
        """A stored request (default: the current mode's) in ``core.export`` terms; ValueError when there is none."""
        current = stored if stored is not None else self.current_request()
        if current is None:
            raise ValueError("There is no valid request in the editor to export.")
        if current.kind == "batch":
            params = current.params if isinstance(current.params, dict) else {}
            return code_export.BatchRequest(params.get("cmd", params), bool(params.get("halt", True)), current.api)
        return code_export.CallRequest(current.method, current.params, current.api, current.request_id or None)

    async def _webhook(self, connection: str | None = None) -> Webhook | None:
        key = connection or self.window.connection_id
        if not key:
            return None
        try:
            return await self.workspace.connections.webhook(key)
        except Exception:  # keyring trouble, or a connection gone: export with a placeholder portal instead
            return None

    async def copy_stored_as(self, stored: StoredRequest, fmt: str) -> str:
        """A history or saved request as code, to the clipboard (the webhook of its own connection, masked)."""
        code = render(fmt, self.export_request(stored), await self._webhook(stored.connection))
        copy_to_clipboard(code)
        return code

    def copy_as(self, fmt: str) -> asyncio.Task[Any]:
        async def run() -> str | None:
            try:
                request = self.export_request()
            except ValueError as exc:
                self.window.statusBar().showMessage(str(exc), 6000)
                return None
            code = render(fmt, request, await self._webhook())
            copy_to_clipboard(code)
            label = code_export.FORMAT_LABELS[code_export.Format(fmt)]
            self.window.statusBar().showMessage(f"Copied as {label} (the webhook secret is a placeholder)", 6000)
            return code

        return self._spawn(run())

    def open_export_dialog(self, fmt: str = "curl") -> asyncio.Task[Any]:
        async def run() -> ExportDialog | None:
            try:
                request = self.export_request()
            except ValueError as exc:
                self.window.statusBar().showMessage(str(exc), 6000)
                return None
            dialog = ExportDialog(request, await self._webhook(), fmt=fmt, parent=self.window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()
            return dialog

        return self._spawn(run())

    def response_bytes(self) -> bytes | None:
        """The body shown in the current mode: the single answer, the batch answer, or the listed items."""
        mode = self.window.current_mode()
        if mode == MODE_BATCH:
            response = getattr(self.batch.last_result, "response", None)
            return bytes(response.raw) if response is not None else None
        if mode == MODE_LIST:
            items = self.list_all.response_view.root_value
            return json.dumps(items, ensure_ascii=False).encode() if isinstance(items, list) else None
        raw = getattr(self._last_single, "raw", None)
        return bytes(raw) if raw is not None else None

    def save_response(self) -> None:
        raw = self.response_bytes()
        if raw is None:
            self.window.statusBar().showMessage("There is no response to save yet.", 6000)
            return
        try:
            path = save_response_dialog(self.window, raw, self._secrets())
        except OSError as exc:
            self.window.statusBar().showMessage(f"Not saved: {exc.strerror or exc}", 8000)
            return
        if path is not None:
            self.window.statusBar().showMessage(f"Response saved to {path}", 6000)


def install(window: MainWindow, workspace: Workspace) -> PowerFeatures:
    """Adds the power features to a window (the composition root calls this once and keeps the result)."""
    return PowerFeatures(window, workspace)
