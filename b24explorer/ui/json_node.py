"""Qt-free helpers over a JSON value that may be a lazy node or plain Python.

The response tree, the raw view and the finder all walk the same two kinds of values: a lazy
`LazyObject`/`LazyArray` of `core.lazyjson` (decoded one level at a time, as read) or plain
`dict`/`list`. These helpers hide the difference. `Elements` gives any array O(1) indexing; it lists the
elements of an array that has no random access of its own from one iterator, as far as needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from b24explorer.core.lazyjson import LazyArray, LazyNode, LazyObject

_LAZY_OBJECT = (LazyObject,)
_LAZY_ARRAY = (LazyArray,)

OBJECT_TYPES: tuple[type, ...] = (dict, *_LAZY_OBJECT)
ARRAY_TYPES: tuple[type, ...] = (list, tuple, *_LAZY_ARRAY)
CONTAINER_TYPES = OBJECT_TYPES + ARRAY_TYPES

PathPart = str | int
Path = tuple[PathPart, ...]

_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"  # compiled on first use (``re`` keeps it)


def is_object(value: Any) -> bool:
    return isinstance(value, OBJECT_TYPES)


def is_array(value: Any) -> bool:
    return isinstance(value, ARRAY_TYPES)


def is_container(value: Any) -> bool:
    return isinstance(value, CONTAINER_TYPES)


def is_lazy(value: Any) -> bool:
    return isinstance(value, LazyNode)


def parse_lazy(raw: bytes | bytearray | memoryview | str) -> Any:
    """The root of a JSON body, lazy when the lazy reader accepts it, else plain Python.

    Raises `ValueError` (with the line and column when known) when the body is not JSON.
    """
    from b24explorer.core.jsondoc import parse

    return parse(raw.encode() if isinstance(raw, str) else bytes(raw)).root


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if is_object(value):
        return "object"
    if is_array(value):
        return "array"
    return type(value).__name__


def scalar_text(value: Any) -> str:
    """A scalar as JSON text (strings quoted), the way `json.dumps` writes it."""
    import json  # with the first answer shown: the empty view at the start writes no JSON

    return json.dumps(value, ensure_ascii=False)


def child(obj: Any, key: str) -> Any:
    """`obj[key]` for a plain or lazy object."""
    return obj[key]


def keys_of(value: Any) -> list[str]:
    return list(value.keys())


def element_list(value: Any) -> list[Any]:
    """The elements of an array as a list (lazy children stay lazy)."""
    if isinstance(value, list):
        return value
    return list(iter(value))


class Elements:
    """An array's elements with O(1) access. Lists and lazy arrays are used as they are (a list may grow:
    list-all pages appended); any other iterable is listed from one iterator only as far as asked, and
    `fill` lists more in small time slices when idle.
    """

    __slots__ = ("_items", "_iter", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        if isinstance(source, list | LazyArray):
            self._items: Any = source  # random access of its own
            self._iter: Iterator[Any] | None = None
        else:
            self._items = []
            self._iter = iter(source)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Any:
        items = self._items
        if index >= len(items) and self._iter is not None:
            self._extend(index + 1 - len(items))
        return items[index]

    def slice(self, start: int, stop: int) -> list[Any]:
        if stop > len(self._items) and self._iter is not None:
            self._extend(stop - len(self._items))
        return self._items[start:stop]

    @property
    def complete(self) -> bool:
        return self._iter is None

    def fill(self, count: int) -> bool:
        """List up to `count` more elements; True when all are listed."""
        if self._iter is not None:
            self._extend(count)
        return self._iter is None

    def _extend(self, count: int) -> None:
        it = self._iter
        assert it is not None
        before = len(self._items)
        self._items.extend(islice(it, count))
        if len(self._items) - before < count or len(self._items) >= len(self.source):
            self._iter = None


def children(value: Any) -> Iterator[tuple[PathPart, Any]]:
    """(key or index, child) pairs of a container, children staying lazy."""
    if is_object(value):
        for key in value:
            yield key, child(value, key)
    else:
        yield from enumerate(iter(value))


def to_python(value: Any) -> Any:
    """Plain Python for a value; lists and dicts holding lazy nodes (a range of an array) included."""
    if isinstance(value, _LAZY_OBJECT):
        return value.as_dict()
    if isinstance(value, _LAZY_ARRAY):
        return value.as_list()
    if isinstance(value, list | tuple):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    return value


def compact_json(value: Any) -> str:
    """The value as compact JSON text (lazy nodes are minified from their text, not decoded)."""
    if is_lazy(value):
        return value.mini.decode("utf-8")
    if isinstance(value, list | tuple) and any(is_lazy(v) for v in value):  # a range of a lazy array
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_size_hint(value: Any) -> int:
    """Roughly how many bytes the value takes as JSON (for lazy nodes: their text in the body)."""
    if is_lazy(value):
        return len(value.raw)
    return len(compact_json(value)) if is_container(value) else 16


def resolve(root: Any, path: Path) -> Any:
    node = root
    for part in path:
        node = node[part]
    return node


def format_path(path: Path, *, jq: bool = False) -> str:
    """`result[3].TITLE`, or jq-style `.result[3].TITLE`. Keys that are not identifiers are bracketed."""
    import json

    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif re.match(_IDENT, part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    text = "".join(out)
    if jq:
        return text if text.startswith(".") else "." + text
    return text[1:] if text.startswith(".") else text
