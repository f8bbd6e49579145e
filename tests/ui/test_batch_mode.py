"""Batch mode against the sandbox: references between commands, halt, v3, the 50-command limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from b24explorer.core import B24Client, LimitsConfig
from b24explorer.sandbox import Sandbox
from b24explorer.ui.batch_editor import BatchEditor, count_commands, parse_batch_text
from b24explorer.ui.qt import QApplication, Qt
from b24explorer.ui.response_view import ResponseView


@pytest.fixture
def editor(qtbot: Any, client: B24Client) -> BatchEditor:
    widget = BatchEditor(lambda: client, ResponseView())
    qtbot.addWidget(widget)
    widget.show()
    return widget


def top_level(view: ResponseView) -> dict[str, Any]:
    """The tree's first level: key text → index."""
    model = view.model
    return {model.index(row, 0).data(): model.index(row, 0) for row in range(model.rowCount())}


def summary(editor: BatchEditor) -> list[list[str]]:
    model = editor.rows_model
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]



def started(window: Any) -> bool:
    """The window's start-up work (the method list load) is over, however it ended."""
    task = getattr(window, "_methods_task", None)
    return task is None or task.done()

def test_a_batch_with_a_reference_between_commands(editor: BatchEditor, sb: Sandbox, qtbot: Any,
                                                   arun: Callable[..., Any], until: Any) -> None:
    commands = {
        "deal": ["crm.deal.get", {"id": 7}],
        "same_company": [
            "crm.deal.list",
            {"filter": {"COMPANY_ID": "$result[deal][COMPANY_ID]"}, "select": ["ID", "COMPANY_ID"]},
        ],
    }
    editor.set_text(json.dumps(commands, indent=2))
    assert editor.count_label.text().startswith("2 / 50")
    qtbot.mouseClick(editor.send_button, Qt.MouseButton.LeftButton)
    arun(until(lambda: editor.last_result is not None or editor.last_error is not None, what="the batch"))

    assert editor.last_error is None
    company = next(d["COMPANY_ID"] for d in sb.store.deals if str(d["ID"]) == "7")
    expected = sorted(int(d["ID"]) for d in sb.store.deals if d["COMPANY_ID"] == company)
    assert sb.counters.requests() == 1

    rows = summary(editor)
    assert [r[:3] for r in rows] == [["deal", "crm.deal.get", "ok"], ["same_company", "crm.deal.list", "ok"]]
    assert rows[1][3] == str(len(expected))  # total of the list command

    # The tree has one expandable node per command; the list's items all belong to the referenced company.
    nodes = top_level(editor.response_view)
    assert set(nodes) == {"deal", "same_company"}
    tree = editor.response_view.root_value
    listed = tree["same_company"]["result"]
    assert sorted(int(d["ID"]) for d in listed) == expected[:50]
    assert {d["COMPANY_ID"] for d in listed} == {company}
    assert tree["deal"]["time"]["duration"] >= 0
    model = editor.response_view.model
    same = nodes["same_company"]
    assert model.rowCount(same) >= 3  # method, result, total, next, time
    editor.table.clicked.emit(editor.rows_model.index(1, 0))
    assert editor.response_view.tree.isExpanded(same)


def test_51_commands_are_refused_before_any_request(qtbot: Any, sb: Sandbox) -> None:
    asked: list[bool] = []

    def provider() -> Any:
        asked.append(True)
        raise AssertionError("no client may be asked for")

    editor = BatchEditor(provider, ResponseView())
    qtbot.addWidget(editor)
    editor.set_text(json.dumps({f"c{i}": ["crm.deal.get", {"id": i + 1}] for i in range(51)}))
    assert "51 / 50" in editor.count_label.text()
    assert editor.send() is None
    qtbot.mouseClick(editor.send_button, Qt.MouseButton.LeftButton)
    assert "51 commands" in editor.status_label.text()
    assert "at most 50" in editor.status_label.text()
    assert not editor.is_busy()
    assert asked == []
    assert sb.counters.requests() == 0


def test_halt_stops_at_the_first_error_and_no_halt_runs_everything(editor: BatchEditor, sb: Sandbox,
                                                                    arun: Callable[..., Any]) -> None:
    editor.set_text(json.dumps([["crm.deal.get", {"id": 424242}], ["crm.deal.get", {"id": 2}]]))
    arun(editor.send())
    rows = summary(editor)
    assert rows[0][0] == "0"
    assert rows[0][2] not in ("ok", "not run")
    assert rows[1][2] == "not run"
    assert "failed" in editor.status_label.text()

    failed = top_level(editor.response_view)["0"]
    assert editor.response_view.tree.isExpanded(failed)  # the error is in view
    assert not editor.response_view.tree.isExpanded(top_level(editor.response_view)["1"])

    editor.halt_box.setChecked(False)
    arun(editor.send())
    rows = summary(editor)
    assert rows[1][2] == "ok"
    assert editor.response_view.root_value["1"]["result"]["ID"] == "2"
    assert sb.counters.requests() == 2


def test_a_v3_batch(editor: BatchEditor, sb: Sandbox, arun: Callable[..., Any]) -> None:
    editor.set_commands({"one": ["tasks.task.get", {"id": 1}], "two": ["tasks.task.get", {"id": 2}]}, api=3)
    assert editor.api() == 3
    arun(editor.send())
    assert editor.last_error is None
    tree = editor.response_view.root_value
    assert tree["one"]["result"]["item"]["id"] == 1
    assert tree["two"]["result"]["item"]["id"] == 2
    assert sb.counters.requests() == 1


def test_invalid_json_shows_line_and_column_and_sends_nothing(editor: BatchEditor, sb: Sandbox) -> None:
    editor.set_text('{"a": ["crm.deal.get", {"id": 1}],\n  "b": ["crm.deal.get" {"id": 2}]}')
    assert editor.count_label.text() == "invalid JSON"
    assert editor.send() is None
    assert "line 2, column" in editor.status_label.text()
    assert sb.counters.requests() == 0


def test_parsing_rules() -> None:
    commands, halt = parse_batch_text('{"cmd": {"a": "profile"}, "halt": 0}')
    assert commands == {"a": "profile"}
    assert halt is False
    assert count_commands("[1, 2, 3]") == 3
    for bad, words in (
        ("", "empty"),
        ("[]", "no commands"),
        ("42", "JSON object"),
        ('{"a": [1]}', "Command 'a'"),
        ('[["crm.deal.get", 5]]', "params must be a JSON object"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_batch_text(bad)


def test_ctrl_enter_and_esc_reach_the_batch_mode_of_the_window(make_window: Any, sb: Sandbox, qtbot: Any,
                                                               arun: Callable[..., Any], until: Any) -> None:
    ctx = make_window(sb)
    window = ctx.window
    batch = ctx.power.batch
    arun(until(lambda: started(window), what="the window's start-up work"))
    window.set_mode("batch")
    assert window.mode_stack.currentWidget() is batch
    assert window.send_action.isEnabled()
    batch.set_text('{"me": ["profile"], "deal": ["crm.deal.get", {"id": 9}]}')

    async def press_ctrl_enter() -> None:
        window.activateWindow()
        await until(lambda: QApplication.activeWindow() is window, what="the window to be active")
        qtbot.keyClick(batch.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: batch.last_result is not None, what="the batch answer")

    arun(press_ctrl_enter())
    assert [r[2] for r in summary(batch)] == ["ok", "ok"]
    assert batch.response_view.root_value["deal"]["result"]["ID"] == "9"
    assert sb.counters.requests("batch") == 1

    # Esc cancels a batch in flight.
    sb.faults.add(kind="delay", method="batch", count=1, seconds=2.0)
    task = window.send()
    assert task is not None
    arun(asyncio.sleep(0.3))  # the request is on the wire, the server holds it
    assert batch.is_busy()
    qtbot.keyClick(batch.editor, Qt.Key.Key_Escape)
    arun(until(lambda: task.done(), what="the cancelled batch"))
    assert "Cancelled" in batch.status_label.text()
    assert batch.send_button.isEnabled()


def test_a_failing_batch_request_is_shown_readably(qtbot: Any, sb: Sandbox, arun: Callable[..., Any]) -> None:
    bad = B24Client(sb.webhook_url.replace(sb.secret, "wrongsecret1"), limits=LimitsConfig.unlimited())
    editor = BatchEditor(lambda: bad, ResponseView())
    qtbot.addWidget(editor)
    editor.set_text('[["profile"]]')
    arun(editor.send())
    arun(bad.aclose())
    assert editor.last_error is not None
    assert "INVALID_CREDENTIALS" in editor.status_label.text()
    assert editor.response_view.root_value["code"] == "INVALID_CREDENTIALS"
    assert editor.rows_model.rowCount() == 0
    assert editor.send_button.isEnabled()


def test_requests_are_added_to_the_batch_from_the_single_editor(make_window: Any, sb: Sandbox,
                                                                arun: Callable[..., Any], until: Any) -> None:
    ctx = make_window(sb)
    window, power = ctx.window, ctx.power
    arun(until(lambda: started(window), what="the window's start-up work"))
    window.choose_method("crm.deal.get")
    window.params_editor.set_text('{"id": 12}')
    assert power.add_to_batch() == "deal_get"
    window.params_editor.set_text('{"id": 13}')
    assert power.add_to_batch() == "deal_get_2"
    window.choose_method("crm.deal.list")
    window.params_editor.set_text('{"filter": {"COMPANY_ID": "$result[deal_get][COMPANY_ID]"}, "select": ["ID"]}')
    power.add_to_batch_action.trigger()
    assert "3 commands" in window.statusBar().currentMessage()
    window.set_mode("batch")
    arun(window.send())
    tree = power.batch.response_view.root_value
    assert tree["deal_get"]["result"]["ID"] == "12"
    assert tree["deal_get_2"]["result"]["ID"] == "13"
    company = tree["deal_get"]["result"]["COMPANY_ID"]
    assert {d["ID"] for d in tree["deal_list"]["result"]} <= {
        str(d["ID"]) for d in sb.store.deals if d["COMPANY_ID"] == company}
    assert power.add_to_batch() is None  # only from the single-request editor


def test_add_command_rules(qtbot: Any) -> None:
    editor = BatchEditor(lambda: None, ResponseView())
    qtbot.addWidget(editor)
    editor.set_text('[["profile"]]')
    assert editor.add_command("user.current") == "1"
    assert json.loads(editor.editor.toPlainText()) == [["profile"], ["user.current", {}]]
    editor.set_text('{"cmd": {"a": "profile"}, "halt": 0}')
    assert editor.add_command("app.info", {"x": 1}) == "app_info"
    assert json.loads(editor.editor.toPlainText())["cmd"]["app_info"] == ["app.info", {"x": 1}]
    editor.set_text("{oops")
    with pytest.raises(ValueError, match="Fix the batch first"):
        editor.add_command("profile")
    editor.set_text(json.dumps({f"c{i}": ["profile"] for i in range(50)}))
    with pytest.raises(ValueError, match="already has 50"):
        editor.add_command("profile")


def test_the_editor_takes_a_client_directly_and_brings_its_own_tree(qtbot: Any, client: B24Client,
                                                                   arun: Callable[..., Any]) -> None:
    editor = BatchEditor(client)
    qtbot.addWidget(editor)
    editor.set_text('{"me": ["profile"]}')
    arun(editor.send())
    assert isinstance(editor.response_view, ResponseView)
    assert editor.response_view.root_value["me"]["result"]["ID"]
