"""The docs panel: what the REST docs say of the method in view — its scope, API versions, flags (application
context, administrators, deprecated → replacement, its twin in the other API), the params table with nested
fields, and the link to its page. Facts from the offline reference catalog; the prose stays on the docs site."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from b24explorer.ui.qt import (
    QLabel,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from b24explorer.core.reference import MethodRef, ParamRef
    from b24explorer.ui.method_picker import PickerEntry

PARAM_COLUMNS = ["Param", "Type", "Required"]


class MethodDocsPanel(QWidget):
    """A header (name, versions, scope, flags, link) over a tree of params (nested fields as children)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.method = ""
        self.header = QLabel(self)
        self.header.setObjectName("methodDocsHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setOpenExternalLinks(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(PARAM_COLUMNS)
        self.params = QTreeView(self)
        self.params.setModel(self.model)
        self.params.setUniformRowHeights(True)
        self.params.setEditTriggers(QTreeView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.params, 1)
        self.show_nothing()

    def show_nothing(self, text: str = "Pick a method to see what the REST docs say of it.") -> None:
        self.method = ""
        self.header.setText(f"<span style='color:gray'>{escape(text)}</span>")
        self.model.removeRows(0, self.model.rowCount())

    def show_method(self, name: str, method: MethodRef | None, other: MethodRef | None = None,
                    entry: PickerEntry | None = None) -> None:
        """``method``: the docs' entry for the API in use; ``other``: the same name in the other API version;
        ``entry``: what the picker knows (whether this connection can call it)."""
        if method is None:
            self.show_nothing(f"{name} is not in the REST docs (catalog of the public docs); the portal may still "
                              "have it.")
            self.method = name
            return
        self.method = name
        versions = f"REST v{method.api}" + (f" (also v{other.api})" if other is not None else "")
        lines = [f"<b>{escape(method.name)}</b> · {versions} · scope <i>{escape(', '.join(method.scopes) or '—')}</i>"]
        flags = method.flag_phrases()
        if flags:
            lines.append("<span style='color:#b26a00'>" + escape(" · ".join(flags)) + "</span>")
        if entry is not None and entry.available is False and entry.note:
            lines.append(f"<span style='color:#c62828'>{escape(entry.note)}</span>")
        if method.doc_url:
            lines.append(f"<a href='{escape(method.doc_url)}'>Open the docs page</a>")
        if not method.params:
            lines.append("<span style='color:gray'>The page documents no params.</span>")
        self.header.setText("<br>".join(lines))
        self.model.removeRows(0, self.model.rowCount())
        for param in method.params:
            row = self._row(param)
            for field in method.nested(param.name):
                row[0].appendRow(self._row(field))
            self.model.appendRow(row)
        self.params.resizeColumnToContents(0)

    @staticmethod
    def _row(param: ParamRef) -> list[QStandardItem]:
        return [QStandardItem(param.name), QStandardItem(param.type),
                QStandardItem("required" if param.required else "")]

    def rows(self) -> list[tuple[str, str, str]]:
        """The params table as text (top-level params only), for tests and copying."""
        return [tuple(self.model.item(r, c).text() for c in range(3))  # type: ignore[misc]
                for r in range(self.model.rowCount())]
