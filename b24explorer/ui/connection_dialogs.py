"""The connection dialogs: add/edit one connection, manage them all, rename, and the keyring failure dialog.

The webhook URL is a secret: its field is a password field, it is validated with ``Webhook.parse`` as the
user types (errors inline, never echoing the secret), and it is only ever handed to the vault. Kept apart from
the toolbar picker (``connections``) so that the start does not load what only a dialog shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from b24explorer.core.connection_check import ConnectionReport
from b24explorer.core.connections import Connection, Storage
from b24explorer.core.errors import SdkError
from b24explorer.core.vault import VaultError
from b24explorer.core.webhook import Webhook
from b24explorer.ui.connections import (
    LIMIT_CHOICES,
    Tester,
    webhook_problem,
)
from b24explorer.ui.masking import mask_text
from b24explorer.ui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    standard_icon,
)

if TYPE_CHECKING:
    import asyncio


def report_html(report: ConnectionReport) -> str:
    """The connection test's findings as the dialog shows them."""
    lines = []
    if report.user:
        name = " ".join(str(report.user.get(k) or "") for k in ("NAME", "LAST_NAME")).strip() or "(no name)"
        role = "administrator" if report.user.get("ADMIN") else "user"
        lines.append(f"Acts as <b>{name}</b> (user id {report.user.get('ID', '?')}, {role})")
    if report.server_time:
        lines.append(f"Portal time {report.server_time}")
    if report.scopes:
        lines.append(f"May use {len(report.scopes)} scopes: {', '.join(sorted(report.scopes))}")
    for problem in report.problems:
        lines.append(f"<span style='color:#c62828'>✖ {problem}</span>")
    for note in report.notes:
        lines.append(f"<span style='color:#b26a00'>ⓘ {note}</span>")
    head = ("<b style='color:#2e7d32'>✔ Connection works</b>" if report.ok
            else "<b style='color:#c62828'>Connection test failed</b>")
    return "<br>".join([head, *lines])


class ConnectionDialog(QDialog):
    """Add or edit one connection: a name and a pasted webhook URL, validated inline, with a live test."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        existing: Connection | None = None,
        taken_names: set[str] = frozenset(),  # type: ignore[assignment]
        tester: Tester | None = None,
    ) -> None:
        super().__init__(parent)
        self.existing = existing
        self._taken = set(taken_names) - ({existing.name} if existing else set())
        self._tester = tester
        self._test_task: asyncio.Task[None] | None = None
        self._tested_url: str | None = None
        self.setWindowTitle("Edit connection" if existing else "Add connection")
        self.setMinimumWidth(560)

        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("e.g. Production portal")
        from b24explorer.ui.app_connection_dialog import CaFileField, secret_field  # with the dialog only

        self.url_edit = secret_field(
            self, "unchanged (kept in the keyring) — paste a new webhook to replace it" if existing
            else "https://your-portal.bitrix24.com/rest/1/<secret code>/", "Show the webhook while editing it")
        self.name_error = QLabel(self)
        self.url_error = QLabel(self)
        for label in (self.name_error, self.url_error):
            label.setStyleSheet("color:#c62828")
            label.setWordWrap(True)
            label.hide()
        self.masked_label = QLabel(self)
        self.masked_label.setStyleSheet("color:gray")
        self.limits_combo = QComboBox(self)
        for key, text in LIMIT_CHOICES:
            self.limits_combo.addItem(text, key)
        self.limits_combo.setToolTip("How fast the explorer lets requests go to this portal (the portal's own "
                                     "limits answer with QUERY_LIMIT_EXCEEDED beyond them)")
        self.ca_field = CaFileField(self, existing.ca_file if existing else "")
        self.ca_error = QLabel(self)
        self.ca_error.setStyleSheet("color:#c62828")
        self.ca_error.setWordWrap(True)
        self.ca_error.hide()

        self.read_only_box = QCheckBox("Read-only: refuse methods that may change data", self)
        self.read_only_box.setToolTip("Requests of methods that add, update or delete are not sent through this "
                                      "connection (the window says so); reads go as usual")

        self.test_button = QPushButton(standard_icon("SP_DialogApplyButton"), "Test connection", self)
        self.test_button.clicked.connect(self._start_test)
        self.test_button.setEnabled(tester is not None)
        self.test_result = QLabel(self)
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.RichText)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_error)
        form.addRow("Webhook URL", self.url_edit)
        form.addRow("", self.url_error)
        form.addRow("", self.masked_label)
        form.addRow("Rate limits", self.limits_combo)
        form.addRow("", self.read_only_box)
        form.addRow("CA file", self.ca_field)
        form.addRow("", self.ca_error)
        hint = QLabel(
            "The webhook is stored in your system keyring only. Settings keep just the name, portal host and "
            "user id.", self)
        hint.setWordWrap(True)
        hint.setStyleSheet("color:gray")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addLayout(test_row)
        layout.addWidget(self.test_result)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        if existing:
            self.name_edit.setText(existing.name)
            self.limits_combo.setCurrentIndex(max(0, self.limits_combo.findData(existing.limits)))
            self.read_only_box.setChecked(existing.read_only)
            self.masked_label.setText(f"Saved: {existing.masked}" if existing.masked else "")
        self.name_edit.textChanged.connect(self._validate)
        self.url_edit.textChanged.connect(self._validate)
        self.ca_field.edit.textChanged.connect(self._validate)
        self._validate()

    # --- values -----------------------------------------------------------------------------------
    def name(self) -> str:
        return self.name_edit.text().strip()

    def webhook_url(self) -> str:
        return self.url_edit.text().strip()

    def limits(self) -> str:
        return str(self.limits_combo.currentData() or "standard")

    def read_only(self) -> bool:
        return self.read_only_box.isChecked()
    def ca_file(self) -> str:
        return self.ca_field.path()

    def webhook(self) -> Webhook | None:
        try:
            return Webhook.parse(self.webhook_url())
        except SdkError:
            return None

    # --- validation -------------------------------------------------------------------------------
    def name_problem(self) -> str | None:
        name = self.name()
        if not name:
            return "Give the connection a name."
        if name in self._taken:
            return f"A connection named “{name}” already exists."
        if len(name) > 80:
            return "Keep the name under 80 characters."
        return None

    def url_problem(self) -> str | None:
        text = self.webhook_url()
        if not text and self.existing is not None:
            return None  # keep the saved webhook
        if not text:
            return "Paste the portal's incoming webhook URL."
        return webhook_problem(text)

    def _validate(self) -> bool:
        name_problem = self.name_problem() if (self.name_edit.isModified() or self.name()) else None
        url_problem = self.url_problem() if self.webhook_url() or self.existing else None
        self.name_error.setText(name_problem or "")
        self.name_error.setVisible(bool(name_problem))
        self.url_error.setText(url_problem or "")
        self.url_error.setVisible(bool(url_problem))
        hook = self.webhook()
        if hook is not None:
            self.masked_label.setText(f"Portal {hook.host} · user {hook.user_id} · {hook.masked}")
        else:
            saved = self.existing.masked if self.existing is not None and self.existing.masked else ""
            self.masked_label.setText(f"Saved: {saved}" if saved and not self.webhook_url() else "")
        self.masked_label.setVisible(bool(self.masked_label.text()))
        if self._tested_url is not None and self._tested_url != self.webhook_url():
            self.test_result.clear()  # the result was about another URL
            self._tested_url = None
        if self._tester is not None:
            self.test_button.setEnabled(hook is not None)
        ca_problem = self.ca_field.problem()
        self.ca_error.setText(ca_problem or "")
        self.ca_error.setVisible(bool(ca_problem))
        ok = self.name_problem() is None and self.url_problem() is None and ca_problem is None
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)
        self._fit()
        return ok

    def _fit(self) -> None:
        """Grow to show a message that appeared (word-wrapped labels do not grow a dialog by themselves)."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
            wanted = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else -1
            height = max(wanted, self.sizeHint().height())
            if height > self.height():
                self.resize(self.width(), height)

    def _accept(self) -> None:
        if self._validate():
            self.accept()

    # --- test -------------------------------------------------------------------------------------
    def _start_test(self) -> None:
        hook = self.webhook()
        if hook is None or self._tester is None:
            return
        if self._test_task is not None and not self._test_task.done():
            self._test_task.cancel()
        self._tested_url = self.webhook_url()
        self.test_result.setText("Testing… (server.time, profile, scope)")
        self.test_button.setEnabled(False)
        import asyncio

        self._test_task = asyncio.ensure_future(self._run_test(hook))

    async def _run_test(self, hook: Webhook) -> None:
        assert self._tester is not None
        import asyncio

        try:
            report = await self._tester(hook, self.ca_file() or None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown, never raised into Qt
            message = exc.message if isinstance(exc, SdkError | VaultError) else str(exc)
            report = ConnectionReport(problems=[mask_text(message, (hook.secret,))])
        finally:
            self.test_button.setEnabled(True)
        self.test_result.setText(report_html(report))
        self._fit()

    def done(self, result: int) -> None:
        if self._test_task is not None and not self._test_task.done():
            self._test_task.cancel()
        super().done(result)


class ConnectionsDialog(QDialog):
    """Manage connections: add, edit, rename, delete. The actions are delegated to async callbacks."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        list_connections: Callable[[], list[Connection]],
        add: Callable[[], Awaitable[object]],
        edit: Callable[[Connection], Awaitable[None]],
        rename: Callable[[Connection], Awaitable[None]],
        delete: Callable[[Connection], Awaitable[None]],
        add_app: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connections")
        self.setMinimumSize(520, 320)
        self._list_connections = list_connections
        self._add = add
        self._per_connection = {"edit": edit, "rename": rename, "delete": delete}
        self._busy: asyncio.Task[None] | None = None

        self.list = QListWidget(self)
        self.list.itemDoubleClicked.connect(lambda _item: self._run("edit"))
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.add_button = QPushButton(standard_icon("SP_FileDialogNewFolder"), "Add…", self)
        self.edit_button = QPushButton("Edit…", self)
        self.rename_button = QPushButton("Rename…", self)
        self.delete_button = QPushButton(standard_icon("SP_TrashIcon"), "Delete", self)
        self.add_button.clicked.connect(lambda: self._run("add"))
        self.add_app_button = QPushButton("Connect app…", self)
        self.add_app_button.setToolTip("Connect an application (OAuth): for app-context methods like event.bind")
        self.add_app_button.setVisible(add_app is not None)
        self._add_app = add_app
        self.add_app_button.clicked.connect(lambda: self._run("add_app"))
        self.edit_button.clicked.connect(lambda: self._run("edit"))
        self.rename_button.clicked.connect(lambda: self._run("rename"))
        self.delete_button.clicked.connect(lambda: self._run("delete"))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        side = QVBoxLayout()
        for button in (self.add_button, self.add_app_button, self.edit_button, self.rename_button,
                       self.delete_button):
            side.addWidget(button)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(close)
        self.refresh()

    def refresh(self) -> None:
        current = self.selected()
        self.list.clear()
        for conn in self._list_connections():
            item = QListWidgetItem(f"{conn.label}\n    {conn.shown}")
            item.setData(Qt.ItemDataRole.UserRole, conn)
            self.list.addItem(item)
            if current and conn.id == current.id:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()

    def selected(self) -> Connection | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_buttons(self) -> None:
        conn = self.selected()
        editable = conn is not None and conn.storage is not Storage.SANDBOX
        for button in (self.edit_button, self.rename_button, self.delete_button):
            button.setEnabled(editable)

    def _run(self, action: str) -> None:
        if self._busy is not None and not self._busy.done():
            return
        adding = action in ("add", "add_app")
        conn = None if adding else self.selected()
        if not adding and (conn is None or conn.storage is Storage.SANDBOX):
            return

        async def go() -> None:
            if action == "add_app" and self._add_app is not None:
                await self._add_app()
            elif conn is None:
                await self._add()
            else:
                await self._per_connection[action](conn)
            self.refresh()

        import asyncio

        self._busy = asyncio.ensure_future(go())


class RenameDialog(QDialog):
    def __init__(self, parent: QWidget | None, current: str, taken: set[str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rename connection")
        self._taken = taken - {current}
        self.edit = QLineEdit(current, self)
        self.error = QLabel(self)
        self.error.setStyleSheet("color:#c62828")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("New name", self))
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.edit.textChanged.connect(self._validate)
        self._validate()

    def name(self) -> str:
        return self.edit.text().strip()

    def _validate(self) -> None:
        name = self.name()
        problem = ("Give the connection a name." if not name
                   else f"“{name}” is already taken." if name in self._taken else "")
        self.error.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


class KeyringFailureDialog(QDialog):
    """The keyring could not store or read a webhook (or an application's credentials): say why, and offer "use for
    this run only"."""

    USE_THIS_RUN = 2

    def __init__(self, parent: QWidget | None, error: VaultError, connection_name: str, *,
                 secret: str = "webhook") -> None:
        super().__init__(parent)
        self.error = error
        self.setWindowTitle("Keyring unavailable")
        self.setMinimumWidth(520)
        icon = QLabel(self)
        icon.setPixmap(standard_icon("SP_MessageBoxWarning").pixmap(40, 40))
        title = QLabel(f"<b>The {secret} of “{connection_name}” could not be saved in the keyring.</b>"
                       if error.kind != "entry_missing"
                       else f"<b>The {secret} of “{connection_name}” could not be read.</b>", self)
        title.setWordWrap(True)
        self.cause_label = QLabel(error.message, self)
        self.cause_label.setWordWrap(True)
        self.action_label = QLabel(error.action, self)
        self.action_label.setWordWrap(True)
        self.action_label.setStyleSheet("color:gray")
        never = QLabel("b24explorer never stores a webhook or an application's credentials in a plain-text file.",
                       self)
        never.setStyleSheet("color:gray")

        self.buttons = QDialogButtonBox(self)
        self.session_button = None
        if error.offer_session_only:
            self.session_button = self.buttons.addButton(
                "Use for this run only (not saved)", QDialogButtonBox.ButtonRole.AcceptRole)
            self.session_button.clicked.connect(lambda: self.done(self.USE_THIS_RUN))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.reject)

        text = QVBoxLayout()
        for widget in (title, self.cause_label, self.action_label, never):
            text.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.buttons)
