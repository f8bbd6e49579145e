"""The log pane: every core record with its fields, level colours and filter, copy, masking, the v3 banner."""

from __future__ import annotations

from b24explorer.core.logbus import Level, LogBus
from b24explorer.core.v3 import MIGRATION_CODE, migration_message
from b24explorer.ui.log_pane import LogPane
from b24explorer.ui.qt import QApplication, Qt


def make_pane(qtbot, secrets=()):
    pane = LogPane(secrets=lambda: secrets)
    qtbot.addWidget(pane)
    pane.show()
    bus = LogBus()
    bus.subscribe(pane.on_record)
    return pane, bus


def test_records_show_time_level_connection_code_method_request_id_message(qtbot) -> None:
    from b24explorer.core.logbus import ConnectionLog

    pane, bus = make_pane(qtbot)
    bus.info("HTTP_RESPONSE", "HTTP 200 in 12 ms", method="crm.deal.get", request_id="rid-1")
    names = ["Portal A"]
    ConnectionLog(bus, lambda: names[0]).info("HTTP_RESPONSE", "HTTP 200 in 9 ms", method="crm.deal.list")
    names[0] = "Portal B"  # a rename shows from the next record on
    ConnectionLog(bus, lambda: names[0]).info("HTTP_RESPONSE", "HTTP 200 in 8 ms", method="crm.deal.list")
    qtbot.waitUntil(lambda: len(pane.model.rows) == 3)
    cells = [[pane.model.index(row, col).data() for col in range(7)] for row in range(3)]
    assert cells[0][1:] == ["INFO", "", "HTTP_RESPONSE", "crm.deal.get", "rid-1", "HTTP 200 in 12 ms"]
    assert cells[1][1:] == ["INFO", "Portal A", "HTTP_RESPONSE", "crm.deal.list", "", "HTTP 200 in 9 ms"]
    assert cells[2][2] == "Portal B"
    assert pane.model.headerData(2, Qt.Orientation.Horizontal) == "Connection"
    assert len(cells[0][0]) == len("12:34:56.789")


def test_levels_are_coloured_and_filtered(qtbot) -> None:
    pane, bus = make_pane(qtbot)
    bus.debug("D", "debug")
    bus.info("I", "info")
    bus.warning("W", "warning")
    bus.error("E", "error")
    bus.warning(MIGRATION_CODE, migration_message("tasks.task.get"), method="tasks.task.get")
    qtbot.waitUntil(lambda: len(pane.model.rows) == 5)
    colour = {row.code: pane.model.index(i, 1).data(Qt.ItemDataRole.ForegroundRole)
              for i, row in enumerate(pane.model.rows)}
    assert len({colour["D"].name(), colour["I"].name(), colour["W"].name(), colour["E"].name()}) == 4
    pane.level_combo.setCurrentText("WARNING")
    assert [r.code for r in pane.visible_rows()] == ["W", "E", MIGRATION_CODE]
    pane.level_combo.setCurrentText("ERROR")
    assert [r.code for r in pane.visible_rows()] == ["E", MIGRATION_CODE]  # v3 warnings always show


def test_v3_warning_stands_out_and_offers_the_switch(qtbot) -> None:
    pane, bus = make_pane(qtbot)
    bus.warning("OTHER_WARNING", "something else", method="crm.deal.get")
    bus.warning(MIGRATION_CODE, migration_message("tasks.task.get"), method="tasks.task.get")
    qtbot.waitUntil(lambda: len(pane.model.rows) == 2)
    plain, v3 = (pane.model.index(r, 1) for r in range(2))
    assert plain.data(Qt.ItemDataRole.BackgroundRole) is None
    assert v3.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert v3.data(Qt.ItemDataRole.ForegroundRole) != plain.data(Qt.ItemDataRole.ForegroundRole)
    assert v3.data(Qt.ItemDataRole.DecorationRole).cacheKey() != plain.data(Qt.ItemDataRole.DecorationRole).cacheKey()
    assert pane.banner.isVisible()
    assert "tasks.task.get is available in restApi:v3" in pane.banner.label.text()
    with qtbot.waitSignal(pane.switch_to_v3_requested) as signal:
        pane.banner.button.click()
    assert signal.args == ["tasks.task.get"]
    with qtbot.waitSignal(pane.switch_to_v3_requested) as signal:
        pane.table.doubleClicked.emit(pane.proxy.index(1, 6))
    assert signal.args == ["tasks.task.get"]


def test_copy_puts_selected_rows_on_the_clipboard(qtbot) -> None:
    pane, bus = make_pane(qtbot)
    bus.info("FIRST", "one", method="a.b")
    bus.error("SECOND", "two", method="c.d", request_id="r2")
    qtbot.waitUntil(lambda: len(pane.model.rows) == 2)
    pane.table.selectRow(1)
    pane.copy_selection()
    text = QApplication.clipboard().text()
    assert text.endswith("\tERROR\t\tSECOND\tc.d\tr2\ttwo")
    assert "FIRST" not in text
    pane.table.clearSelection()
    pane.copy_selection()
    assert len(QApplication.clipboard().text().splitlines()) == 2


def test_secrets_are_masked_even_when_a_message_carries_one(qtbot) -> None:
    secret = "k3yQ9x8sEcReT77"
    pane, _bus = make_pane(qtbot, secrets=(secret,))
    # Emitted around the bus's own redaction, as a buggy caller might: the pane still masks.
    pane.on_record(type("R", (), {"level": Level.ERROR, "code": "X", "method": "m",
                                  "request_id": None, "timestamp": None,
                                  "message": f"failed https://p.example/rest/1/{secret}/crm.deal.get"})())
    pane.on_record(type("R", (), {"level": Level.INFO, "code": "Y", "method": "m", "request_id": None,
                                  "timestamp": None, "message": f"the code is {secret}"})())
    qtbot.waitUntil(lambda: len(pane.model.rows) == 2)
    for row in pane.model.rows:
        assert secret not in row.as_text()
    assert "/rest/1/k3…77/" in pane.model.rows[0].message


def test_context_menu_of_a_v3_row_offers_the_switch(qtbot) -> None:
    from b24explorer.ui.qt import QMenu

    pane, bus = make_pane(qtbot)
    bus.warning(MIGRATION_CODE, migration_message("tasks.task.list"), method="tasks.task.list")
    qtbot.waitUntil(lambda: len(pane.model.rows) == 1)
    pos = pane.table.visualRect(pane.proxy.index(0, 3)).center()
    pane._context_menu(pos)
    menu = pane.menu
    assert isinstance(menu, QMenu)
    actions = {a.text(): a for a in menu.actions() if a.isVisible()}
    assert "Copy" in actions
    with qtbot.waitSignal(pane.switch_to_v3_requested) as signal:
        actions["Switch tasks.task.list to v3 and re-send"].trigger()
    assert signal.args == ["tasks.task.list"]
    menu.close()
