"""The documented API in the window: the reference catalog (loaded off the UI thread once the window has painted)
feeds the method picker (every documented method, marked when this connection cannot call it), the docs panel,
the params editor's completion, and the pre-send checks shown under the editor and in the log.

The checks never block a request, with one exception the user asks for: on a connection switched to read-only
(its settings), a method that may change data is not sent and the banner says why.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from b24explorer.core import completion
from b24explorer.core.connections import Auth
from b24explorer.core.logbus import Level
from b24explorer.core.precheck import Code, ConnectionFacts, Finding, Severity, check_batch, check_request
from b24explorer.core.reference import ReferenceCatalog, ReferenceCatalogError, reference_catalog
from b24explorer.ui.method_docs import MethodDocsPanel
from b24explorer.ui.method_picker import PickerEntry
from b24explorer.ui.modes import MODE_BATCH, MODE_SINGLE
from b24explorer.ui.params_completer import ParamsCompleter
from b24explorer.ui.params_editor import ParamsInvalid, parse_params
from b24explorer.ui.precheck_bar import PrecheckBar, finding_text
from b24explorer.ui.qt import Qt, QTimer

if TYPE_CHECKING:
    from b24explorer.core.workspace import Workspace
    from b24explorer.ui.batch_editor import BatchDraft
    from b24explorer.ui.main_window import MainWindow

CHECK_DELAY_MS = 250
_FIELD_PARAMS = ("select", "filter", "order")


def documented_entries(catalog: ReferenceCatalog) -> list[PickerEntry]:
    """One picker entry per documented name (a name of both versions once, with both flags)."""
    entries: dict[str, PickerEntry] = {}
    for method in catalog:
        key = method.name.lower()
        known = entries.get(key)
        v2_url = method.doc_url if method.api == 2 else ""
        v3_url = method.doc_url if method.api == 3 else ""
        if known is None:
            entries[key] = PickerEntry(method.name, method.scopes[0] if method.scopes else "other",
                                       v3=method.api == 3, v2=method.api == 2, docs_url=v2_url or v3_url,
                                       docs_url_v3=v3_url, deprecated=method.deprecated, scopes=method.scopes)
        else:
            entries[key] = PickerEntry(known.name, known.scope, v3=True, v2=True, docs_url=known.docs_url or v2_url,
                                       docs_url_v3=known.docs_url_v3 or v3_url,
                                       deprecated=known.deprecated and method.deprecated,
                                       scopes=tuple(dict.fromkeys((*known.scopes, *method.scopes))))
    return list(entries.values())


async def _off_the_ui_thread(work: Callable[[], ReferenceCatalog]) -> ReferenceCatalog:
    """``work()`` on a thread of its own. Not the loop's default executor: with qasync's (a QThread pool) a
    request sent meanwhile failed with AsyncLibraryNotFoundError (httpx could not tell which loop it runs on)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="b24x-reference") as executor:
        return await asyncio.wrap_future(executor.submit(work))


class ReferenceFeatures:
    """What this module added to one window; ``aclose()`` stops its work."""

    def __init__(self, window: MainWindow, workspace: Workspace,
                 batch_request: Callable[[], BatchDraft] | None = None) -> None:
        self.window = window
        self.workspace = workspace
        self.batch_request = batch_request
        self.catalog: ReferenceCatalog | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._portal_fields: dict[tuple[str, str, int], list[str]] = {}
        self._closed = False

        self.docs = MethodDocsPanel(window)
        self.docs.show_nothing("The reference catalog is loading…")
        self.docs_dock = window.add_dock("Method docs", self.docs, Qt.DockWidgetArea.RightDockWidgetArea,
                                         "methodDocsDock")
        self.bar = PrecheckBar(window)
        window.params_editor.add_below(self.bar)
        self.completer = ParamsCompleter(window.params_editor.editor, self.suggestions)

        self._check_timer = QTimer(window)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.recheck)
        window.params_editor.editor.textChanged.connect(self._check_timer.start)
        window.method_field.textChanged.connect(self._method_changed)
        window.api_switch.changed.connect(lambda _api: self._method_changed())
        window.connection_changed.connect(lambda _id: self._check_timer.start())
        window.method_picker.highlighted.connect(lambda name: self.show_docs(name or self.window.method_field.method()))
        window.add_send_check(self.allow_send)
        QTimer.singleShot(0, self._start_loading)  # on the running loop, after the window has painted

    # --- the catalog ----------------------------------------------------------------------------------------------
    def _start_loading(self) -> None:
        if not self._closed:
            self._spawn(self.load())

    async def load(self) -> ReferenceCatalog | None:
        """Read the catalog on a worker thread and hand it to the picker, the docs panel and the checks."""
        try:
            catalog = await _off_the_ui_thread(reference_catalog)
        except ReferenceCatalogError as exc:
            self.workspace.log_bus.warning("REFERENCE_UNAVAILABLE", f"The documented methods are not shown: {exc}")
            self.docs.show_nothing(str(exc))
            return None
        if self._closed:
            return catalog
        self.catalog = catalog
        self.window.method_picker.set_documented(documented_entries(catalog))
        self.window.refresh_template()  # a method the built-in hints do not know gets the docs' template now
        self._method_changed()
        return catalog

    def _method_changed(self) -> None:
        self.show_docs(self.window.method_field.method())
        self._check_timer.start()

    def show_docs(self, name: str) -> None:
        if self.catalog is None:
            return
        if not name:
            self.docs.show_nothing()
            return
        method = self.catalog.get(name, self.window.api_switch.api()) or self.catalog.get(name)
        other = self.catalog.get(method.name, 5 - method.api) if method is not None else None
        self.docs.show_method(name, method, other, self.window.method_picker.entry(name))

    # --- completion -----------------------------------------------------------------------------------------------
    def suggestions(self, context: completion.CursorContext) -> list[str]:
        if self.catalog is None:
            return []
        method_name = self.window.method_field.method()
        api = self.window.api_switch.api()
        method = self.catalog.get(method_name, api) or self.catalog.get(method_name)
        fields: list[str] = []
        if context.path and str(context.path[0]).lower() in _FIELD_PARAMS:
            fields = [*self._fields_of_portal(method_name, api), *completion.documented_fields(
                self.catalog, method_name, api)]
        return completion.suggestions(context, method, list(dict.fromkeys(fields)))

    def _fields_of_portal(self, method: str, api: int) -> list[str]:
        """The portal's ``*.fields`` answer for the method's entity: what it has (once asked), else [] and ask."""
        fields_method = completion.fields_method(method)
        connection = self.window.connection_id
        if fields_method is None or not connection:
            return []
        key = (connection, fields_method.lower(), api)
        if key not in self._portal_fields:
            self._portal_fields[key] = []
            self._spawn(self._fetch_fields(key, fields_method))
        return self._portal_fields[key]

    async def _fetch_fields(self, key: tuple[str, str, int], fields_method: str) -> None:
        connection, _, api = key
        params: dict[str, Any] = {}
        with contextlib.suppress(ParamsInvalid):
            current = parse_params(self.window.params_editor.text())
            if isinstance(current, dict) and "entityTypeId" in current:  # crm.item.*: the fields of that type
                params["entityTypeId"] = current["entityTypeId"]
        try:
            client = await self.workspace.client(connection)
            answer = await client.call(fields_method, params, api=api)
        except Exception as exc:  # no field names from the portal: the docs' still complete
            self.workspace.log_bus.debug("FIELDS_UNAVAILABLE", f"{fields_method}: {type(exc).__name__}")
            return
        names = completion.field_names_of_answer(answer.result) if answer.is_success else []
        self._portal_fields[key] = names
        if names and not self._closed and self.completer.popup_visible():
            self.completer.offer()

    # --- checks ---------------------------------------------------------------------------------------------------
    def facts(self) -> ConnectionFacts:
        connection = self.window.connection
        return ConnectionFacts(read_only=connection is not None and connection.read_only,
                               scopes=self.window.method_picker.granted_scopes,
                               webhook=connection is None or connection.auth is Auth.WEBHOOK)

    def current_findings(self) -> list[Finding]:
        """The checks of the single request as it stands ([] while its JSON is invalid or nothing is picked)."""
        method = self.window.method_field.method()
        if not method or self.catalog is None:
            return []
        try:
            params = parse_params(self.window.params_editor.text())
        except ParamsInvalid:
            return []
        return check_request(method, params, self.window.api_switch.api(), self.facts(), self.catalog)

    def recheck(self) -> None:
        if not self._closed:
            self.bar.show_findings(self.current_findings())

    def allow_send(self, mode: str) -> bool:
        """The window's send check: the findings go to the log; a write on a read-only connection stops here."""
        facts = self.facts()
        try:
            if mode == MODE_SINGLE:
                method = self.window.method_field.method()
                findings = check_request(method, parse_params(self.window.params_editor.text()),
                                         self.window.api_switch.api(), facts, self.catalog)
                self.bar.show_findings(findings)
            elif mode == MODE_BATCH and self.batch_request is not None:
                method = "batch"
                draft = self.batch_request()
                findings = check_batch(draft.commands, draft.api, facts, self.catalog)
            else:
                return True
        except Exception:  # the mode reports unusable input itself when it sends
            return True
        refused = [f for f in findings if f.code is Code.WRITE_ON_READ_ONLY] if facts.read_only else []
        self._log(method, findings, refused)
        if refused:
            self.window.error_banner.show_error("Not sent: this connection is read-only", [
                *(finding_text(f) for f in refused),
                "<span style='color:gray'>Switch read-only off in the connection's settings (File → Connections…) "
                "to send it.</span>"])
            self.window.statusBar().showMessage("Not sent — the connection is read-only", 8000)
        return not refused

    def _log(self, method: str, findings: Sequence[Finding], refused: Sequence[Finding]) -> None:
        for finding in findings:
            level = (Level.ERROR if finding in refused else Level.INFO if finding.severity is Severity.INFO
                     else Level.WARNING)
            code = "PRECHECK_" + str(finding.code).upper().replace("-", "_")
            self.workspace.log_bus.emit(level, code, f"{method}: {finding_text(finding)}", method=method,
                                        context={"path": finding.path, "suggestion": finding.suggestion})

    # --- lifetime -------------------------------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        self._closed = True
        with contextlib.suppress(RuntimeError):  # the window (the timer's parent) may be deleted already
            self._check_timer.stop()
        # Let a field-list request finish rather than cancel it half-way (an httpx connect cancelled mid-way leaves
        # anyio's coroutines behind); what is still running after a grace period is cancelled.
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            _done, left = await asyncio.wait(pending, timeout=2.0)
            for task in left:
                task.cancel()
            if left:
                await asyncio.wait(left, timeout=1.0)

