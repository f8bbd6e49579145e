"""Lazy JSON: objects and arrays decoded one level at a time, as they are read.

A container is a `msgspec.Raw` — a zero-copy view of its bytes in the body — until something asks for its
keys, its length or a child; then only its own level is decoded (children that are containers become lazy
nodes in turn, scalars become Python values). Skipping over a nested container is a scan in C, so showing the
first level of a 32 MB answer costs a fraction of `json.loads`, and the memory added is a small fraction of
the body: the body itself is the store, held once.

Containers of at most `SMALL` bytes decode at once into plain Python (one C call is cheaper than a lazy walk
over a few hundred bytes), so a deal read from a 100,000-deal array is a `LazyObject` whose children are
plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import msgspec

SMALL = 2048
BIG_CHILDREN_KEPT = 256  # decoded big elements of an array kept for the next read (the view asks often)

_OPEN_OBJECT = ord("{")
_OPEN_ARRAY = ord("[")


class _Codec:
    """msgspec and the decoders built on it, made on first use: the window paints before any body is read,
    and importing msgspec is a cost its first paint need not pay."""

    def __init__(self) -> None:
        import msgspec

        self.Raw = msgspec.Raw
        self.DecodeError = msgspec.DecodeError
        self.format = msgspec.json.format
        self.encode = msgspec.json.encode
        self.any = msgspec.json.Decoder()
        self.object_level = msgspec.json.Decoder(dict[str, msgspec.Raw])
        self.array_level = msgspec.json.Decoder(list[msgspec.Raw])
        # One scan reads an object's level and splits its children too: an array child into its elements'
        # texts, an object child into its keys and their texts, so showing a body's first level and the
        # length of its big `result` array costs one pass over the bytes, not two.
        self.object_split = msgspec.json.Decoder(
            dict[str, list[msgspec.Raw] | dict[str, msgspec.Raw] | str | int | float | bool | None]
        )


_codec: _Codec | None = None


def codec() -> _Codec:
    global _codec
    if _codec is None:
        _codec = _Codec()
    return _codec


def decode_value(raw: Any) -> Any:
    """Plain Python for a JSON text (bytes or a Raw). Numbers msgspec will not hold (`1e400`) go through
    `json.loads`, which reads them as Python does (infinity)."""
    c = codec()
    try:
        return c.any.decode(raw)
    except c.DecodeError:
        import json

        return json.loads(bytes(raw))


def node(raw: msgspec.Raw) -> Any:
    """A lazy node for a container, the Python value for a scalar."""
    if len(raw) == 0:
        raise codec().DecodeError("empty JSON value")
    first = memoryview(raw)[0]
    if first == _OPEN_OBJECT:
        return LazyObject(raw)
    if first == _OPEN_ARRAY:
        return LazyArray(raw)
    return decode_value(raw)


def _lift(value: Any) -> Any:
    """A child read by `_object_split`: a split container becomes a lazy node, a scalar stays as it is."""
    if isinstance(value, list):
        return LazyArray(None, elements=value)
    if isinstance(value, dict):
        return LazyObject(None, split=value)
    return value


class LazyNode:
    """A container of a JSON body. `_raw` is its text in the body; None for one already split by its parent
    (its text is then rebuilt from its children's texts when asked for)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: msgspec.Raw | None) -> None:
        self._raw = raw

    @property
    def raw(self) -> Any:
        """The node's JSON text: a zero-copy view of the body, or bytes rebuilt from its children's texts."""
        return self._raw if self._raw is not None else self._rebuilt()

    @property
    def body_raw(self) -> msgspec.Raw | None:
        """The node's text as a view of the body; None when it would have to be rebuilt (a copy)."""
        return self._raw

    def _rebuilt(self) -> bytes:  # pragma: no cover - both subclasses define it
        raise NotImplementedError

    def _is_small(self) -> bool:
        return self._raw is not None and len(self._raw) <= SMALL

    @property
    def mini(self) -> bytes:
        """The node as compact JSON (the body's own spelling of strings and numbers, whitespace removed)."""
        return codec().format(self.raw, indent=-1)

    def to_python(self) -> Any:
        return decode_value(self.raw)

    def at_pointer(self, pointer: str) -> Any:
        """The node at a JSON Pointer (RFC 6901) below this one; `KeyError`/`IndexError` when absent."""
        return at_pointer(self, pointer)

    def __bool__(self) -> bool:
        return len(self) > 0  # type: ignore[arg-type]

    def __len__(self) -> int:  # pragma: no cover - both subclasses define it
        raise NotImplementedError


class LazyObject(LazyNode):
    """A JSON object read one level at a time. Behaves as a read-only mapping."""

    __slots__ = ("_items", "_split")

    def __init__(self, raw: msgspec.Raw | None, *, split: dict[str, msgspec.Raw] | None = None) -> None:
        super().__init__(raw)
        self._split = split  # its keys and their texts, when its parent's scan read them
        self._items: dict[str, Any] | None = None

    def _level(self) -> dict[str, Any]:
        items = self._items
        if items is None:
            if self._split is not None:
                items = {key: node(raw) for key, raw in self._split.items()}
            elif self._is_small():
                items = decode_value(self._raw)
            else:
                c = codec()
                try:
                    items = {key: _lift(value) for key, value in c.object_split.decode(self.raw).items()}
                except c.DecodeError:  # a number out of msgspec's range at this level: read it plainly
                    items = {key: node(raw) for key, raw in c.object_level.decode(self.raw).items()}
            self._items = items
        return items

    def _rebuilt(self) -> bytes:
        encode = codec().encode
        split = self._split or {}
        return b"{" + b",".join(encode(key) + b":" + bytes(raw) for key, raw in split.items()) + b"}"

    def __len__(self) -> int:
        return len(self._level())

    def __iter__(self) -> Iterator[str]:
        return iter(self._level())

    def __contains__(self, key: object) -> bool:
        return key in self._level()

    def __getitem__(self, key: str) -> Any:
        return self._level()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._level().get(key, default)

    def keys(self) -> Any:
        return self._level().keys()

    def values(self) -> Any:
        return self._level().values()

    def items(self) -> Any:
        return self._level().items()

    def as_dict(self) -> dict[str, Any]:
        """The whole object as plain Python."""
        value = self.to_python()
        assert isinstance(value, dict)
        return value

    def __repr__(self) -> str:
        return f"LazyObject({len(self.raw)} bytes)"


class LazyArray(LazyNode):
    """A JSON array read one level at a time: its elements' texts are listed once (a C scan), each element is
    decoded when read. Behaves as a read-only sequence with O(1) indexing."""

    __slots__ = ("_big", "_elements", "_plain")

    def __init__(self, raw: msgspec.Raw | None, *, elements: list[msgspec.Raw] | None = None) -> None:
        super().__init__(raw)
        self._elements = elements  # its elements' texts, listed once
        self._plain: list[Any] | None = None  # a small array, decoded whole
        self._big: dict[int, Any] = {}

    def _level(self) -> list[Any]:
        if self._plain is not None:
            return self._plain
        if self._elements is None:
            if self._is_small():
                self._plain = decode_value(self._raw)
                return self._plain  # type: ignore[return-value]
            self._elements = codec().array_level.decode(self.raw)
        return self._elements

    def _rebuilt(self) -> bytes:
        return b"[" + b",".join(bytes(raw) for raw in self._elements or ()) + b"]"

    def element_raw(self, index: int) -> msgspec.Raw | None:
        """An element's JSON text (None for a small array, which is kept decoded)."""
        elements = self._level()
        return None if self._plain is not None else elements[index]

    def __len__(self) -> int:
        return len(self._level())

    def _element(self, index: int) -> Any:
        elements = self._level()
        if self._plain is not None:
            return elements[index]
        if index < 0:
            index += len(elements)
        if not 0 <= index < len(elements):
            raise IndexError("array index out of range")
        kept = self._big.get(index)
        if kept is not None:
            return kept
        raw = elements[index]
        value = node(raw)
        if len(raw) > SMALL:  # decoding it again on each read would cost; keep a few
            if len(self._big) >= BIG_CHILDREN_KEPT:
                del self._big[next(iter(self._big))]
            self._big[index] = value
        return value

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._element(i) for i in range(*index.indices(len(self)))]
        return self._element(index)

    def __iter__(self) -> Iterator[Any]:
        elements = self._level()
        if self._plain is not None:
            yield from elements
            return
        for i in range(len(elements)):
            yield self._element(i)

    def as_list(self) -> list[Any]:
        """The whole array as plain Python."""
        value = self.to_python()
        assert isinstance(value, list)
        return value

    def __repr__(self) -> str:
        return f"LazyArray({len(self.raw)} bytes)"


def at_pointer(value: Any, pointer: str) -> Any:
    """The value at a JSON Pointer (RFC 6901) below a lazy node or plain Python; `KeyError`/`IndexError` when
    absent."""
    if pointer == "":
        return value
    for part in pointer.removeprefix("/").split("/"):  # "/" is the key "" (RFC 6901), not the root
        key = part.replace("~1", "/").replace("~0", "~")
        value = value[int(key)] if isinstance(value, LazyArray | list) else value[key]
    return value


def is_lazy(value: Any) -> bool:
    return isinstance(value, LazyNode)


def materialize(value: Any) -> Any:
    """Plain Python for a lazy node; any other value as it is."""
    return value.to_python() if isinstance(value, LazyNode) else value


_WHITESPACE = rb"[ \t\n\r]*"  # compiled on first use (``re`` keeps it)


def lazy_root(body: bytes) -> Any:
    """The root of a JSON body: a lazy node for a container, the value for a scalar.

    The first level is decoded here, which checks the syntax of the whole body (nested containers are
    scanned, not decoded) but not its UTF-8 nor the range of its numbers: `decode_value` handles the latter,
    the caller the former. Raises `msgspec.DecodeError` (or `ValueError`) when the body is refused; the
    caller decides what to say (`json.loads` gives a line and column, and accepts NaN)."""
    start = re.match(_WHITESPACE, body).end()  # type: ignore[union-attr]
    first = body[start : start + 1]
    if first not in (b"{", b"["):
        return decode_value(body)
    raw = codec().Raw(body)
    root: LazyObject | LazyArray = LazyObject(raw) if first == b"{" else LazyArray(raw)
    root._level()  # read the first level now: a refused body fails here, not in a view
    return root
