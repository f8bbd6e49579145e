"""The REST v3 migration view: a v2 request beside its v3 form, sent, and the two answers matched field by field.

Opened by the v3 warning's action (Ctrl+Shift+M) as a request mode: the v2 request on the left, the translated
v3 request on the right with what did not translate listed with its reason, then the comparison (``ID`` ↔ ``id``,
``"1"`` ↔ ``1``, ``task`` ↔ ``item``) with what differs highlighted. Send (Ctrl+Enter) sends the v3 form; a write
is never sent twice over v2 (``core.migration.run_migration``). "Keep REST v3" makes the method go over v3 on this
connection from then on; "Copy v3 as" renders the v3 call as code with the secret masked.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..core import export as code_export
from ..core import migration
from ..core.errors import SdkError
from .export_dialog import copy_to_clipboard, render
from .json_highlighter import JsonHighlighter
from .masking import mask_text
from .params_editor import JsonTextEdit
from .qt import (
    QAbstractItemView,
    QAction,
    QBrush,
    QCheckBox,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMenu,
    QPushButton,
    QSplitter,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from ..core.client import B24Client
    from ..core.outcome import RequestOutcome
    from ..core.result import AjaxResult

COLUMNS = ("v2 field", "v2 value", "v3 field", "v3 value", "match")
_STATUS_COLOURS = {  # background of a row that differs; matching rows keep the table's own colours
    migration.Match.DIFFERS: "#f9d6d5",
    migration.Match.ONLY_V2: "#fde9c8",
    migration.Match.ONLY_V3: "#d9e8fb",
}


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _cell(value: Any, present: bool) -> str:
    if not present:
        return ""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:119] + "…"


class MigrationView(QWidget):
    """One v2 → v3 migration at a time; a :class:`~b24explorer.ui.modes.RequestMode` (Send sends the v3 form).

    ``client`` gives the current connection's client, ``new_outcome(api, method, params, request_id)`` an outcome
    for the history, ``done(outcome)`` records it; ``webhook`` gives the connection's webhook for copy as code
    (None: a placeholder portal).
    """

    kept_changed = Signal(str, bool)  # method, keep v3
    open_in_editor = Signal(str, object)  # method, v3 params
    back_requested = Signal()
    busy_changed = Signal(bool)  # the window's Send and Cancel follow it

    def __init__(self, client: Callable[[], Awaitable[B24Client]],
                 new_outcome: Callable[[int, str, Any, str | None], RequestOutcome],
                 done: Callable[[RequestOutcome], None],
                 webhook: Callable[[], Awaitable[Any]],
                 parent: QWidget | None = None, *, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        super().__init__(parent)
        self.setObjectName("migrationView")
        self._client = client
        self._new_outcome = new_outcome
        self._done = done
        self._webhook = webhook
        self._secrets = secrets
        self._task: asyncio.Task[Any] | None = None
        self.method = ""
        self.v2_params: Any = None
        self.v2_result: AjaxResult | None = None  # the v2 answer already at hand (not sent again)
        self.translation: migration.Translation | None = None
        self.run: migration.MigrationRun | None = None
        self._schemas: migration.SchemaSet | None = None

        self.title = QLabel(self)
        self.title.setObjectName("migrationTitle")
        self.status = QLabel(self)
        self.status.setObjectName("migrationStatus")
        self.status.setWordWrap(True)

        self.v2_text = JsonTextEdit(self)
        self.v2_text.setReadOnly(True)
        self.v2_text.setObjectName("migrationV2Params")
        self.v3_text = JsonTextEdit(self)
        self.v3_text.setReadOnly(True)
        self.v3_text.setObjectName("migrationV3Params")
        self._highlighters = [JsonHighlighter(self.v2_text.document()), JsonHighlighter(self.v3_text.document())]
        self.problems = QListWidget(self)
        self.problems.setObjectName("migrationProblems")
        self.problems.setMaximumHeight(90)
        self.problems.hide()

        self.send_button = QPushButton("Send over REST v3", self)
        self.send_button.setToolTip("Send the v3 form of the request (Ctrl+Enter)")
        self.send_button.clicked.connect(lambda: self.send())
        self.partial_button = QPushButton("Send what translates", self)
        self.partial_button.setToolTip("Send the v3 form without the parts that have no v3 twin")
        self.partial_button.clicked.connect(lambda: self.send(partial=True))
        self.keep_box = QCheckBox("Keep REST v3 for this method", self)
        self.keep_box.setObjectName("keepV3")
        self.keep_box.setToolTip("From now on this connection sends this method over REST v3 by default")
        self.keep_box.toggled.connect(lambda keep: self.kept_changed.emit(self.method, keep))
        self.editor_button = QPushButton("Open v3 in the editor", self)
        self.editor_button.clicked.connect(self._open_in_editor)
        self.copy_button = QToolButton(self)
        self.copy_button.setText("Copy v3 as…")
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.copy_menu = QMenu(self)
        self.copy_actions: dict[str, QAction] = {}
        for fmt, label in code_export.FORMAT_LABELS.items():
            action = QAction(label, self)
            action.triggered.connect(lambda _checked=False, f=str(fmt): self.copy_as(f))
            self.copy_menu.addAction(action)
            self.copy_actions[str(fmt)] = action
        self.copy_button.setMenu(self.copy_menu)
        self.back_button = QPushButton("Back to the request", self)
        self.back_button.clicked.connect(self.back_requested)

        self.differences_box = QCheckBox("Only differences", self)
        self.differences_box.setObjectName("onlyDifferences")
        self.differences_box.toggled.connect(lambda _on: self._filter_rows())

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView(self)
        self.table.setObjectName("migrationComparison")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((180, 260, 180, 260)):
            header.resizeSection(col, width)

        self._build_layout()
        self._show_status("Send a request over REST v2, then Ctrl+Shift+M (or the v3 warning's button) shows its "
                          "REST v3 form here.")
        self._set_ready(False)

    def _build_layout(self) -> None:
        def titled(title: str, *widgets: QWidget) -> QWidget:
            box = QWidget(self)
            layout = QVBoxLayout(box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(QLabel(title, box))
            for widget in widgets:
                layout.addWidget(widget, 1 if isinstance(widget, JsonTextEdit) else 0)
            return box

        requests = QSplitter(Qt.Orientation.Horizontal, self)
        requests.addWidget(titled("<b>REST v2 request</b>", self.v2_text))
        requests.addWidget(titled("<b>REST v3 request</b> <span style='color:gray'>(translated)</span>",
                                  self.v3_text, self.problems))
        buttons = QHBoxLayout()
        for widget in (self.send_button, self.partial_button, self.editor_button, self.copy_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.keep_box)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        upper = QWidget(self)
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(requests, 1)
        upper_layout.addLayout(buttons)
        lower = titled("<b>Answers field by field</b> <span style='color:gray'>(v2 ↔ v3; differences "
                       "highlighted)</span>", self.differences_box, self.table)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([220, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # --- opening ----------------------------------------------------------------------------------
    async def open(self, method: str, v2_params: Any, v2_result: AjaxResult | None = None, *,
                   kept: bool = False) -> migration.Translation | None:
        """Shows the v3 form of a v2 request; sends it at once when it translates cleanly."""
        self.cancel()
        self.method, self.v2_params, self.v2_result = method, v2_params, v2_result
        self.run, self.translation = None, None
        self.model.removeRows(0, self.model.rowCount())
        self.title.setText(f"<b>{method}</b> — REST v2 → REST v3")
        self.v2_text.setPlainText(json_text(v2_params))
        self.v3_text.setPlainText("")
        self.keep_box.blockSignals(True)
        self.keep_box.setChecked(kept)
        self.keep_box.blockSignals(False)
        self._show_status("Translating…")
        try:
            client = await self._client()
            self._schemas = await migration.schemas_of(client)
            translation = migration.translate(method, v2_params, self._schemas)
        except migration.NoV3Twin as exc:
            self._show_status(str(exc), error=True)
            self._set_ready(False)
            return None
        except (LookupError, SdkError) as exc:
            self._show_status(f"Could not read the portal's v3 schema: {exc}", error=True)
            self._set_ready(False)
            return None
        self.translation = translation
        self.v3_text.setPlainText(json_text(translation.params))
        self.problems.clear()
        for problem in translation.problems:
            self.problems.addItem(f"✗ {problem.path or '(params)'} = {json.dumps(problem.value, ensure_ascii=False)}"
                                  f" — {problem.reason}")
        for note in translation.notes:
            self.problems.addItem(f"ℹ {note}")
        self.problems.setVisible(self.problems.count() > 0)
        self._set_ready(True)
        if translation.clean:
            self.send()
        else:
            self._show_status(f"{len(translation.problems)} part(s) of the v2 params have no v3 form (listed "
                              "above); nothing was sent. “Send what translates” sends the rest.", error=True)
        return translation

    def _set_ready(self, ready: bool) -> None:
        clean = ready and self.translation is not None and self.translation.clean
        self.send_button.setEnabled(clean)
        self.partial_button.setVisible(ready and not clean)
        for widget in (self.editor_button, self.copy_button, self.keep_box):
            widget.setEnabled(ready)

    # --- the mode ---------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def cancel(self) -> None:
        if self.is_busy():
            assert self._task is not None
            self._task.cancel()

    def send(self, *, partial: bool = False) -> asyncio.Task[Any] | None:
        """Sends the v3 form (and the v2 call when its answer is not at hand and it only reads)."""
        if self.translation is None or self.is_busy():
            return None
        if not self.translation.clean and not partial:
            self._show_status("Some v2 params have no v3 form; “Send what translates” sends the rest.", error=True)
            return None
        self._task = asyncio.ensure_future(self._send(partial))
        self.busy_changed.emit(True)
        self._task.add_done_callback(lambda _task: self.busy_changed.emit(False))
        return self._task

    async def _send(self, partial: bool) -> None:
        method = self.method
        self._show_status(f"Sending {method} over REST v3…")
        self.send_button.setEnabled(False)
        try:
            client = await self._client()
            run = await migration.run_migration(client, method, self.v2_params, v2_result=self.v2_result,
                                                schemas=self._schemas, send_partial=partial)
        except (LookupError, SdkError) as exc:
            self._show_status(str(exc), error=True)
            return
        finally:
            self._set_ready(self.translation is not None)
        outcomes = migration.outcomes_of(
            run, lambda api, params, rid: self._new_outcome(api, method, params, rid),
            v2_given=self.v2_result is not None)
        for outcome in outcomes:
            self._done(outcome)
        if run.v2 is not None and run.v2.ok:
            self.v2_result = run.v2.result  # a re-send compares with it instead of asking v2 again
        self.run = run
        self._show_rows(run.rows)
        self._show_status(self._summary(run), error=run.exit_code != 0)

    def _summary(self, run: migration.MigrationRun) -> str:
        parts = []
        if run.v3 is not None:
            error = run.v3.error
            parts.append("REST v3 call succeeded" if run.v3.ok else
                         f"REST v3 call failed: {error.code}: {error.message}" if error else "REST v3 call failed")
        if run.v2 is None:
            parts.append("v2 not sent (the method writes: sending it again would act twice)")
        elif not run.v2.ok and run.v2.error is not None:
            parts.append(f"REST v2 call failed: {run.v2.error.code}")
        if run.rows:
            differ = sum(1 for row in run.rows if row.status is not migration.Match.SAME)
            parts.append(f"{len(run.rows)} fields compared, {differ} differ")
        return " · ".join(parts)

    def _show_rows(self, rows: tuple[migration.FieldRow, ...]) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for row in rows:
            cells = [row.path_v2 or "—", _cell(row.value_v2, row.path_v2 is not None), row.path_v3 or "—",
                     _cell(row.value_v3, row.path_v3 is not None), str(row.status)]
            items = [QStandardItem(text) for text in cells]
            colour = _STATUS_COLOURS.get(row.status)
            for item in items:
                item.setData(row.status, Qt.ItemDataRole.UserRole)
                if colour is not None:
                    item.setBackground(QBrush(QColor(colour)))
                    item.setForeground(QBrush(QColor("#202020")))
            self.model.appendRow(items)
        self._filter_rows()

    def _filter_rows(self) -> None:
        only_differences = self.differences_box.isChecked()
        for row, status in enumerate(self.row_statuses()):
            self.table.setRowHidden(row, only_differences and status is migration.Match.SAME)

    def row_statuses(self) -> list[migration.Match]:
        return [migration.Match(self.model.item(r, 0).data(Qt.ItemDataRole.UserRole))
                for r in range(self.model.rowCount())]

    def _show_status(self, text: str, *, error: bool = False) -> None:
        colour = "#c62828" if error else "gray"
        shown = html.escape(mask_text(text, tuple(s for s in self._secrets() if s)), quote=False)
        self.status.setText(f"<span style='color:{colour}'>{shown}</span>")

    def status_text(self) -> str:
        return self.status.text()

    # --- copy as code, the editor -----------------------------------------------------------------
    def v3_request(self) -> code_export.CallRequest | None:
        if self.translation is None:
            return None
        return code_export.CallRequest(self.method, self.translation.params, api=3)

    def copy_as(self, fmt: str) -> asyncio.Task[str | None]:
        async def run() -> str | None:
            request = self.v3_request()
            if request is None:
                return None
            code = render(fmt, request, await self._webhook())
            copy_to_clipboard(code)
            label = code_export.FORMAT_LABELS[code_export.Format(fmt)]
            self._show_status(f"The v3 call was copied as {label} (the webhook secret is a placeholder)")
            return code

        return asyncio.ensure_future(run())

    def _open_in_editor(self) -> None:
        if self.translation is not None:
            self.open_in_editor.emit(self.method, self.translation.params)
