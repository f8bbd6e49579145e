"""The jq filter box: runs in a child process, shows its output as a tree, reports errors, can be cancelled."""

from __future__ import annotations

import json
from typing import Any

from b24explorer.ui import json_node as jn
from b24explorer.ui.jq_worker import run
from b24explorer.ui.qt import Qt
from b24explorer.ui.response_view import ResponseView

BODY = json.dumps({
    "result": [{"ID": str(i), "TITLE": f"Deal {i}", "STAGE_ID": "WON" if i % 3 == 0 else "NEW"} for i in range(30)],
    "total": 30,
}).encode()


def make_view(qtbot: Any) -> ResponseView:
    view = ResponseView()
    qtbot.addWidget(view)
    view.show()
    view.show_result(BODY)
    return view


def test_filter_output_is_shown_as_a_tree_and_clearing_restores_the_answer(qtbot: Any) -> None:
    view = make_view(qtbot)
    with qtbot.waitSignal(view.filter_finished, timeout=20_000) as done:
        view.apply_filter('.result[] | select(.STAGE_ID == "WON") | {ID, TITLE}')
    assert done.args == [True]
    expected = [{"ID": str(i), "TITLE": f"Deal {i}"} for i in range(0, 30, 3)]
    assert jn.to_python(view.shown_value) == expected  # ten outputs shown as one list
    assert view.model.rowCount() == 10
    assert view.model.index(1, 0).data() == "[1]"
    assert view.filter_label.text() == "10 outputs"
    assert jn.to_python(view.root_value)["total"] == 30  # the answer itself is kept
    view.filter_edit.clear()
    assert jn.to_python(view.shown_value) == json.loads(BODY)


def test_single_output_is_shown_as_it_is(qtbot: Any) -> None:
    view = make_view(qtbot)
    with qtbot.waitSignal(view.filter_finished, timeout=20_000):
        view.apply_filter("[.result[].ID | tonumber] | add")
    assert view.shown_value == sum(range(30))
    assert view.filter_label.text() == "1 output"


def test_a_bad_program_shows_the_jq_error_with_its_position_in_place_of_the_output(qtbot: Any) -> None:
    view = make_view(qtbot)
    messages: list[str] = []
    view.message.connect(messages.append)
    with qtbot.waitSignal(view.filter_finished, timeout=20_000) as done:
        view.apply_filter(".result[] | sel(")
    assert done.args == [False]
    assert view.filter_label.text() == "Error"
    assert view.filter_error_shown
    assert view.body.currentWidget() is view.filter_error
    error = view.filter_error.toPlainText()
    assert "line 1, column 16" in error
    assert "compile error" in error
    assert view.filter_label.toolTip() == ""  # said in place, not in a tooltip
    assert len(messages) == 1
    assert messages[0].startswith("jq: jq: error: syntax error")
    assert jn.to_python(view.root_value) == json.loads(BODY)  # the answer itself is kept
    view.filter_edit.setText("")  # clearing the filter brings the tree back
    assert not view.filter_error_shown
    assert jn.to_python(view.shown_value) == json.loads(BODY)


def test_a_long_filter_runs_off_the_ui_thread_and_can_be_cancelled(qtbot: Any) -> None:
    view = make_view(qtbot)
    view.apply_filter("[range(0; 1e9)] | length")  # would run for minutes
    assert view.filtering
    assert not view.filter_busy.isHidden()  # busy indicator while it runs
    qtbot.wait(200)  # the event loop keeps turning meanwhile
    with qtbot.waitSignal(view.filter_finished, timeout=5_000) as done:
        view.filter_cancel_button.click()
    assert done.args == [False]
    assert not view.filtering
    assert view.filter_busy.isHidden()
    assert view.filter_label.text() == "Cancelled"
    assert jn.to_python(view.shown_value) == json.loads(BODY)


def test_escape_in_the_filter_box_cancels(qtbot: Any) -> None:
    view = make_view(qtbot)
    view.apply_filter("[range(0; 1e9)] | length")
    view.filter_edit.setFocus()
    with qtbot.waitSignal(view.filter_finished, timeout=5_000) as done:
        qtbot.keyClick(view.filter_edit, Qt.Key.Key_Escape)
    assert done.args == [False]
    assert not view.filtering


def test_worker_function_reports_errors_with_codes() -> None:
    code, out, message = run(".a[]", b'{"a": [1, "x\\ny"]}')
    assert (code, message) == (0, "")
    assert [json.loads(line) for line in out.split(b"\n")] == [1, "x\ny"]  # one output per line
    code, out, message = run(".[", b"{}")
    assert code == 2
    assert out == b""
    assert message
    code, _, message = run(".a.b", b'{"a": 5}')
    assert code == 1
    assert "Cannot index" in message
