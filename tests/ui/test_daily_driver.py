"""The window as a daily driver (issue 15, trust): each method goes with its own params, keys for the method box
and for sending, no stale answer, no traffic to a connection the user did not pick, an honest connection test,
one Send/Cancel per mode. All on the sandbox over real loopback HTTP, history in a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from b24explorer.core.webhook import Webhook
from b24explorer.sandbox import Sandbox
from b24explorer.ui import json_node as jn
from b24explorer.ui.qt import QApplication, Qt

CTRL = Qt.KeyboardModifier.ControlModifier


def history_rows(window: Any) -> list[tuple[str, Any]]:
    """(method, params) of every recorded request, oldest first, read back from the history database."""
    return [(e.method, e.params_value()) for e in reversed(window.workspace.history.search(""))]


def ctrl_enter(qtbot: Any, window: Any) -> None:
    """Ctrl+Enter where the keys go now: the completion popup when it is open, else the focused widget."""
    completer = window.method_field.completer_widget
    popup = completer.popup() if completer is not None else None
    target = popup if popup is not None and popup.isVisible() else (QApplication.focusWidget() or window)
    qtbot.keyClick(target, Qt.Key.Key_Return, CTRL)


def test_a_typed_method_goes_with_its_own_params_never_the_previous_ones(make_window, sb, qtbot, arun,
                                                                         until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    window.activateWindow()

    async def scenario() -> None:
        await until(lambda: window.method_field.is_known("tasks.task.list"), what="the catalog's names")
        window.choose_method("crm.deal.get")
        window.params_editor.set_text('{"id": 5}')
        await window.send()

        # Ctrl+L from the params editor: the method box, its text selected.
        window.params_editor.editor.setFocus()
        qtbot.keyClick(window.params_editor.editor, Qt.Key.Key_L, CTRL)
        assert window.method_field.hasFocus()
        assert window.method_field.selectedText() == "crm.deal.get"
        qtbot.keyClicks(window.method_field, "tasks.task.li")
        completer = window.method_field.completer_widget
        assert completer is not None
        assert completer.currentCompletion() == "tasks.task.list"  # completes against the catalog as typed
        assert window.params_editor.text() == '{"id": 5}'  # not a method yet: nothing replaced
        qtbot.keyClicks(window.method_field, "st")
        own = json.loads(window.workspace.template_for("tasks.task.list", 2, window.connection_id))
        assert json.loads(window.params_editor.text()) == own  # exact: its own params replace the editor's
        before = sb.counters.requests("tasks.task.list")
        ctrl_enter(qtbot, window)  # without Enter
        await until(lambda: sb.counters.requests("tasks.task.list") == before + 1, what="tasks.task.list sent")
        await until(lambda: len(history_rows(window)) == 2, what="two history rows")

        # Back to crm.deal.get by typing: the params it had on this connection come back.
        qtbot.keyClick(window.method_field, Qt.Key.Key_L, CTRL)
        qtbot.keyClicks(window.method_field, "crm.deal.get")
        assert json.loads(window.params_editor.text()) == {"id": 5}
        ctrl_enter(qtbot, window)
        await until(lambda: len(history_rows(window)) == 3, what="three history rows")

    arun(scenario())
    own = json.loads(window.workspace.template_for("tasks.task.list", 2, window.connection_id))
    assert history_rows(window) == [("crm.deal.get", {"id": 5}), ("tasks.task.list", own),
                                    ("crm.deal.get", {"id": 5})]


def test_a_name_typed_but_not_in_the_catalog_is_not_sent_with_the_previous_params(make_window, sb, qtbot, arun,
                                                                                   until) -> None:
    ctx = make_window(sb)
    window = ctx.window

    async def scenario() -> None:
        await until(lambda: window.method_field.is_known("crm.deal.get"), what="the catalog's names")
        window.choose_method("crm.deal.update")
        window.params_editor.set_text('{"id": 1, "fields": {"TITLE": "renamed"}}')
        window.method_field.setFocus()
        window.method_field.selectAll()
        qtbot.keyClicks(window.method_field, "crm.deal.fields")  # a read; Ctrl+Enter at once
        await window.send()
        await until(lambda: len(history_rows(window)) == 1, what="the history row")

    arun(scenario())
    method, params = history_rows(window)[0]
    assert method == "crm.deal.fields"
    assert "fields" not in params  # the write's params never went to another method
    assert sb.counters.writes() == 0


def test_ctrl_enter_sends_from_anywhere_in_the_window(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    window.activateWindow()
    places = [window.params_editor.editor, window.response_view.tree, window.log_pane.table,
              ctx.power.history_panel.table, window.method_field, window.request_id_edit]

    async def scenario() -> None:
        window.choose_method("server.time")
        for count, widget in enumerate(places, start=1):
            widget.setFocus()
            qtbot.keyClick(widget, Qt.Key.Key_Return, CTRL)
            await until(lambda n=count: sb.counters.requests("server.time") >= n and not window.is_busy(),
                        what=f"a send from {type(widget).__name__}")

    before = sb.counters.requests("server.time")
    arun(scenario())
    assert sb.counters.requests("server.time") - before == len(places)


def test_no_stale_answer_after_a_connection_switch_a_method_change_or_a_history_row(make_window, sb, qtbot, arun,
                                                                                   until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    other = ctx.workspace.connections.add_sandbox("Other", Webhook.parse(sb.add_webhook(user_id=1, scopes=["crm"])))
    window.select_connection("Sandbox")  # an added connection is shown at once: back to the first one

    async def scenario() -> None:
        window.choose_method("crm.deal.get")
        window.params_editor.set_text('{"id": 3}')
        await window.send()
        assert jn.to_python(window.response_view.root_value)["result"]["ID"] == "3"

        window.select_connection(other.id)  # another connection: the answer is not its answer
        assert window.response_view.root_value is None
        assert "cleared" in window.response_header.text()

        window.select_connection("Sandbox")
        window.choose_method("crm.deal.get")
        window.params_editor.set_text('{"id": 4}')
        await window.send()
        window.choose_method("crm.deal.list")  # another method: cleared as well
        assert window.response_view.root_value is None
        assert "method changed" in window.response_header.text()

        # A history row shows its own recorded answer.
        panel = ctx.power.history_panel
        await until(lambda: panel.model.rowCount() == 2, what="two history rows")
        first = min(panel.row_ids())
        panel.select_id(first)
        await panel.open_selected()
        await until(lambda: window.response_view.root_value is not None, what="the recorded answer")
        assert jn.to_python(window.response_view.root_value)["result"]["ID"] == "3"
        assert "recorded answer" in window.response_header.text()
        assert window.method_field.method() == "crm.deal.get"

        # A late answer of a request that is no longer on screen is recorded, not shown.
        sb.faults.add(kind="delay", method="crm.deal.get", count=1, seconds=0.6)
        window.params_editor.set_text('{"id": 7}')
        task = window.send()
        assert task is not None
        await asyncio.sleep(0.1)
        window.choose_method("server.time")
        await task
        assert window.response_view.root_value is None
        await until(lambda: panel.model.rowCount() == 3, what="the late answer in the history")

    arun(scenario())


def test_cancel_is_enabled_only_while_a_mode_runs_and_each_mode_has_one_send(make_window, sb, arun,
                                                                             until) -> None:
    ctx = make_window(sb)
    window, power = ctx.window, ctx.power
    assert not window.cancel_action.isEnabled()
    for key, panel in (("batch", power.batch), ("list", power.list_all)):
        window.set_mode(key)
        assert not window.cancel_action.isEnabled(), key
        assert window.send_action.isEnabled(), key
        buttons = [b for b in panel.findChildren(type(power.batch.send_button)) if b.isVisible()]
        assert not [b.text() for b in buttons if b.text() in ("Send batch", "Fetch all", "Cancel")], key

    sb.faults.add(kind="delay", method="batch", count=1, seconds=1.0)

    async def scenario() -> None:
        window.set_mode("batch")
        power.batch.set_text('{"a": ["server.time", {}]}')
        task = window.send()
        assert task is not None
        assert window.cancel_action.isEnabled()
        assert not window.send_action.isEnabled()
        await task
        await until(lambda: not window.cancel_action.isEnabled(), what="Cancel off once the batch is over")

    arun(scenario())
    assert window.send_action.isEnabled()


def test_list_all_starts_without_the_templates_order_and_does_not_warn_about_it(make_window, sb, arun,
                                                                                until) -> None:
    ctx = make_window(sb)
    window, power = ctx.window, ctx.power
    records: list[Any] = []
    ctx.workspace.log_bus.subscribe(records.append)

    async def scenario() -> None:
        await until(lambda: window.method_picker.entries(), what="the method list")
        window.choose_method("crm.deal.list")
        assert "order" in json.loads(window.params_editor.text())  # the single call's template has one
        window.set_mode("list")
        params = json.loads(power.list_all.params_edit.toPlainText())
        assert "order" not in params
        assert "start" not in params
        await window.send()

    arun(scenario())
    assert power.list_all.items_received == len(sb.store.deals)
    assert not [r for r in records if "order" in r.message and r.level.name == "WARNING"]


def test_history_rows_show_their_connection_and_api_in_columns_that_fit(make_window, sb, arun, until) -> None:
    ctx = make_window(sb)
    window, panel = ctx.window, ctx.power.history_panel

    async def scenario() -> None:
        window.choose_method("server.time")
        await window.send()
        window.choose_method("tasks.task.list")
        window.api_switch.set_api(3)
        await window.send()
        await until(lambda: panel.model.rowCount() == 2, what="two history rows")

    arun(scenario())
    headers = [panel.model.headerData(c, Qt.Orientation.Horizontal) for c in range(panel.model.columnCount())]
    assert headers == ["Time", "Connection", "Method", "API", "Status", "Duration"]
    rows = [[panel.model.index(r, c).data() for c in range(len(headers))] for r in range(2)]
    assert [(r[1], r[2], r[3]) for r in rows] == [("Sandbox", "tasks.task.list", "v3"),
                                                  ("Sandbox", "server.time", "v2")]
    ctx.power.history_dock.show()
    ctx.power.history_dock.resize(360, 500)
    QApplication.processEvents()
    table = panel.table
    used = sum(table.columnWidth(c) for c in range(len(headers)))
    assert used <= table.viewport().width() + 2  # no column runs past the dock's edge


def test_the_log_names_the_connection_of_each_request(make_window, sb, arun) -> None:
    ctx = make_window(sb)
    window = ctx.window
    arun(ctx.workspace.connections.webhook("Sandbox"))
    window.choose_method("server.time")
    arun(window.send())
    rows = [row for row in window.log_pane.model.rows if row.method == "server.time"]
    assert rows
    assert {row.connection for row in rows} == {"Sandbox"}


def test_starting_on_the_sandbox_never_calls_the_saved_portal(qapp, qtbot, qloop, app_home, app_globals,
                                                              until) -> None:
    """A second sandbox stands in for the portal saved last; the app starts with --sandbox as it does for a
    user: the saved portal must get no request at all."""
    from b24explorer import app
    from b24explorer.core import vault
    from b24explorer.core.connections import Connection
    from b24explorer.core.state import FileState

    with Sandbox(seed=2, deals=50) as portal:
        hook = Webhook.parse(portal.webhook_url)
        reference = vault.new_reference()
        vault.save_webhook(reference, hook.url)
        settings = FileState()
        settings.save_connections([Connection(reference, "Saved portal", hook.portal, hook.user_id)])
        settings.save_ui_state({"connection": "Saved portal",
                                "last_request": {reference: {"method": "crm.deal.list", "params": "{}"}}})
        ctx = app.build(settings=FileState(), defer_power=True, loop_running=False)
        window = ctx.window
        qtbot.addWidget(window)
        assert window.connection.name == "Saved portal"  # the window opens on it …
        window.show()
        qapp.setQuitOnLastWindowClosed(False)  # the test's loop goes on after the window (app_globals restores)

        async def run() -> None:
            running = asyncio.ensure_future(app.run_window(app.parse_args(["--sandbox"]), qapp, ctx))
            try:
                await until(lambda: window.connection is not None and window.connection.name == "Sandbox",
                            within=30, what="the sandbox connection")
                await until(lambda: window.method_picker.entry("crm.deal.list") is not None, within=20,
                            what="the sandbox's method list")
                await asyncio.sleep(0.5)
                assert portal.counters.requests() == 0  # … but never calls it
                window.select_connection("Saved portal")  # picked by the user: now it is called
                await until(lambda: portal.counters.requests() > 0, what="the portal's method list")
            finally:
                window.close()
                await asyncio.wait_for(running, 20)

        qloop.run_until_complete(asyncio.wait_for(run(), 60))


def test_the_connection_test_says_works_with_notes_for_a_missing_scope_or_a_non_admin(sb, arun) -> None:
    from b24explorer.core.workspace import Workspace
    from b24explorer.ui.connection_dialogs import report_html

    workspace = Workspace()
    admin = arun(workspace.test_connection(Webhook.parse(sb.webhook_url)))
    assert admin.ok
    assert admin.notes == []

    sb.faults.add(kind="status", method="scope", count=1, status=401, code="insufficient_scope",
                  description="The request requires higher privileges than provided by the webhook token")
    no_scope = arun(workspace.test_connection(Webhook.parse(sb.add_webhook(user_id=1, scopes=["crm"]))))
    assert no_scope.ok
    assert no_scope.server_time
    assert no_scope.user["ID"] == "1"
    assert len(no_scope.notes) == 1
    assert "scope" in no_scope.notes[0]
    assert "insufficient_scope" in no_scope.notes[0]
    html = report_html(no_scope)
    assert "Connection works" in html
    assert "Connection test failed" not in html

    user = arun(workspace.test_connection(Webhook.parse(sb.add_webhook(user_id=2, scopes=["crm", "user"]))))
    assert user.ok
    assert [n for n in user.notes if "not an administrator" in n]

    sb.faults.add(kind="status", method="server.time", count=1, status=401, code="INVALID_CREDENTIALS")
    broken = arun(workspace.test_connection(Webhook.parse(sb.webhook_url)))
    assert not broken.ok
    assert "Connection test failed" in report_html(broken)
    arun(workspace.aclose())
