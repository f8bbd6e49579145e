"""Lazy parsing of response bodies.

pysimdjson parses a 30 MB body in a fraction of `json.loads`'s time and materialises Python objects only for the
parts that are read. A parser holds one live document (simdjson refuses to reuse it while views of that document
exist), so parsers come from a small pool (`PARSERS`): a parser whose document is gone is reused, keeping its
buffers, which spares allocating and first-touching them again (a 30 MB body parses in about 40 % of the time
with a warm parser). Falls back to `json.loads` when simdjson is missing or refuses the input.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

_simdjson: Any
try:  # optional accelerator
    import simdjson as _simdjson
except Exception:  # pragma: no cover - depends on the environment
    _simdjson = None

_MISSING = object()
_BUSY = "Tried to re-use a parser"  # how pysimdjson says a parser's document is still referenced


class ParserPool:
    """simdjson parsers kept between documents.

    Every parser handed out stays listed while its document lives (it cannot be reused meanwhile); once the
    document and every view of it are gone, the parser is idle and the next parse reuses it — if its buffers
    suit the new body: a parser keeps buffers of about four times the size of the biggest document it parsed,
    so one that parsed a much bigger body is dropped (its memory freed) rather than kept for small ones. At
    most `spares` idle parsers are kept besides, only those whose last document was at most `spare_limit`
    bytes, so memory held while idle stays bounded. `most`: how many parsers are tracked at all.
    """

    def __init__(self, *, spares: int = 1, spare_limit: int = 8 << 20, small: int = 1 << 20, most: int = 8) -> None:
        self._lock = threading.Lock()
        self._sizes: dict[Any, int] = {}  # parser → size of the biggest document it parsed (its buffers' scale)
        self.small = small  # buffers for bodies up to this size suit any body
        self.spares = spares
        self.spare_limit = spare_limit
        self.most = most

    def parse(self, raw: bytes) -> tuple[Any, Any]:
        """(root, parser) of a body; raises what simdjson raises for a body it refuses."""
        with self._lock:
            idle = [p for p in self._sizes if _is_idle(p)]
            fitting = [p for p in idle if self._sizes[p] <= max(4 * len(raw), self.small)]
            parser = max(fitting, key=self._sizes.__getitem__) if fitting else _simdjson.Parser()
            if fitting:
                idle.remove(parser)
            self._sizes[parser] = max(len(raw), self._sizes.get(parser, 0))  # its buffers never shrink
            kept = 0
            for spare in idle:  # the idle parsers not used now: keep a few small ones, drop the rest
                if kept < self.spares and self._sizes[spare] <= self.spare_limit:
                    kept += 1
                else:
                    del self._sizes[spare]
            if len(self._sizes) > self.most:  # many documents alive at once: stop tracking the oldest
                del self._sizes[next(iter(self._sizes))]
            return parser.parse(raw), parser

    def __len__(self) -> int:
        return len(self._sizes)


def _is_idle(parser: Any) -> bool:
    """Whether no document of this parser is referenced any more (probed with a tiny parse)."""
    try:
        parser.parse(b"0")
    except RuntimeError as exc:
        if str(exc).startswith(_BUSY):
            return False
        raise
    return True


PARSERS = ParserPool()


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
        try:
            root, parser = PARSERS.parse(raw)
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
