"""Find in the response: matches in document order, the same over a lazy document as over plain Python,
and next/previous that expand the tree to each hit."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from b24explorer.ui import json_find
from b24explorer.ui import json_node as jn
from b24explorer.ui.json_find import iter_matches
from b24explorer.ui.response_view import ResponseView


def reference_matches(value: Any, needle: str, path: jn.Path = ()) -> list[jn.Path]:
    """Brute force over plain Python: a node matches by its key or (for scalars) its JSON text."""
    folded = needle.casefold()
    out: list[jn.Path] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        here = (*path, key)
        container = isinstance(child, dict | list)
        text = child if isinstance(child, str) else json.dumps(child)
        if (isinstance(key, str) and folded in key.casefold()) or (not container and folded in text.casefold()):
            out.append(here)
        if container:
            out.extend(reference_matches(child, needle, here))
    return out


def all_matches(root: Any, needle: str) -> list[jn.Path]:
    return [p for p in iter_matches(root, needle) if p is not None]


leaves = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False) | st.text("abcAB 1.e+-é\"\\", max_size=6)
documents = st.recursive(
    leaves,
    lambda c: st.lists(c, min_size=0, max_size=40) | st.dictionaries(st.text("abAB1é", max_size=4), c, max_size=5),
    max_leaves=60,
)


@settings(max_examples=120, deadline=None)
@given(doc=documents, needle=st.text("abAB1.e+-é\"\\", min_size=1, max_size=3))
def test_lazy_search_finds_exactly_what_a_plain_walk_finds(doc: Any, needle: str) -> None:
    if not isinstance(doc, dict | list):
        return
    expected = reference_matches(doc, needle)
    raw = json.dumps(doc).encode()
    assert all_matches(json.loads(raw), needle) == expected
    with patch.object(json_find, "PREFILTER_MIN_ELEMENTS", 0):  # prefilter every array, however small
        assert all_matches(jn.parse_lazy(raw), needle) == expected  # the prefilter never hides a match


def deals(n: int) -> bytes:
    rows = [{"ID": str(i), "TITLE": f"Deal {i}", "STAGE_ID": "WON" if i % 1000 == 999 else "NEW",
             "OPPORTUNITY": 1.5 * i} for i in range(n)]
    return json.dumps({"result": rows, "total": n}).encode()


def test_next_and_previous_expand_the_tree_to_each_hit(qtbot: Any) -> None:
    view = ResponseView()
    qtbot.addWidget(view)
    view.show()
    view.show_result(deals(3_000))
    with qtbot.waitSignal(view.find_finished, timeout=10_000) as done:
        view.find_edit.setText("won")
    assert done.args == [3]
    assert view.hits == [("result", 999, "STAGE_ID"), ("result", 1999, "STAGE_ID"), ("result", 2999, "STAGE_ID")]
    current = view.tree.currentIndex()
    assert view.model.path_of(current) == ("result", 999, "STAGE_ID")  # the first hit is shown at once
    parent = current.parent()
    while parent.isValid():  # every ancestor (deal, range [0 … 999], result) was expanded
        assert view.tree.isExpanded(parent)
        parent = parent.parent()
    assert view.find_label.text() == "1 of 3"
    view.find_next()
    assert view.model.path_of(view.tree.currentIndex()) == ("result", 1999, "STAGE_ID")
    view.find_next()
    view.find_next()  # wraps around
    assert view.model.path_of(view.tree.currentIndex()) == ("result", 999, "STAGE_ID")
    view.find_previous()  # wraps back to the last
    assert view.model.path_of(view.tree.currentIndex()) == ("result", 2999, "STAGE_ID")
    assert view.find_label.text() == "3 of 3"


def test_find_matches_keys_and_reports_no_match(qtbot: Any) -> None:
    view = ResponseView()
    qtbot.addWidget(view)
    view.show_result({"result": {"ASSIGNED_BY_ID": "1", "x": "assigned"}})
    with qtbot.waitSignal(view.find_finished, timeout=5_000):
        view.find_edit.setText("ASSIGNED")
    assert view.hits == [("result", "ASSIGNED_BY_ID"), ("result", "x")]
    with qtbot.waitSignal(view.find_finished, timeout=5_000) as done:
        view.find_edit.setText("zzz")
    assert done.args == [0]
    assert view.find_label.text() == "No matches"


def test_a_long_search_runs_in_slices_and_can_be_cancelled(qtbot: Any) -> None:
    view = ResponseView()
    qtbot.addWidget(view)
    view.show_result(deals(20_000))
    view.find_edit.setText("Deal 1")  # digits: many nodes, many hits
    assert view.searching  # the search did not run to the end inside the call
    qtbot.waitUntil(lambda: len(view.hits) > 0, timeout=10_000)
    view.cancel_find()
    assert not view.searching
    found = len(view.hits)
    qtbot.wait(50)
    assert len(view.hits) == found
