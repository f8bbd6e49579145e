"""Arrays of records as a table: columns, lazy rows, numeric-aware stable sorting, CSV and NDJSON export."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from b24explorer.core import jsondoc, lazyjson
from b24explorer.core.records import (
    MISSING,
    VALUE_COLUMN,
    RecordTable,
    cell_text,
    is_record_array,
    record_arrays,
)


def lazy_array(records: list[Any]) -> Any:
    return jsondoc.parse(json.dumps({"result": records}).encode()).get("result")


@pytest.fixture(params=["lazy", "list"])
def make_table(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A table over the answer's lazy array, or over plain Python: both must behave the same."""
    if request.param == "lazy":
        monkeypatch.setattr(lazyjson, "SMALL", 0)
        return lambda records: RecordTable(lazy_array(records))
    return lambda records: RecordTable(list(records))


def test_columns_are_the_union_of_keys_in_first_seen_order(make_table: Any) -> None:
    table = make_table([{"ID": "1", "B": 1}, {"C": [1], "ID": "2"}, 7, {"B": None, "D": {"x": 1}}])
    assert table.columns == ["ID", "B", "C", VALUE_COLUMN, "D"]
    assert len(table) == 4
    assert [lazyjson.materialize(v) for v in table.row(1)] == ["2", MISSING, [1], MISSING, MISSING]
    assert table.cell(2, VALUE_COLUMN) == 7
    assert table.cell(2, "ID") is MISSING
    assert lazyjson.materialize(table.cell(3, "D")) == {"x": 1}
    assert table.columns_complete


def test_a_huge_array_is_sampled_and_later_keys_are_added_as_found(make_table: Any) -> None:
    records: list[dict[str, Any]] = [{"ID": str(i)} for i in range(20_000)]
    records[1000]["LATE"] = 1  # neither among the first records nor on the sampling stride
    records[19_999]["LAST"] = 2
    records[10_000]["MIDDLE"] = 3  # not on the stride either
    table = make_table(records)
    assert table.columns == ["ID", "LAST"]  # the sample reaches the end of the array
    assert not table.columns_complete
    version = table.columns_version
    assert table.cell(1000, "LATE") == 1  # reading the row finds its key
    assert table.columns[-1] == "LATE"
    assert table.columns_version > version
    job_columns = _finish(table.complete_columns())
    assert job_columns == ["ID", "LAST", "LATE", "MIDDLE"]
    assert table.columns_complete


def _finish(work: Any) -> Any:
    try:
        while True:
            next(work)
    except StopIteration as stop:
        return stop.value


VALUES = ["10", "9", "1.5", 2, "abc", "Deal #10", "Deal #9", None, "", True, {"a": 1}, "-3", "ABD", 9, False]


def _sorted_values(table: RecordTable, column: str = "V") -> list[Any]:
    return [lazyjson.materialize(table.cell(i, column)) for i in range(len(table))]


def test_sorting_is_numeric_aware_natural_and_keeps_blanks_last(make_table: Any) -> None:
    records: list[dict[str, Any]] = [{"V": v, "N": n} for n, v in enumerate(VALUES)]
    records.append({"N": 99})  # no V at all
    table = make_table(records)
    table.sort("V")
    assert _sorted_values(table) == [
        "-3", "1.5", 2, "9", 9, "10", "abc", "ABD", "Deal #9", "Deal #10", False, True, {"a": 1}, None, "", MISSING,
    ]
    shown = [(table.cell(i, "N")) for i in range(len(table))]
    assert shown == [11, 2, 3, 1, 13, 0, 4, 12, 6, 5, 14, 9, 10, 7, 8, 99]  # equal keys ("9", 9) keep their order
    table.sort("V", descending=True)
    shown = [(table.cell(i, "N")) for i in range(len(table))]
    assert shown == [10, 9, 14, 5, 6, 12, 4, 0, 1, 13, 3, 2, 11, 7, 8, 99]  # blanks still last, in their order
    assert table.sorted_by == ("V", True)
    table.unsort()
    assert [table.cell(i, "N") for i in range(len(table))] == [*list(range(len(VALUES))), 99]


def test_sorting_in_slices_applies_the_order_when_done() -> None:
    table = RecordTable(lazy_array([{"ID": str(i), "T": f"Deal #{i}"} for i in range(30_000)]))
    job = table.sort_job("ID", descending=True)
    slices = 0
    while not job.step(0.0005):
        slices += 1
        assert table.order is None  # the table keeps its order until the new one is complete
    assert slices > 10
    assert [table.cell(i, "ID") for i in range(3)] == ["29999", "29998", "29997"]
    table.sort("T")
    assert [table.cell(i, "T") for i in (0, 1, 9, 10)] == ["Deal #0", "Deal #1", "Deal #9", "Deal #10"]


def test_a_table_of_its_own_grows_as_pages_arrive() -> None:
    table = RecordTable()
    table.extend([{"ID": "2"}, {"ID": "1"}])
    table.sort("ID")
    table.extend([{"ID": "0", "NEW": True}])
    assert table.columns == ["ID", "NEW"]
    assert [table.cell(i, "ID") for i in range(3)] == ["1", "2", "0"]  # new rows after the sorted ones
    table.sort("ID")
    assert [table.cell(i, "ID") for i in range(3)] == ["0", "1", "2"]
    with pytest.raises(TypeError):
        RecordTable(lazy_array([{"ID": "1"}])).extend([{"ID": "2"}])


def test_cells_as_text() -> None:
    assert [cell_text(v) for v in (MISSING, None, "a,b", True, 12.5, 3, {"a": [1, None]})] == [
        "", "", "a,b", "true", "12.5", "3", '{"a":[1,null]}'
    ]


AWKWARD = [
    {"ID": "1", "TITLE": 'quote " and, comma', "NOTE": "two\nlines", "TAGS": ["a", "b"], "OK": True},
    {"ID": "2", "TITLE": "Привет", "EXTRA": {"deep": [1, {"x": None}]}, "OK": None},
    {"ID": "3", "TITLE": "=1+2", "NUM": 1.5e300},
]


def test_csv_export_has_every_column_and_reads_back(make_table: Any, tmp_path: Path) -> None:
    table = make_table(AWKWARD)
    target = tmp_path / "out" / "deals.csv"
    assert table.export_csv(target).finish() == 3
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["ID", "TITLE", "NOTE", "TAGS", "OK", "EXTRA", "NUM"]
    assert rows[1] == ["1", 'quote " and, comma', "two\nlines", '["a","b"]', "true", "", ""]
    assert rows[2] == ["2", "Привет", "", "", "", '{"deep":[1,{"x":null}]}', ""]
    assert rows[3][:2] == ["3", "=1+2"]
    assert float(rows[3][6]) == 1.5e300


def test_ndjson_export_is_one_record_a_line_in_the_order_shown(make_table: Any, tmp_path: Path) -> None:
    table = make_table(AWKWARD)
    table.sort("ID", descending=True)
    target = tmp_path / "deals.ndjson"
    assert table.export_ndjson(target).finish() == 3
    lines = target.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == AWKWARD[::-1]


def test_a_cancelled_export_leaves_the_old_file_and_no_partial_one(tmp_path: Path) -> None:
    table = RecordTable(lazy_array([{"ID": str(i), "T": "x" * 50} for i in range(20_000)]))
    target = tmp_path / "deals.csv"
    target.write_text("previous export\n")
    job = table.export_csv(target)
    job.step(0.002)
    job.cancel()
    assert target.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["deals.csv"]


def test_arrays_of_records_are_found_in_an_answer() -> None:
    doc = jsondoc.parse(json.dumps({
        "result": {"tasks": [{"id": "1"}], "other": [1, 2], "deep": {"items": [{"id": 1}]}},
        "time": {"start": 1},
    }).encode())
    assert record_arrays(doc.root) == ["/result/tasks", "/result/deep/items"]
    assert is_record_array(doc.at_pointer("/result/tasks"))
    assert not is_record_array(doc.at_pointer("/result/other"))
    assert not is_record_array([])
