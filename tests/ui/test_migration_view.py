"""The v3 warning's action in the real window on the sandbox (which validates v3 params strictly): Ctrl+Shift+M
opens the v3 form beside the v2 request, sends it, matches the answers field by field; untranslatable parts are
listed and nothing goes over v3; a write is not sent twice over v2; keep v3; copy as code; the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from b24explorer.core import migration
from b24explorer.ui.modes import MODE_MIGRATION, MODE_SINGLE
from b24explorer.ui.qt import QApplication, Qt

GET_PARAMS = {"taskId": 1, "select": ["ID", "TITLE"]}


def send_single(window: Any, method: str, params: Any, arun: Any) -> None:
    async def go() -> None:
        window.choose_method(method)
        window.api_switch.set_api(2)
        window.params_editor.set_text(json.dumps(params))
        task = window.send()
        assert task is not None
        await task

    arun(go())


def press_migrate(window: Any, view: Any, qtbot: Any, arun: Any, until: Any) -> None:
    async def press() -> None:  # inside the running loop, as in the app: the action starts tasks
        window.activateWindow()
        qtbot.keyClick(window, Qt.Key.Key_M,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        await until(lambda: window.current_mode() == MODE_MIGRATION, what="the migration view")
        # the view translated and (when clean) sent; awaited in the same run of the loop as in the app
        await until(lambda: view.translation is not None and not view.is_busy(), what="the migration")

    arun(press())


def history_rows(ctx: Any, arun: Any) -> list[Any]:
    async def read() -> list[Any]:
        await ctx.window.settle(grace=2.0)
        return await ctx.workspace.history.asearch()

    return arun(read())


def test_ctrl_shift_m_sends_the_v3_form_and_matches_the_answers(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window, view = ctx.window, ctx.power.migration.view
    send_single(window, "tasks.task.get", GET_PARAMS, arun)
    assert window.log_pane.banner.isVisible()
    assert "Ctrl+Shift+M" in window.log_pane.banner.button.text()
    v2_requests = sb.counters.requests("tasks.task.get")

    press_migrate(window, view, qtbot, arun, until)
    assert json.loads(view.v3_text.toPlainText()) == {"id": 1, "select": ["id", "title"]}
    assert json.loads(view.v2_text.toPlainText()) == GET_PARAMS
    assert view.run.v3.ok, view.status_text()
    # The v2 answer was at hand: only the v3 call went out.
    assert sb.counters.requests("tasks.task.get") == v2_requests + 1
    cells = [[view.model.item(r, c).text() for c in range(5)] for r in range(view.model.rowCount())]
    assert ["task.id", '"1"', "item.id", "1", "same"] in cells
    title = next(row for row in cells if row[0] == "task.title")
    assert title[2:] == ["item.title", title[1], "same"]
    assert not window.log_pane.banner.isVisible()

    rows = history_rows(ctx, arun)
    assert [(r.method, r.api) for r in rows[:2]] == [("tasks.task.get", 3), ("tasks.task.get", 2)]
    assert rows[0].params_value() == {"id": 1, "select": ["id", "title"]}
    assert rows[0].status == 200
    assert len(rows) == 2  # the v2 call was recorded once, by the single view


def test_differences_are_highlighted_both_ways(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window, view = ctx.window, ctx.power.migration.view
    send_single(window, "tasks.task.get", {"taskId": 1}, arun)
    press_migrate(window, view, qtbot, arun, until)
    statuses = view.row_statuses()
    assert migration.Match.SAME in statuses
    assert migration.Match.ONLY_V2 in statuses  # a v2 field v3 does not have (e.g. task.notViewed)
    for row, status in enumerate(statuses):
        background = view.model.item(row, 0).background().color().name()
        assert (status is migration.Match.SAME) == (background == "#000000"), (row, status, background)
    view.differences_box.setChecked(True)
    shown = [status for row, status in enumerate(statuses) if not view.table.isRowHidden(row)]
    assert shown
    assert migration.Match.SAME not in shown
    assert len(shown) == sum(1 for status in statuses if status is not migration.Match.SAME)


def test_untranslatable_parts_are_listed_and_nothing_goes_over_v3(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window, view = ctx.window, ctx.power.migration.view
    send_single(window, "tasks.task.list", {"filter": {"%TITLE": "alpha"}, "select": ["ID"]}, arun)
    before = sb.counters.requests("tasks.task.list")
    press_migrate(window, view, qtbot, arun, until)
    problems = [view.problems.item(i).text() for i in range(view.problems.count())]
    assert any("filter.%TITLE" in text and "no REST v3 twin" in text for text in problems), problems
    assert "nothing was sent" in view.status_text()
    assert not view.send_button.isEnabled()
    assert view.send() is None
    assert sb.counters.requests("tasks.task.list") == before

    task = view.send(partial=True)
    assert task is not None
    arun(task)
    assert view.run is not None
    assert view.run.v3.ok
    assert sb.counters.requests("tasks.task.list") == before + 1


def test_a_write_is_not_sent_twice_over_v2(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window, view = ctx.window, ctx.power.migration.view
    send_single(window, "tasks.task.add", {"fields": {"TITLE": "Write once", "RESPONSIBLE_ID": 1, "CREATED_BY": 1}},
                arun)
    writes = sb.counters.writes("tasks.task.add")
    press_migrate(window, view, qtbot, arun, until)
    assert view.run.v3 is not None  # the v3 form went out
    rows = history_rows(ctx, arun)
    assert [(r.method, r.api) for r in rows] == [("tasks.task.add", 3), ("tasks.task.add", 2)]
    # Over v2 it was sent once (by the single view); whatever v3 did, no second v2 write happened.
    assert sb.counters.writes("tasks.task.add") - writes == (1 if view.run.v3.ok else 0)


def test_keep_v3_makes_the_method_start_on_v3(make_window, sb, qtbot, arun, until, app_home: Path) -> None:
    ctx = make_window(sb)
    window, feature = ctx.window, ctx.power.migration
    view = feature.view
    send_single(window, "tasks.task.get", GET_PARAMS, arun)
    press_migrate(window, view, qtbot, arun, until)
    feature.view.keep_box.setChecked(True)
    kept_file = feature.kept.path
    arun(until(lambda: kept_file.exists(), what="the kept methods written"))
    assert json.loads(kept_file.read_text()) == {window.connection_id: ["tasks.task.get"]}
    assert window.api_switch.api() == 3
    assert json.loads(window.params_editor.text()) == {"id": 1, "select": ["id", "title"]}

    feature.view.back_button.click()
    assert window.current_mode() == MODE_SINGLE
    window.choose_method("crm.deal.list")
    assert window.api_switch.api() == 2
    window.choose_method("tasks.task.get")
    assert window.api_switch.api() == 3
    assert migration.KeptV3(kept_file).keeps(window.connection_id, "tasks.task.get")  # remembered on disk


def test_copy_the_v3_form_as_code_with_the_secret_masked(make_window, sb, qtbot, arun, until) -> None:
    ctx = make_window(sb)
    window, view = ctx.window, ctx.power.migration.view
    send_single(window, "tasks.task.get", GET_PARAMS, arun)
    press_migrate(window, view, qtbot, arun, until)
    for fmt in ("js", "b24pysdk", "curl", "python"):
        code = arun(view.copy_as(fmt))
        assert code == QApplication.clipboard().text()
        assert "tasks.task.get" in code
        assert "taskId" not in code
        assert sb.secret not in code
    assert "/rest/api/" in arun(view.copy_as("curl"))


def test_the_report_lists_v2_calls_and_opens_one_in_the_migration_view(make_window, sb, qtbot, arun,
                                                                        until) -> None:
    ctx = make_window(sb)
    window, feature = ctx.window, ctx.power.migration
    send_single(window, "tasks.task.get", GET_PARAMS, arun)
    send_single(window, "tasks.task.list", {"filter": {"%TITLE": "alpha"}}, arun)
    history_rows(ctx, arun)  # recorded
    task = feature.show_report()
    assert task is not None
    dialog = arun(task)
    rows = {row[0]: row for row in dialog.rows()}
    assert rows["tasks.task.get"][1:4] == ["1", "1 of 1", "ready"]
    assert rows["tasks.task.list"][3] == "needs changes"
    assert "filter.%TITLE" in rows["tasks.task.list"][4]
    dialog.table.selectRow(list(rows).index("tasks.task.get"))

    async def migrate() -> None:
        dialog.migrate_button.click()
        await until(lambda: feature.view.run is not None and not feature.view.is_busy(),
                    what="the migration of the report's method")

    arun(migrate())
    assert window.current_mode() == MODE_MIGRATION
    assert feature.view.method == "tasks.task.get"
