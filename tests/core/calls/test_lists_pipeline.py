"""The quick look at a chained batch's answer (before its rows are read) decides as the pages do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from b24explorer.core.jsondoc import parse
from b24explorer.core.lists import MAX_PAGES, ListKeys, _CursorGuard, _goes_on, _plan

PLAIN = ListKeys("ID", "ID", None)
WRAPPED = ListKeys("id", "id", "items")


def page(first: int, size: int = 50, key: str = "ID") -> list[dict[str, Any]]:
    return [{key: str(i), "TITLE": f"deal {i}"} for i in range(first, first + size)]


def answer(pages: list[Any], *, errors: dict[str, Any] | None = None) -> bytes:
    labels = {f"p{k}": p for k, p in enumerate(pages)}
    return json.dumps({
        "result": {
            "result": labels,
            "result_error": errors or [],
            "result_total": [],
            "result_next": [],
            "result_time": {label: {"start": 1.0, "finish": 1.1} for label in labels},
        },
        "time": {"start": 1.0, "finish": 1.2},
    }).encode()


CASES = {
    "full batch, more to come": ([page(1), page(51), page(101)], None, PLAIN, True),
    "a short last page ends the list": ([page(1), page(51), page(101, 20)], None, PLAIN, False),
    "an error stops it": ([page(1), page(51)], {"p2": {"error": "ACCESS_DENIED"}}, PLAIN, False),
    "ids that do not rise stop it": ([page(1), page(1), page(101)], None, PLAIN, False),
    "wrapped rows": ([{"items": page(1, key="id")}, {"items": page(51, key="id")},
                      {"items": page(101, key="id")}], None, WRAPPED, True),
    "an id that is not a number": ([page(1), page(51), [*page(101, 49), {"ID": "x"}]], None, PLAIN, False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_quick_look_agrees_with_the_pages(name: str) -> None:
    pages, errors, keys, goes_on = CASES[name]
    body = answer(pages, errors=errors)
    found = _goes_on(parse(body), keys, 0, 0, 3, MAX_PAGES)
    executed = [(f"p{k}", p) for k, p in enumerate(pages)]
    guard = _CursorGuard("crm.deal.list", keys.cursor_id_key, 0)
    plan = _plan("crm.deal.list", executed, None if not errors else _an_error(), keys, guard, 0, MAX_PAGES)
    assert (found is not None) == goes_on == plan.goes_on
    if found is not None:
        assert found == (plan.cursor, plan.received)
        assert plan.cursor == 150


def test_a_short_page_that_repeats_rows_is_an_error_not_the_end() -> None:
    # the second page came back short, but with rows already seen: checked before "short means the end"
    guard = _CursorGuard("crm.deal.list", "ID", 0)
    plan = _plan("crm.deal.list", [("p0", page(1)), ("p1", page(1, 20))], None, PLAIN, guard, 0, MAX_PAGES)
    assert not plan.complete
    assert plan.failure is not None
    assert plan.failure.code == "LIST_CURSOR_BACKWARDS"
    assert len(plan.pages) == 1


def test_pages_past_a_short_page_are_never_read() -> None:
    guard = _CursorGuard("crm.deal.list", "ID", 0)
    # p2 is what the portal answers for a reference past the short p1: rows from the start again
    executed = [("p0", page(1)), ("p1", page(51, 20)), ("p2", page(1))]
    plan = _plan("crm.deal.list", executed, None, PLAIN, guard, 0, MAX_PAGES)
    assert plan.complete
    assert [len(p) for p in plan.pages] == [50, 20]


def test_the_page_cap_stops_the_walk_with_its_own_error() -> None:
    body = answer([page(1), page(51)])
    assert _goes_on(parse(body), PLAIN, 0, 50, 2, 3) is None  # 3 pages in: no batch is sent past the cap
    guard = _CursorGuard("crm.deal.list", "ID", 0)
    plan = _plan("crm.deal.list", [("p0", page(1)), ("p1", page(51))], None, PLAIN, guard, 50, 3)
    assert plan.failure is not None
    assert plan.failure.code == "LIST_MAX_PAGES_EXCEEDED"


@pytest.mark.parametrize(
    ("values", "code"),
    [([5, 5], "LIST_CURSOR_STALLED"), ([5, 3], "LIST_CURSOR_BACKWARDS"), (["b", "a"], "LIST_CURSOR_BACKWARDS"),
     ([5, 9], None)],
)
def test_the_cursor_guard(values: list[Any], code: str | None) -> None:
    guard = _CursorGuard("main.eventlog.tail", "id", 0 if isinstance(values[0], int) else "")
    assert guard.advance(values[0]) is None
    error = guard.advance(values[1])
    assert (error.code if error else None) == code


def test_a_descending_cursor_must_go_down_and_never_come_back() -> None:
    guard = _CursorGuard("main.eventlog.tail", "id", 100, descending=True)
    assert guard.advance(90) is None
    assert guard.advance(95).code == "LIST_CURSOR_BACKWARDS"
    mixed = _CursorGuard("x.tail", "when", 0)  # values of another type than the start: repeats are caught
    assert mixed.advance("2026-01-01") is None
    assert mixed.advance({"a": 1}) is None
    assert mixed.advance({"a": 1}).code == "LIST_CURSOR_STALLED"


def _an_error() -> Any:
    from b24explorer.core.errors import AjaxError

    return AjaxError("ACCESS_DENIED", "no", 200)
