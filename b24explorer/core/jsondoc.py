"""Lazy parsing of response bodies.

pysimdjson parses a 30 MB body in a fraction of `json.loads`'s time and materialises Python objects only for the
parts that are read. One `Parser` per document: a parser holds one live document, so sharing one would invalidate
earlier views. Falls back to `json.loads` when simdjson is missing or refuses the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_simdjson: Any
try:  # optional accelerator
    import simdjson as _simdjson
except Exception:  # pragma: no cover - depends on the environment
    _simdjson = None

_MISSING = object()


class JsonDecodeFailure(ValueError):
    """The body is not JSON. `line`/`column` point at the problem when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _is_lazy(value: Any) -> bool:
    return _simdjson is not None and isinstance(value, _simdjson.Object | _simdjson.Array)


def materialize(value: Any) -> Any:
    """A plain Python object (dict/list/scalar) for a lazy node or a plain value."""
    if _simdjson is not None:
        if isinstance(value, _simdjson.Object):
            return value.as_dict()
        if isinstance(value, _simdjson.Array):
            return value.as_list()
    return value


class Document:
    """A parsed body. `root` is a lazy simdjson node (or plain Python when simdjson was not used)."""

    __slots__ = ("_parser", "lazy", "root")

    def __init__(self, root: Any, parser: Any = None) -> None:
        self.root = root
        self._parser = parser  # keeps the document alive as long as the view
        self.lazy = _is_lazy(root)

    @property
    def is_object(self) -> bool:
        return isinstance(self.root, dict) or (
            _simdjson is not None and isinstance(self.root, _simdjson.Object)
        )

    @property
    def is_array(self) -> bool:
        return isinstance(self.root, list) or (
            _simdjson is not None and isinstance(self.root, _simdjson.Array)
        )

    def get(self, key: str, default: Any = None) -> Any:
        """The node under a top-level key, lazy when possible (no materialisation)."""
        if not self.is_object:
            return default
        try:
            return self.root[key]
        except KeyError:
            return default

    def value(self, key: str, default: Any = None) -> Any:
        """The Python value under a top-level key (materialised)."""
        node = self.get(key, _MISSING)
        return default if node is _MISSING else materialize(node)

    def has(self, key: str) -> bool:
        return self.is_object and key in self.root

    def keys(self) -> Iterator[str]:
        if self.is_object:
            yield from self.root.keys()

    def at_pointer(self, pointer: str) -> Any:
        """A node by JSON Pointer (`/result/0/ID`); lazy when the document is lazy."""
        if self.lazy:
            return self.root.at_pointer(pointer)
        node = self.root
        if pointer in ("", "/"):
            return node
        for raw in pointer.lstrip("/").split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def to_python(self) -> Any:
        return materialize(self.root)


def parse(raw: bytes) -> Document:
    """Parse a body lazily. Raises `JsonDecodeFailure` for anything that is not a JSON document."""
    if _simdjson is not None:
        parser = _simdjson.Parser()
        try:
            root = parser.parse(raw)
        except Exception:
            pass  # fall through: json.loads gives the line/column of the problem (or accepts what simdjson won't)
        else:
            return Document(root, parser)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonDecodeFailure(f"Body is not UTF-8 text (byte {exc.start})") from None
    try:
        return Document(json.loads(text))
    except json.JSONDecodeError as exc:
        raise JsonDecodeFailure(
            f"{exc.msg} at line {exc.lineno} column {exc.colno}", exc.lineno, exc.colno
        ) from None
