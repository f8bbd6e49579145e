"""The Events panel: a portal's events for an application connection, without a public URL.

Offline queue tab: pick event names (the docs' event list, or typed), bind or unbind them as offline events, then
watch the queue — `event.offline.list` (keep) or `event.offline.get` (take and clear) at a chosen interval, or as
soon as the portal's ONOFFLINEEVENT hint arrives — records newest first; open a record's object in the request
editor, clear what was shown. The feature check (`feature.get rest_offline_extended`) runs first.

Online handler tab: a local listener for `event.bind` handlers on portals that can reach this machine; each
incoming payload is shown with its `auth` block masked and its application token checked against the app's.

The panel reaches the window only through its :class:`~b24explorer.ui.modes.ModeHost` (the current connection's
client) and the callbacks it is given.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.event_catalog import EVENTS, HINT, is_event_name, offline_events_url
from ..core.events import EventPoller, EventsService, ObjectCall, OfflineEvent, object_call
from ..core.events_listener import EventListener, OnlineEvent, Verdict
from .history_panel import StoredRequest
from .qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from ..core.logbus import LogBus
    from ..core.workspace import Workspace
    from .main_window import MainWindow
    from .modes import ModeHost

INTERVALS_S = (2, 5, 10, 30, 60)
RECORD_COLUMNS = ("Time", "Event", "Object", "Message id")
HINT_FALLBACK_S = 60.0  # with the hint, the queue is still read now and then in case a hint is lost
WEBHOOK_NOTE = ("Events need an application (OAuth) connection: a webhook cannot bind offline events or read their "
                "queue (the portal allows both in an application's context only). Connect the app (Connections… → "
                "Connect app…, "
                "or `b24x connection add NAME --oauth`) and pick it.")

IsAppConnection = Callable[[str], bool]
OpenCall = Callable[[ObjectCall], None]


class EventsPanel(QWidget):
    """See the module docstring. ``is_app(connection_id)`` says whether a connection is an application's."""

    def __init__(self, host: ModeHost, *, is_app: IsAppConnection, open_call: OpenCall, log: LogBus,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventsPanel")
        self.host = host
        self.is_app = is_app
        self.open_call = open_call
        self.log = log
        self.records: list[OfflineEvent] = []  # newest first, as shown
        self.online: list[OnlineEvent] = []  # newest first, as shown
        self.poller: EventPoller | None = None
        self.listener: EventListener | None = None
        self._hint_listener: EventListener | None = None
        self._hint_service: EventsService | None = None  # the connection the hint was bound on
        self._connection = ""
        self._check_pending = False
        self._tasks: set[asyncio.Task[Any]] = set()

        self.note = QLabel()
        self.note.setObjectName("eventsNote")
        self.note.setWordWrap(True)
        self.note.setOpenExternalLinks(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_offline(), "Offline queue")
        self.tabs.addTab(self._build_online(), "Online handler")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs, 1)
        self.connection_changed(host.connection_id)

    # --- building -------------------------------------------------------------------------------------------------

    def _build_offline(self) -> QWidget:
        page = QWidget()
        self.event_list = QListWidget()
        self.event_list.setObjectName("eventNames")
        for ref in (*EVENTS, HINT):
            item = QListWidgetItem(ref.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip(ref.url)
            item.setData(Qt.ItemDataRole.UserRole, ref.url)
            self.event_list.addItem(item)
        self.event_list.currentItemChanged.connect(lambda item, _prev: self._show_doc(item))
        self.other_events = QLineEdit()
        self.other_events.setPlaceholderText("other event names, comma-separated (e.g. ONCALENDARENTRYADD)")
        self.doc_link = QLabel()
        self.doc_link.setOpenExternalLinks(True)
        self._show_doc(None)
        self.bind_button = QPushButton("Bind offline")
        self.unbind_button = QPushButton("Unbind")
        self.bind_button.clicked.connect(lambda: self._spawn(self.bind_checked()))
        self.unbind_button.clicked.connect(lambda: self._spawn(self.unbind_checked()))
        binding_row = QHBoxLayout()
        binding_row.addWidget(self.bind_button)
        binding_row.addWidget(self.unbind_button)
        binding_row.addStretch(1)

        self.read_mode = QComboBox()
        self.read_mode.addItem("event.offline.list (keep)", True)
        self.read_mode.addItem("event.offline.get (take and clear)", False)
        self.interval = QComboBox()
        for seconds in INTERVALS_S:
            self.interval.addItem(f"every {seconds} s", float(seconds))
        self.interval.addItem("on the portal's ONOFFLINEEVENT hint", 0.0)
        self.interval.setCurrentIndex(1)
        self.watch_button = QPushButton("Watch")
        self.watch_button.setCheckable(True)
        self.watch_button.toggled.connect(self._watch_toggled)
        watch_row = QHBoxLayout()
        watch_row.addWidget(self.read_mode)
        watch_row.addWidget(self.interval)
        watch_row.addWidget(self.watch_button)

        self.model = QStandardItemModel(0, len(RECORD_COLUMNS))
        self.model.setHorizontalHeaderLabels(list(RECORD_COLUMNS))
        self.table = QTreeView()
        self.table.setObjectName("eventRecords")
        self.table.setModel(self.model)
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.open_button = QPushButton("Open object")
        self.open_button.setToolTip("Load the record's get call (e.g. crm.deal.get of its id) into the request editor")
        self.open_button.clicked.connect(self.open_selected)
        self.clear_button = QPushButton("Clear shown")
        self.clear_button.setToolTip("Remove the shown records from the portal's queue (and from this list)")
        self.clear_button.clicked.connect(lambda: self._spawn(self.clear_shown()))
        self.status = QLabel()
        self.status.setObjectName("eventsStatus")
        self.status.setWordWrap(True)
        action_row = QHBoxLayout()
        action_row.addWidget(self.open_button)
        action_row.addWidget(self.clear_button)
        action_row.addStretch(1)

        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Events to bind:"))
        layout.addWidget(self.event_list, 1)
        layout.addWidget(self.other_events)
        layout.addWidget(self.doc_link)
        layout.addLayout(binding_row)
        layout.addLayout(watch_row)
        layout.addWidget(self.table, 2)
        layout.addLayout(action_row)
        layout.addWidget(self.status)
        return page

    def _build_online(self) -> QWidget:
        page = QWidget()
        self.listen_host = QLineEdit("127.0.0.1")
        self.listen_port = QLineEdit("0")
        self.listen_port.setMaximumWidth(80)
        self.app_token = QLineEdit()
        self.app_token.setObjectName("applicationToken")
        self.app_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.app_token.setPlaceholderText("the app's application_token (to check each event)")
        self.listen_button = QPushButton("Listen")
        self.listen_button.setCheckable(True)
        self.listen_button.toggled.connect(self._listen_toggled)
        row = QHBoxLayout()
        row.addWidget(QLabel("Host"))
        row.addWidget(self.listen_host, 1)
        row.addWidget(QLabel("Port"))
        row.addWidget(self.listen_port)
        row.addWidget(self.listen_button)
        self.handler_label = QLabel("Not listening.")
        self.handler_label.setObjectName("handlerUrl")
        self.handler_label.setWordWrap(True)
        self.handler_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.online_list = QListWidget()
        self.online_list.setObjectName("onlineEvents")
        self.online_list.currentRowChanged.connect(self._show_online)
        self.payload_view = QPlainTextEdit()
        self.payload_view.setObjectName("onlinePayload")
        self.payload_view.setReadOnly(True)
        layout = QVBoxLayout(page)
        layout.addLayout(row)
        layout.addWidget(self.app_token)
        layout.addWidget(self.handler_label)
        layout.addWidget(self.online_list, 1)
        layout.addWidget(self.payload_view, 1)
        return page

    # --- plumbing -------------------------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _show_doc(self, item: QListWidgetItem | None) -> None:
        if item is None:
            url, text = offline_events_url(), "Offline events in the REST docs"
        else:
            url, text = str(item.data(Qt.ItemDataRole.UserRole)), f"{item.text()} in the REST docs"
        self.doc_link.setText(f'<a href="{url}">{text}</a>')

    def _service_enabled(self, enabled: bool) -> None:
        for widget in (self.bind_button, self.unbind_button, self.watch_button, self.clear_button):
            widget.setEnabled(enabled)

    async def _service(self) -> EventsService:
        return EventsService(await self.host.client())

    def checked_events(self) -> list[str]:
        names = [self.event_list.item(i).text() for i in range(self.event_list.count())
                 if self.event_list.item(i).checkState() == Qt.CheckState.Checked]
        for typed in self.other_events.text().replace(";", ",").split(","):
            if typed.strip():
                names.append(typed.strip().upper())
        return list(dict.fromkeys(names))

    def check_events(self, names: list[str]) -> None:
        wanted = {n.upper() for n in names}
        for i in range(self.event_list.count()):
            item = self.event_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in wanted else Qt.CheckState.Unchecked)

    # --- the connection -------------------------------------------------------------------------------------------

    def connection_changed(self, connection_id: str, *, again: bool = False) -> None:
        """The window's connection changed (``again``: the same one was edited): stop watching the old queue,
        check the new one."""
        if connection_id == self._connection and connection_id and not again:
            return
        self._connection = connection_id
        self._check_pending = False
        self.watch_button.setChecked(False)
        self.records = []
        self.model.removeRows(0, self.model.rowCount())
        if not connection_id:
            self.note.setText("No connection.")
            self._service_enabled(False)
        elif not self.is_app(connection_id):
            self.note.setText(WEBHOOK_NOTE)
            self._service_enabled(False)
        else:
            self.note.setText("Checking whether this portal offers offline events…")
            self._service_enabled(True)
            self._check_pending = True
            if self.isVisible():  # a hidden panel sends nothing: the check runs when it is shown
                self._run_pending_check()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._run_pending_check()

    def _run_pending_check(self) -> None:
        if self._check_pending and self._connection:
            self._check_pending = False
            self._spawn(self.feature_check())

    async def feature_check(self) -> bool | None:
        connection = self._connection
        try:
            check = await (await self._service()).feature_check()
        except Exception as exc:  # the panel stays usable; the note says what went wrong
            if connection == self._connection:
                self.note.setText(f"The feature check (feature.get) failed: {exc}")
            return None
        if connection != self._connection:
            return None
        link = f' <a href="{offline_events_url()}">Offline events in the docs</a>.'
        self.note.setText(("✓ " if check.available else "⚠ ") + check.note + ("" if check.available else link))
        return check.available

    # --- binding --------------------------------------------------------------------------------------------------

    def _names_or_say(self) -> list[str]:
        names = self.checked_events()
        bad = [n for n in names if not is_event_name(n)]
        if bad:
            self._say(f"Not an event name: {bad[0]!r} (event names are like ONCRMDEALADD).")
            return []
        if not names:
            self._say("Tick the events to bind (or type their names) first.")
        return names

    async def bind_checked(self) -> None:
        names = self._names_or_say()
        if not names:
            return
        try:
            outcomes = await (await self._service()).bind(names)
        except Exception as exc:
            self._say(f"Binding failed: {exc}")
            return
        self._say("; ".join(f"{o.event}: {'bound offline' if o.bound else o.note}" for o in outcomes))

    async def unbind_checked(self) -> None:
        names = self._names_or_say()
        if not names:
            return
        try:
            counts = await (await self._service()).unbind(names)
        except Exception as exc:
            self._say(f"Unbinding failed: {exc}")
            return
        self._say("; ".join(f"{name}: {count} removed" for name, count in counts.items()))

    # --- watching the queue ---------------------------------------------------------------------------------------

    def _watch_toggled(self, on: bool) -> None:
        self.watch_button.setText("Stop" if on else "Watch")
        self.read_mode.setEnabled(not on)
        self.interval.setEnabled(not on)
        if on:
            self._spawn(self.start_watching())
        else:
            self._spawn(self.stop_watching())

    async def start_watching(self) -> None:
        await self.stop_watching()
        try:
            service = await self._service()
        except Exception as exc:
            self._say(f"Cannot watch: {exc}")
            self.watch_button.setChecked(False)
            return
        keep = bool(self.read_mode.currentData())
        interval = float(self.interval.currentData())
        on_hint = interval == 0.0
        self.poller = EventPoller(service, self.show_records, interval_s=HINT_FALLBACK_S if on_hint else interval,
                                  keep=keep, on_error=self._poll_failed)
        if on_hint and not await self._listen_for_hint(service):
            self.watch_button.setChecked(False)
            return
        self.poller.start()
        how = "on the portal's hint" if on_hint else f"every {interval:g} s"
        self._say(f"Watching the queue {how} ({'keep' if keep else 'take and clear'}).")

    async def _listen_for_hint(self, service: EventsService) -> bool:
        """ONOFFLINEEVENT bound online to a local listener: each hint polls at once."""
        def hinted(event: OnlineEvent) -> None:
            if event.event == HINT.name and event.verdict is not Verdict.REFUSED and self.poller is not None:
                self.poller.poke()

        listener = EventListener(hinted, application_token=self._app_token(), host=self.listen_host.text().strip()
                                 or "127.0.0.1", log=self.log)
        try:
            await listener.start()
            await service.bind([HINT.name], offline=False, handler=listener.handler_url)
        except Exception as exc:
            await listener.close()
            self._say(f"The ONOFFLINEEVENT hint cannot be used ({exc}): the portal must reach "
                      f"{listener.handler_url}; choose an interval instead.")
            return False
        self._hint_listener, self._hint_service = listener, service
        return True

    async def stop_watching(self) -> None:
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.cancel()
        listener, self._hint_listener = self._hint_listener, None
        service, self._hint_service = self._hint_service, None
        if listener is not None and service is not None:
            url = listener.handler_url
            await listener.close()
            try:
                await service.unbind([HINT.name], offline=False, handler=url)
            except Exception as exc:  # the portal keeps a dead handler; say so, nothing else depends on it
                self.log.warning("EVENTS_UNBIND_FAILED", f"ONOFFLINEEVENT could not be unbound: {exc}")

    def _poll_failed(self, exc: Exception) -> None:
        self._say(f"Reading the queue failed: {exc}")
        self.log.warning("EVENTS_POLL_FAILED", f"Reading the offline-event queue failed: {exc}")

    def show_records(self, fresh: list[OfflineEvent]) -> None:
        """New records (newest first) go on top; a new state of a shown record replaces its row."""
        ids = {r.record_id for r in fresh}
        for row in reversed(range(len(self.records))):
            if self.records[row].record_id in ids:
                del self.records[row]
                self.model.removeRow(row)
        for record in reversed(fresh):
            self.records.insert(0, record)
            self.model.insertRow(0, _record_row(record))
        for column in range(len(RECORD_COLUMNS)):
            self.table.resizeColumnToContents(column)
        self._say(f"{len(fresh)} new record{'s' if len(fresh) != 1 else ''}; {len(self.records)} shown.")

    def selected_record(self) -> OfflineEvent | None:
        index = self.table.currentIndex()
        return self.records[index.row()] if index.isValid() and index.row() < len(self.records) else None

    def open_selected(self) -> None:
        record = self.selected_record()
        if record is None:
            self._say("Select a record first.")
            return
        call = object_call(record.event, record.object_id)
        if call is None:
            self._say(f"{record.event} has no object to open.")
            return
        self.open_call(call)

    async def clear_shown(self) -> int:
        """Remove what is shown from the queue: kept records are reserved and cleared; taken ones are gone
        already."""
        shown = list(self.records)
        if not shown:
            self._say("Nothing is shown.")
            return 0
        cleared = 0
        kept = [r for r in shown if not r.process_id]  # a taken record left the queue when it was read
        if kept:
            try:
                cleared = await (await self._service()).clear_shown(kept)
            except Exception as exc:
                self._say(f"Clearing failed: {exc}")
                return 0
        self.records = []
        self.model.removeRows(0, self.model.rowCount())
        if self.poller is not None:
            self.poller.poke()
        self._say(f"Cleared {cleared} record{'s' if cleared != 1 else ''} from the queue.")
        return cleared

    # --- online handler -------------------------------------------------------------------------------------------

    def _app_token(self) -> str | None:
        token = self.app_token.text().strip()
        if token:
            self.log.add_secret(token)
        return token or None

    def _listen_toggled(self, on: bool) -> None:
        self.listen_button.setText("Stop" if on else "Listen")
        for widget in (self.listen_host, self.listen_port, self.app_token):
            widget.setEnabled(not on)
        self._spawn(self.start_listening() if on else self.stop_listening())

    async def start_listening(self) -> str | None:
        port_text = self.listen_port.text().strip() or "0"
        if not port_text.isdigit() or int(port_text) > 65535:
            self.handler_label.setText("The port must be a number from 0 to 65535 (0: any free port).")
            self.listen_button.setChecked(False)
            return None
        listener = EventListener(self.show_online, application_token=self._app_token(),
                                 host=self.listen_host.text().strip() or "127.0.0.1", port=int(port_text),
                                 log=self.log)
        try:
            await listener.start()
        except Exception as exc:
            self.handler_label.setText(str(exc))
            self.listen_button.setChecked(False)
            return None
        self.listener = listener
        check = "checking the application token" if listener.application_token else \
            "not checking the application token (none given)"
        self.handler_label.setText(f"Handler URL: {listener.handler_url} — {check}. Bind events to it with "
                                   "event.bind (handler); a portal elsewhere needs this machine's address or a "
                                   "tunnel to it.")
        return listener.handler_url

    async def stop_listening(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            await listener.close()
            self.handler_label.setText("Not listening.")

    def show_online(self, event: OnlineEvent) -> None:
        self.online.insert(0, event)
        mark = {Verdict.ACCEPTED: "✓", Verdict.UNCHECKED: "?", Verdict.REFUSED: "✗"}[event.verdict]
        item = QListWidgetItem(f"{mark} {event.event}  {event.object_id if event.object_id is not None else ''}  "
                               f"({event.verdict})")
        self.online_list.insertItem(0, item)
        self.online_list.setCurrentRow(0)

    def _show_online(self, row: int) -> None:
        if 0 <= row < len(self.online):
            self.payload_view.setPlainText(json.dumps(self.online[row].payload, ensure_ascii=False, indent=2))
        else:
            self.payload_view.clear()

    # --- closing --------------------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.stop_watching()
        await self.stop_listening()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _record_row(record: OfflineEvent) -> list[QStandardItem]:
    when = record.time.astimezone().strftime("%Y-%m-%d %H:%M:%S") if record.time else ""
    cells = (when, record.event, "" if record.object_id is None else str(record.object_id), record.message_id)
    return [QStandardItem(text) for text in cells]


def install(window: MainWindow, workspace: Workspace, open_request: Callable[[StoredRequest], None]) -> EventsPanel:
    """The Events dock of a window (hidden until View → Events); it follows the window's connection."""
    def is_app(connection_id: str) -> bool:
        conn = workspace.connections.get(connection_id)
        return conn is not None and conn.is_app

    def open_call(call: ObjectCall) -> None:
        open_request(StoredRequest(window.connection_id, "call", call.method, 2, call.params))
        window.statusBar().showMessage(f"{call.method} of the event's object is in the editor: send it with "
                                       "Ctrl+Enter.", 6000)

    panel = EventsPanel(window, is_app=is_app, open_call=open_call, log=workspace.log_bus)
    window.connection_changed.connect(panel.connection_changed)
    workspace.connections.events.changed.connect(
        lambda conn: panel.connection_changed(conn.id, again=True) if conn.id == window.connection_id else None)
    dock = window.add_dock("Events", panel, Qt.DockWidgetArea.RightDockWidgetArea, "eventsDock")
    dock.hide()
    return panel
