"""Params keys that differ only by case."""

from __future__ import annotations

from typing import Any

import pytest

from b24explorer.core.paramkeys import case_collisions


@pytest.mark.parametrize(
    ("params", "pairs"),
    [
        ({"FILTER": {}, "filter": {}}, [("FILTER", "filter")]),
        ({"filter": {}, "select": [], "Filter": {}, "FILTER": {}}, [("filter", "Filter"), ("filter", "FILTER")]),
        ({"ID": 1, "id": 2, "fields": {}, "FIELDS": {}}, [("ID", "id"), ("fields", "FIELDS")]),
        ({"filter": {}, "order": {}}, []),
        ({"filter": {"id": 1, "ID": 2}}, []),  # top level only
        ({}, []),
        ([1, 2], []),
        (None, []),
    ],
)
def test_case_collisions(params: Any, pairs: list[tuple[str, str]]) -> None:
    assert case_collisions(params) == pairs
