"""Copy as code (curl, Python httpx, Python b24pysdk, JavaScript b24jssdk, PHP b24phpsdk) and "save the response
as a .json file".

The webhook appears as a placeholder unless the user ticks "Include the webhook secret" — the code generators
(``core.export``) read it from ``$B24_WEBHOOK`` otherwise. Saved responses have every known secret masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import export as code_export
from ..core.history import scrub_body
from .qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    monospace_font,
)


@dataclass(frozen=True)
class PlaceholderPortal:
    """Stands in for the webhook when the connection's cannot be read: the code then names a portal to edit."""

    portal: str = "https://your-portal.bitrix24.com"
    user_id: int = 1
    secret: str = ""


def render(fmt: Any, request: Any, webhook: Any | None, *, include_secret: bool = False) -> str:
    hook = webhook if webhook is not None else PlaceholderPortal()
    return code_export.export_code(fmt, hook, request, include_secret=include_secret and webhook is not None)


def copy_to_clipboard(text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)


def write_response(path: str | Path, raw: bytes, secrets: Iterable[str] = ()) -> Path:
    """Writes a response body to a .json file with every known secret masked (atomically)."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".json")
    return code_export.save_response(target, scrub_body(bytes(raw), tuple(s for s in secrets if s)))


def save_response_dialog(parent: QWidget | None, raw: bytes, secrets: Iterable[str] = (),
                         suggested: str = "response.json") -> Path | None:
    """Asks where to save the response; returns the written path (None when the user cancelled)."""
    name, _filter = QFileDialog.getSaveFileName(parent, "Save response as JSON", suggested,
                                                "JSON files (*.json);;All files (*)")
    if not name:
        return None
    return write_response(name, raw, secrets)


class ExportDialog(QDialog):
    """The current request as code, in a chosen format; copy it or save it to a file."""

    def __init__(
        self,
        request: Any,
        webhook: Any | None,
        *,
        fmt: str = "curl",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Copy as code")
        self.setObjectName("exportDialog")
        self.resize(820, 560)
        self._request = request
        self._webhook = webhook

        self.format_combo = QComboBox(self)
        for value, label in code_export.FORMAT_LABELS.items():
            self.format_combo.addItem(label, str(value))
        self.secret_box = QCheckBox("Include the webhook secret", self)
        self.secret_box.setObjectName("includeSecret")
        self.secret_box.setToolTip(
            "Off: the code reads the webhook from $B24_WEBHOOK and shows a placeholder. "
            "On: your secret is written into the code."
        )
        self.secret_box.setEnabled(webhook is not None and bool(getattr(webhook, "secret", "")))
        self.warning = QLabel(
            "⚠ The code below contains your webhook secret: anyone who sees it can act on your portal. "
            "Do not share or commit it.",
            self,
        )
        self.warning.setObjectName("secretWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #c62828; font-weight: bold;")
        self.warning.hide()

        self.code_view = QPlainTextEdit(self)
        self.code_view.setObjectName("exportCode")
        self.code_view.setReadOnly(True)
        self.code_view.setFont(monospace_font())
        self.code_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.status = QLabel(self)

        self.copy_button = QPushButton("Copy", self)
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("Save as…", self)
        self.save_button.clicked.connect(self._save_as)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)

        top = QHBoxLayout()
        top.addWidget(QLabel("Format", self))
        top.addWidget(self.format_combo)
        top.addStretch(1)
        top.addWidget(self.secret_box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.warning)
        layout.addWidget(self.code_view, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self.format_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.secret_box.toggled.connect(lambda _on: self.refresh())
        self.set_format(fmt)
        self.refresh()

    def set_format(self, fmt: str) -> None:
        index = self.format_combo.findData(str(code_export.Format(fmt)))
        if index >= 0:
            self.format_combo.setCurrentIndex(index)

    def format(self) -> str:
        return str(self.format_combo.currentData())

    def include_secret(self) -> bool:
        return self.secret_box.isEnabled() and self.secret_box.isChecked()

    def code(self) -> str:
        return render(self.format(), self._request, self._webhook, include_secret=self.include_secret())

    def refresh(self) -> None:
        self.warning.setVisible(self.include_secret())
        try:
            text = self.code()
        except (ValueError, TypeError) as exc:
            text = ""
            self.status.setText(f"Cannot export this request: {exc}")
        else:
            self.status.setText("")
        self.code_view.setPlainText(text)

    def shown_code(self) -> str:
        """The code as shown, exactly (toPlainText() would turn non-breaking spaces in the params into spaces)."""
        return self.code_view.document().toRawText().replace("\u2029", "\n")

    def copy(self) -> None:
        copy_to_clipboard(self.shown_code())
        self.status.setText("Copied to the clipboard" + (" — with your secret" if self.include_secret() else ""))

    def suggested_name(self) -> str:
        method = getattr(self._request, "method", "batch")
        suffix = code_export.FORMAT_SUFFIX[code_export.Format(self.format())]
        return f"{method.replace('.', '_')}{suffix}"

    def save_code(self, path: str | Path) -> Path:
        """Writes the shown code to a file (what "Save as…" does after asking where)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.shown_code(), encoding="utf-8")
        self.status.setText(f"Saved to {target.name}")
        return target

    def _save_as(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(self, "Save code", self.suggested_name())
        if name:
            try:
                self.save_code(name)
            except OSError as exc:
                self.status.setText(f"Not saved: {exc.strerror or exc}")
