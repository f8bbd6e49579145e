"""The JSON diff: by path, records matched by id, the same rows for lazy and plain values, in slices."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_values import json_values

from b24explorer.core import jsondoc, lazyjson
from b24explorer.core.jsondiff import MISSING, DiffRow, JsonDiff, RecordKey, diff, path_text, preview


def body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def plain(row: DiffRow) -> tuple[Any, ...]:
    """A row with its values as plain Python (lazy nodes materialised), for comparing."""
    return (row.path, row.kind, lazyjson.materialize(row.left), lazyjson.materialize(row.right),
            row.left_pointer, row.right_pointer)


def test_keys_added_removed_and_changed_by_path_in_a_stable_order() -> None:
    left = {"a": 1, "b": {"x": "old", "gone": True}, "c": [1, 2, 3]}
    right = {"b": {"x": "new", "more": None}, "c": [1, 2], "a": 1, "d": {"k": 1}}
    rows, summary = diff(body(left), body(right))
    assert [(r.path_text, r.kind, lazyjson.materialize(r.left), lazyjson.materialize(r.right)) for r in rows] == [
        ("$.b.x", "changed", "old", "new"),
        ("$.b.gone", "removed", True, MISSING),
        ("$.b.more", "added", MISSING, None),
        ("$.c[2]", "removed", 3, MISSING),
        ("$.d", "added", MISSING, {"k": 1}),
    ]
    assert (summary.added, summary.removed, summary.changed, summary.total) == (2, 2, 1, 5)
    assert rows[3].left_pointer == "/c/2"
    assert rows[3].right_pointer is None
    assert rows[4].left_pointer is None
    assert rows[4].right_pointer == "/d"


def test_records_are_matched_by_id_not_by_position() -> None:
    left = {"result": [{"ID": "1", "T": "a"}, {"ID": "2", "T": "b"}, {"ID": "3", "T": "c"}]}
    right = {"result": [{"ID": "0", "T": "new"}, {"ID": "3", "T": "c"}, {"ID": "1", "T": "A"}]}
    rows, summary = diff(body(left), body(right))
    assert [(r.path_text, r.kind) for r in rows] == [
        ("$.result[ID=1].T", "changed"),
        ("$.result[ID=2]", "removed"),
        ("$.result[ID=0]", "added"),
    ]
    assert rows[0].left_pointer == "/result/0/T"
    assert rows[0].right_pointer == "/result/2/T"
    assert rows[1].left == {"ID": "2", "T": "b"}
    assert rows[2].right == {"ID": "0", "T": "new"}
    assert rows[0].path == ("result", RecordKey("ID", "1"), "T")
    assert summary.total == 3


def test_lower_case_id_and_numbers_spelled_as_strings_match_too() -> None:
    left = [{"id": 7, "v": 1}, {"id": 8, "v": 2}]
    right = [{"id": 8, "v": 2}, {"id": "7", "v": 1}]
    rows, _ = diff(left, right)
    assert [(r.path_text, r.kind, r.left, r.right) for r in rows] == [("$[id=7].id", "changed", 7, "7")]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ([{"ID": "1"}, {"ID": "1"}], [{"ID": "1"}, {"ID": "2"}]),  # a duplicate id
        ([{"ID": "1"}, {"X": "1"}], [{"ID": "1"}, {"ID": "2"}]),  # a record without one
        ([{"ID": "1"}, 5], [{"ID": "1"}, {"ID": "2"}]),  # not every element is a record
        ([{"ID": {"n": 1}}], [{"ID": {"n": 2}}]),  # an id that is not a scalar
    ],
)
def test_arrays_without_usable_ids_are_matched_by_position(left: Any, right: Any) -> None:
    rows, _ = diff(left, right)
    assert rows
    assert all(isinstance(r.path[0], int) for r in rows)


def test_json_types_are_compared_as_json() -> None:
    rows, _ = diff({"a": True, "b": 1, "c": 0, "d": [], "e": "1"}, {"a": 1, "b": 1.0, "c": False, "d": {}, "e": 1})
    assert [(r.path_text, r.kind) for r in rows] == [
        ("$.a", "changed"), ("$.c", "changed"), ("$.d", "changed"), ("$.e", "changed")
    ]


def test_root_scalars_and_odd_keys() -> None:
    rows, _ = diff(b"1", b'"x"')
    assert [(r.path_text, r.left_pointer) for r in rows] == [("$", "")]
    rows, _ = diff({"a b": {"x/y~": 1}}, {"a b": {"x/y~": 2}})
    assert rows[0].path_text == '$["a b"]["x/y~"]'
    assert rows[0].left_pointer == "/a b/x~1y~0"
    assert jsondoc.parse(b'{"a b": {"x/y~": 1}}').at_pointer(rows[0].left_pointer) == 1
    assert path_text(("result", RecordKey("ID", "5"), 0)) == "$.result[ID=5][0]"
    rows, _ = diff({"": {"": 1}}, {"": {"": 2}})  # the empty key is a key like any other
    assert rows[0].left_pointer == "//"
    assert lazyjson.at_pointer({"": {"": 1}}, "//") == 1


def test_too_many_differences_are_counted_not_kept() -> None:
    rows, summary = diff(list(range(50)), list(range(1, 51)), max_rows=10)
    assert len(rows) == 10
    assert summary.changed == 50
    assert summary.truncated
    assert summary.rows_kept == 10


def test_a_body_that_is_not_json_fails_with_its_position() -> None:
    with pytest.raises(jsondoc.JsonDecodeFailure) as failure:
        diff(b'{"a": 1}', b'{"a": }')
    assert failure.value.line == 1
    job = JsonDiff(b"[1]", b"[1, ").job()
    with pytest.raises(jsondoc.JsonDecodeFailure):
        job.step(1.0)  # both parses are in its first slice
    assert job.step() is True  # the job is over, and says why when asked again
    assert job.done
    with pytest.raises(jsondoc.JsonDecodeFailure):
        _ = job.result


def test_preview_is_one_short_line() -> None:
    assert preview(MISSING) == ""
    assert preview({"a": [1, "x"]}) == '{"a":[1,"x"]}'
    assert preview("x" * 500, limit=20).endswith("…")
    assert len(preview("x" * 500, limit=20)) == 20
    big = lazyjson.lazy_root(body({"result": [{"ID": str(i)} for i in range(5000)]}))
    assert preview(big["result"]) == "[5,000 items]"


# --- lazy and plain give the same rows -------------------------------------------------------------------------
@pytest.fixture
def everything_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazyjson, "SMALL", 0)


def _records(ids: list[int], values: list[int]) -> list[dict[str, Any]]:
    return [{"ID": str(i), "V": v} for i, v in zip(ids, values, strict=False)]


_ids = st.lists(st.integers(0, 30), unique=True, max_size=12)


@settings(max_examples=150, deadline=None)
@given(left=json_values(), right=json_values())
def test_any_two_values_lazy_or_plain_give_the_same_rows_whose_pointers_lead_to_their_values(
    left: Any, right: Any
) -> None:
    lazyjson.SMALL, small = 0, lazyjson.SMALL  # hypothesis and function fixtures do not mix
    try:
        lazy_rows, lazy_summary = diff(body(left), body(right))
        plain_rows, plain_summary = diff(left, right)
        assert [plain(r) for r in lazy_rows] == [plain(r) for r in plain_rows]
        assert lazy_summary == plain_summary
        for row in plain_rows:
            if row.left_pointer is not None:
                assert lazyjson.at_pointer(left, row.left_pointer) == row.left
            if row.right_pointer is not None:
                assert lazyjson.at_pointer(right, row.right_pointer) == row.right
        assert diff(body(left), body(left))[1].identical
    finally:
        lazyjson.SMALL = small


@settings(max_examples=150, deadline=None)
@given(left_ids=_ids, right_ids=_ids, data=st.data())
def test_record_lists_report_exactly_the_added_removed_and_changed_records(
    left_ids: list[int], right_ids: list[int], data: st.DataObject
) -> None:
    left = _records(left_ids, data.draw(st.lists(st.integers(0, 2), min_size=len(left_ids), max_size=len(left_ids))))
    right = _records(right_ids, data.draw(st.lists(st.integers(0, 2), min_size=len(right_ids),
                                                   max_size=len(right_ids))))
    rows, _ = diff(body({"result": left}), body({"result": right}))
    if not left or not right:  # nothing to match: by position
        assert len(rows) == abs(len(left) - len(right))
        return
    by_kind: dict[str, set[str]] = {"added": set(), "removed": set(), "changed": set()}
    for row in rows:
        by_kind[row.kind].add(row.path[1].value)
    lv = {r["ID"]: r["V"] for r in left}
    rv = {r["ID"]: r["V"] for r in right}
    assert by_kind["added"] == rv.keys() - lv.keys()
    assert by_kind["removed"] == lv.keys() - rv.keys()
    assert by_kind["changed"] == {k for k in lv.keys() & rv.keys() if lv[k] != rv[k]}
    assert len(rows) == sum(len(v) for v in by_kind.values())
    assert rows == diff(body({"result": left}), body({"result": right}))[0]  # the same order every time


# --- in slices ------------------------------------------------------------------------------------------------
def _records_body(n: int, changed: int) -> bytes:
    return body({"result": [{"ID": str(i), "V": "x" if i == changed else i} for i in range(n)]})


def test_the_job_works_in_slices_and_shows_rows_as_it_goes() -> None:
    differ = JsonDiff(_records_body(20_000, 3), _records_body(20_000, 19_990))
    job = differ.job()
    slices = 0
    seen_partial = False
    while not job.step(0.0005):
        slices += 1
        seen_partial |= 0 < len(differ.rows) < 4
        assert 0.0 <= job.progress <= 1.0
    assert slices > 10
    assert seen_partial
    assert [r.path_text for r in differ.rows] == ["$.result[ID=3].V", "$.result[ID=19990].V"]
    assert job.result.changed == 2
    assert job.progress == 1.0


def test_a_cancelled_job_stops() -> None:
    differ = JsonDiff(_records_body(20_000, 3), _records_body(20_000, 19_990))
    job = differ.job()
    job.step(0.0005)
    job.cancel()
    assert job.step() is True
    assert job.cancelled
    assert len(differ.rows) < 2


async def test_running_on_a_loop_lets_other_tasks_run_between_slices() -> None:
    differ = JsonDiff(_records_body(20_000, 3), _records_body(20_000, 5))
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0)

    beating = asyncio.create_task(heartbeat())
    progress: list[float] = []
    summary = await differ.job().run(budget=0.001, on_progress=progress.append)
    beating.cancel()
    assert summary.changed == 2
    assert beats > 5
    assert progress == sorted(progress)
    assert progress


async def test_cancelling_the_awaiting_task_cancels_the_job() -> None:
    job = JsonDiff(_records_body(50_000, 3), _records_body(50_000, 5)).job()
    task = asyncio.create_task(job.run(budget=0.001))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert job.cancelled
    assert not job.done
