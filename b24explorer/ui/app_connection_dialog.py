""""Connect an application": an OAuth 2.0 app connection (client id and secret) authorized in the browser — a
loopback listener takes the portal's redirect, its address shown so it can be entered as the app's handler
URL — or from pasted tokens of an app authorized elsewhere. Also the CA file field every connection dialog uses.

The client secret and tokens are password fields; they only ever go to the vault (through the flow). Errors of
the OAuth server or of TLS (host, issuer, what to do) are shown in the dialog, masked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

from b24explorer.core.connections import Connection
from b24explorer.core.errors import SdkError
from b24explorer.core.oauth import (
    DEFAULT_OAUTH_SERVER,
    OAuthApp,
    OAuthCredentials,
    TokenSet,
    normalize_portal,
)
from b24explorer.ui.connections import LIMIT_CHOICES
from b24explorer.ui.masking import mask_text
from b24explorer.ui.qt import (
    QAction,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    standard_icon,
)

OpenBrowser = Callable[[str], object]


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 now: the redirect address is shown before the listener opens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def secret_field(parent: QWidget, placeholder: str, tooltip: str = "Show it while editing it") -> QLineEdit:
    """A password field with a "Show" toggle."""
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    reveal = QAction(standard_icon("SP_FileDialogContentsView"), "Show", field)
    reveal.setToolTip(tooltip)
    reveal.setCheckable(True)
    reveal.toggled.connect(
        lambda on: field.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
    field.addAction(reveal, QLineEdit.ActionPosition.TrailingPosition)
    return field


class CaFileField(QWidget):
    """A CA file (PEM) trusted for one portal besides the system's trust store: a path and "Browse…"."""

    def __init__(self, parent: QWidget | None = None, path: str = "") -> None:
        super().__init__(parent)
        self.edit = QLineEdit(path, self)
        self.edit.setPlaceholderText("optional — the company CA of a self-hosted portal (PEM)")
        self.edit.setToolTip("Certificates are checked against the system's trust store; a CA file adds the "
                             "authority of a self-hosted portal behind a company CA. Verification is never turned "
                             "off.")
        self.browse = QPushButton("Browse…", self)
        self.browse.clicked.connect(self._browse)
        self._chooser: QFileDialog | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)

    def path(self) -> str:
        text = self.edit.text().strip()
        return str(Path(text).expanduser()) if text else ""

    def problem(self) -> str | None:
        """Why the path is not a usable CA file (None when empty or usable)."""
        path = self.path()
        if not path:
            return None
        from b24explorer.core.tls import tls_context

        try:
            tls_context(path)
        except SdkError as exc:
            return exc.message
        return None

    def _browse(self) -> None:
        chooser = QFileDialog(self, "CA file (PEM)", str(Path(self.path()).parent) if self.path() else "",
                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.fileSelected.connect(self.edit.setText)
        self._chooser = chooser
        chooser.open()  # window-modal, no nested event loop


class AppConnectionDialog(QDialog):
    """Connect an application (or authorize a saved one again): on success :attr:`credentials` is set and the
    dialog is accepted. Editing a saved one, "Save" keeps its credentials and changes name, limits, CA file."""

    def __init__(self, parent: QWidget | None = None, *, taken_names: set[str] = frozenset(),  # type: ignore[assignment]
                 open_browser: OpenBrowser, existing: Connection | None = None,
                 current: OAuthCredentials | None = None, wait_s: float = 300.0) -> None:
        super().__init__(parent)
        self.existing = existing
        self.credentials: OAuthCredentials | None = None
        self._taken = set(taken_names) - ({existing.name} if existing else set())
        self._open_browser = open_browser
        self._wait_s = wait_s
        self._task: asyncio.Task[None] | None = None
        self._known_secrets: tuple[str, ...] = current.secrets if current is not None else ()
        self.setWindowTitle("Edit application connection" if existing else "Connect an application")
        self.setMinimumWidth(600)

        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("e.g. My app on production")
        self.portal_edit = QLineEdit(self)
        self.portal_edit.setPlaceholderText("https://your-portal.bitrix24.com")
        self.client_id_edit = QLineEdit(self)
        self.client_id_edit.setPlaceholderText("local.…  (the application's card on the portal)")
        self.secret_edit = secret_field(
            self, "unchanged (kept in the keyring)" if current is not None else "the application's client secret")
        self.server_edit = QLineEdit(DEFAULT_OAUTH_SERVER, self)
        self.server_edit.setToolTip("Where codes and refresh tokens are exchanged (oauth.bitrix.info for cloud "
                                    "portals; a self-hosted portal may have its own)")
        self.ca_field = CaFileField(self, existing.ca_file if existing else "")
        self.limits_combo = QComboBox(self)
        for key, text in LIMIT_CHOICES:
            self.limits_combo.addItem(text, key)

        self.browser_radio = QRadioButton("Authorize in the browser", self)
        self.paste_radio = QRadioButton("Paste tokens (an app authorized elsewhere)", self)
        self.browser_radio.setChecked(True)
        self.pages = QStackedWidget(self)
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(1024, 65535)
        self.port_spin.setValue(free_loopback_port())
        self.redirect_label = QLabel(self)
        self.redirect_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.redirect_label.setWordWrap(True)
        browser_page = QWidget(self)
        browser_form = QFormLayout(browser_page)
        browser_form.addRow("Redirect port", self.port_spin)
        browser_form.addRow("", self.redirect_label)
        self.access_edit = secret_field(self, "access_token")
        self.refresh_edit = secret_field(self, "refresh_token")
        paste_page = QWidget(self)
        paste_form = QFormLayout(paste_page)
        paste_form.addRow("Access token", self.access_edit)
        paste_form.addRow("Refresh token", self.refresh_edit)
        self.pages.addWidget(browser_page)
        self.pages.addWidget(paste_page)
        self.browser_radio.toggled.connect(lambda on: self.pages.setCurrentIndex(0 if on else 1))
        self.browser_radio.toggled.connect(lambda _on: self._validate())

        self.problem_label = QLabel(self)
        self.problem_label.setStyleSheet("color:#c62828")
        self.problem_label.setWordWrap(True)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Portal", self.portal_edit)
        form.addRow("Client id", self.client_id_edit)
        form.addRow("Client secret", self.secret_edit)
        form.addRow("OAuth server", self.server_edit)
        form.addRow("CA file", self.ca_field)
        form.addRow("Rate limits", self.limits_combo)
        hint = QLabel("The client secret and the tokens are stored in your system keyring only; refreshed tokens "
                      "replace them there.", self)
        hint.setWordWrap(True)
        hint.setStyleSheet("color:gray")

        self.buttons = QDialogButtonBox(self)
        self.connect_button = self.buttons.addButton(
            "Authorize again" if existing else "Connect", QDialogButtonBox.ButtonRole.ActionRole)
        self.connect_button.clicked.connect(self._connect)
        self.save_button = None
        if existing is not None:
            self.save_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Save)
            self.save_button.clicked.connect(self.accept)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self._cancel)

        mode = QHBoxLayout()
        mode.addWidget(self.browser_radio)
        mode.addWidget(self.paste_radio)
        mode.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(mode)
        layout.addWidget(self.pages)
        layout.addWidget(hint)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        if existing is not None:
            self.name_edit.setText(existing.name)
            self.limits_combo.setCurrentIndex(max(0, self.limits_combo.findData(existing.limits)))
        if current is not None:
            self.portal_edit.setText(current.portal)
            self.client_id_edit.setText(current.app.client_id)
            self.server_edit.setText(current.app.oauth_server)
        self._current = current
        for edit in (self.name_edit, self.portal_edit, self.client_id_edit, self.secret_edit, self.server_edit,
                     self.ca_field.edit, self.access_edit, self.refresh_edit):
            edit.textChanged.connect(self._validate)
        self.port_spin.valueChanged.connect(lambda _v: self._show_redirect())
        self._show_redirect()
        self._validate()

    # --- values -----------------------------------------------------------------------------------
    def name(self) -> str:
        return self.name_edit.text().strip()

    def limits(self) -> str:
        return str(self.limits_combo.currentData() or "standard")

    def ca_file(self) -> str:
        return self.ca_field.path()

    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port_spin.value()}/"

    def app(self) -> OAuthApp:
        """The application as typed (the saved secret when the field is left empty on an edit)."""
        secret = self.secret_edit.text().strip()
        if not secret and self._current is not None:
            secret = self._current.app.client_secret
        return OAuthApp(self.client_id_edit.text().strip(), secret, self.server_edit.text().strip())

    def waiting(self) -> bool:
        return self._task is not None and not self._task.done()

    # --- validation -------------------------------------------------------------------------------
    def problem(self) -> str | None:
        """What keeps "Connect" from working (None when nothing does)."""
        name = self.name()
        if not name:
            return "Give the connection a name."
        if name in self._taken:
            return f"A connection named “{name}” already exists."
        try:
            normalize_portal(self.portal_edit.text())
            self.app()
        except SdkError as exc:
            return exc.message
        ca_problem = self.ca_field.problem()
        if ca_problem:
            return ca_problem
        if self.paste_radio.isChecked() and not (self.access_edit.text().strip() and self.refresh_edit.text().strip()):
            return "Paste both the access token and the refresh token."
        return None

    def _validate(self) -> None:
        typed = any(e.text().strip() for e in (self.name_edit, self.portal_edit, self.client_id_edit))
        problem = self.problem()
        self.problem_label.setText((problem or "") if typed or self.existing is not None else "")
        self.problem_label.setVisible(bool(self.problem_label.text()))
        busy = self.waiting()
        self.connect_button.setEnabled(problem is None and not busy)
        if self.save_button is not None:
            name = self.name()
            self.save_button.setEnabled(bool(name) and name not in self._taken
                                        and self.ca_field.problem() is None and not busy)

    def _show_redirect(self) -> None:
        self.redirect_label.setText(
            f"Redirect address: <b>{self.redirect_uri()}</b><br><span style='color:gray'>Enter it as the "
            "application's handler (redirect) URL in its card on the portal; keep the same port next time.</span>")

    # --- connecting -------------------------------------------------------------------------------
    def _connect(self) -> None:
        if self.problem() is not None or self.waiting():
            return
        portal, app = normalize_portal(self.portal_edit.text()), self.app()
        self._known_secrets = (*self._known_secrets, app.client_secret, self.access_edit.text().strip(),
                               self.refresh_edit.text().strip())
        if self.paste_radio.isChecked():
            try:
                tokens = TokenSet.pasted(self.access_edit.text(), self.refresh_edit.text())
            except SdkError as exc:
                self._fail(exc.message)
                return
            self.credentials = OAuthCredentials(portal, app, tokens)
            self.accept()
            return
        self._task = asyncio.ensure_future(self._authorize(portal, app))
        self._set_busy(True)
        self.status_label.setStyleSheet("")
        self.status_label.setText("Waiting for the portal's redirect… Approve the application in the browser "
                                  "window that opened (Cancel stops waiting).")

    async def _authorize(self, portal: str, app: OAuthApp) -> None:
        from b24explorer.core.oauth_redirect import authorize_app
        from b24explorer.core.tls import tls_context

        try:
            verify = tls_context(self.ca_file() or None)
            credentials = await authorize_app(portal, app, open_browser=self._open_browser,
                                              port=self.port_spin.value(), wait_s=self._wait_s, verify=verify)
        except asyncio.CancelledError:
            self._set_busy(False)
            self.status_label.setText("Stopped waiting. Connect to try again.")
            raise
        except SdkError as exc:  # refused, timed out, a certificate not trusted, the port taken …
            self._set_busy(False)
            self._fail(exc.message)
            return
        self._set_busy(False)
        self.credentials = credentials
        self.accept()

    def _fail(self, message: str) -> None:
        self.status_label.setStyleSheet("color:#c62828")
        self.status_label.setText(mask_text(message, self._known_secrets))

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.name_edit, self.portal_edit, self.client_id_edit, self.secret_edit, self.server_edit,
                       self.ca_field, self.port_spin, self.browser_radio, self.paste_radio):
            widget.setEnabled(not busy)
        self._validate()

    def _cancel(self) -> None:
        """Stop waiting for the redirect; when not waiting, close."""
        if self.waiting():
            assert self._task is not None
            self._task.cancel()
            return
        self.reject()

    def done(self, result: int) -> None:
        if self.waiting():
            assert self._task is not None
            self._task.cancel()
        super().done(result)
