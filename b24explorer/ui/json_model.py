"""A lazy tree model over a JSON value: key, value and type columns.

Nothing is built up front. A `_Node` exists only for a container the view has asked about as a parent
(i.e. that was expanded); leaf rows are answered straight from their parent's container. Over a lazy
document this keeps a 32 MB answer's first paint to reading its first level plus a handful of rows.

Big arrays show sub-ranges (`[0 … 99]`, `[100 … 199]` …; `[0 … 9999]` … for bigger ones) as browser
devtools do, so no node has more than `BUCKET` rows and expanding any node stays cheap, whatever its size.
"""

from __future__ import annotations

from typing import Any

from . import json_node as jn
from .qt import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer

KEY, VALUE, TYPE = 0, 1, 2
HEADERS = ("Key", "Value", "Type")
BUCKET = 100
FILL_PER_TICK = 4_000  # elements of a big lazy array listed per idle tick (about a millisecond)
PREVIEW_CHARS = 80  # a container's one-line preview; Qt shapes the whole text of every painted cell, so
# longer previews make each paint of a screen of rows (an expand) slower
DISPLAY_CHARS = 1_000

PATH_ROLE = int(Qt.ItemDataRole.UserRole.value) + 1
"""`data(index, PATH_ROLE)` → the node's path, a tuple of keys and indexes."""
NODE_VALUE_ROLE = int(Qt.ItemDataRole.UserRole.value) + 2
"""`data(index, NODE_VALUE_ROLE)` → the value itself (lazy nodes stay lazy)."""

_Index = QModelIndex | QPersistentModelIndex


class _Node:
    """An opened container: an object, or a range of an array (the whole array is a range too).

    A range of more than `BUCKET` elements shows sub-ranges (`[100 … 199]`) instead of elements, so no
    node ever has more than `BUCKET` rows and expanding any node stays cheap, whatever the array's size.
    """

    __slots__ = ("children", "count", "elements", "keys", "parent", "path", "row", "span", "start", "texts",
                 "value")

    def __init__(
        self,
        value: Any,
        parent: _Node | None,
        row: int,
        path: jn.Path,
        *,
        elements: jn.Elements | None = None,
        start: int = 0,
        count: int | None = None,
    ) -> None:
        self.value = value
        self.parent = parent
        self.row = row
        self.path = path
        self.children: dict[int, _Node] = {}
        self.texts: dict[int, tuple[str, str, str]] = {}
        self.start = start
        if jn.is_object(value):
            self.keys: list[str] | None = jn.keys_of(value)
            self.elements: jn.Elements | None = None
            self.count = len(self.keys)
            self.span = 0
        else:
            self.keys = None
            self.elements = elements if elements is not None else jn.Elements(value)
            self.count = len(value) - start if count is None else count
            self.span = span_for(self.count)

    @property
    def rows(self) -> int:
        if self.span:
            return -(-self.count // self.span)
        return self.count

    def is_range_row(self, row: int) -> bool:
        return self.span > 0

    def range_of(self, row: int) -> tuple[int, int]:
        """(start, count) of the sub-range shown at a row of a bucketed range."""
        first = self.start + row * self.span
        return first, min(self.span, self.start + self.count - first)

    def child_key(self, row: int) -> jn.PathPart:
        if self.keys is not None:
            return self.keys[row]
        return self.start + row

    def child_value(self, row: int) -> Any:
        if self.keys is not None:
            return jn.child(self.value, self.keys[row])
        elements: jn.Elements = self.elements  # type: ignore[assignment]
        if self.span:
            first, count = self.range_of(row)
            return elements.slice(first, first + count)
        return elements[self.start + row]


def _release(root: _Node | None) -> None:
    """Break the parent ↔ children cycles of a tree no longer shown, so it is freed at once rather than at
    the next full garbage collection: its lazy nodes keep the whole body (and what was decoded of it) alive."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        stack.extend(node.children.values())
        node.children = {}
        node.parent = None


def span_for(count: int) -> int:
    """0 when a range shows its elements, else the size of the sub-ranges it shows."""
    if count <= BUCKET:
        return 0
    span = BUCKET
    while count > span * BUCKET:
        span *= BUCKET
    return span


_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ROLES = frozenset((_DISPLAY, _TOOLTIP, PATH_ROLE, NODE_VALUE_ROLE))


class JsonTreeModel(QAbstractItemModel):
    """Lazy tree over a JSON value (lazy node or plain Python). Top-level rows are the root's children."""

    def __init__(self, value: Any = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._root: _Node
        self._root_value: Any = None
        self._scalar_root = False
        self._materialised = 0
        self._to_fill: list[jn.Elements] = []
        self._fill_timer = QTimer(self)
        self._fill_timer.setInterval(0)
        self._fill_timer.timeout.connect(self._fill_step)
        self.set_value(value)

    # --- content --------------------------------------------------------------------------------------
    def set_value(self, value: Any) -> None:
        """Show a new value (replaces the old one; closes every node)."""
        self._to_fill.clear()
        self.beginResetModel()
        old = getattr(self, "_root", None)
        self._root_value = value
        self._materialised = 1
        self._scalar_root = not jn.is_container(value)
        self._root = _Node(value if not self._scalar_root else [value], None, -1, ())
        self.endResetModel()
        _release(old)

    def clear(self) -> None:
        """Show nothing at all (not even a `null` row)."""
        self._to_fill.clear()
        self.beginResetModel()
        old = getattr(self, "_root", None)
        self._root_value = None
        self._materialised = 1
        self._scalar_root = False
        self._root = _Node([], None, -1, ())
        self.endResetModel()
        _release(old)

    @property
    def root_value(self) -> Any:
        return self._root_value

    def materialised_count(self) -> int:
        """How many container nodes have been opened (the root included)."""
        return self._materialised

    def append_items(self, items: list[Any]) -> None:
        """Append elements to a root that is a plain list (list-all pages arriving)."""
        if not isinstance(self._root_value, list) or self._scalar_root:
            raise TypeError("append_items needs a model whose root is a list")
        if not items:
            return
        root = self._root
        old_rows, old_span = root.rows, root.span
        self._root_value.extend(items)
        new_count = len(self._root_value)
        if span_for(new_count) != old_span:
            self.set_value(self._root_value)  # the range layout changed (e.g. 1,000 → 1,001 items)
            return
        root.count = new_count
        if old_span and old_rows:
            self._grow_last_range(root, old_rows - 1)
        if root.rows > old_rows:
            self.beginInsertRows(QModelIndex(), old_rows, root.rows - 1)
            self.endInsertRows()

    def _grow_last_range(self, root: _Node, row: int) -> None:
        node = root.children.get(row)
        _, count = root.range_of(row)
        if node is None or node.count == count:
            return
        if node.span:  # nested ranges (over a million items): close it rather than track every level
            self.set_value(self._root_value)
            return
        self.beginInsertRows(self.createIndex(row, 0, root), node.count, count - 1)
        node.count = count
        self.endInsertRows()

    def _node_of(self, index: _Index) -> _Node:
        """The opened node for a container index (opens it on first use)."""
        if not index.isValid():
            return self._root
        parent: _Node = index.internalPointer()
        row = index.row()
        node = parent.children.get(row)
        if node is None:
            self._materialised += 1
            if parent.span:
                first, count = parent.range_of(row)
                node = _Node(
                    parent.value, parent, row, parent.path, elements=parent.elements, start=first, count=count
                )
            else:
                node = _Node(parent.child_value(row), parent, row, (*parent.path, parent.child_key(row)))
                if node.span and node.elements is not None and not node.elements.complete:
                    self._to_fill.append(node.elements)  # list the rest while idle: any range opens at once
                    self._fill_timer.start()
            parent.children[row] = node
        return node

    def _fill_step(self) -> None:
        if not self._to_fill or self._to_fill[0].fill(FILL_PER_TICK):
            if self._to_fill:
                self._to_fill.pop(0)
            if not self._to_fill:
                self._fill_timer.stop()

    def _is_container_at(self, index: _Index) -> bool:
        if not index.isValid():
            return True
        parent: _Node = index.internalPointer()
        row = index.row()
        if parent.span or row in parent.children:
            return True
        return jn.is_container(parent.child_value(row))

    # --- QAbstractItemModel ---------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not parent.isValid():
            node = self._root
        else:
            node = parent.internalPointer().children.get(parent.row())  # fast path: an opened container
            if node is None:
                if parent.column() != 0 or not self._is_container_at(parent):
                    return QModelIndex()
                node = self._node_of(parent)
        if 0 <= row < node.rows and 0 <= column < 3:
            return self.createIndex(row, column, node)
        return QModelIndex()

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: _Node = index.internalPointer()
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and (parent.column() != 0 or not self._is_container_at(parent)):
            return 0
        return self._node_of(parent).rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return self._root.rows > 0
        node: _Node = parent.internalPointer()
        if parent.column() != 0:
            return False
        if node.span:
            return True
        value = node.child_value(parent.row())
        return isinstance(value, jn.CONTAINER_TYPES) and bool(value)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else _NO_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role not in _ROLES or not index.isValid():  # the view asks ~10 roles per cell: answer most at once
            return None
        node: _Node = index.internalPointer()
        row = index.row()
        if role == _DISPLAY:
            texts = node.texts.get(row)
            if texts is None:
                texts = node.texts[row] = self._texts(node, row)
            return texts[index.column()]
        if role == _TOOLTIP:
            if index.column() != VALUE or node.span:
                return None
            value = node.child_value(row)
            return value[:4000] if isinstance(value, str) and len(value) > 80 else None
        if role == PATH_ROLE:
            return self.path_of(index)
        return self.value_at(index)  # NODE_VALUE_ROLE

    def _texts(self, node: _Node, row: int) -> tuple[str, str, str]:
        """Key, value and type text of a row (computed once per row the view shows, then kept)."""
        if node.span:
            first, count = node.range_of(row)
            return f"[{first} … {first + count - 1}]", f"{count} items", "range"
        if self._scalar_root:
            key_text = "(value)"
        else:
            key = node.child_key(row)
            key_text = f"[{key}]" if isinstance(key, int) else key
        value = node.child_value(row)
        return key_text, value_text(value), type_text(value)

    # --- paths ----------------------------------------------------------------------------------------
    def is_range(self, index: _Index) -> bool:
        """Whether the row is a sub-range of a big array (`[1000 … 1999]`), not a JSON node."""
        return index.isValid() and index.internalPointer().span > 0

    def path_of(self, index: _Index) -> jn.Path:
        """The JSON path of a row; a sub-range row answers its array's path."""
        if not index.isValid() or self._scalar_root:
            return ()
        node: _Node = index.internalPointer()
        if node.span:
            return node.path
        return (*node.path, node.child_key(index.row()))

    def value_at(self, index: _Index) -> Any:
        """The value under an index (the whole root for an invalid index; a list for a sub-range)."""
        if not index.isValid():
            return self._root_value
        node: _Node = index.internalPointer()
        return node.child_value(index.row())

    def index_for_path(self, path: jn.Path) -> QModelIndex:
        """The index of a path, opening every container (and sub-range) on the way. Invalid if absent."""
        parent = QModelIndex()
        for part in path:
            node = self._node_of(parent)
            if node.keys is not None:
                if not isinstance(part, str):
                    return QModelIndex()
                try:
                    row = node.keys.index(part)
                except ValueError:
                    return QModelIndex()
            else:
                if not isinstance(part, int) or isinstance(part, bool):
                    return QModelIndex()
                while node.span:  # descend through the sub-ranges to the one holding the element
                    if not node.start <= part < node.start + node.count:
                        return QModelIndex()
                    parent = self.index((part - node.start) // node.span, 0, parent)
                    node = self._node_of(parent)
                if not node.start <= part < node.start + node.count:
                    return QModelIndex()
                row = part - node.start
            parent = self.index(row, 0, parent)
            if not parent.isValid():
                return QModelIndex()
        return parent


def type_text(value: Any) -> str:
    if jn.is_object(value):
        return f"object ({len(value)})"
    if jn.is_array(value):
        return f"array ({len(value)})"
    return jn.type_name(value)


def value_text(value: Any) -> str:
    """What the value column shows: a scalar as JSON, a container as a short preview."""
    if jn.is_object(value):
        return _preview_object(value)
    if jn.is_array(value):
        return _preview_array(value)
    if isinstance(value, str):
        text = value if len(value) <= DISPLAY_CHARS else value[:DISPLAY_CHARS] + "…"
        return text.replace("\n", "⏎ ")
    return jn.scalar_text(value)


def _short(value: Any) -> str:
    if isinstance(value, str) and value.isprintable() and '"' not in value and "\\" not in value:
        text = f'"{value}"'  # what json.dumps writes for it, without its cost (previews show many of these)
    elif jn.is_object(value):
        return "{…}" if len(value) else "{}"
    elif jn.is_array(value):
        return "[…]" if len(value) else "[]"
    else:
        text = jn.scalar_text(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _preview_object(value: Any) -> str:
    parts: list[str] = []
    used = 0
    for key in value:
        if used > PREVIEW_CHARS:
            parts.append("…")
            break
        piece = f"{key}: {_short(jn.child(value, key))}"
        parts.append(piece)
        used += len(piece) + 2
    return "{" + ", ".join(parts) + "}"


def _preview_array(value: Any) -> str:
    parts: list[str] = []
    used = 0
    for item in value if isinstance(value, list) else iter(value):
        if used > PREVIEW_CHARS:
            parts.append("…")
            break
        piece = _short(item)
        parts.append(piece)
        used += len(piece) + 2
    return "[" + ", ".join(parts) + "]"
