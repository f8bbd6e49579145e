"""The method picker: a search box over the methods grouped by scope, recently used first.

Typing ``deal.li`` finds ``crm.deal.list``: every dot-separated piece of the query must start a piece of the
name, in order (``deal.li`` → ``crm.[deal].[li]st``), and plain substrings match too. Enter picks the top hit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from b24explorer.ui import qt
from b24explorer.ui.qt import (
    QAbstractItemView,
    QAction,
    QColor,
    QFont,
    QLabel,
    QLineEdit,
    QMenu,
    QModelIndex,
    QStandardItemModel,
    Qt,
    QTreeView,
    QVBoxLayout,
    QWidget,
    Signal,
    standard_icon,
)

if TYPE_CHECKING:
    from b24explorer.core.catalog import MethodEntry as CatalogEntry
    from b24explorer.ui.qt import QKeyEvent, QPoint, QStandardItem

RECENT_GROUP = "Recently used"
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
NOT_LISTED = "not listed by this portal"
NOT_GRANTED = "not allowed by this webhook's scopes"
_ALWAYS_GRANTED = frozenset({"basic", ""})


class PickerEntry(NamedTuple):
    """What the picker shows of one method (a tuple: cheap to make, and the list makes one per method)."""

    name: str
    scope: str = "other"
    v3: bool = False
    v2: bool = True
    docs_url: str = ""
    title: str = ""
    docs_url_v3: str = ""
    available: bool | None = None  # None: unknown; False: this connection cannot call it (see `why_not`)
    note: str = ""  # why it is marked: NOT_LISTED, NOT_GRANTED
    unavailable_reason: str = ""  # e.g. an app-context method on a webhook; "" when it is the note or the scopes
    deprecated: bool = False
    scopes: tuple[str, ...] = ()  # the scopes the docs name for it

    @classmethod
    def from_catalog(cls, entry: CatalogEntry) -> PickerEntry:
        return cls(name=entry.name, scope=entry.scope, v3=entry.in_v3, v2=entry.in_v2, docs_url=entry.doc_url,
                   docs_url_v3=entry.doc_url_v3, title=entry.description, available=entry.available,
                   unavailable_reason=entry.unavailable_reason)

    @property
    def why_not(self) -> str:
        """Why the connection may not call it ("" when it may, or nobody knows)."""
        if self.available is not False:
            return ""
        return self.unavailable_reason or self.note or NOT_GRANTED


def merge_entries(documented: Iterable[PickerEntry], connection: Iterable[PickerEntry],
                  listed: Collection[str] | None = None, granted: Collection[str] | None = None) -> list[PickerEntry]:
    """The documented methods and the connection's, one entry per name, each marked when the connection cannot
    call it: ``listed`` are the (lower-case) names the portal lists, ``granted`` the webhook's scopes (None:
    unknown). Nothing is dropped."""
    docs = {e.name.lower(): e for e in documented}
    merged: dict[str, PickerEntry] = {}
    for entry in connection:
        doc = docs.get(entry.name.lower())
        if doc is not None:
            entry = entry._replace(v2=entry.v2 or doc.v2, v3=entry.v3 or doc.v3, docs_url=entry.docs_url or doc.docs_url,
                                   docs_url_v3=entry.docs_url_v3 or doc.docs_url_v3, deprecated=doc.deprecated,
                                   scopes=doc.scopes)
        merged[entry.name.lower()] = entry
    for key, doc in docs.items():
        merged.setdefault(key, doc)
    return [_marked(entry, listed, granted) for entry in merged.values()]


def _marked(entry: PickerEntry, listed: Collection[str] | None, granted: Collection[str] | None) -> PickerEntry:
    note = ""
    if listed is not None and entry.name.lower() not in listed:
        note = NOT_LISTED
    elif (granted is not None and entry.scopes and not set(entry.scopes) & (set(granted) | _ALWAYS_GRANTED)) or entry.available is False:
        note = NOT_GRANTED
    if not note:
        return entry if entry.available is not False else entry._replace(note=NOT_GRANTED)
    return entry._replace(available=False, note=note)


def match_score(query: str, name: str) -> int | None:
    """How well ``query`` matches ``name`` (lower is better), or None for no match."""
    query = query.strip().lower()
    name = name.lower()
    if not query:
        return 1000
    if name == query:
        return 0
    if name.startswith(query):
        return 10 + len(name) - len(query)
    parts = name.split(".")
    pieces = [p for p in query.split(".")]
    # Each query piece must prefix a name piece, in order; the last may be empty ("deal." lists all deal.*).
    pos = 0
    skipped = 0
    for i, piece in enumerate(pieces):
        while pos < len(parts) and not parts[pos].startswith(piece):
            if i:
                skipped += 1  # a gap after the first matched piece costs a little
            pos += 1
        if pos == len(parts):
            break
        pos += 1
    else:
        return 100 + skipped * 20 + (len(parts) - pos) * 5 + len(name) // 10
    where = name.find(query)
    if where >= 0:
        return 400 + where
    return None


def search(entries: Iterable[PickerEntry], query: str, limit: int = 500) -> list[PickerEntry]:
    scored = [(score, e.name, e) for e in entries if (score := match_score(query, e.name)) is not None]
    scored.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in scored[:limit]]


class _SearchBox(QLineEdit):
    """Up/Down move through the results while the focus stays in the box."""

    step = Signal(int)  # +1 down, -1 up

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.step.emit(1)
            return
        if event.key() == Qt.Key.Key_Up:
            self.step.emit(-1)
            return
        super().keyPressEvent(event)


class MethodPicker(QWidget):
    """Search box + grouped tree of methods. Emits ``method_chosen`` on Enter/double-click."""

    method_chosen = Signal(str)
    highlighted = Signal(str)  # the method under the cursor in the list ("" when none)
    use_action: QAction  # these two come with the context menu (see `menu`)
    docs_action: QAction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[str, PickerEntry] = {}
        self._documented: list[PickerEntry] = []
        self._connection: list[PickerEntry] = []
        self._listed: frozenset[str] | None = None
        self.granted_scopes: frozenset[str] | None = None  # the connection's, when its ``scope`` answer is known
        self._recent: list[str] = []

        self.search_box = _SearchBox(self)
        self.search_box.setPlaceholderText("Search methods… (e.g. deal.li)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(self._refresh)
        self.search_box.returnPressed.connect(self.choose_current)
        self.search_box.step.connect(self._move_selection)

        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(["Method", "API"])
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setRootIsDecorated(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, self.tree.header().ResizeMode.ResizeToContents)
        self.tree.activated.connect(self._activated)
        self.tree.doubleClicked.connect(self._activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self._details_follow = False  # the details follow the current row from the first method on
        self._menu_entry: PickerEntry | None = None
        self._menu: QMenu | None = None  # the context menu, made when first asked for

        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setOpenExternalLinks(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setMinimumHeight(self.fontMetrics().height() * 3)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.search_box)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.details)

    # --- data -------------------------------------------------------------------------------------
    def set_methods(self, entries: Iterable[PickerEntry], *, listed: Collection[str] | None = None,
                    granted: Collection[str] | None = None) -> None:
        """The connection's methods; ``listed``/``granted``: what the portal lists and the webhook's scopes, to
        mark the documented methods it cannot call."""
        self._connection = list(entries)
        self._listed = frozenset(listed) if listed is not None else None
        self.granted_scopes = frozenset(granted) if granted is not None else None
        self._merge()

    def set_documented(self, entries: Iterable[PickerEntry]) -> None:
        """Every method the docs document (the reference catalog): shown with or without a connection."""
        self._documented = list(entries)
        self._merge()

    def _merge(self) -> None:
        merged = merge_entries(self._documented, self._connection, self._listed, self.granted_scopes)
        self._entries = {e.name: e for e in merged}
        self._refresh()

    def entries(self) -> list[PickerEntry]:
        return list(self._entries.values())

    def entry(self, name: str) -> PickerEntry | None:
        return self._entries.get(name)

    def set_recent(self, names: Sequence[str]) -> None:
        self._recent = list(dict.fromkeys(names))[:10]
        self._refresh()

    def note_used(self, name: str) -> None:
        self.set_recent([name, *[n for n in self._recent if n != name]])

    def recent(self) -> list[str]:
        return list(self._recent)

    # --- view -------------------------------------------------------------------------------------
    def _item(self, entry: PickerEntry) -> list[QStandardItem]:
        name = qt.QStandardItem(entry.name)
        name.setData(entry.name, NAME_ROLE)
        name.setToolTip(entry.title or entry.name)
        if entry.available is False:
            name.setForeground(QColor("#9e9e9e"))
            name.setToolTip(f"{entry.title or entry.name}\n({entry.why_not})")
        if entry.deprecated:
            font = QFont(name.font())
            font.setStrikeOut(True)
            name.setFont(font)
        api = qt.QStandardItem("v3" if entry.v3 and not entry.v2 else ("v2·v3" if entry.v3 else "v2"))
        api.setData(entry.name, NAME_ROLE)
        if entry.v3:
            api.setForeground(QColor("#7e57c2"))
            api.setToolTip("Available in REST v3")
        else:
            api.setForeground(QColor("#9e9e9e"))
        return [name, api]

    def _group(self, title: str, count: int) -> list[QStandardItem]:
        group = qt.QStandardItem(f"{title}  ({count})")
        font = QFont(group.font())
        font.setBold(True)
        group.setFont(font)
        group.setSelectable(False)
        group.setIcon(standard_icon("SP_DirIcon"))
        return [group, qt.QStandardItem("")]

    def _refresh(self) -> None:
        if self._entries and not self._details_follow:
            self.tree.selectionModel().currentChanged.connect(self._show_details)
            self._details_follow = True
        query = self.search_box.text().strip()
        self.model.removeRows(0, self.model.rowCount())
        hits = search(self._entries.values(), query)
        if query:
            # Searching: one flat, ranked list reads best; the scope stays visible in the name.
            group = self._group("Results", len(hits))
            for entry in hits:
                group[0].appendRow(self._item(entry))
            self.model.appendRow(group)
        else:
            recent = [self._entries[n] for n in self._recent if n in self._entries]
            if recent:
                group = self._group(RECENT_GROUP, len(recent))
                for entry in recent:
                    group[0].appendRow(self._item(entry))
                self.model.appendRow(group)
            by_scope: dict[str, list[PickerEntry]] = {}
            for entry in sorted(hits, key=lambda e: e.name):
                by_scope.setdefault(entry.scope or "other", []).append(entry)
            for scope in sorted(by_scope):
                group = self._group(scope, len(by_scope[scope]))
                for entry in by_scope[scope]:
                    group[0].appendRow(self._item(entry))
                self.model.appendRow(group)
        if query or self.model.rowCount() <= 3:
            self.tree.expandAll()
        elif self._recent:
            self.tree.expand(self.model.index(0, 0))
        first = self._first_method_index()
        if first.isValid():
            self.tree.setCurrentIndex(first)

    def _first_method_index(self) -> QModelIndex:
        for row in range(self.model.rowCount()):
            group = self.model.index(row, 0)
            if self.model.rowCount(group):
                return self.model.index(0, 0, group)
        return QModelIndex()

    def _method_indexes(self) -> list[QModelIndex]:
        out: list[QModelIndex] = []
        for row in range(self.model.rowCount()):
            group = self.model.index(row, 0)
            if not self.tree.isExpanded(group) and not self.search_box.text():
                continue
            out.extend(self.model.index(r, 0, group) for r in range(self.model.rowCount(group)))
        return out

    def _move_selection(self, step: int) -> None:
        indexes = self._method_indexes()
        if not indexes:
            return
        current = self.tree.currentIndex().siblingAtColumn(0)
        try:
            pos = indexes.index(current) + step
        except ValueError:
            pos = 0
        self.tree.setCurrentIndex(indexes[max(0, min(pos, len(indexes) - 1))])

    def current_method(self) -> str | None:
        index = self.tree.currentIndex()
        return index.data(NAME_ROLE) if index.isValid() else None

    def visible_methods(self) -> list[str]:
        return [i.data(NAME_ROLE) for i in self._method_indexes()]

    def choose_current(self) -> None:
        name = self.current_method()
        if name is None and self.search_box.text().strip():
            # An unknown name typed in full is still a method the portal may have.
            typed = self.search_box.text().strip()
            if all(part for part in typed.split(".")):
                name = typed
        if name:
            self.method_chosen.emit(name)

    def _activated(self, index: QModelIndex) -> None:
        name = index.data(NAME_ROLE)
        if name:
            self.method_chosen.emit(name)

    def _show_details(self, index: QModelIndex) -> None:
        entry = self._entries.get(index.data(NAME_ROLE) or "")
        self.highlighted.emit(entry.name if entry is not None else "")
        if entry is None:
            self.details.clear()
            return
        api = "REST v2 and v3" if entry.v3 and entry.v2 else ("REST v3 only" if entry.v3 else "REST v2")
        link = f' · <a href="{entry.docs_url}">docs</a>' if entry.docs_url else ""
        if entry.docs_url_v3 and entry.docs_url_v3 != entry.docs_url:
            link += f' · <a href="{entry.docs_url_v3}">v3 docs</a>'
        if entry.deprecated:
            link += " · deprecated"
        if entry.available is False:
            link += f" · <span style='color:#c62828'>{entry.why_not}</span>"
        title = f"<br><span style='color:gray'>{entry.title}</span>" if entry.title else ""
        self.details.setText(f"<b>{entry.name}</b><br>scope <i>{entry.scope}</i> · {api}{link}{title}")

    @property
    def menu(self) -> QMenu:
        """The list's context menu: use the method, open its documentation (made on first use)."""
        if self._menu is None:
            self.use_action = QAction("Use this method", self)
            self.use_action.triggered.connect(self._use_menu_entry)
            self.docs_action = QAction(standard_icon("SP_DialogHelpButton"), "Open documentation", self)
            self.docs_action.triggered.connect(self._open_menu_docs)
            self._menu = QMenu(self)
            self._menu.addAction(self.use_action)
            self._menu.addAction(self.docs_action)
        return self._menu

    def _context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        entry = self._entries.get(index.data(NAME_ROLE) or "") if index.isValid() else None
        if entry is None:
            return
        self._menu_entry = entry
        menu = self.menu
        self.docs_action.setVisible(bool(entry.docs_url))
        # One menu, reused: popup() rather than exec() (no nested event loop) and nothing to delete afterwards.
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _use_menu_entry(self) -> None:
        if self._menu_entry is not None:
            self.method_chosen.emit(self._menu_entry.name)

    def _open_menu_docs(self) -> None:
        if self._menu_entry is not None and self._menu_entry.docs_url:
            qt.QDesktopServices.openUrl(qt.QUrl(self._menu_entry.docs_url))
