"""Lazy parsing of response bodies.

`parse` reads a body's first level only (`lazyjson`): nested objects and arrays stay views of the body's
bytes, decoded one level at a time as they are read, so a 30 MB answer is shown in a fraction of `json.loads`'s
time and memory. Falls back to `json.loads` when the lazy reader refuses the input (NaN, a lone surrogate),
which also gives the line and column of a syntax error.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from . import lazyjson
from .lazyjson import LazyArray, LazyObject, materialize

__all__ = ["Document", "JsonDecodeFailure", "materialize", "parse"]

LAZY = True  # tests switch this off to run the same checks over plain Python
_MISSING = object()
_UTF8_CHUNK = 1 << 20


class JsonDecodeFailure(ValueError):
    """The body is not JSON. `line`/`column` point at the problem when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class Document:
    """A parsed body. `root` is a lazy node over the body (or plain Python when the lazy reader refused it)."""

    __slots__ = ("lazy", "root")

    def __init__(self, root: Any) -> None:
        self.root = root
        self.lazy = lazyjson.is_lazy(root)

    @property
    def is_object(self) -> bool:
        return isinstance(self.root, dict | LazyObject)

    @property
    def is_array(self) -> bool:
        return isinstance(self.root, list | LazyArray)

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
        return lazyjson.at_pointer(self.root, pointer)

    def to_python(self) -> Any:
        return materialize(self.root)


def _check_utf8(data: bytes) -> None:
    """Raise `JsonDecodeFailure` when a body is not UTF-8 (checked in chunks: no copy of a big body)."""
    if data.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for at in range(0, len(data), _UTF8_CHUNK):
        try:
            decoder.decode(view[at : at + _UTF8_CHUNK], final=at + _UTF8_CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            raise JsonDecodeFailure(f"Body is not UTF-8 text (byte {at + exc.start})") from None


def parse(raw: bytes) -> Document:
    """Parse a body lazily. Raises `JsonDecodeFailure` for anything that is not a JSON document."""
    data = raw if isinstance(raw, bytes) else bytes(raw)
    _check_utf8(data)
    if LAZY:
        try:
            return Document(lazyjson.lazy_root(data))
        except (ValueError, RecursionError):
            pass  # json.loads gives the line/column of the problem (or accepts NaN, lone surrogates)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # pragma: no cover - checked above
        raise JsonDecodeFailure(f"Body is not UTF-8 text (byte {exc.start})") from None
    try:
        return Document(json.loads(text))
    except json.JSONDecodeError as exc:
        raise JsonDecodeFailure(
            f"{exc.msg} at line {exc.lineno} column {exc.colno}", exc.lineno, exc.colno
        ) from None
