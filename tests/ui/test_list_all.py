"""List-all mode against the sandbox: 10,000 deals in at most 5 requests, pages shown as they come, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from b24explorer.core import B24Client, LimitsConfig
from b24explorer.sandbox import Sandbox
from b24explorer.ui.list_all import ListAllPanel
from b24explorer.ui.qt import QModelIndex
from b24explorer.ui.response_view import ResponseView


@pytest.fixture
def big(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(deals=10_000, plan="standard")


def make_panel(qtbot: Any, sandbox: Sandbox, clients: list[B24Client]) -> ListAllPanel:
    client = B24Client(sandbox.webhook_url, limits=LimitsConfig.standard())
    clients.append(client)

    async def provider() -> B24Client:  # the window's provider is async too
        return client

    panel = ListAllPanel(provider, ResponseView())
    qtbot.addWidget(panel)
    panel.show()
    return panel


@pytest.fixture
def clients(arun: Callable[..., Any]) -> Any:
    made: list[B24Client] = []
    yield made
    for client in made:
        arun(client.aclose())


def shown_ids(panel: ListAllPanel) -> list[int]:
    return [int(item["ID"]) for item in panel.response_view.root_value]


def item_rows(model: Any, parent: QModelIndex | None = None) -> int:
    """Rows of items in the tree; a big array shows sub-ranges ([0 … 999] …) whose rows are the items."""
    parent = parent if parent is not None else QModelIndex()
    count = 0
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        count += item_rows(model, index) if model.is_range(index) else 1
    return count



def started(window: Any) -> bool:
    """The window's start-up work (the method list load) is over, however it ended."""
    task = getattr(window, "_methods_task", None)
    return task is None or task.done()

def test_10000_deals_show_10000_rows_in_at_most_5_requests(qtbot: Any, big: Sandbox, clients: list[B24Client],
                                                           arun: Callable[..., Any]) -> None:
    panel = make_panel(qtbot, big, clients)
    panel.set_request("crm.deal.list", {"select": ["ID", "TITLE"], "order": {"TITLE": "DESC"}})
    growth: list[int] = []
    panel.page_arrived.connect(lambda _n: growth.append(len(panel.response_view.root_value)))
    task = panel.start()
    assert task is not None
    assert panel.is_busy()
    arun(task, timeout=60)

    assert panel.last_error is None
    assert item_rows(panel.response_view.model) == 10_000
    assert panel.items_shown == 10_000
    assert sorted(shown_ids(panel)) == sorted(int(d["ID"]) for d in big.store.deals)
    # one plain page and four batches; on first contact also the portal's v3 method list (then cached on disk)
    assert big.counters.requests("crm.deal.list") + big.counters.requests("batch") == 5
    assert big.counters.requests() - big.counters.requests("rest.documentation.openapi") == 5
    assert panel.progress.requests == big.counters.requests()
    assert panel.progress.items == 10_000
    # Rows were appended page by page while the fetch ran, not all at the end.
    assert len(growth) > 1
    assert growth == sorted(growth)
    assert growth[0] < 10_000
    assert panel.progress.total is None  # never counted: the portal is not asked for the list's size
    assert "Done: 10,000 items" in panel.progress_label.text()
    assert f"{panel.progress.requests} requests" in panel.progress_label.text()


def test_cancel_halfway_keeps_the_rows_that_arrived(qtbot: Any, big: Sandbox, clients: list[B24Client],
                                                    arun: Callable[..., Any]) -> None:
    panel = make_panel(qtbot, big, clients)
    panel.set_request("crm.deal.list", {"select": ["ID"]})

    def halfway(items: int) -> None:
        if items == 2_500:
            # Each batch is sent before the previous one's rows are shown: the third one (and maybe the
            # second, if the server has not taken it yet) hangs on the server.
            big.faults.add(kind="delay", method="batch", count=2, seconds=3.0)
        if items == 5_050:  # the first page and two batches are shown
            asyncio.get_event_loop().call_later(0.2, panel.cancel)  # while the third batch is in flight

    panel.page_arrived.connect(halfway)
    arun(panel.start(), timeout=30)

    rows = item_rows(panel.response_view.model)
    assert panel.cancelled
    assert panel.last_error is None
    assert rows == 5_050
    assert panel.items_shown == 5_050
    assert rows == panel.items_received
    assert sorted(shown_ids(panel)) == list(range(1, 5_051))
    assert "Cancelled — kept 5,050 items" in panel.progress_label.text()
    assert panel.progress_bar.value() == 0  # no total to measure against: not shown as done
    assert panel.progress_bar.maximum() == 1
    assert panel.start_button.isEnabled()
    assert not panel.cancel_button.isEnabled()


def test_an_api_error_keeps_earlier_rows_and_says_what_failed(qtbot: Any, sb: Sandbox, clients: list[B24Client],
                                                              arun: Callable[..., Any]) -> None:
    panel = make_panel(qtbot, sb, clients)
    panel.set_request("crm.nothing.list", {})
    arun(panel.start())
    assert panel.last_error is not None
    assert "ERROR_METHOD_NOT_FOUND" in panel.progress_label.text()
    assert panel.response_view.root_value["code"] == "ERROR_METHOD_NOT_FOUND"


def test_bad_params_are_refused_before_any_request(qtbot: Any, sb: Sandbox, clients: list[B24Client]) -> None:
    panel = make_panel(qtbot, sb, clients)
    panel.set_request("crm.deal.list")
    panel.params_edit.setPlainText('{"filter": ')
    assert panel.start() is None
    assert "line 1, column" in panel.progress_label.text()
    panel.params_edit.setPlainText("[1]")
    assert panel.start() is None
    panel.method_edit.setText("")
    assert panel.start() is None
    assert sb.counters.requests() == 0


def test_wrapped_items_of_crm_item_list(qtbot: Any, sb: Sandbox, clients: list[B24Client],
                                         arun: Callable[..., Any]) -> None:
    panel = make_panel(qtbot, sb, clients)
    panel.set_request("crm.item.list", {"entityTypeId": 2, "select": ["id", "title"]})
    arun(panel.start())
    assert panel.last_error is None
    assert item_rows(panel.response_view.model) == len(sb.store.deals)


def test_list_all_mode_in_the_window_starts_from_the_single_request(make_window: Any, sb: Sandbox,
                                                                    arun: Callable[..., Any], until: Any) -> None:
    ctx = make_window(sb)
    window, panel = ctx.window, ctx.power.list_all
    arun(until(lambda: started(window), what="the window's start-up work"))
    window.choose_method("crm.deal.list")
    window.params_editor.set_text('{"filter": {">ID": 150}, "select": ["ID"]}')
    window.set_mode("list")
    assert window.mode_stack.currentWidget() is panel
    assert panel.method_edit.text() == "crm.deal.list"
    history = ctx.power.history_panel

    async def fetch_and_record() -> None:
        # One run of the loop for both: qasync steps leftover callbacks outside the loop after each run.
        task = window.send()
        assert task is not None
        await task
        await until(lambda: history.model.rowCount() == 1, what="the list-all in the history")

    arun(fetch_and_record())
    assert sorted(shown_ids(panel)) == [int(d["ID"]) for d in sb.store.deals if int(d["ID"]) > 150]
    assert history.model.index(0, history.METHOD_COLUMN).data() == "crm.deal.list (all items)"


def test_the_panel_takes_a_client_directly_and_brings_its_own_tree(qtbot: Any, sb: Sandbox,
                                                                  clients: list[B24Client],
                                                                  arun: Callable[..., Any]) -> None:
    client = B24Client(sb.webhook_url, limits=LimitsConfig.unlimited())
    clients.append(client)
    panel = ListAllPanel(client)
    qtbot.addWidget(panel)
    panel.set_request("crm.deal.list", {"select": ["ID"]})
    arun(panel.start())
    assert isinstance(panel.response_view, ResponseView)
    assert panel.items_shown == len(sb.store.deals)
