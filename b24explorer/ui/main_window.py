"""The main window: connection + method + API switch + Send/Cancel on top, method picker on the left,
params editor above the response view in the centre, the log pane docked below, the status line at the bottom.

Everything not Qt comes from the :class:`~b24explorer.core.workspace.Workspace` it is given: connections (the
window follows their events), clients, catalogs and the history, where every request the window or one of its
modes sends is recorded (:meth:`request_done`).

Extension points for later features: ``add_mode`` (a :class:`~b24explorer.ui.modes.RequestMode` next to Single:
Batch, List-all …; the window is its :class:`~b24explorer.ui.modes.ModeHost`), ``add_dock`` (History …),
``copy_as_menu`` (Copy as curl/Python/…), and the ``request_finished`` signal (one
:class:`~b24explorer.core.outcome.RequestOutcome` per sent request).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from b24explorer.core.vault import VaultError
from b24explorer.ui import qt
from b24explorer.ui.connections import ConnectionPicker
from b24explorer.ui.log_pane import LogPane
from b24explorer.ui.masking import mask_text
from b24explorer.ui.method_picker import MethodPicker, PickerEntry
from b24explorer.ui.modes import MODE_SINGLE, RequestMode
from b24explorer.ui.params_editor import ParamsEditor, ParamsInvalid
from b24explorer.ui.qt import (
    QAction,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QObject,
    QSplitter,
    QStackedWidget,
    Qt,
    QToolBar,
    QVBoxLayout,
    QWidget,
    Signal,
    is_alive,
    standard_icon,
)
from b24explorer.ui.request_bar import ApiSwitch, ErrorBanner, MethodField
from b24explorer.ui.response_view import ResponseView
from b24explorer.ui.status_bar import ResponseFacts, ResponseStatus

if TYPE_CHECKING:
    import asyncio

    from b24explorer.core.client import B24Client
    from b24explorer.core.connections import Connection, Renamed
    from b24explorer.core.errors import SdkError
    from b24explorer.core.outcome import RequestOutcome
    from b24explorer.core.workspace import Workspace
    from b24explorer.ui.qt import QByteArray, QCloseEvent, QEvent, QPaintEvent

DOCS_HOME = "https://apidocs.bitrix24.com/"
EDIT_CONNECTION_LINK = "action:edit-connection"
SWITCH_TO_V3_LINK = "action:switch-to-v3"


def make_response_view(parent: QWidget) -> ResponseView:
    """A response view (tree + raw, find, filter) for the window or for an added mode."""
    return ResponseView(parent)


class _PaletteWatch(QObject):
    """Calls ``changed`` when ``window``'s palette changes (the system switched light/dark, or the app did).

    A watch rather than an override of ``changeEvent``: the first event PySide hands to Python as a plain
    ``QEvent`` makes it build the Python class of every event type, and change events come before the first paint.
    The window installs it once it has painted (``finish_start``).
    """

    def __init__(self, window: QWidget, changed: Callable[[], object]) -> None:
        super().__init__(window)
        self._changed = changed
        self._palette_change = qt.QEvent.Type.PaletteChange
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == self._palette_change:
            self._changed()
        return False


class MainWindow(QMainWindow):
    """The main window.

    Signals:
        first_painted(): the window has painted for the first time (once).
        request_finished(RequestOutcome): a request of any mode finished (after it was handed to the history).
        response_shown(object): the AjaxResult or error the single-request view now shows.
        answer_changed(): the single-request view shows another answer (a response, a recorded one) or none.
        connection_changed(str): the id of the connection requests now go through.
        edit_connection_requested(str): the id of the connection the user wants to edit.
        closed(): the window closed.
    """

    request_finished = Signal(object)
    response_shown = Signal(object)
    answer_changed = Signal()  # the single-request answer on screen changed (shown, or cleared)
    connection_changed = Signal(str)
    edit_connection_requested = Signal(str)
    closed = Signal()
    first_painted = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None, *,
                 loop_running: bool = True) -> None:
        """``loop_running=False``: no asyncio loop runs yet (the app paints the window before it starts one);
        work that needs the loop — the method list load, a send — waits until :meth:`loop_started`."""
        super().__init__(parent)
        self.workspace = workspace
        self.setObjectName("MainWindow")
        self.setWindowTitle("b24explorer")
        self._task: asyncio.Task[None] | None = None
        self._in_flight = False
        self._closing = False
        self._methods_task: asyncio.Task[None] | None = None
        self._keyring_task: asyncio.Task[Any] | None = None
        self._connection = ""
        self._last_method_by_connection: dict[str, str] = {}
        self._params_by_connection: dict[str, dict[str, str]] = {}
        self._api_by_connection: dict[str, int] = {}
        self._modes: dict[str, RequestMode] = {}
        self._mode_busy: dict[str, bool] = {}  # what the modes that report it said last
        self._mode_key = MODE_SINGLE
        self._recording: set[asyncio.Task[Any]] = set()
        self._last_outcome: RequestOutcome | None = None
        self._loop_running = loop_running
        self._after_loop_start: list[Callable[[], object]] = []
        self._finished_start = False
        self._painted = False
        self._send_checks: list[Callable[[str], bool]] = []
        self._params_method = ""  # the method whose params the editor holds
        self._setting_params = False
        self._awaited_connection: str | None = None  # a connection's name: load nothing for others until it comes
        self._answer_for: tuple[str, str] | None = None  # (connection, method) of the answer on screen
        self._api_preferences: list[Callable[[str, str], int | None]] = []

        self._build_widgets()
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_layout()
        self._connect()
        self.refresh_connections()
        self._update_actions()
        if loop_running:
            self.finish_start()

    # --- construction -----------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.connection_picker = ConnectionPicker(self)
        self.method_field = MethodField(self)
        self.api_switch = ApiSwitch(self)
        self.mode_combo = QComboBox(self)
        self.mode_combo.setToolTip("Request mode")
        self.method_picker = MethodPicker(self)
        self.params_editor = ParamsEditor(self, colour_now=False)
        self.request_id_edit = QLineEdit(self)
        self.request_id_edit.setPlaceholderText("auto")
        self.request_id_edit.setToolTip("bx24_request_id sent with the call; empty: a fresh id per request")
        self.request_id_edit.setMaximumWidth(260)
        self.response_view = ResponseView(self)
        self.error_banner = ErrorBanner(self)
        self.log_pane = LogPane(self, secrets=self.workspace.known_secrets)
        self.response_status = ResponseStatus(self)

    def _build_actions(self) -> None:
        self.send_action = QAction(standard_icon("SP_MediaPlay"), "Send", self)
        self.send_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.send_action.setToolTip("Send the request (Ctrl+Enter)")
        self.send_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action = QAction(standard_icon("SP_MediaStop"), "Cancel", self)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setToolTip("Cancel the request in flight (Esc)")
        self.format_action = QAction("Format params", self)
        self.format_action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.template_action = QAction("Insert method template", self)
        self.template_action.setShortcut(QKeySequence("Ctrl+T"))
        self.focus_search_action = QAction("Find method", self)
        self.focus_search_action.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence("Ctrl+P")])
        self.focus_method_action = QAction("Go to method", self)
        self.focus_method_action.setShortcut(QKeySequence("Ctrl+L"))
        self.focus_params_action = QAction("Edit params", self)
        self.focus_params_action.setShortcut(QKeySequence("Ctrl+E"))
        self.api2_action = QAction("Use REST v2", self)
        self.api2_action.setShortcut(QKeySequence("Ctrl+2"))
        self.api3_action = QAction("Use REST v3", self)
        self.api3_action.setShortcut(QKeySequence("Ctrl+3"))
        self.connections_action = QAction("Connections…", self)  # icons of menu-only actions: finish_start
        self.connections_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.connect_app_action = QAction("Connect an application…", self)  # OAuth: ui/app_connection_dialog
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)
                                      or [QKeySequence("Ctrl+Q")])
        self.docs_action = QAction("Method documentation", self)
        self.docs_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.about_action = QAction("About b24explorer", self)
        self.shortcuts_action = QAction("Keyboard shortcuts", self)
        self.shortcuts_action.setShortcut(QKeySequence("Ctrl+/"))
        for action in (self.send_action, self.cancel_action, self.format_action, self.template_action,
                       self.focus_search_action, self.focus_method_action, self.focus_params_action,
                       self.api2_action, self.api3_action, self.connections_action, self.quit_action,
                       self.docs_action, self.shortcuts_action):
            self.addAction(action)

    def finish_start(self) -> None:
        """What the first paint does not show: the menus' icons, the params' syntax colours, the watch for palette
        changes (once).

        The app calls it right after the window has first painted; a window built with ``loop_running=True``
        does it at once.
        """
        if self._finished_start:
            return
        self._finished_start = True
        self._palette_watch = _PaletteWatch(self, self.apply_palette)
        self.method_field.keep_window_shortcuts()
        self.connections_action.setIcon(standard_icon("SP_DriveNetIcon"))
        self.docs_action.setIcon(standard_icon("SP_DialogHelpButton"))
        self.params_editor.colour_syntax()

    def _build_toolbar(self) -> None:
        bar = QToolBar("Request", self)
        bar.setObjectName("requestToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addWidget(self.connection_picker)
        bar.addSeparator()
        self._mode_action = bar.addWidget(self.mode_combo)
        bar.addWidget(self.method_field)
        bar.addWidget(self.api_switch)
        bar.addSeparator()
        bar.addAction(self.send_action)
        bar.addAction(self.cancel_action)
        spacer = QWidget(self)
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy().Preferred)
        bar.addWidget(spacer)
        self.busy_label = QLabel(self)
        bar.addWidget(self.busy_label)
        self.toolbar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.mode_combo.addItem("Single", MODE_SINGLE)
        self._mode_action.setVisible(False)  # shown once a second mode is added

    def _build_menus(self) -> None:
        menubar = self.menuBar()
        file_menu = menubar.addMenu("&File")
        file_menu.addAction(self.connections_action)
        file_menu.addAction(self.connect_app_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.request_menu = menubar.addMenu("&Request")
        for action in (self.send_action, self.cancel_action):
            self.request_menu.addAction(action)
        self.request_menu.addSeparator()
        for action in (self.api2_action, self.api3_action, self.format_action, self.template_action):
            self.request_menu.addAction(action)
        self.request_menu.addSeparator()
        self.copy_as_menu = QMenu("Copy as…", self)
        self.copy_as_menu.setObjectName("copyAsMenu")
        self.request_menu.addMenu(self.copy_as_menu)
        self.copy_as_menu.menuAction().setVisible(False)  # filled by the copy-as-code feature
        self.view_menu = menubar.addMenu("&View")
        self.view_menu.addAction(self.focus_method_action)
        self.view_menu.addAction(self.focus_search_action)
        self.view_menu.addAction(self.focus_params_action)
        self.view_menu.addSeparator()
        help_menu = menubar.addMenu("&Help")
        help_menu.addAction(self.docs_action)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def _build_layout(self) -> None:
        params_box = QWidget(self)
        params_layout = QVBoxLayout(params_box)
        params_layout.setContentsMargins(6, 6, 6, 0)
        params_layout.addWidget(self.params_editor, 1)
        rid_row = QHBoxLayout()
        rid_row.addWidget(QLabel("Request id", self))
        rid_row.addWidget(self.request_id_edit)
        rid_row.addStretch(1)
        params_layout.addLayout(rid_row)

        response_box = QWidget(self)
        response_layout = QVBoxLayout(response_box)
        response_layout.setContentsMargins(6, 0, 6, 6)
        response_layout.setSpacing(4)
        self.response_header = QLabel("<b>Response</b>", self)
        self.response_header.setObjectName("responseHeader")
        response_layout.addWidget(self.response_header)
        response_layout.addWidget(self.error_banner)
        response_layout.addWidget(self.response_view, 1)

        self.centre_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.centre_splitter.setObjectName("centreSplitter")
        self.centre_splitter.addWidget(params_box)
        self.centre_splitter.addWidget(response_box)
        self.centre_splitter.setStretchFactor(0, 2)
        self.centre_splitter.setStretchFactor(1, 5)
        self.centre_splitter.setChildrenCollapsible(False)

        picker_box = QWidget(self)
        picker_layout = QVBoxLayout(picker_box)
        picker_layout.setContentsMargins(6, 6, 0, 6)
        picker_layout.addWidget(self.method_picker)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(picker_box)
        self.main_splitter.addWidget(self.centre_splitter)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([300, 1000])
        self.centre_splitter.setSizes([240, 560])

        self.mode_stack = QStackedWidget(self)
        self.mode_stack.addWidget(self.main_splitter)
        self.setCentralWidget(self.mode_stack)

        self.log_dock = self.add_dock("Log", self.log_pane, Qt.DockWidgetArea.BottomDockWidgetArea, "logDock")
        self.keyring_label = QLabel(self)
        self.keyring_label.setObjectName("keyringState")
        self.statusBar().addPermanentWidget(self.response_status)  # left free for short notices
        self.statusBar().addPermanentWidget(self.keyring_label)
        self.resize(1400, 880)
        self.resizeDocks([self.log_dock], [210], Qt.Orientation.Vertical)

    def _connect(self) -> None:
        self.send_action.triggered.connect(self.send)
        self.cancel_action.triggered.connect(self.cancel)
        self.format_action.triggered.connect(self.params_editor.format_json)
        self.template_action.triggered.connect(self.params_editor.apply_template)
        self.focus_search_action.triggered.connect(self._focus_search)
        self.focus_params_action.triggered.connect(self.params_editor.editor.setFocus)
        self.focus_method_action.triggered.connect(self.focus_method)
        self.api2_action.triggered.connect(lambda: self.api_switch.set_api(2))
        self.api3_action.triggered.connect(lambda: self.api_switch.set_api(3))
        self.docs_action.triggered.connect(self.open_docs)
        self.about_action.triggered.connect(self._about)
        self.shortcuts_action.triggered.connect(self._show_shortcuts)
        self.quit_action.triggered.connect(self.close)
        self.method_picker.method_chosen.connect(self.choose_method)
        self.method_field.returnPressed.connect(lambda: self.choose_method(self.method_field.method()))
        self.method_field.textChanged.connect(lambda _t: self._update_actions())
        self.method_field.textEdited.connect(self._method_typed)
        self.params_editor.editor.textChanged.connect(self._params_edited)
        self.api_switch.changed.connect(self._api_changed)
        self.params_editor.validity_changed.connect(lambda _v: self._update_actions())
        self.connection_picker.connection_selected.connect(self.select_connection)
        self.error_banner.linkActivated.connect(self._banner_link)
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        self.log_bus_unsubscribe = self.workspace.log_bus.subscribe(self.log_pane.on_record)
        events = self.workspace.connections.events
        self._unsubscribe = [events.any_change(self.refresh_connections), events.renamed.connect(self._renamed),
                             events.added.connect(lambda conn: self.refresh_connections(conn.id))]  # shows it

    # --- extension points -------------------------------------------------------------------------
    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, object_name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        # Side docks start narrow so the request and the answer keep most of the width (a saved layout wins).
        if area in (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea):
            self.resizeDocks([dock], [360], Qt.Orientation.Horizontal)
        return dock

    def add_mode(self, key: str, title: str, widget: QWidget, mode: RequestMode,
                 busy_changed: Any = None) -> None:
        """Add a request mode (e.g. "batch", "Batch"): ``widget`` is shown instead of the single-request area,
        ``mode`` (usually the same object) is what Send and Cancel act on. ``busy_changed``: the mode's signal
        of its running state, so Send and Cancel follow it (without it Cancel stays enabled in that mode)."""
        self._modes[key] = mode
        if busy_changed is not None:
            busy_changed.connect(lambda busy: self._mode_busy_changed(key, busy))
            self._mode_busy[key] = False
        self.mode_stack.addWidget(widget)
        self.mode_combo.addItem(title, key)
        self._mode_action.setVisible(True)

    def add_send_check(self, check: Callable[[str], bool]) -> None:
        """``check(mode_key)`` runs before each send (the single request's JSON already valid); False: nothing is
        sent (the check has said why)."""
        self._send_checks.append(check)

    def _send_allowed(self, mode: str) -> bool:
        return all(check(mode) for check in self._send_checks)

    def _mode_busy_changed(self, key: str, busy: bool) -> None:
        self._mode_busy[key] = busy
        self._update_actions()

    def add_api_preference(self, preferred: Callable[[str, str], int | None]) -> None:
        """``preferred(connection_id, method)`` → the REST version a chosen method starts on (None: no say)."""
        self._api_preferences.append(preferred)

    def set_mode(self, key: str) -> None:
        index = self.mode_combo.findData(key)
        if index >= 0:
            self.mode_combo.setCurrentIndex(index)

    def current_mode(self) -> str:
        return str(self.mode_combo.currentData() or MODE_SINGLE)

    def _mode_changed(self, _index: int) -> None:
        self.mode_stack.setCurrentIndex(max(0, self.mode_combo.currentIndex()))  # the stack follows the combo
        self._mode_key = self.current_mode()
        single = self._mode_key == MODE_SINGLE
        self.method_field.setEnabled(single)
        self._update_actions()

    # --- connections ------------------------------------------------------------------------------
    @property
    def connection_id(self) -> str:
        """The id of the connection requests go through ("" when there is none)."""
        return self._connection

    @property
    def connection(self) -> Connection | None:
        return self.workspace.connections.get(self._connection) if self._connection else None

    def refresh_connections(self, select: str | None = None) -> None:
        """Re-read the connections (``select``: the id or name to show; default: keep the current one)."""
        connections = self.workspace.connections
        chosen = connections.get(select) if select else None
        current = connections.get(self._connection) if self._connection else None
        first = next(iter(connections), None)
        target = chosen or current or first
        target_id = target.id if target is not None else ""
        self.connection_picker.set_connections(connections.all(), current=target_id)
        if target_id != self._connection:
            self.select_connection(target_id)
        self._update_actions()

    def select_connection(self, key: str) -> None:
        """Send requests through this connection (its id or name; "" for none)."""
        found = self.workspace.connections.get(key) if key else None
        conn_id = found.id if found is not None else ""
        if self._connection:
            self._remember_current_request()
        if conn_id != self._connection:
            self.clear_answer("the connection changed")
        self._connection = conn_id
        self.connection_picker.set_connections(self.workspace.connections.all(), current=conn_id)
        self._update_title()
        self.connection_changed.emit(conn_id)
        if conn_id:
            self._load_methods(conn_id)
            self._restore_last_request(conn_id)
        self._update_actions()

    def _renamed(self, renamed: Renamed) -> None:
        if renamed.connection.id == self._connection:
            self._update_title()

    def _update_title(self) -> None:
        conn = self.connection
        where = f" — {conn.name} ({conn.host})" if conn is not None else ""
        self.setWindowTitle(mask_text(f"b24explorer{where}", self.workspace.known_secrets()))

    def loop_started(self) -> None:
        """The asyncio loop runs now: start the work the window put off until then (the method list load)."""
        self._loop_running = True
        self.finish_start()
        pending, self._after_loop_start = self._after_loop_start, []
        for start in pending:
            start()

    def _when_loop_runs(self, start: Callable[[], object]) -> bool:
        """Queue ``start`` for :meth:`loop_started` if no loop runs yet; False: it may run now."""
        if self._loop_running:
            return False
        self._after_loop_start.append(start)
        return True

    def await_connection(self, name: str | None) -> None:
        """Load nothing for any other connection until the one named ``name`` is added and picked (the app
        starting on the sandbox must not call the last saved portal meanwhile); None: stop waiting."""
        self._awaited_connection = name
        if name is None and self._connection:
            self._load_methods(self._connection)

    def _load_methods(self, conn_id: str) -> None:
        if self._awaited_connection is not None:
            conn = self.workspace.connections.get(conn_id)
            if conn is None or conn.name != self._awaited_connection:
                return
            self._awaited_connection = None
        if self._when_loop_runs(lambda: self._load_methods(conn_id) if conn_id == self._connection else None):
            return
        import asyncio

        # A load for a previous connection is left to finish (its result is dropped below): cancelling an
        # httpx connect half-way leaves anyio's connect coroutines un-awaited.
        async def load() -> None:
            try:
                catalog = await self.workspace.catalog(conn_id)
                entries = [PickerEntry.from_catalog(entry) for entry in catalog]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the picker keeps the previous list; the log says why
                if self.is_open():
                    self.statusBar().showMessage(f"Could not load the method list: {exc}", 8000)
                return
            if self.is_open() and conn_id == self._connection:
                self.method_picker.set_methods(entries, listed=catalog.listed_methods, granted=catalog.granted_scopes)
                self.method_field.set_names(entry.name for entry in entries)
                completer = self.method_field.completer_widget
                popup = completer.popup() if completer is not None else None
                if popup is not None:  # the keys work over the completion popup too
                    popup.addAction(self.send_action)
                    popup.addAction(self.focus_method_action)

        self._methods_task = asyncio.ensure_future(load())

    # --- method and params ------------------------------------------------------------------------
    def choose_method(self, method: str, *, restore: bool = False) -> None:
        """Make ``method`` the request's method; the editor then holds that method's own params — the ones last
        used with it on this connection, else its template — never another method's. ``restore``: keep the
        focus where it is (a restored or typed request)."""
        method = method.strip()
        if not method:
            return
        if self._params_method and self._params_method != method:
            self._remember_params()
        if self._answer_for is not None and self._answer_for[1] != method:
            self.clear_answer("the method changed")
        if self.method_field.text() != method:
            self.method_field.setText(method)
        entry = self.method_picker.entry(method)
        if entry is not None and entry.v3 and not entry.v2:
            self.api_switch.set_api(3)
        elif entry is not None and not entry.v3:
            self.api_switch.set_api(2)
        for preferred in self._api_preferences:
            if (api := preferred(self._connection, method)) is not None:
                self.api_switch.set_api(api)
        template = self.workspace.template_for(method, self.api_switch.api(), self._connection)
        self.params_editor.set_template(template)
        saved = self._params_by_connection.get(self._connection, {}).get(method)
        self._setting_params = True
        try:
            self.params_editor.set_text(saved if saved is not None else (template or "{}"))
        finally:
            self._setting_params = False
        self._params_method = method
        self._update_actions()
        if not restore:
            self.params_editor.editor.setFocus()

    def _method_typed(self, text: str) -> None:
        """A name typed in the method box: once it is exactly a catalog method, its params replace the editor's."""
        name = text.strip()
        if name and name != self._params_method and self.method_field.is_known(name):
            self.choose_method(name, restore=True)

    def _params_edited(self) -> None:
        # Params written by hand after a new method name was typed are that method's params.
        if not self._setting_params and self.method_field.method():
            if self._params_method != self.method_field.method() and self._params_method:
                self._remember_params()
            self._params_method = self.method_field.method()

    def focus_method(self) -> None:
        """Ctrl+L: the method box, its text selected (as a browser's address bar)."""
        if self.current_mode() != MODE_SINGLE:
            self.set_mode(MODE_SINGLE)
        self.method_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.method_field.selectAll()

    def clear_answer(self, why: str) -> None:
        """Clear the single-request answer visibly: it no longer belongs to what the request bar shows."""
        if self._answer_for is None:
            return
        self._answer_for = None
        self.response_view.clear()
        self.error_banner.hide()
        self.response_status.clear()
        self.response_header.setText(f"<b>Response</b> <span style='color:gray'>— cleared: {why}</span>")
        self.answer_changed.emit()

    def show_answer(self, answer: Any, *, note: str = "") -> None:
        """Show ``answer`` (an AjaxResult, raw bytes or a value; None: none) as the answer of the request on
        screen, with a note beside the pane's title."""
        self.error_banner.hide()
        if answer is None:
            self.response_view.clear()
        else:
            self.response_view.show_result(answer)
        self._answer_for = (self._connection, self.method_field.method())
        suffix = f" <span style='color:gray'>— {note}</span>" if note else ""
        self.response_header.setText(f"<b>Response</b>{suffix}")
        self.answer_changed.emit()

    def _api_changed(self, api: int) -> None:
        self.refresh_template()

    def refresh_template(self) -> None:
        """Ask the workspace again for the current method's template (the Template button's), e.g. once the
        reference catalog has loaded; the params in the editor stay as they are."""
        method = self.method_field.method()
        if method:
            self.params_editor.set_template(
                self.workspace.template_for(method, self.api_switch.api(), self._connection))

    def _remember_params(self) -> None:
        if self._connection and self._params_method:
            self._params_by_connection.setdefault(self._connection, {})[self._params_method] = \
                self.params_editor.text()

    def _remember_current_request(self) -> None:
        method = self._params_method
        if method and self._connection:
            self._last_method_by_connection[self._connection] = method
            self._api_by_connection[self._connection] = self.api_switch.api()
            self._remember_params()

    def _focus_search(self) -> None:
        self.method_picker.search_box.setFocus()
        self.method_picker.search_box.selectAll()

    # --- sending ----------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._in_flight and self._task is not None and not self._task.done()

    def send(self) -> asyncio.Task[None] | None:
        """Validate and send the current request; returns the task (kept for Cancel) or None.

        Asked for before the asyncio loop runs (the start), the send happens as soon as it does.
        """
        if self._when_loop_runs(self.send):
            return None
        import asyncio

        mode = self._modes.get(self.current_mode())
        if mode is not None:  # a mode added by add_mode sends itself (batch, list-all)
            return mode.send() if self._send_allowed(self.current_mode()) else None
        if self.is_busy():
            self.statusBar().showMessage("A request is in flight — Esc cancels it.", 4000)
            return None
        method = self.method_field.method()
        if not self._connection:
            self._show_problem("No connection", ["Add a connection (File → Connections…) first."])
            return None
        if not method:
            self._show_problem("No method", ["Pick a method on the left or type its name."])
            return None
        completer = self.method_field.completer_widget
        popup = completer.popup() if completer is not None else None
        if popup is not None:  # sent: the name is chosen, the popup goes
            popup.hide()
        if method != self._params_method:  # typed without Enter: the new method goes with its own params
            self.choose_method(method, restore=True)
            self.statusBar().showMessage(f"{method} is sent with its own params, not those of the previous "
                                         "method.", 6000)
        try:
            params = self.params_editor.params()
        except ParamsInvalid as exc:
            self.params_editor.goto_problem()
            self.statusBar().showMessage(f"Not sent — invalid JSON at {exc.problem}", 8000)
            return None
        if not self._send_allowed(MODE_SINGLE):
            return None
        api = self.api_switch.api()
        request_id = self.request_id_edit.text().strip() or None
        self._remember_current_request()
        self.method_picker.note_used(method)
        self._in_flight = True
        self._task = asyncio.ensure_future(self._send(self._connection, method, params, api, request_id))
        self._update_actions()
        return self._task

    def cancel(self) -> None:
        mode = self._modes.get(self._mode_key)
        if mode is not None:  # added modes cancel themselves
            mode.cancel()
            return
        if self.is_busy():
            assert self._task is not None
            self._task.cancel()

    def is_open(self) -> bool:
        """False once the window was closed or its Qt object deleted (late answers then show nowhere)."""
        return not self._closing and is_alive(self)

    async def _send(self, connection: str, method: str, params: Any, api: int, request_id: str | None) -> None:
        try:
            await self._send_and_show(connection, method, params, api, request_id)
        except RuntimeError:
            if self.is_open():
                raise
            # Closed (and maybe deleted) while the request was in flight: there is nothing left to show it in.

    async def _send_and_show(self, connection: str, method: str, params: Any, api: int,
                             request_id: str | None) -> None:
        import asyncio

        from b24explorer.core.errors import SdkError  # loaded with the client, after the first paint

        outcome = self.workspace.outcome(connection, "call", method, api, params, request_id)
        started = time.monotonic()
        self.clear_answer("a new request is on its way")
        self.response_header.setText("<b>Response</b>")
        self.error_banner.hide()
        self.response_status.show_busy(method)
        self.busy_label.setText(f"Sending {method} over REST v{api}…")
        try:
            client = await self.workspace.client(connection)
            result = await client.call(method, params, api=api, request_id=request_id)
        except asyncio.CancelledError as exc:
            outcome.failed(exc, time.monotonic() - started)
            self.response_status.show_facts(ResponseFacts(None, outcome.elapsed, None, request_id, ok=False,
                                                          error_code="cancelled"))
            self._show_problem("Cancelled", [f"{method} was cancelled after {outcome.elapsed:.2f} s; "
                                             "nothing more will arrive for it."])
            self._finish_request(outcome)
            raise  # whoever awaits the task learns it was cancelled (asyncio.wait_for relies on it)
        except VaultError as exc:
            outcome.failed(exc, time.monotonic() - started)
            outcome.error_code = f"KEYRING_{exc.kind.upper()}"
            outcome.error_message = exc.message
            self._show_problem("The webhook of this connection could not be read",
                               [exc.message, f"<span style='color:gray'>{exc.action}</span>",
                                f"<a href='{EDIT_CONNECTION_LINK}'>Edit the connection…</a>"])
            self.response_status.show_facts(ResponseFacts.from_error(exc, outcome.elapsed))
        except SdkError as exc:
            outcome.failed(exc, time.monotonic() - started)
            if not self._still_on_screen(connection, method):
                self._finish_request(outcome)
                return
            self._show_error(exc, method)
            self.response_status.show_facts(ResponseFacts.from_error(exc, outcome.elapsed))
            self.response_shown.emit(exc)
        except Exception as exc:  # a bug must not take the window down; show it readably
            outcome.failed(exc, time.monotonic() - started)
            self._show_problem(f"Unexpected error: {type(exc).__name__}",
                               [mask_text(str(exc), self.workspace.known_secrets())])
            self.response_status.clear()
        else:
            outcome.answered(result, time.monotonic() - started)
            if not self._still_on_screen(connection, method):
                self._finish_request(outcome)
                return
            self.show_answer(result)
            if not result.is_success and result.error is not None:
                self._show_error(result.error, method)
            self.response_status.show_facts(ResponseFacts.from_result(result, outcome.elapsed))
            self.response_shown.emit(result)
        finally:
            self._in_flight = False
            self.busy_label.clear()
            self._update_actions()
        self._finish_request(outcome)

    def _still_on_screen(self, connection: str, method: str) -> bool:
        """Whether the request bar still shows the request that was sent; a late answer of another one goes to
        the history only, so the pane never shows an answer unrelated to what is on screen."""
        if (connection, method) == (self._connection, self.method_field.method()):
            return True
        self.statusBar().showMessage(f"The answer of {method} arrived after the request on screen changed: it is "
                                     "in the history, not shown here.", 8000)
        return False

    def _finish_request(self, outcome: RequestOutcome) -> None:
        self._last_outcome = outcome
        self.request_done(outcome)

    # --- the mode host (see ui/modes.py) ------------------------------------------------------------
    async def client(self) -> B24Client:
        if not self._connection:
            raise LookupError("No connection: add or pick a portal connection first (File → Connections…)")
        return await self.workspace.client(self._connection)

    def new_outcome(self, kind: str, method: str, api: int, params: Any,
                    request_id: str | None = None) -> RequestOutcome:
        return self.workspace.outcome(self._connection, kind, method, api, params, request_id)

    def request_done(self, outcome: RequestOutcome) -> None:
        """Record the request in the history (off the UI thread) and tell ``request_finished`` listeners."""
        import asyncio

        task = asyncio.ensure_future(self.workspace.record(outcome))
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)
        self.request_finished.emit(outcome)

    def _banner_link(self, link: str) -> None:
        if link == EDIT_CONNECTION_LINK and self._connection:
            self.edit_connection_requested.emit(self._connection)
        elif link == SWITCH_TO_V3_LINK:
            self.switch_to_v3_and_resend()

    def _show_problem(self, title: str, lines: list[str]) -> None:
        self.error_banner.show_error(title, lines)

    def _show_error(self, error: SdkError, method: str) -> None:
        secrets = self.workspace.known_secrets()
        lines = [mask_text(error.message, secrets)]
        facts = []
        if error.status:
            facts.append(f"HTTP {error.status}")
        facts.append(f"method {method}")
        request_id = getattr(error, "request_id", None)
        if request_id:
            facts.append(f"request id {request_id}")
        lines.append("<span style='color:gray'>" + " · ".join(facts) + "</span>")
        for item in getattr(error, "validation", None) or []:
            lines.append(mask_text(f"• {item}", secrets))
        if error.code == "TLS_CERTIFICATE_UNTRUSTED" and self._connection:
            lines.append(f"<a href='{EDIT_CONNECTION_LINK}'>Edit the connection to set its CA file</a>")
        if error.code == "ERROR_METHOD_NOT_FOUND" and "only in REST v3" in error.message \
                and self.api_switch.api() == 2:
            lines.append(f"<a href='{SWITCH_TO_V3_LINK}'>Switch to REST v3 and re-send</a>")
        self._show_problem(f"{error.code}", lines)
        from b24explorer.core.errors import AjaxError

        if isinstance(error, AjaxError):
            with contextlib.suppress(Exception):
                self.response_view.show_result(error.to_dict())
                self._answer_for = (self._connection, method)
                self.answer_changed.emit()

    def switch_to_v3_and_resend(self, method: str = "") -> None:
        """Switch the current request to REST v3 and send it again (for a method only REST v3 has: the same
        params; the v3 warning's action is the migration view, which translates them)."""
        if method and method != self.method_field.method():
            self.choose_method(method, restore=True)
        self.api_switch.set_api(3)
        self.log_pane.hide_banner()
        if self.is_busy():
            self.cancel()
            assert self._task is not None
            self._task.add_done_callback(lambda _t: self.send())
        else:
            self.send()

    # --- state ------------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        busy = self.is_busy()
        ready = bool(self._connection) and bool(self.method_field.method()) and self.params_editor.is_valid()
        mode = self._modes.get(self.current_mode())
        if mode is not None:  # added modes validate their own input when sent
            busy = self._mode_busy.get(self.current_mode(), mode.is_busy())
            ready = bool(self._connection)
            self.cancel_action.setEnabled(busy or self.current_mode() not in self._mode_busy)
        else:
            self.cancel_action.setEnabled(busy)
        self.send_action.setEnabled(not busy and ready)

    def show_keyring_state(self, usable: bool, description: str) -> None:
        """Whether webhooks can be saved here: "keyring" or "this run only", with the backend as tooltip."""
        if usable:
            self.keyring_label.setText("keyring ✓")
            self.keyring_label.setToolTip(f"Webhooks are saved in the system keyring: {description}")
        else:
            self.keyring_label.setText("<span style='color:#b26a00'>no keyring: this run only</span>")
            self.keyring_label.setToolTip("No usable system keyring was found, so new connections can be used "
                                          f"for this run only (never written to disk).\n{description}")

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def apply_palette(self) -> None:
        if self.params_editor.highlighter is not None:
            self.params_editor.highlighter.apply_palette()
        self.log_pane.apply_palette()

    def open_docs(self) -> None:
        entry = self.method_picker.entry(self.method_field.method())
        qt.QDesktopServices.openUrl(qt.QUrl(entry.docs_url if entry and entry.docs_url else DOCS_HOME))

    def shortcut_rows(self) -> list[tuple[str, str]]:
        actions = (self.send_action, self.cancel_action, self.focus_method_action, self.focus_search_action,
                   self.focus_params_action,
                   self.format_action, self.template_action, self.api2_action, self.api3_action,
                   self.connections_action, self.docs_action, self.shortcuts_action, self.quit_action)
        rows = []
        for action in actions:
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            if keys:
                rows.append((action.text().replace("&", ""), keys))
        return rows

    def _show_shortcuts(self) -> None:
        table = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;<b>{keys}</b></td></tr>"
                        for name, keys in self.shortcut_rows())
        box = qt.QMessageBox(qt.QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{table}</table>",
                             qt.QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _about(self) -> None:
        from b24explorer import __version__

        box = qt.QMessageBox(qt.QMessageBox.Icon.Information, "About b24explorer",
                             f"<b>b24explorer {__version__}</b><br>A desktop explorer for the Bitrix24 REST API."
                             f"<br><a href='{DOCS_HOME}'>Bitrix24 REST documentation</a>",
                             qt.QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): no nested event loop under the asyncio one

    def ui_state(self) -> dict[str, Any]:
        self._remember_current_request()
        last_request = {}
        for conn, method in self._last_method_by_connection.items():
            last_request[conn] = {
                "method": method,
                "params": self._params_by_connection.get(conn, {}).get(method, "{}"),
                "api": self._api_by_connection.get(conn, 2),
                "request_id": "",
            }
        return {
            "geometry": bytes(self.saveGeometry().toBase64().data()).decode(),
            "window_state": bytes(self.saveState().toBase64().data()).decode(),
            "main_splitter": bytes(self.main_splitter.saveState().toBase64().data()).decode(),
            "centre_splitter": bytes(self.centre_splitter.saveState().toBase64().data()).decode(),
            "connection": self._connection,
            "last_request": last_request,
            "recent_methods": self.method_picker.recent(),
        }

    def restore_ui_state(self, state: dict[str, Any]) -> None:
        def blob(key: str) -> QByteArray | None:
            value = state.get(key)
            return qt.QByteArray.fromBase64(value.encode()) if isinstance(value, str) and value else None

        if (geometry := blob("geometry")) is not None:
            self.restoreGeometry(geometry)
        if (window_state := blob("window_state")) is not None:
            self.restoreState(window_state)
        if (main := blob("main_splitter")) is not None:
            self.main_splitter.restoreState(main)
        if (centre := blob("centre_splitter")) is not None:
            self.centre_splitter.restoreState(centre)
        for conn, request in (state.get("last_request") or {}).items():
            if not isinstance(request, dict) or not request.get("method"):
                continue
            method = str(request["method"])
            self._last_method_by_connection[str(conn)] = method
            self._params_by_connection.setdefault(str(conn), {})[method] = str(request.get("params") or "{}")
            self._api_by_connection[str(conn)] = 3 if request.get("api") == 3 else 2
        self.method_picker.set_recent([str(m) for m in state.get("recent_methods") or []])
        wanted = self.workspace.connections.get(str(state.get("connection") or ""))
        if wanted is not None and wanted.id != self._connection:
            self.select_connection(wanted.id)
        elif self._connection:
            self._restore_last_request(self._connection)

    def _restore_last_request(self, connection: str) -> None:
        last = self._last_method_by_connection.get(connection)
        if last:
            self.choose_method(last, restore=True)
            self.api_switch.set_api(self._api_by_connection.get(connection, self.api_switch.api()))
        elif not self.method_field.method() and self.method_picker.recent():
            # A connection without its own last request (e.g. the sandbox, which is not saved) starts on the
            # method used last anywhere, with its template.
            self.choose_method(self.method_picker.recent()[0], restore=True)

    def loading_methods(self) -> bool:
        """Whether the connection's method list is still loading."""
        return self._methods_task is not None and not self._methods_task.done()

    async def settle(self, grace: float = 1.0) -> None:
        """Let background work (the method list load) finish briefly, then cancel what is left (at exit)."""
        pending = [t for t in (self._methods_task, self._task, *self._recording) if t is not None and not t.done()]
        if not pending:
            return
        import asyncio

        _done, left = await asyncio.wait(pending, timeout=grace)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=grace)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            self.workspace.state.save_ui_state(self.ui_state())
        self.cancel()
        self.log_bus_unsubscribe()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        super().closeEvent(event)
        self.closed.emit()
