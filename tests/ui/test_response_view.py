"""ResponseView: what it accepts, copy value/path/subtree, expand/collapse below a node, list pages appended."""

from __future__ import annotations

import json
from typing import Any

from b24explorer.core.result import AjaxResult
from b24explorer.ui import json_node as jn
from b24explorer.ui.qt import QApplication
from b24explorer.ui.response_view import ResponseView

BODY = {
    "result": [
        {"ID": "1", "TITLE": "Первая сделка", "OPENED": "Y", "PROBABILITY": None, "TAGS": ["a", "b"]},
        {"ID": "2", "TITLE": 'Quote "two"', "OPENED": "N", "PROBABILITY": 50, "TAGS": []},
    ],
    "total": 2,
    "time": {"start": 1717000000.5, "operating": 0.25},
}
RAW = json.dumps(BODY, ensure_ascii=False).encode()


def make_view(qtbot: Any, shown: Any = RAW) -> ResponseView:
    view = ResponseView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.show_result(shown)
    return view


def content(view: ResponseView) -> Any:
    return jn.to_python(view.shown_value)


def test_shows_an_ajax_result_raw_bytes_and_plain_values(qtbot: Any) -> None:
    result = AjaxResult(RAW, status=200, method="crm.deal.list")
    view = make_view(qtbot, result)
    assert content(view) == BODY
    assert jn.is_lazy(view.root_value)  # the core's lazy document is used as it is, not re-parsed
    assert [view.model.index(r, 0).data() for r in range(view.model.rowCount())] == ["result", "total", "time"]
    view.show_result(RAW)
    assert content(view) == BODY
    view.show_result({"plain": [1, 2]})
    assert content(view) == {"plain": [1, 2]}
    view.show_result("a bare string")
    assert view.model.index(0, 1).data() == "a bare string"


def test_a_body_that_is_not_json_shows_as_text(qtbot: Any) -> None:
    messages: list[str] = []
    view = ResponseView()
    qtbot.addWidget(view)
    view.message.connect(messages.append)
    view.show()
    view.show_result(b"<html><body>502 Bad Gateway</body></html>")
    assert view.tabs.currentWidget() is view.raw_view
    assert view.raw_view.text() == "<html><body>502 Bad Gateway</body></html>"
    assert view.model.rowCount() == 0  # no stale tree
    assert messages == ["The answer is not JSON; shown as text."]


def test_copy_value_path_and_subtree(qtbot: Any) -> None:
    view = make_view(qtbot)
    clipboard = QApplication.clipboard()
    title = view.model.index_for_path(("result", 1, "TITLE"))
    view.copy_value(title)
    assert clipboard.text() == 'Quote "two"'  # a string as its text
    view.copy_path(title)
    assert clipboard.text() == "result[1].TITLE"
    view.copy_path(title, jq=True)
    assert clipboard.text() == ".result[1].TITLE"
    view.copy_value(view.model.index_for_path(("result", 0, "PROBABILITY")))
    assert clipboard.text() == "null"
    deal = view.model.index_for_path(("result", 0))
    view.copy_value(deal)
    assert json.loads(clipboard.text()) == BODY["result"][0]
    view.copy_subtree(deal)
    assert clipboard.text() == json.dumps(BODY["result"][0], indent=2, ensure_ascii=False)
    view.copy_subtree(view.model.index_for_path(("total",)))
    assert clipboard.text() == "2"


def test_ctrl_c_copies_the_current_value(qtbot: Any) -> None:
    view = make_view(qtbot)
    view.tree.setCurrentIndex(view.model.index_for_path(("result", 0, "ID")))
    view.tree.setFocus()
    view._copy_current_value()
    assert QApplication.clipboard().text() == "1"


def test_expand_all_below_is_bounded_and_collapse_closes_everything(qtbot: Any) -> None:
    view = make_view(qtbot, {"result": [{"ID": str(i), "F": {"X": [i]}} for i in range(3_000)]})
    result = view.model.index(0, 0)
    opened = view.expand_all_below(result, limit=2_000)
    assert 2_000 <= opened < 3_500  # stops soon after the budget, breadth first
    assert view.tree.isExpanded(result)
    assert view.tree.isExpanded(view.model.index(0, 0, result))  # the first range
    view.collapse_all_below(result)
    assert not view.tree.isExpanded(result)
    first_range = view.model.index(0, 0, result)
    assert not view.tree.isExpanded(first_range)
    small = make_view(qtbot, BODY)
    opened = small.expand_all_below(small.model.index(0, 0))
    deal = small.model.index_for_path(("result", 0))
    assert small.tree.isExpanded(deal)
    assert small.tree.isExpanded(small.model.index_for_path(("result", 0, "TAGS")))


def test_context_menu_offers_the_copy_and_expand_actions(qtbot: Any, monkeypatch: Any) -> None:
    view = make_view(qtbot)
    shown: list[list[str]] = []
    monkeypatch.setattr("b24explorer.ui.response_view.QMenu.popup",
                        lambda menu, _pos: shown.append([a.text() for a in menu.actions() if a.text()]))
    rect = view.tree.visualRect(view.model.index(0, 0))
    view._context_menu(rect.center())
    assert shown == [["Copy value", "Copy path", "Copy path (jq)", "Copy subtree as JSON",
                      "Expand all below", "Collapse all below"]]


def test_append_items_shows_pages_as_they_arrive(qtbot: Any) -> None:
    view = make_view(qtbot)
    view.clear()
    assert view.model.rowCount() == 0
    assert view.shown_value is None
    view.append_items([{"ID": str(i)} for i in range(60)])
    assert view.model.rowCount() == 60
    view.append_items([{"ID": str(i)} for i in range(60, 1_200)])
    assert view.model.rowCount() == 12  # [0 … 99] … [1100 … 1199]
    assert len(view.shown_value) == 1_200
    view.tabs.setCurrentWidget(view.raw_view)
    assert view.raw_view.text().startswith('[\n  {\n    "ID": "0"\n  },')
    view.model.index_for_path((1_150,))  # opens the last range
    view.append_items([{"ID": "1200"}, {"ID": "1201"}])
    assert view.model.rowCount() == 13
    assert view.model.rowCount(view.model.index(12, 0)) == 2
    with qtbot.waitSignal(view.find_finished, timeout=5_000):
        view.find_edit.setText("1200")
    assert view.hits == [(1_200, "ID")]
    view.show_result(RAW)  # a normal answer afterwards replaces the list
    assert content(view) == BODY


def test_a_range_row_copies_its_slice_of_the_array(qtbot: Any) -> None:
    body = {"result": [{"ID": str(i)} for i in range(250)]}
    view = make_view(qtbot, json.dumps(body).encode())
    result = view.model.index(0, 0)
    second = view.model.index(1, 0, result)
    assert second.data() == "[100 … 199]"
    view.copy_value(second)
    assert json.loads(QApplication.clipboard().text()) == body["result"][100:200]
    view.copy_subtree(second)
    assert json.loads(QApplication.clipboard().text()) == body["result"][100:200]
    view.copy_path(second, jq=True)
    assert QApplication.clipboard().text() == ".result"


def test_a_new_answer_resets_find_and_returns_to_the_tree(qtbot: Any) -> None:
    view = make_view(qtbot, b"<html>502</html>")
    assert view.tabs.currentWidget() is view.raw_view
    view.show_result(RAW)
    assert view.tabs.currentWidget() is view.tree
    with qtbot.waitSignal(view.find_finished, timeout=5_000):
        view.find_edit.setText("Quote")
    assert view.hits == [("result", 1, "TITLE")]
    view.show_result(json.dumps({"result": [{"TITLE": "Quote"}]}).encode())
    assert view.hits == []
    with qtbot.waitSignal(view.find_finished, timeout=5_000):
        view.find_next()  # Enter in the find box searches the new answer
    assert view.hits == [("result", 0, "TITLE")]
