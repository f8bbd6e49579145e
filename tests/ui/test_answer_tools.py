"""The Diff, Table and Limits docks (issue 15, points 7-9) on the sandbox: real answers over loopback HTTP, the
history in a real SQLite file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from b24explorer.core.webhook import Webhook
from b24explorer.ui.diff_view import DiffView
from b24explorer.ui.qt import QApplication, Qt
from b24explorer.ui.table_view import TableView


def diff_rows(view: DiffView) -> list[tuple[str, str, str, str]]:
    model = view.model
    return [tuple(model.index(r, c).data() for c in range(4)) for r in range(model.rowCount())]


def test_the_answer_against_a_pinned_baseline(make_window, sb, arun, until) -> None:
    ctx = make_window(sb)
    window, tools = ctx.window, ctx.power.answer_tools

    async def scenario() -> None:
        window.choose_method("crm.deal.list")
        window.params_editor.set_text('{"select": ["ID", "TITLE"], "filter": {"<=ID": 5}}')
        await window.send()
        assert tools.pin_baseline()
        client = await ctx.workspace.client("Sandbox")
        await client.call("crm.deal.update", {"id": 3, "fields": {"TITLE": "Renamed for the diff"}})
        await client.call("crm.deal.delete", {"id": 4})
        await window.send()
        assert tools.compare_with_baseline()
        await until(lambda: not tools.diff.running, what="the diff")

    arun(scenario())
    rows = diff_rows(tools.diff)
    title = [r for r in rows if r[1] == "$.result[ID=3].TITLE"]
    assert len(title) == 1
    assert title[0][0] == "~ changed"
    assert title[0][3] == '"Renamed for the diff"'
    assert any(r[0] == "− removed" and r[1] == "$.result[ID=4]" for r in rows)
    assert "removed" in tools.diff.summary.text()
    assert tools.diff_dock.isVisible()


def test_two_history_rows_and_the_same_request_on_two_connections(make_window, sb, arun, until) -> None:
    ctx = make_window(sb)
    window, tools, panel = ctx.window, ctx.power.answer_tools, ctx.power.history_panel
    crm_only = ctx.workspace.connections.add_sandbox("CRM only",
                                                     Webhook.parse(sb.add_webhook(user_id=2, scopes=["crm"])))
    window.select_connection("Sandbox")

    async def scenario() -> None:
        window.choose_method("crm.deal.get")
        window.params_editor.set_text('{"id": 1}')
        await window.send()
        window.params_editor.set_text('{"id": 2}')
        await window.send()
        await until(lambda: panel.model.rowCount() == 2, what="two history rows")
        older, newer = sorted(panel.row_ids())
        assert not await tools.history_row_to(0, older)
        assert await tools.history_row_to(1, newer)
        await until(lambda: not tools.diff.running, what="the history rows' diff")
        rows = diff_rows(tools.diff)
        assert ("~ changed", "$.result.ID", '"1"', '"2"') in rows
        assert f"#{older}" in tools.diff.left_label.text()

        # The same request through another connection: the user 2 webhook reads the same deal.
        tools.connection_combo.setCurrentIndex(tools.connection_combo.findData(crm_only.id))
        before = sb.counters.requests("crm.deal.get")
        assert await tools.same_request_on(crm_only.id)
        await until(lambda: not tools.diff.running, what="the two connections' diff")
        assert sb.counters.requests("crm.deal.get") == before + 1
        assert "CRM only" in tools.diff.right_label.text()
        await until(lambda: panel.model.rowCount() == 3, what="the other connection's request in the history")

    arun(scenario())
    summary = tools.diff.summary.text()
    assert "Identical" in summary or "differences" in summary  # only the time block may differ
    assert all(not r[1].startswith("$.result.") for r in diff_rows(tools.diff))


def test_a_diff_of_big_answers_fills_while_the_loop_turns(qtbot, sb, arun, until) -> None:
    import httpx

    params = {"select": ["ID", "TITLE", "OPPORTUNITY", "STAGE_ID"]}
    before = httpx.post(sb.webhook_url + "crm.deal.list", json={**params, "start": -1}).content
    after = json.loads(before)
    after["result"][7]["TITLE"] = "changed"
    del after["result"][12]
    view = DiffView()
    qtbot.addWidget(view)
    slices: list[int] = []
    view.runner.progressed.connect(lambda _p: slices.append(view.model.rowCount()))
    view.compare(before, json.dumps(after).encode(), "before", "after")
    assert view.running
    qtbot.waitUntil(lambda: not view.running, timeout=20_000)
    kinds = {r[0] for r in diff_rows(view)}
    assert kinds == {"~ changed", "− removed"}
    assert "1 removed" in view.summary.text()


def test_the_table_view_sorts_exports_and_streams_list_all(make_window, sb, arun, until, tmp_path: Path) -> None:
    ctx = make_window(sb)
    window, tools, power = ctx.window, ctx.power.answer_tools, ctx.power
    table: TableView = tools.table

    async def scenario() -> None:
        window.choose_method("crm.deal.list")
        window.params_editor.set_text('{"select": ["ID", "TITLE", "OPPORTUNITY"], "filter": {"<=ID": 40}}')
        await window.send()

    arun(scenario())
    model = table.model
    assert table.array_combo.currentText() == "/result"
    assert model.rowCount() == 40
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["ID", "TITLE", "OPPORTUNITY"]

    amounts = sorted((float(d["OPPORTUNITY"] or 0) for d in sb.store.deals if int(d["ID"]) <= 40), reverse=True)
    column = headers.index("OPPORTUNITY")
    table.table.horizontalHeader().sectionClicked.emit(column)  # ascending
    arun(until(lambda: not table.sorter.running and model.table.sorted_by == ("OPPORTUNITY", False),
               what="the sort"))
    table.table.horizontalHeader().sectionClicked.emit(column)  # again: descending
    arun(until(lambda: not table.sorter.running and model.table.sorted_by == ("OPPORTUNITY", True),
               what="the descending sort"))
    shown = [float(model.index(r, column).data() or 0) for r in range(model.rowCount())]
    assert shown == amounts

    table.export(str(tmp_path / "deals.csv"), "csv")
    arun(until(lambda: "Exported" in table.status.text(), what="the CSV"))
    with open(tmp_path / "deals.csv", newline="", encoding="utf-8") as f:
        written = list(csv.reader(f))
    assert written[0] == headers
    assert len(written) == 41
    assert [float(r[2] or 0) for r in written[1:]] == amounts  # the order shown
    table.export(str(tmp_path / "deals.ndjson"), "ndjson")
    arun(until(lambda: "deals.ndjson" in table.status.text(), what="the NDJSON"))
    lines = (tmp_path / "deals.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40
    assert set(json.loads(lines[0])) == {"ID", "TITLE", "OPPORTUNITY"}

    # list-all streams into the table
    async def list_all() -> None:
        window.set_mode("list")
        power.list_all.set_request("crm.deal.list", {"filter": {"<ID": 300}, "select": ["ID", "TITLE"]})
        await window.send()

    pages: list[int] = []
    table.model.rowsInserted.connect(lambda *_a: pages.append(table.model.rowCount()))
    arun(list_all())
    assert table.model.rowCount() == power.list_all.items_received == len([d for d in sb.store.deals if int(d["ID"]) < 300])
    assert len(pages) > 1  # row groups came in as pages arrived
    assert "(all items)" in table.array_combo.currentText()


def test_the_limits_panel_draws_the_methods_operating_time_and_the_bucket(make_window, sb, arun,
                                                                         until) -> None:
    ctx = make_window(sb)
    window, tools = ctx.window, ctx.power.answer_tools
    tools.limits_dock.show()
    tools.limits_dock.raise_()
    blank = tools.limits.grab().toImage()

    async def scenario() -> None:
        window.choose_method("crm.deal.list")
        window.params_editor.set_text('{"select": ["ID"]}')
        for _ in range(3):
            await window.send()
        await until(lambda: tools.limits.snapshot is not None and tools.limits.snapshot.budgets,
                    what="a budget in the snapshot")

    arun(scenario())
    tools.limits.refresh()
    snapshot = tools.limits.snapshot
    budget = next(b for b in snapshot.budgets if b.method == "crm.deal.list")
    assert budget.used > 0
    assert budget.limit == 480
    assert len(snapshot.series[2]) >= 3
    QApplication.processEvents()
    drawn = tools.limits.grab().toImage()
    assert drawn != blank  # the picture changed with the requests
    assert _colour_count(drawn) > _colour_count(blank)


def _colour_count(image: Any) -> int:
    return len({image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)})
