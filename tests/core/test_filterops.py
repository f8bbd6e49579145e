"""v2 filter prefixes → v3 operators: one table for the migration's translation and the pre-send checks."""

from __future__ import annotations

import json

import pytest

from b24explorer.core.filterops import NO_V3_TWIN, split_v2_key, v3_operator
from b24explorer.core.precheck import Code, check_request


@pytest.mark.parametrize(("key", "many", "want"), [
    ("ID", False, ("", "ID", "=")), ("ID", True, ("", "ID", "in")), ("=ID", False, ("=", "ID", "=")),
    ("@ID", True, ("@", "ID", "in")), ("!ID", False, ("!", "ID", "!=")), ("!=ID", False, ("!=", "ID", "!=")),
    (">ID", False, (">", "ID", ">")), (">=ID", False, (">=", "ID", ">=")), ("<ID", False, ("<", "ID", "<")),
    ("<=ID", False, ("<=", "ID", "<=")), ("><ID", True, ("><", "ID", "between")),
    ("!ID", True, ("!", "ID", None)), (">ID", True, (">", "ID", None)), ("><ID", False, ("><", "ID", None)),
    ("%TITLE", False, ("%", "TITLE", None)), ("!@ID", True, ("!@", "ID", None)), ("=%TITLE", False, ("=%", "TITLE", None)),
])
def test_each_prefix(key: str, many: bool, want: tuple[str, str, str | None]) -> None:
    prefix, field = split_v2_key(key)
    assert (prefix, field, v3_operator(prefix, many)) == want


def test_every_prefix_without_a_twin_says_what_it_meant() -> None:
    for prefix, meaning in NO_V3_TWIN.items():
        assert v3_operator(prefix, False) is None
        assert v3_operator(prefix, True) is None
        assert f"`{prefix}`" in meaning


def test_the_pre_send_check_suggests_from_the_same_table() -> None:
    [between] = check_request("main.eventlog.list", {"filter": {"><ID": [1, 5], "!ID": 3}}, api=3)
    assert between.code == Code.V2_FILTER_ON_V3
    assert json.loads(between.suggestion) == [["ID", "between", [1, 5]], ["ID", "!=", 3]]
    [not_in] = check_request("main.eventlog.list", {"filter": {"!ID": [1, 2]}}, api=3)
    assert not_in.suggestion == ""  # "not in" has no v3 operator, so there is no one answer
