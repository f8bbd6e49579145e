"""The answer tools docked in the window: Diff (two history rows, the answer against a pinned baseline, the same
request on another connection), Table (the answer's arrays of records; list-all pages stream in) and Limits (the
connection's limiters at a glance). Added through the window's extension points only."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from .diff_view import DiffView
from .limits_panel import LimitsPanel
from .qt import QAction, QComboBox, QKeySequence, Qt, QToolButton, is_alive
from .table_view import TableView

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .main_window import MainWindow
    from .power import PowerFeatures


class AnswerTools:
    """The Diff, Table and Limits docks of one window; ``close()`` stops what they watch."""

    def __init__(self, window: MainWindow, workspace: Workspace, power: PowerFeatures) -> None:
        self.window = window
        self.workspace = workspace
        self.power = power
        self.baseline: tuple[Any, str] | None = None  # (answer, label)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._limits_client: Any = None

        self.diff = DiffView(window)
        self.table = TableView(window)
        self.limits = LimitsPanel(window)
        self._build_diff_tools()
        bottom, right = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.diff_dock = window.add_dock("Diff", self.diff, bottom, "diffDock")
        self.table_dock = window.add_dock("Table", self.table, bottom, "tableDock")
        self.limits_dock = window.add_dock("Limits", self.limits, right, "limitsDock")
        window.tabifyDockWidget(window.log_dock, self.diff_dock)
        window.tabifyDockWidget(self.diff_dock, self.table_dock)
        window.tabifyDockWidget(power.history_dock, self.limits_dock)
        window.log_dock.raise_()
        power.history_dock.raise_()

        self.pin_action = QAction("Pin answer as diff baseline", window)
        self.pin_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.pin_action.triggered.connect(self.pin_baseline)
        self.compare_action = QAction("Compare answer with baseline", window)
        self.compare_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.compare_action.triggered.connect(self.compare_with_baseline)
        for action in (self.pin_action, self.compare_action):
            window.addAction(action)
            window.request_menu.addAction(action)

        window.answer_changed.connect(self._answer_changed)
        window.request_finished.connect(lambda _outcome: self._watch_limits())
        window.connection_changed.connect(lambda _id: self._watch_limits())
        self.limits_dock.visibilityChanged.connect(lambda shown: self._watch_limits() if shown else None)
        lst = power.list_all
        lst.busy_changed.connect(self._list_busy)
        lst.page_items.connect(self.table.extend)
        self._unsubscribe = workspace.connections.events.any_change(self._refresh_connections)
        self._refresh_connections()

    # --- diff ---------------------------------------------------------------------------------------------------
    def _build_diff_tools(self) -> None:
        tools = self.diff.tools

        def button(text: str, tip: str, slot: Any) -> QToolButton:
            made = QToolButton(self.diff)
            made.setText(text)
            made.setToolTip(tip)
            made.clicked.connect(slot)
            tools.addWidget(made)
            return made

        self.pin_button = button("Pin baseline", "Keep the answer on screen as the baseline (Ctrl+Shift+B)",
                                 self.pin_baseline)
        self.baseline_button = button("Answer vs baseline", "Compare the answer on screen with the baseline "
                                      "(Ctrl+Shift+D)", self.compare_with_baseline)
        tools.addSpacing(12)
        self.left_row_button = button("History row → left", "The selected history row's recorded answer on the "
                                      "left", lambda: self._history_side(0))
        self.right_row_button = button("History row → right", "The selected history row's recorded answer on the "
                                       "right, and compare", lambda: self._history_side(1))
        tools.addSpacing(12)
        self.connection_combo = QComboBox(self.diff)
        self.connection_combo.setToolTip("Another connection to send the same request to")
        tools.addWidget(self.connection_combo)
        self.elsewhere_button = button("Same request there", "Send the request on screen through the chosen "
                                       "connection too and compare the two answers", self.compare_elsewhere)
        tools.addStretch(1)
        self._rows: list[tuple[Any, str] | None] = [None, None]

    def _current_answer(self) -> tuple[Any, str] | None:
        value = self.window.response_view.root_value
        if value is None:
            return None
        conn = self.window.connection
        where = conn.name if conn is not None else "?"
        return value, f"{self.window.method_field.method()} on {where} at {time.strftime('%H:%M:%S')}"

    def _show_diff(self) -> None:
        self.diff_dock.show()
        self.diff_dock.raise_()

    def pin_baseline(self) -> bool:
        answer = self._current_answer()
        self._show_diff()
        if answer is None:
            self.diff.say("No answer on screen to pin: send a request first.")
            return False
        self.baseline = answer
        self.diff.say(f"Baseline pinned: {answer[1]}. Send again (or change something), then compare.")
        return True

    def compare_with_baseline(self) -> bool:
        answer = self._current_answer()
        self._show_diff()
        if self.baseline is None or answer is None:
            self.diff.say("Pin a baseline first (Ctrl+Shift+B), then compare the answer on screen with it.")
            return False
        self.diff.compare(self.baseline[0], answer[0], f"baseline — {self.baseline[1]}", answer[1])
        return True

    def _history_side(self, side: int) -> None:
        entry_id = self.power.history_panel.selected_id()
        if entry_id is None:
            self.diff.say("Select a row in the History first.")
            return
        self._spawn(self.history_row_to(side, entry_id))

    async def history_row_to(self, side: int, entry_id: int) -> bool:
        """A history row's recorded answer on one side; with both sides set, they are compared."""
        entry = await self.workspace.history.aget(entry_id)
        self._show_diff()
        if entry is None or not entry.response:
            self.diff.say("That history row has no recorded answer.")
            return False
        label = (f"#{entry.id} {entry.method} on {entry.connection_name or entry.connection} at "
                 f"{entry.when.astimezone():%H:%M:%S}{' (cut)' if entry.response_truncated else ''}")
        self._rows[side] = (entry.response, label)
        left, right = self._rows
        if left is None or right is None:
            self.diff.say(f"{'Left' if side == 0 else 'Right'}: {label}. Now pick the other side's row.")
            return False
        self.diff.compare(left[0], right[0], left[1], right[1])
        return True

    def _refresh_connections(self, *_args: Any) -> None:
        current = self.connection_combo.currentData()
        self.connection_combo.clear()
        for conn in self.workspace.connections.all():
            self.connection_combo.addItem(conn.name, conn.id)
        index = self.connection_combo.findData(current)
        if index >= 0:
            self.connection_combo.setCurrentIndex(index)

    def compare_elsewhere(self) -> None:
        other = str(self.connection_combo.currentData() or "")
        self._spawn(self.same_request_on(other))

    async def same_request_on(self, other: str) -> bool:
        """Send the request on screen through ``other`` (recorded like any request) and compare its answer with
        the one on screen."""
        window = self.window
        answer = self._current_answer()
        self._show_diff()
        conn = self.workspace.connections.get(other)
        if answer is None or conn is None:
            self.diff.say("Send the request here first, and pick another connection to send it to.")
            return False
        if conn.id == window.connection_id:
            self.diff.say("Pick a connection other than the one in use.")
            return False
        method, api = window.method_field.method(), window.api_switch.api()
        try:
            params = window.params_editor.params()
        except ValueError as exc:
            self.diff.say(f"The params are not valid JSON: {exc}")
            return False
        self.diff.say(f"Sending {method} through {conn.name}…")
        outcome = self.workspace.outcome(conn.id, "call", method, api, params, None)
        started = time.monotonic()
        try:
            client = await self.workspace.client(conn.id)
            result = await client.call(method, params, api=api)
        except Exception as exc:  # the other side's failure is said; nothing is compared
            outcome.failed(exc, time.monotonic() - started)
            await self.workspace.record(outcome)
            self.diff.say(f"{conn.name} did not answer {method}: {getattr(exc, 'message', exc)}")
            return False
        outcome.answered(result, time.monotonic() - started)
        await self.workspace.record(outcome)
        self.diff.compare(answer[0], result.raw, answer[1],
                          f"{method} on {conn.name} at {time.strftime('%H:%M:%S')}")
        return True

    # --- table --------------------------------------------------------------------------------------------------
    def _answer_changed(self) -> None:
        self.table.show_value(self.window.response_view.root_value)

    def _list_busy(self, busy: bool) -> None:
        if busy:
            request = self.power.list_all.last_request
            self.table.begin_stream(f"{request.method} (all items)" if request is not None else "list all")

    # --- limits -------------------------------------------------------------------------------------------------
    def _watch_limits(self) -> None:
        """Watch the limiters of the connection in use — once its client exists: watching never makes one (nor
        calls its portal)."""
        conn = self.window.connection
        if conn is None:
            self._limits_client = None
            self.limits.watch(None)
            return
        client = self.workspace.existing_client(conn.id)
        if client is None:
            return
        if client is self._limits_client:
            return
        from ..core.limits_glance import LimitsMonitor

        self._limits_client = client
        self.limits.watch(LimitsMonitor.for_client(client, on_change=self.limits.changed), conn.name)

    # --- plumbing -----------------------------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def close(self) -> None:
        self._unsubscribe()
        if not is_alive(self.window):  # the window (and so these views) is gone already
            return
        self.diff.runner.cancel()
        self.table.sorter.cancel()
        self.table.exporter.cancel()
        self.limits.watch(None)
        for task in self._tasks:
            task.cancel()


def install(window: MainWindow, workspace: Workspace, power: PowerFeatures) -> AnswerTools:
    return AnswerTools(window, workspace, power)
