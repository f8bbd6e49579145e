"""The documented API in the window, on the sandbox: every documented method in the picker (also without a
connection), marks for what the connection cannot call, the docs panel, completion of keys and fields in the
params editor, the pre-send checks under the editor and in the log, and the read-only switch."""

from __future__ import annotations

import asyncio
import json

from b24explorer.core.reference import reference_catalog
from b24explorer.core.webhook import Webhook
from b24explorer.ui.method_picker import NOT_GRANTED, NOT_LISTED, PickerEntry, merge_entries
from b24explorer.ui.modes import MODE_BATCH
from b24explorer.ui.qt import Qt, QTextCursor


def documented_names() -> set[str]:
    return {m.name.lower() for m in reference_catalog()}


def features(ctx):
    assert ctx.power is not None
    return ctx.power.reference


def test_every_documented_method_is_findable_without_a_connection(make_window, qtbot, arun, until) -> None:
    ctx = make_window()
    window = ctx.window
    assert window.connection is None

    async def scenario() -> None:
        await until(lambda: len(window.method_picker.entries()) >= len(documented_names()), what="the catalog")
        picker = window.method_picker
        assert {e.name.lower() for e in picker.entries()} == documented_names()
        qtbot.keyClicks(picker.search_box, "deal.productrows.s")
        assert picker.visible_methods()[0] == "crm.deal.productrows.set"
        entry = picker.entry("crm.deal.productrows.set")
        assert (entry.deprecated, entry.available, entry.note) == (True, None, "")
        # the docs panel follows the highlighted method
        assert features(ctx).docs.method == "crm.deal.productrows.set"

    arun(scenario())


def test_the_portal_is_asked_and_what_it_does_not_list_is_marked_not_hidden(make_window, sb, arun, until) -> None:
    ctx = make_window(sb)
    picker = ctx.window.method_picker

    async def loaded() -> None:
        # a connection added while the loop runs (the one of make_window loads its list between two runs of it)
        ctx.workspace.connections.add_sandbox("Sandbox 2", Webhook.parse(sb.webhook_url))
        await until(lambda: picker.granted_scopes is not None and len(picker.entries()) >= len(documented_names()),
                    what="the documented methods and the portal's list")

    arun(loaded())
    assert picker.entry("crm.deal.list").available is not False  # the sandbox lists it
    missing = picker.entry("landing.site.add")  # documented, not a method of the sandbox
    assert (missing.available, missing.note) == (False, NOT_LISTED)
    picker.search_box.setText("landing.site.add")
    assert picker.visible_methods()[0] == "landing.site.add"  # listed all the same, marked
    assert NOT_LISTED in picker.details.text()


def test_scopes_the_webhook_lacks_mark_documented_methods() -> None:
    docs = [PickerEntry("user.get", "user", scopes=("user", "user_brief")), PickerEntry("crm.deal.get", "crm",
                                                                                         scopes=("crm",)),
            PickerEntry("server.time", "basic", scopes=())]
    merged = {e.name: e for e in merge_entries(docs, [], listed=None, granted={"crm"})}
    assert (merged["user.get"].available, merged["user.get"].note) == (False, NOT_GRANTED)
    assert merged["crm.deal.get"].available is None
    assert merged["server.time"].available is None


def test_the_docs_panel_shows_params_flags_and_the_link(make_window, sb, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    arun(until(lambda: features(ctx).catalog is not None, what="the catalog"))
    window.choose_method("crm.deal.productrows.set")
    docs = features(ctx).docs
    assert docs.method == "crm.deal.productrows.set"
    assert docs.rows() == [("id", "integer", "required"), ("rows", "object[]", "")]
    rows = docs.model.item(1, 0)
    assert "PRODUCT_ID" in [rows.child(r, 0).text() for r in range(rows.rowCount())]
    header = docs.header.text()
    assert "REST v2" in header
    assert "scope <i>crm</i>" in header
    assert "deprecated → crm.item.productrow.*" in header
    assert "https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-productrows-set.html" in header
    window.choose_method("tasks.task.list")
    window.api_switch.set_api(3)
    assert "REST v3 (also v2)" in docs.header.text()
    assert "REST v2 twin: tasks.task.list" in docs.header.text()


def _type_at_end(qtbot, editor, before: str, typed: str) -> None:
    editor.setPlainText(before)
    cursor = editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    editor.setTextCursor(cursor)
    editor.setFocus()
    qtbot.keyClicks(editor, typed)


def editing(make_window, sb, arun, until, method: str):
    """The window on the sandbox with ``method`` chosen once the catalog is in: (ctx, completer, editor)."""
    ctx = make_window(sb)
    arun(until(lambda: features(ctx).catalog is not None, what="the catalog"))
    ctx.window.choose_method(method)
    return ctx, features(ctx).completer, ctx.window.params_editor.editor


def test_keys_complete_from_the_methods_params(make_window, sb, qtbot, arun, until) -> None:
    _ctx, completer, editor = editing(make_window, sb, arun, until, "crm.deal.list")
    _type_at_end(qtbot, editor, "{", '"fil')
    assert completer.popup_visible()
    assert completer.shown() == ["filter"]
    qtbot.keyClick(completer.completer.popup(), Qt.Key.Key_Return)
    assert editor.source_text() == '{"filter": '
    # a bare word is quoted when taken
    _type_at_end(qtbot, editor, '{"filter": {}, ', "ord")
    assert completer.shown() == ["order"]
    qtbot.keyClick(completer.completer.popup(), Qt.Key.Key_Tab)
    assert editor.source_text() == '{"filter": {}, "order": '


def test_select_and_filter_complete_field_names_of_the_docs_and_the_portal(make_window, sb, qtbot, arun,
                                                                            until) -> None:
    _ctx, completer, editor = editing(make_window, sb, arun, until, "crm.deal.list")
    before = sb.counters.requests("crm.deal.fields")
    _type_at_end(qtbot, editor, '{"select": [', '"OPPORT')
    shown = completer.shown()
    assert shown[0] == "OPPORTUNITY"  # from the docs (crm.deal.add's fields); starts-with first, then contains
    assert "IS_MANUAL_OPPORTUNITY" in shown

    async def portal_answered() -> None:
        await until(lambda: sb.counters.requests("crm.deal.fields") == before + 1, what="crm.deal.fields")
        await asyncio.sleep(0.1)

    arun(portal_answered())
    _type_at_end(qtbot, editor, '{"select": ["ID"], "filter": {">=', "DATE_CR")
    assert completer.shown() == ["DATE_CREATE"]  # only the portal's crm.deal.fields has it
    qtbot.keyClick(completer.completer.popup(), Qt.Key.Key_Return)
    assert editor.source_text() == '{"select": ["ID"], "filter": {">=DATE_CREATE": '
    assert sb.counters.requests("crm.deal.fields") == before + 1  # asked once


def test_checks_show_under_the_editor_and_in_the_log_and_never_block(make_window, sb, qtbot, arun,
                                                                     until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    bar = features(ctx).bar
    arun(until(lambda: features(ctx).catalog is not None, what="the catalog"))
    window.choose_method("crm.item.list")
    window.params_editor.set_text('{"entityTypeId": 2, "filtr": {">id": 1}}')
    arun(until(lambda: bar.isVisible(), what="the findings under the editor"))
    assert [str(f.code) for f in bar.findings] == ["unknown-key"]
    assert "did you mean 'filter'" in bar.text()
    before = sb.counters.requests("crm.item.list")
    task = window.send()
    assert task is not None
    arun(task)
    assert sb.counters.requests("crm.item.list") == before + 1  # sent all the same
    logged = [r for r in window.log_pane.model.rows if r.code == "PRECHECK_UNKNOWN_KEY"]
    assert logged
    assert "did you mean 'filter'" in logged[-1].message
    window.params_editor.set_text('{"entityTypeId": 2, "filter": {">id": 1}}')
    arun(until(lambda: not bar.isVisible(), what="the findings to go"))


def test_a_read_only_connection_sends_no_write_and_says_why(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window = ctx.window
    ctx.workspace.connections.set_read_only(window.connection_id, True)
    assert window.connection.read_only
    window.choose_method("crm.deal.add")
    window.params_editor.set_text('{"fields": {"TITLE": "never"}}')
    sb.counters.reset()
    assert window.send() is None
    assert "read-only" in window.error_banner.text()
    window.set_mode(MODE_BATCH)
    ctx.power.batch.set_commands({"a": ["crm.deal.delete", {"id": 1}]})
    assert window.send() is None
    assert sb.counters.requests() == 0
    window.set_mode("single")
    window.choose_method("crm.deal.get")
    window.params_editor.set_text('{"id": 1}')
    task = window.send()  # reads still go
    assert task is not None
    arun(task)
    assert sb.counters.requests("crm.deal.get") == 1


def test_the_read_only_switch_is_set_in_the_connection_dialog_and_saved_with_it(make_window, sb, arun, until,
                                                                                 memory_keyring) -> None:
    from test_connections import next_dialog, save_button

    from b24explorer.core.state import FileState
    from b24explorer.ui.connections import ConnectionDialog

    ctx = make_window(settings=FileState())

    async def add_read_only() -> None:
        task = asyncio.ensure_future(ctx.flow.add())
        dialog = await next_dialog(ctx.flow, ConnectionDialog, until)
        dialog.name_edit.setText("Careful")
        dialog.url_edit.setText(sb.webhook_url)
        dialog.read_only_box.setChecked(True)
        save_button(dialog).click()
        assert (await task).read_only

    arun(add_read_only())
    ctx.workspace.state.flush()
    assert [(c.name, c.read_only) for c in FileState().load_connections()] == [("Careful", True)]

    async def switch_off() -> None:
        task = asyncio.ensure_future(ctx.flow.edit(ctx.workspace.connections.get("Careful")))
        dialog = await next_dialog(ctx.flow, ConnectionDialog, until)
        assert dialog.read_only_box.isChecked()
        dialog.read_only_box.setChecked(False)
        save_button(dialog).click()
        await task

    arun(switch_off())
    ctx.workspace.state.flush()
    assert [c.read_only for c in FileState().load_connections()] == [False]


def test_a_documented_method_without_a_hint_starts_from_its_required_params(make_window, arun, until) -> None:
    ctx = make_window()
    window = ctx.window

    async def loaded() -> None:
        await until(lambda: features(ctx).catalog is not None, what="the catalog")

    arun(loaded())
    window.choose_method("catalog.product.add")  # no built-in hint: the editor starts from the docs
    assert json.loads(window.params_editor.text()) == {"fields": {"iblockId": 0, "name": ""}}
    # A method chosen before the catalog came (a restored request) had no template; the load gives it one.
    window.choose_method("sale.order.add")
    window.params_editor.set_template("")
    assert not window.params_editor.template_button.isEnabled()
    arun(features(ctx).load())
    assert window.params_editor.template_button.isEnabled()
    window.params_editor.apply_template()
    assert json.loads(window.params_editor.text()) == {"fields": {"lid": "", "personTypeId": 0, "currency": ""}}
