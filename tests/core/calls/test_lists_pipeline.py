"""The quick look at a chained batch's answer (before its rows are read) decides as the pages do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from b24explorer.core.jsondoc import parse
from b24explorer.core.lists import ListKeys, _goes_on, _plan

PLAIN = ListKeys("ID", "ID", None)
WRAPPED = ListKeys("id", "id", "items")


def page(first: int, size: int = 50, key: str = "ID") -> list[dict[str, Any]]:
    return [{key: str(i), "TITLE": f"deal {i}"} for i in range(first, first + size)]


def answer(pages: list[Any], *, errors: dict[str, Any] | None = None, total: int | None = None) -> bytes:
    labels = {f"p{k}": p for k, p in enumerate(pages)}
    return json.dumps({
        "result": {
            "result": labels,
            "result_error": errors or [],
            "result_total": {"p0": total} if total is not None else [],
            "result_next": [],
            "result_time": {label: {"start": 1.0, "finish": 1.1} for label in labels},
        },
        "time": {"start": 1.0, "finish": 1.2},
    }).encode()


CASES = {
    "full batch, more to come": ([page(1), page(51), page(101)], None, 10_000, PLAIN, True),
    "a short last page ends the list": ([page(1), page(51), page(101, 20)], None, 10_000, PLAIN, False),
    "the total reached ends the list": ([page(1), page(51), page(101)], None, 150, PLAIN, False),
    "an error stops it": ([page(1), page(51)], {"p2": {"error": "ACCESS_DENIED"}}, 10_000, PLAIN, False),
    "ids that do not rise stop it": ([page(1), page(1), page(101)], None, 10_000, PLAIN, False),
    "no total still goes on": ([page(1), page(51), page(101)], None, None, PLAIN, True),
    "wrapped rows": ([{"items": page(1, key="id")}, {"items": page(51, key="id")},
                      {"items": page(101, key="id")}], None, 10_000, WRAPPED, True),
    "an id that is not a number": ([page(1), page(51), [*page(101, 49), {"ID": "x"}]], None, 10_000, PLAIN,
                                   False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_quick_look_agrees_with_the_pages(name: str) -> None:
    pages, errors, total, keys, goes_on = CASES[name]
    body = answer(pages, errors=errors, total=total)
    found = _goes_on(parse(body), keys, 0, 0, total, 3, False, (False, False))
    executed = [(f"p{k}", p) for k, p in enumerate(pages)]
    plan = _plan("crm.deal.list", executed, None if not errors else _an_error(), keys, 0, total, 0)
    assert (found is not None) == goes_on == plan.goes_on
    if found is not None:
        assert found == (plan.cursor, plan.received, total)
        assert plan.cursor == 150


def test_the_first_answer_brings_the_total_and_checks_the_shape() -> None:
    body = answer([page(1), page(51), page(101)], total=10_000)
    assert _goes_on(parse(body), PLAIN, 0, 0, None, 3, True, (False, False)) == (150, 150, 10_000)
    wrapped = answer([{"items": page(1, key="id")}, {"items": page(51, key="id")}], total=10_000)
    # rows under a key the caller did not name: the pages are read first (the keys are detected from them)
    assert _goes_on(parse(wrapped), PLAIN, 0, 0, None, 2, True, (False, False)) is None


def _an_error() -> Any:
    from b24explorer.core.errors import AjaxError

    return AjaxError("ACCESS_DENIED", "no", 200)
