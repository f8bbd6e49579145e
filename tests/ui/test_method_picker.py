"""The method picker: search (deal.li → crm.deal.list), groups by scope, recent first, v3 flag, docs link."""

from __future__ import annotations

from b24explorer.ui.method_picker import RECENT_GROUP, MethodPicker, PickerEntry, search
from b24explorer.ui.qt import Qt

ENTRIES = [
    PickerEntry("crm.deal.list", "crm", docs_url="https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-list.html",
                title="List deals"),
    PickerEntry("crm.deal.get", "crm"),
    PickerEntry("crm.dealcategory.list", "crm"),
    PickerEntry("crm.item.list", "crm"),
    PickerEntry("tasks.task.get", "task", v3=True),
    PickerEntry("tasks.task.access.get", "task", v3=True, v2=False),
    PickerEntry("user.get", "user"),
    PickerEntry("server.time", "basic"),
]


def test_search_ranks_dotted_prefixes() -> None:
    assert [e.name for e in search(ENTRIES, "deal.li")][:2] == ["crm.deal.list", "crm.dealcategory.list"]
    assert search(ENTRIES, "crm.deal.get")[0].name == "crm.deal.get"
    assert search(ENTRIES, "time")[0].name == "server.time"
    assert search(ENTRIES, "zzz") == []


def test_grouped_by_scope_with_recent_first(qtbot) -> None:
    picker = MethodPicker()
    qtbot.addWidget(picker)
    picker.set_methods(ENTRIES)
    groups = [picker.model.item(r, 0).text().split("  ")[0] for r in range(picker.model.rowCount())]
    assert groups == ["basic", "crm", "task", "user"]
    picker.note_used("user.get")
    picker.note_used("crm.deal.get")
    groups = [picker.model.item(r, 0).text().split("  ")[0] for r in range(picker.model.rowCount())]
    assert groups[0] == RECENT_GROUP
    recent = picker.model.item(0, 0)
    assert [recent.child(r, 0).text() for r in range(recent.rowCount())] == ["crm.deal.get", "user.get"]


def test_typing_and_enter_choose_the_top_hit(qtbot) -> None:
    picker = MethodPicker()
    qtbot.addWidget(picker)
    picker.set_methods(ENTRIES)
    picker.show()
    qtbot.keyClicks(picker.search_box, "deal.li")
    with qtbot.waitSignal(picker.method_chosen) as chosen:
        qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    assert chosen.args == ["crm.deal.list"]
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Down)
    assert picker.current_method() == "crm.dealcategory.list"


def test_unknown_full_name_can_still_be_called(qtbot) -> None:
    picker = MethodPicker()
    qtbot.addWidget(picker)
    picker.set_methods(ENTRIES)
    qtbot.keyClicks(picker.search_box, "rpa.item.list")
    with qtbot.waitSignal(picker.method_chosen) as chosen:
        picker.choose_current()
    assert chosen.args == ["rpa.item.list"]


def test_entries_show_v3_availability_and_the_docs_link(qtbot) -> None:
    picker = MethodPicker()
    qtbot.addWidget(picker)
    picker.set_methods(ENTRIES)
    qtbot.keyClicks(picker.search_box, "tasks.task")
    api_column = {picker.model.item(0, 0).child(r, 0).text(): picker.model.item(0, 0).child(r, 1).text()
                  for r in range(picker.model.item(0, 0).rowCount())}
    assert api_column == {"tasks.task.get": "v2·v3", "tasks.task.access.get": "v3"}
    picker.search_box.setText("crm.deal.list")
    assert picker.current_method() == "crm.deal.list"
    assert 'href="https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-list.html"' in picker.details.text()
    assert "List deals" in picker.details.text()


def test_context_menu_uses_the_entry_and_hides_docs_without_a_page(qtbot) -> None:
    picker = MethodPicker()
    qtbot.addWidget(picker)
    picker.set_methods(ENTRIES)
    picker.show()
    picker.search_box.setText("server.time")
    index = picker.tree.currentIndex()
    picker._context_menu(picker.tree.visualRect(index).center())
    assert not picker.docs_action.isVisible()  # server.time has no docs page in ENTRIES
    with qtbot.waitSignal(picker.method_chosen) as chosen:
        picker.use_action.trigger()
    assert chosen.args == ["server.time"]
    picker.menu.close()
