"""What differs between two JSON answers, by path: values added, removed and changed.

Arrays whose elements are all objects with a unique `ID` (else `id`) on both sides are matched by that id, so a
record inserted at the top of a list is one "added" row, not a change of every record after it; other arrays
are matched by position. Object keys keep the left answer's order, keys only on the right follow; within a
matched array, the left side's order comes first, then the records only on the right, in their order. The same
two answers always give the same rows in the same order.

Big answers stay lazy (`lazyjson`): two equal subtrees are recognised by comparing their text in the bodies
(one memcmp), an array's record ids are read without decoding the records, and only what differs is decoded.
The work runs in slices (`JsonDiff.job()` → `steps.Job`), so a window thread comparing two 30 MB answers
keeps painting; rows are visible in `JsonDiff.rows` while it runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import jsondoc, lazyjson
from .lazyjson import LazyArray, LazyNode, LazyObject
from .steps import Job, Work

Kind = Literal["added", "removed", "changed"]
ID_KEYS: tuple[str, ...] = ("ID", "id")
DEFAULT_MAX_ROWS = 200_000
PROGRESS_EVERY = 256


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""The side of a row where the value does not exist (the left of "added", the right of "removed")."""


@dataclass(frozen=True, slots=True)
class RecordKey:
    """A path step into an array matched by id: the record whose `field` is `value`."""

    field: str
    value: str


PathPart = str | int | RecordKey
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def path_text(path: Sequence[PathPart]) -> str:
    """A path as people read it: `$.result[ID=17].TITLE`, `$.result[3]`, `$["odd key"]`."""
    out = ["$"]
    for part in path:
        if isinstance(part, RecordKey):
            out.append(f"[{part.field}={part.value}]")
        elif isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append("." + part)
        else:
            out.append("[" + lazyjson.codec().encode(part).decode() + "]")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One difference. `left`/`right` are the values on each side (`MISSING` where there is none); containers
    stay as they are in the answer (lazy nodes for big ones). The pointers (RFC 6901) locate the value in
    each answer, for showing it in its tree; None on the side where it is missing."""

    path: tuple[PathPart, ...]
    kind: Kind
    left: Any
    right: Any
    left_pointer: str | None
    right_pointer: str | None

    @property
    def path_text(self) -> str:
        return path_text(self.path)


@dataclass(frozen=True, slots=True)
class DiffSummary:
    added: int
    removed: int
    changed: int
    rows_kept: int
    truncated: bool  # more differences than `max_rows`: they were counted, not kept

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed

    @property
    def identical(self) -> bool:
        return self.total == 0


def preview(value: Any, limit: int = 120) -> str:
    """A value on one line for a diff's cell: compact JSON, big containers by their size."""
    if value is MISSING:
        return ""
    if isinstance(value, LazyNode):
        if len(value.raw) > limit * 8:
            return f"[{len(value):,} items]" if isinstance(value, LazyArray) else f"{{{len(value):,} keys}}"
        text = value.mini.decode("utf-8", "replace")
    else:
        text = lazyjson.codec().encode(value).decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pointer_step(pointer: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{pointer}/{key}"
    return pointer + "/" + key.replace("~", "~0").replace("/", "~1")


def _is_object(value: Any) -> bool:
    return isinstance(value, dict | LazyObject)


def _is_array(value: Any) -> bool:
    return isinstance(value, list | LazyArray)


def _same_scalar(a: Any, b: Any) -> bool:
    """JSON equality of two scalars: `true` is not `1`; `1` and `1.0` are the same number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (a != a and b != b)  # NaN (read by the json.loads fallback) equals itself here
    return type(a) is type(b) and a == b


def _same_text(a: Any, b: Any) -> bool:
    """True when both are lazy nodes whose texts in their bodies are byte for byte the same."""
    if isinstance(a, LazyNode) and isinstance(b, LazyNode):
        ra, rb = a.body_raw, b.body_raw
        return ra is not None and rb is not None and ra == rb
    return False


@dataclass(slots=True)
class _Pair:
    left: Any
    right: Any
    path: tuple[PathPart, ...]
    left_pointer: str
    right_pointer: str

    def child(self, key: str | int, left: Any = MISSING, right: Any = MISSING) -> _Pair:
        """The pair one step down, at the same key or index on both sides."""
        return _Pair(
            left,
            right,
            (*self.path, key),
            _pointer_step(self.left_pointer, key),
            _pointer_step(self.right_pointer, key),
        )


class _Meter:
    __slots__ = ("done", "total")

    def __init__(self, total: int) -> None:
        self.done = 0
        self.total = max(1, total)


class _IdReader:
    """Reads the `ID`/`id` of an array's elements, from their text when the array is lazy (no decoding of the
    rest of the record)."""

    def __init__(self) -> None:
        import msgspec

        class Ids(msgspec.Struct):
            ID: Any = msgspec.UNSET
            id: Any = msgspec.UNSET

        self._unset = msgspec.UNSET
        self._errors = (msgspec.DecodeError, msgspec.ValidationError)
        self._decoder = msgspec.json.Decoder(Ids)

    def ids(self, array: Any, index: int) -> tuple[Any, Any] | None:
        """(ID, id) of element `index` (MISSING where absent); None when the element is not an object."""
        raw = array.element_raw(index) if isinstance(array, LazyArray) else None
        if raw is not None:
            try:
                found = self._decoder.decode(raw)
            except self._errors:
                return None
            unset = self._unset
            return (
                MISSING if found.ID is unset else found.ID,
                MISSING if found.id is unset else found.id,
            )
        element = array[index]
        if not _is_object(element):
            return None
        return element.get("ID", MISSING), element.get("id", MISSING)


def _id_text(value: Any) -> str | None:
    """An id usable for matching: a string or an integer (the same record may spell it "17" or 17)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


class _Candidates:
    """The id keys still usable for an array pair, with the positions of the ids read so far."""

    def __init__(self) -> None:
        self.maps: dict[str, tuple[dict[str, int], dict[str, int]]] = {key: ({}, {}) for key in ID_KEYS}

    def add(self, side: int, index: int, ids: tuple[Any, Any] | None) -> None:
        for position, key in enumerate(ID_KEYS):
            maps = self.maps.get(key)
            if maps is None:
                continue
            text = None if ids is None else _id_text(ids[position])
            seen = maps[side]
            if text is None or text in seen:
                del self.maps[key]
            else:
                seen[text] = index

    def chosen(self) -> str | None:
        return next(iter(self.maps), None)


class JsonDiff:
    """The difference between `left` and `right`: bodies (bytes, parsed lazily), `jsondoc.Document`s, or
    values (lazy nodes or plain Python).

    Drive it with `job()` (or `run()` for everything at once). `rows` fills in order as it runs; after
    `max_rows` rows, differences are still counted but not kept.
    """

    def __init__(self, left: Any, right: Any, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self._inputs = (left, right)
        self.max_rows = max_rows
        self.rows: list[DiffRow] = []
        self.added = 0
        self.removed = 0
        self.changed = 0
        self._meters: list[_Meter] = []
        self._ids: _IdReader | None = None

    @property
    def summary(self) -> DiffSummary:
        total = self.added + self.removed + self.changed
        return DiffSummary(self.added, self.removed, self.changed, len(self.rows), total > len(self.rows))

    def job(self) -> Job[DiffSummary]:
        return Job(self.work())

    def run(self) -> DiffSummary:
        return self.job().finish()

    # --- the walk ---------------------------------------------------------------------------------------
    def work(self) -> Work[DiffSummary]:
        """The comparison as a generator of small units (see `steps`); returns the summary. Raises
        `jsondoc.JsonDecodeFailure` when a body given as bytes is not JSON."""
        roots = []
        for given in self._inputs:
            if isinstance(given, bytes | bytearray | memoryview):
                yield None  # a parse is a unit of its own
                given = jsondoc.parse(bytes(given))
            roots.append(given.root if isinstance(given, jsondoc.Document) else given)
        stack: list[Iterator[_Pair | None]] = []
        first = self._compare(_Pair(roots[0], roots[1], (), "", ""))
        if first is not None:
            stack.append(first)
        ticks = 0
        while stack:
            try:
                item = next(stack[-1])
            except StopIteration:
                stack.pop()
                self._meters.pop()
                continue
            if item is not None:
                child = self._compare(item)
                if child is not None:
                    stack.append(child)
            ticks += 1
            yield self._progress() if ticks % PROGRESS_EVERY == 0 else None
        return self.summary

    def _progress(self) -> float:
        done, scale = 0.0, 1.0
        for meter in self._meters:
            done += scale * min(meter.done, meter.total) / meter.total
            scale /= meter.total
        return min(done, 1.0)

    def _emit(self, kind: Kind, pair: _Pair, *, left: bool = True, right: bool = True) -> None:
        if kind == "added":
            self.added += 1
        elif kind == "removed":
            self.removed += 1
        else:
            self.changed += 1
        if len(self.rows) < self.max_rows:
            self.rows.append(
                DiffRow(
                    pair.path,
                    kind,
                    pair.left if left else MISSING,
                    pair.right if right else MISSING,
                    pair.left_pointer if left else None,
                    pair.right_pointer if right else None,
                )
            )

    def _compare(self, pair: _Pair) -> Iterator[_Pair | None] | None:
        """Settle a pair at once (a scalar, a different type, equal texts), or return the walk of its children."""
        a, b = pair.left, pair.right
        if _is_object(a) and _is_object(b):
            if _same_text(a, b):
                return None
            return self._objects(pair, self._meter())
        if _is_array(a) and _is_array(b):
            if _same_text(a, b):
                return None
            return self._arrays(pair, self._meter())
        if _is_object(a) or _is_object(b) or _is_array(a) or _is_array(b) or not _same_scalar(a, b):
            self._emit("changed", pair)
        return None

    def _meter(self) -> _Meter:
        """The progress of a container's walk, kept beside it on the stack."""
        meter = _Meter(1)
        self._meters.append(meter)
        return meter

    def _objects(self, pair: _Pair, meter: _Meter) -> Iterator[_Pair | None]:
        a, b = pair.left, pair.right
        meter.total = max(1, len(a) + len(b))
        for key, value in a.items():
            meter.done += 1
            if key in b:
                yield pair.child(key, value, b[key])
            else:
                self._emit("removed", pair.child(key, left=value), right=False)
                yield None
        for key, value in b.items():
            meter.done += 1
            if key not in a:
                self._emit("added", pair.child(key, right=value), left=False)
            yield None

    def _arrays(self, pair: _Pair, meter: _Meter) -> Iterator[_Pair | None]:
        a, b = pair.left, pair.right
        n, m = len(a), len(b)
        meter.total = 2 * (n + m)
        if self._ids is None:
            self._ids = _IdReader()
        reader = self._ids
        candidates = _Candidates()
        for side, array in enumerate((a, b)):
            for index in range(len(array)):
                meter.done += 1
                candidates.add(side, index, reader.ids(array, index))
                if not candidates.maps:
                    break
                yield None
            if not candidates.maps:
                break
        key = candidates.chosen() if n and m else None
        meter.done = n + m
        if key is None:
            yield from self._by_position(pair, meter)
            return
        left_ids, right_ids = candidates.maps[key]
        for id_text, i in left_ids.items():
            meter.done += 1
            path = (*pair.path, RecordKey(key, id_text))
            left_pointer = _pointer_step(pair.left_pointer, i)
            j = right_ids.get(id_text)
            if j is None:
                self._emit("removed", _Pair(a[i], MISSING, path, left_pointer, ""), right=False)
                yield None
                continue
            if _same_element_text(a, i, b, j):
                yield None
                continue
            yield _Pair(a[i], b[j], path, left_pointer, _pointer_step(pair.right_pointer, j))
        for id_text, j in right_ids.items():
            meter.done += 1
            if id_text not in left_ids:
                path = (*pair.path, RecordKey(key, id_text))
                self._emit(
                    "added", _Pair(MISSING, b[j], path, "", _pointer_step(pair.right_pointer, j)), left=False
                )
            yield None

    def _by_position(self, pair: _Pair, meter: _Meter) -> Iterator[_Pair | None]:
        a, b = pair.left, pair.right
        n, m = len(a), len(b)
        for i in range(max(n, m)):
            meter.done += 2
            if i < n and i < m:
                if _same_element_text(a, i, b, i):
                    yield None
                    continue
                yield pair.child(i, a[i], b[i])
            elif i < n:
                self._emit("removed", pair.child(i, left=a[i]), right=False)
                yield None
            else:
                self._emit("added", pair.child(i, right=b[i]), left=False)
                yield None


def _same_element_text(a: Any, i: int, b: Any, j: int) -> bool:
    """Elements whose texts in their bodies are the same, found without decoding either."""
    if isinstance(a, LazyArray) and isinstance(b, LazyArray):
        ra, rb = a.element_raw(i), b.element_raw(j)
        return ra is not None and rb is not None and ra == rb
    return False


def diff(left: Any, right: Any, *, max_rows: int = DEFAULT_MAX_ROWS) -> tuple[list[DiffRow], DiffSummary]:
    """The whole difference at once (scripts, tests); a window uses `JsonDiff(...).job()`."""
    differ = JsonDiff(left, right, max_rows=max_rows)
    summary = differ.run()
    return differ.rows, summary


__all__ = [
    "ID_KEYS",
    "MISSING",
    "DiffRow",
    "DiffSummary",
    "JsonDiff",
    "Kind",
    "RecordKey",
    "diff",
    "path_text",
    "preview",
]
