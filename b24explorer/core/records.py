"""An array of records as a table: columns from the records' keys, rows read when shown, sorting, export.

Columns are the union of the records' keys in the order they are first seen. A huge array is sampled (its
first records and a spread through the rest) so a table shows at once; keys found later — as rows are read,
by `complete_columns()`, or by an export — are added at the end. Elements that are not objects show in a
`(value)` column.

Rows stay in the answer as they are (`lazyjson`): a row is decoded when it is read, and the few last read are
kept. Sorting and export run in slices (`steps.Job`) so a window stays responsive on 100,000 records: sort
keys are read a record at a time, sorted in chunks and merged a few thousand at a time.

Sorting is numeric-aware: numbers and numeric strings ("9" before "10") come first in numeric order, then
other strings in natural order ("Deal #9" before "Deal #10", case-insensitive), then booleans, then nested
values by their JSON text; empty cells (absent, null, "") stay last in both directions. Equal keys keep their
order (the sort is stable).
"""

from __future__ import annotations

import csv
import heapq
import io
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from . import lazyjson
from .export import replacing
from .jsondiff import MISSING
from .lazyjson import LazyArray, LazyNode, LazyObject
from .steps import Job, Work

VALUE_COLUMN = "(value)"
SAMPLE_HEAD = 500  # the first records read for columns
SAMPLE_SPREAD = 100  # records spread through the rest
ROWS_KEPT = 1024
SORT_CHUNK = 8192  # rows sorted in one unit
MERGE_STEP = 2048
CSV_ROWS_PER_WRITE = 256

__all__ = [
    "MISSING",
    "VALUE_COLUMN",
    "RecordTable",
    "cell_text",
    "is_record_array",
    "record_arrays",
    "sort_key",
]


def _is_object(value: Any) -> bool:
    return isinstance(value, dict | LazyObject)


def is_record_array(value: Any, sample: int = 20) -> bool:
    """An array whose first elements are objects (what a table can show)."""
    if not isinstance(value, list | LazyArray) or len(value) == 0:
        return False
    return all(_is_object(value[i]) for i in range(min(sample, len(value))))


def record_arrays(root: Any, depth: int = 3) -> list[str]:
    """JSON Pointers of the arrays of records in an answer, nearest the top first (`/result`,
    `/result/tasks`, `/result/items`, a batch's `/result/result/<command>` …). Big arrays are not walked."""
    found: list[str] = []
    level: list[tuple[str, Any]] = [("", root)]
    for _ in range(depth + 1):
        deeper: list[tuple[str, Any]] = []
        for pointer, value in level:
            if is_record_array(value):
                found.append(pointer)
            elif _is_object(value):
                for key, child in value.items():
                    if isinstance(child, dict | LazyObject | list | LazyArray):
                        deeper.append((pointer + "/" + key.replace("~", "~0").replace("/", "~1"), child))
        level = deeper
    return found


# --- cells --------------------------------------------------------------------------------------------------
def _compact(value: Any) -> str:
    if isinstance(value, LazyNode):
        return value.mini.decode("utf-8", "replace")
    return lazyjson.codec().encode(value).decode("utf-8", "replace")


def cell_text(value: Any) -> str:
    """A cell as text (the table and CSV): strings as they are, empty for absent and null, JSON for the rest
    (`true`, `12.5`, nested values as compact JSON)."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return _compact(value)


_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*\Z")
_INTEGER = re.compile(r"\s*[-+]?\d+\s*\Z")
_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> str:
    """Text whose plain order is the natural one: each run of digits is prefixed by its length, so "9" (`19`)
    sorts before "10" (`210`); case-insensitive. A string, not a tuple: a sort key of 100,000 rows must not
    make 100,000 objects the garbage collector walks (its pauses would stall the window)."""
    return _DIGITS.sub(lambda m: f"{len(m.group()):03d}{m.group()}", text.casefold())


NUMBER, TEXT, BOOLEAN, NESTED = range(4)
"""The groups a column sorts in, in this order (reversed when descending); empty cells come after them all."""


def sort_key(value: Any) -> tuple[int, Any] | None:
    """(group, key) of a cell — keys are plain numbers or strings, compared within their group — or None for
    an empty cell (absent, null, "")."""
    if value is MISSING or value is None or value == "":
        return None
    if isinstance(value, bool):
        return (BOOLEAN, value)
    if isinstance(value, int | float):
        return None if value != value else (NUMBER, value)  # NaN: nowhere to put it among numbers
    if isinstance(value, str):
        if _INTEGER.match(value):
            return (NUMBER, int(value))
        if _NUMBER.match(value):
            return (NUMBER, float(value))
        return (TEXT, _natural(value))
    return (NESTED, _compact(value))


def _sorted_into(order: list[int], rows: list[int], keys: list[Any], descending: bool) -> Work[None]:
    """Append `rows` sorted by their keys to `order`, stably, in units: chunks sorted one at a time, then
    merged a few thousand rows at a time."""
    chunks = []
    for at in range(0, len(rows), SORT_CHUNK):
        chunk = rows[at : at + SORT_CHUNK]
        chunk.sort(key=keys.__getitem__, reverse=descending)
        chunks.append(chunk)
        yield None
    merged = heapq.merge(*chunks, key=keys.__getitem__, reverse=descending)
    while step := list(islice(merged, MERGE_STEP)):
        order.extend(step)
        yield None


# --- the table ----------------------------------------------------------------------------------------------
class RecordTable:
    """A table over an array of records: a lazy array of an answer, a list, or — `RecordTable()` — a list
    this table owns and that `extend()` grows (list-all pages as they arrive).

    `columns` grows as keys are found (`columns_version` counts the changes, for a view to notice); `order` is
    None (the array's order) or the source index of each row as sorted.
    """

    def __init__(self, records: Sequence[Any] | LazyArray | None = None) -> None:
        self._owned = records is None
        self._source: Any = [] if records is None else records
        self.columns: list[str] = []
        self._known: set[str] = set()
        self.columns_version = 0
        self.order: list[int] | None = None
        self.sorted_by: tuple[str, bool] | None = None  # (column, descending)
        self._kept: OrderedDict[int, Any] = OrderedDict()
        self._scanned = 0  # records [0, _scanned) have had their keys read
        self._sample()

    # --- shape
    def __len__(self) -> int:
        return len(self._source)

    @property
    def columns_complete(self) -> bool:
        """Every record's keys have been read (after `complete_columns()` or an export)."""
        return self._scanned >= len(self._source)

    def _add_keys(self, record: Any) -> None:
        keys = record.keys() if _is_object(record) else (VALUE_COLUMN,)
        known = self._known
        new = [key for key in keys if key not in known]
        if new:
            self.columns.extend(new)
            known.update(new)
            self.columns_version += 1

    def _sample(self) -> None:
        n = len(self._source)
        head = min(n, SAMPLE_HEAD)
        for index in range(head):
            self._add_keys(self.record(index))
        self._scanned = head
        if n > head:
            stride = max(1, (n - head) // SAMPLE_SPREAD)
            for index in range(head + stride - 1, n, stride):
                self._add_keys(self.record(index))

    def complete_columns(self) -> Work[list[str]]:
        """Read every remaining record's keys (in slices); returns the full column list."""
        while self._scanned < len(self._source):
            index = self._scanned
            self._add_keys(self._read(index))
            self._scanned = index + 1
            yield None
        return list(self.columns)

    # --- rows
    def _read(self, index: int) -> Any:
        return self._source[index]

    def record(self, index: int) -> Any:
        """The record at a source index (kept among the last few read)."""
        kept = self._kept
        record = kept.get(index)
        if record is None:
            record = kept[index] = self._read(index)
            if len(kept) > ROWS_KEPT:
                kept.popitem(last=False)
            if index >= self._scanned:
                self._add_keys(record)
        else:
            kept.move_to_end(index)
        return record

    def source_index(self, row: int) -> int:
        """The source index of a row as shown (sorted or not)."""
        return row if self.order is None else self.order[row]

    def cell(self, row: int, column: str) -> Any:
        """The value of a row (as shown) in a column; `MISSING` when the record has no such key."""
        record = self.record(self.source_index(row))
        if _is_object(record):
            return record.get(column, MISSING)
        return record if column == VALUE_COLUMN else MISSING

    def row(self, row: int) -> list[Any]:
        return [self.cell(row, column) for column in self.columns]

    def extend(self, records: Iterable[Any]) -> None:
        """Add records at the end (a table made with `RecordTable()`); a sorted table shows them after its
        sorted rows until it is sorted again."""
        if not self._owned:
            raise TypeError("only a table made with RecordTable() grows; this one shows an answer's array")
        start = len(self._source)
        self._source.extend(records)
        if self.order is not None:
            self.order.extend(range(start, len(self._source)))
        if self._scanned == start:  # keys of records that stream in are read as they come (a page is small)
            for index in range(start, len(self._source)):
                self._add_keys(self._source[index])
            self._scanned = len(self._source)

    # --- sorting
    def sort_job(self, column: str, descending: bool = False) -> Job[None]:
        """Sort by a column, in slices; the new order applies when the job finishes."""
        return Job(self._sort(column, descending))

    def sort(self, column: str, descending: bool = False) -> None:
        self.sort_job(column, descending).finish()

    def unsort(self) -> None:
        self.order = None
        self.sorted_by = None

    def _sort(self, column: str, descending: bool) -> Work[None]:
        n = len(self._source)
        keys: list[Any] = [None] * n
        groups: list[list[int]] = [[] for _ in range(NESTED + 1)]
        blanks: list[int] = []
        for index in range(n):
            record = self._read(index)
            if _is_object(record):
                value = record.get(column, MISSING)
            else:
                value = record if column == VALUE_COLUMN else MISSING
            found = sort_key(value)
            if found is None:
                blanks.append(index)
            else:
                group, keys[index] = found
                groups[group].append(index)
            if index % 64 == 0:
                yield 0.8 * index / max(1, n)
        order: list[int] = []
        for rows in reversed(groups) if descending else groups:
            yield from _sorted_into(order, rows, keys, descending)
            yield 0.8 + 0.2 * len(order) / max(1, n)
        order.extend(blanks)
        self.order = order
        self.sorted_by = (column, descending)

    # --- export
    def _rows_in_order(self) -> Iterator[int]:
        yield from (range(len(self._source)) if self.order is None else self.order)

    def export_csv(self, path: str | os.PathLike[str]) -> Job[int]:
        """Write every row (in the order shown) to a CSV file: a header of all columns, nested values as
        compact JSON. Columns not read yet are found first. The file appears complete or not at all.
        The job's result is the number of rows written."""
        return Job(self._write_csv(path))

    def export_ndjson(self, path: str | os.PathLike[str]) -> Job[int]:
        """Write every record (in the order shown) as one line of compact JSON, as the answer spells it."""
        return Job(self._write_ndjson(path))

    def _write_csv(self, path: str | os.PathLike[str]) -> Work[int]:
        yield from self.complete_columns()
        columns = list(self.columns)
        count = 0
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        n = max(1, len(self._source))
        with replacing(path) as fh:
            writer.writerow(columns)
            for index in self._rows_in_order():
                record = self._read(index)
                if _is_object(record):
                    writer.writerow([cell_text(record.get(column, MISSING)) for column in columns])
                else:
                    writer.writerow([cell_text(record) if c == VALUE_COLUMN else "" for c in columns])
                count += 1
                if count % CSV_ROWS_PER_WRITE == 0:
                    fh.write(buffer.getvalue().encode("utf-8"))
                    buffer.seek(0)
                    buffer.truncate()
                yield count / n
            fh.write(buffer.getvalue().encode("utf-8"))
        return count

    def _write_ndjson(self, path: str | os.PathLike[str]) -> Work[int]:
        source = self._source
        c = lazyjson.codec()
        count = 0
        n = max(1, len(source))
        with replacing(path) as fh:
            for index in self._rows_in_order():
                raw = source.element_raw(index) if isinstance(source, LazyArray) else None
                if raw is not None:
                    line = c.format(raw, indent=-1)
                else:
                    record = source[index]
                    line = record.mini if isinstance(record, LazyNode) else c.encode(record)
                fh.write(line)
                fh.write(b"\n")
                count += 1
                yield count / n
        return count
