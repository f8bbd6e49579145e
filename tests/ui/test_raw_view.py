"""The raw view: pages of the pretty-printed answer, identical to json.dumps(indent=2) when joined."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from b24explorer.ui import json_node as jn
from b24explorer.ui.pretty import PrettyLines, TextLines
from b24explorer.ui.raw_view import PAGE_LINES, RawView

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=5), c, max_size=5),
    max_leaves=30,
)


@settings(max_examples=100, deadline=None)
@given(value=json_values, page=st.integers(1, 7))
def test_pretty_lines_equal_json_dumps_whatever_the_page_size(value: Any, page: int) -> None:
    expected = json.dumps(value, indent=2, ensure_ascii=False)
    for root in (value, jn.parse_lazy(json.dumps(value))):
        pager = PrettyLines(root)
        lines: list[str] = []
        states = []
        while not pager.done:
            states.append(pager.state())
            lines += pager.take(page)
        assert "\n".join(lines) == expected
        if states:  # resuming from a saved state gives the same page again
            pager.restore(states[-1])
            assert pager.take(page) == lines[(len(states) - 1) * page:][:page]


def big_body(deals: int) -> bytes:
    rows = [{"ID": str(i), "TITLE": f"Сделка {i}", "OPENED": "Y", "PROBABILITY": None, "SUM": i * 1.25}
            for i in range(deals)]
    return json.dumps({"result": rows, "total": deals, "next": 50}, ensure_ascii=False).encode()


def test_a_multi_megabyte_body_opens_on_its_first_page_and_walks_to_the_last(qtbot: Any) -> None:
    raw = big_body(30_000)  # about 3 MB, 240,000 pretty lines
    assert len(raw) > 2_500_000
    expected = json.dumps(json.loads(raw), indent=2, ensure_ascii=False).split("\n")
    view = RawView()
    qtbot.addWidget(view)
    view.show()
    view.set_value(jn.parse_lazy(raw))
    assert view.text().split("\n") == expected[:PAGE_LINES]
    assert view.page == 0
    assert view.page_count is None  # the end is not known yet: nothing walked it
    assert view.next_button.isEnabled()
    assert not view.prev_button.isEnabled()
    view.next_button.click()
    assert view.text().split("\n") == expected[PAGE_LINES : 2 * PAGE_LINES]
    view.show_last_page()
    assert view.seeking  # walks to the end in timer slices, not inside the call
    qtbot.waitUntil(lambda: not view.seeking, timeout=30_000)
    pages = -(-len(expected) // PAGE_LINES)
    assert view.page_count == pages
    assert view.page == pages - 1
    assert view.text().split("\n") == expected[(pages - 1) * PAGE_LINES :]
    assert not view.next_button.isEnabled()
    assert "of" in view.position_label.text()
    view.show_page(3)  # any page back from its saved state
    assert view.text().split("\n") == expected[3 * PAGE_LINES : 4 * PAGE_LINES]
    view.first_button.click()
    assert view.page == 0


def test_small_answer_is_one_page_without_navigation(qtbot: Any) -> None:
    view = RawView()
    qtbot.addWidget(view)
    view.show()
    view.set_value({"result": {"ID": "1"}, "time": {"start": 1.5}})
    assert view.text() == json.dumps({"result": {"ID": "1"}, "time": {"start": 1.5}}, indent=2)
    assert view.page_count == 1
    assert not view.navigation_shown


def test_rendering_waits_until_the_view_is_shown(qtbot: Any) -> None:
    view = RawView()
    qtbot.addWidget(view)
    view.set_value([1, 2])
    assert view.text() == ""  # a hidden raw tab costs nothing
    view.show()
    qtbot.waitExposed(view)
    assert view.text() == "[\n  1,\n  2\n]"


def test_text_that_is_not_json_is_paged_as_it_is(qtbot: Any) -> None:
    text = "\n".join(f"<p>line {i}</p>" for i in range(PAGE_LINES + 5))
    pager = TextLines(text)
    assert len(pager.take(PAGE_LINES)) == PAGE_LINES
    assert pager.take(PAGE_LINES)[-1] == f"<p>line {PAGE_LINES + 4}</p>"
    assert pager.done
    view = RawView()
    qtbot.addWidget(view)
    view.show()
    view.set_text(text)
    assert view.text().split("\n")[0] == "<p>line 0</p>"
    view.next_button.click()
    assert view.page_count == 2
