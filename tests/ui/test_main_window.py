"""The explorer window driven like a user drives it, against the sandbox over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from b24explorer.core.clock import FakeClock
from b24explorer.ui.log_pane import V3_WARNING_CODE
from b24explorer.ui.qt import QModelIndex, Qt


def tree_model(view: Any) -> Any:
    model = getattr(view, "model", None)
    assert model is not None
    assert model.rowCount(QModelIndex()) > 0, "the response tree is empty"
    return model


def tree_rows(model: Any, parent: Any = None) -> dict[str, tuple[str, Any]]:
    """Key → (shown value text, index) of the rows under ``parent``, as the tree displays them."""
    parent = parent if parent is not None else QModelIndex()
    out = {}
    for row in range(model.rowCount(parent)):
        key = model.index(row, 0, parent).data(Qt.ItemDataRole.DisplayRole)
        value = model.index(row, 1, parent).data(Qt.ItemDataRole.DisplayRole)
        out[str(key)] = (str(value), model.index(row, 0, parent))
    return out


def test_pick_by_typing_send_with_ctrl_enter_tree_shows_result(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window

    async def scenario() -> None:
        await until(lambda: window.method_picker.entries(), what="the method list")
        qtbot.keyClicks(window.method_picker.search_box, "deal.li")
        assert window.method_picker.visible_methods()[0] == "crm.deal.list"
        qtbot.keyClick(window.method_picker.search_box, Qt.Key.Key_Return)
        assert window.method_field.method() == "crm.deal.list"
        window.params_editor.set_text('{"select": ["ID", "TITLE"], "filter": {"<=ID": 3}}')
        before = sb.counters.requests("crm.deal.list")
        window.activateWindow()
        qtbot.keyClick(window.params_editor.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: window.response_status.facts is not None, what="the answer")
        assert sb.counters.requests("crm.deal.list") == before + 1

    arun(scenario())
    model = tree_model(window.response_view)
    top = tree_rows(model)
    assert {"result", "time", "total"} <= set(top)
    deals = tree_rows(model, top["result"][1])
    assert list(deals) == ["[0]", "[1]", "[2]"]
    first = tree_rows(model, deals["[0]"][1])
    assert first["ID"][0].strip('"') == "1"
    assert sb.store.deals.get(1)["TITLE"] in first["TITLE"][0]
    facts = window.response_status.facts
    assert facts.status == 200
    assert facts.ok
    assert facts.request_id
    assert facts.size > 0
    assert facts.operating is not None
    assert window.method_picker.recent()[0] == "crm.deal.list"


def test_v2_call_of_a_v3_method_warns_and_its_action_sends_the_v3_form(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window

    async def scenario() -> None:
        window.choose_method("tasks.task.get")
        window.api_switch.set_api(2)
        window.params_editor.set_text('{"taskId": 1}')
        task = window.send()
        assert task is not None
        await task

    arun(scenario())
    warnings = [r for r in window.log_pane.model.rows if r.code == V3_WARNING_CODE]
    assert warnings, "no v3 migration warning in the log pane"
    assert warnings[-1].message == (
        "The method tasks.task.get is available in restApi:v3. It's worth migrating to the new API.")
    assert warnings[-1].method == "tasks.task.get"
    # It stands out: its own background colour and icon in the table, and the banner with the action.
    row = window.log_pane.model.rows.index(warnings[-1])
    index = window.log_pane.model.index(row, 1)
    assert index.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert index.data(Qt.ItemDataRole.DecorationRole) is not None
    assert window.log_pane.banner.isVisible()
    assert window.response_status.facts.api == 2

    v3_before = sb.counters.requests("tasks.task.get")

    async def press() -> None:
        qtbot.mouseClick(window.log_pane.banner.button, Qt.MouseButton.LeftButton)
        await until(lambda: view.run is not None and not view.is_busy(), what="the v3 answer")

    view = ctx.power.migration.view
    arun(press())
    # The action opens the migration view: v2's "taskId" goes over v3 as "id" (the v2 answer is reused).
    assert window.current_mode() == "migration"
    assert view.run.v3.params == {"id": 1}
    assert view.run.v3.ok, view.status_text()
    assert sb.counters.requests("tasks.task.get") == v3_before + 1
    assert not window.log_pane.banner.isVisible()


def test_invalid_json_shows_line_and_column_and_sends_nothing(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    window.choose_method("crm.deal.list")
    window.params_editor.set_text('{\n  "select": ["ID",]\n}')

    async def scenario() -> int:
        await until(lambda: window.method_picker.entries(), what="the method list")  # its own requests
        before = sb.counters.requests()
        await until(lambda: "line 2, column 19" in window.params_editor.status_label.text(), what="validation")
        window.activateWindow()
        qtbot.keyClick(window.params_editor.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert window.send() is None
        await asyncio.sleep(0.2)
        return before

    before = arun(scenario())
    assert "Invalid JSON at line 2, column 19" in window.params_editor.status_label.text()
    assert not window.send_action.isEnabled()
    cursor = window.params_editor.editor.textCursor()
    assert cursor.blockNumber() == 1  # the editor jumped to the problem
    assert sb.counters.requests() == before


def test_esc_cancels_a_delayed_request(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    sb.faults.add(kind="delay", method="crm.deal.get", count=1, seconds=5.0)
    window.choose_method("crm.deal.get")
    window.params_editor.set_text('{"id": 1}')

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        task = window.send()
        assert task is not None
        await until(lambda: sb.counters.requests("crm.deal.get") == 1, what="the request to reach the server")
        assert window.cancel_action.isEnabled()
        started = loop.time()
        window.activateWindow()
        qtbot.keyClick(window.params_editor.editor, Qt.Key.Key_Escape)
        await asyncio.wait([task], timeout=2)
        assert task.cancelled()
        return loop.time() - started

    took = arun(scenario())
    assert took < 2.0
    assert window._last_outcome.cancelled
    assert "Cancelled" in window.error_banner.text()
    assert window.send_action.isEnabled()
    assert not window.cancel_action.isEnabled()


def test_503_storm_ends_in_a_readable_error(make_window, sb, arun) -> None:
    clock = FakeClock()  # the client's backoff waits pass in virtual time
    ctx = make_window(sb, clock=clock)
    window = ctx.window
    sb.faults.add(kind="status", method="crm.deal.list", count=50, status=503, code="QUERY_LIMIT_EXCEEDED",
                  description="Too many requests")
    window.choose_method("crm.deal.list")
    window.params_editor.set_text("{}")

    async def scenario() -> None:
        task = window.send()
        assert task is not None
        await task

    arun(scenario(), timeout=30)
    outcome = window._last_outcome
    assert outcome.error_code == "QUERY_LIMIT_EXCEEDED"
    assert outcome.status == 503
    assert window.error_banner.isVisible()
    text = window.error_banner.text()
    assert "QUERY_LIMIT_EXCEEDED" in text
    assert "HTTP 503" in text
    assert "crm.deal.list" in text
    assert 1 < sb.counters.requests("crm.deal.list") <= 5  # retried, then gave up
    assert clock.slept > 0  # it backed off between the attempts
    assert window.send_action.isEnabled()


def test_secrets_are_masked_in_title_log_and_banner(make_window, sb, arun) -> None:
    ctx = make_window(sb)
    window = ctx.window
    secret = sb.webhook_url.rstrip("/").rsplit("/", 1)[-1]
    window.choose_method("no.such.method")
    window.params_editor.set_text(json.dumps({"note": sb.webhook_url}))

    async def scenario() -> None:
        task = window.send()
        assert task is not None
        await task

    arun(scenario())
    visible = [window.windowTitle(), window.error_banner.text(), window.response_status.request_label.text()]
    visible += [row.as_text() for row in window.log_pane.model.rows]
    assert window.log_pane.model.rows
    for text in visible:
        assert secret not in text


def test_shortcuts_reach_the_main_actions(make_window, sb, qtbot) -> None:
    ctx = make_window(sb)
    window = ctx.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.params_editor.editor.setFocus()
    qtbot.keyClick(window.params_editor.editor, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.method_picker.search_box.hasFocus)
    qtbot.keyClick(window.method_picker.search_box, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.api_switch.api() == 3
    qtbot.keyClick(window.method_picker.search_box, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.params_editor.editor.hasFocus)
    window.params_editor.set_text('{"a":1}')
    qtbot.keyClick(window.params_editor.editor, Qt.Key.Key_F,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.params_editor.text() == '{\n  "a": 1\n}'
    names = dict(window.shortcut_rows())
    assert names["Send"] == "Ctrl+Return, Ctrl+Enter"
    assert names["Cancel"] == "Esc"


def test_a_v3_only_method_over_v2_says_so_and_offers_v3(make_window, sb, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window

    async def scenario() -> None:
        await until(lambda: window.method_picker.entries(), what="the method list (it knows the v3 methods)")
        window.choose_method("main.eventlog.list")
        window.api_switch.set_api(2)
        window.params_editor.set_text("{}")
        task = window.send()
        assert task is not None
        await task
        text = window.error_banner.text()
        assert "ERROR_METHOD_NOT_FOUND" in text
        assert "only in REST v3" in text
        assert "/rest/api/1/" in text
        assert "action:switch-to-v3" in text
        window.error_banner.linkActivated.emit("action:switch-to-v3")
        await until(lambda: not window.is_busy() and window.response_status.facts is not None
                    and window.response_status.facts.api == 3, what="the v3 answer")

    arun(scenario())
    assert window.response_status.facts.ok
    assert window.api_switch.api() == 3


def test_the_request_id_field_is_sent_and_shown(make_window, sb, arun) -> None:
    ctx = make_window(sb)
    window = ctx.window
    window.choose_method("server.time")
    window.request_id_edit.setText("integration-check-42")

    async def send() -> None:
        task = window.send()
        assert task is not None
        await task

    arun(send())
    assert window.response_status.facts.request_id == "integration-check-42"
    assert "integration-check-42" in window.response_status.request_label.text()
    assert any(row.request_id == "integration-check-42" and row.method == "server.time"
               for row in window.log_pane.model.rows)
    window.request_id_edit.clear()
    arun(send())
    assert window.response_status.facts.request_id not in ("", None, "integration-check-42")  # a fresh one


def test_a_send_right_away_and_the_method_list_ask_the_portal_for_its_v3_methods_once(make_window, sb, arun,
                                                                                      until) -> None:
    sb.counters.reset()
    ctx = make_window(sb)
    window = ctx.window

    async def scenario() -> None:
        window.choose_method("crm.deal.list")  # sent while the method list may still be loading
        window.params_editor.set_text('{"select": ["ID"]}')
        task = window.send()
        assert task is not None
        await task
        await until(lambda: window.method_picker.entries(), what="the method list")
        window.choose_method("server.time")
        again = window.send()
        assert again is not None
        await again

    arun(scenario())
    assert window.response_status.facts.ok
    assert sb.counters.requests("rest.documentation.openapi") == 1
