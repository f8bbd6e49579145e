"""The history panel over a real SQLite file: search, open, re-send, delete, clear, saved requests, restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from b24explorer.core import B24Client
from b24explorer.core.history import HistoryStore
from b24explorer.core.outcome import RequestKind, RequestOutcome
from b24explorer.sandbox import Sandbox
from b24explorer.ui import json_node as jn
from b24explorer.ui.history_panel import HistoryPanel, StoredRequest
from b24explorer.ui.qt import QGuiApplication, Qt


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


class Sender:
    """Plays the window's part: sends a stored request with the client and records it in the history."""

    def __init__(self, client: B24Client, store: HistoryStore, secret: str) -> None:
        self.client, self.store, self.secret = client, store, secret
        self.results: list[Any] = []
        self.opened: list[StoredRequest] = []

    async def send(self, request: StoredRequest) -> Any:
        if request.kind == "batch":
            result = await self.client.batch(request.params["cmd"], halt=request.params["halt"], api=request.api)
            res = result.response
            await self.store.arecord(connection=request.connection, kind="batch", method="batch", api=request.api,
                                     params=request.params, status=res.status, duration=res.elapsed, size=res.size,
                                     response=res.raw, request_id=res.request_id or "", secrets=(self.secret,))
            self.results.append(result.data)
            return result
        res = await self.client.call(request.method, request.params, api=request.api)
        outcome = RequestOutcome(request.connection, request.connection, RequestKind.CALL, request.method,
                                 request.api, request.params).answered(res, 0.0)
        await self.store.arecord_outcome(outcome, (self.secret,))
        self.results.append(res.result)
        return res

    def open(self, request: StoredRequest) -> None:
        self.opened.append(request)


def make_panel(qtbot: Any, store: HistoryStore, sender: Sender | None, **kwargs: Any) -> HistoryPanel:
    panel = HistoryPanel(store, on_open=sender.open if sender else None, on_send=sender.send if sender else None,
                         **kwargs)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def methods_shown(panel: HistoryPanel) -> list[str]:
    return [panel.model.index(row, HistoryPanel.METHOD_COLUMN).data() for row in range(panel.model.rowCount())]



def started(window: Any) -> bool:
    """The window's start-up work (the method list load) is over, however it ended."""
    task = getattr(window, "_methods_task", None)
    return task is None or task.done()

def test_history_survives_a_restart_and_resends(qtbot: Any, sb: Sandbox, client: B24Client, db: Path,
                                                arun: Callable[..., Any]) -> None:
    first = HistoryStore(db)
    sender = Sender(client, first, sb.secret)
    arun(sender.send(StoredRequest("Sandbox", "call", "crm.deal.get", 2, {"id": 11})))
    arun(sender.send(StoredRequest("Sandbox", "call", "crm.deal.list", 2, {"filter": {"<ID": 4},
                                                                           "select": ["ID"]})))
    arun(sender.send(StoredRequest("Sandbox", "batch", "batch", 2,
                                   {"cmd": {"d": ["crm.deal.get", {"id": 2}]}, "halt": True})))
    first_answer = sender.results[0]
    first.close()

    # A new store on the same file: the application started again.
    second = HistoryStore(db)
    sender2 = Sender(client, second, sb.secret)
    panel = make_panel(qtbot, second, sender2)
    assert arun(panel.refresh()) == 3
    assert methods_shown(panel) == ["batch ×1", "crm.deal.list", "crm.deal.get"]

    requests_before = sb.counters.requests("crm.deal.get")
    assert panel.select_id(panel.row_ids()[2])
    arun(panel.send_selected())
    assert sb.counters.requests("crm.deal.get") == requests_before + 1
    assert sender2.results == [first_answer]
    assert "Sent again: crm.deal.get" in panel.status.text()

    # The re-sent request is recorded too: the newest row.
    assert arun(panel.refresh()) == 4
    assert methods_shown(panel)[0] == "crm.deal.get"

    # A batch entry re-sends as a batch.
    panel.select_id(panel.row_ids()[1])
    arun(panel.send_selected())
    assert sender2.results[-1] == {"d": sender2.results[-1]["d"]}
    assert sender2.results[-1]["d"]["ID"] == "2"
    second.close()

    for path in db.parent.iterdir():
        assert sb.secret.encode() not in path.read_bytes(), path.name


def test_search_filters_open_delete_and_clear(qtbot: Any, db: Path, arun: Callable[..., Any], until: Any) -> None:
    store = HistoryStore(db)
    store.record(connection="Portal A", method="crm.deal.list", params={"filter": {"STAGE_ID": "WON"}},
                 status=200, duration=0.2, size=2048)
    store.record(connection="Portal A", method="crm.deal.get", params={"id": 99}, status=400,
                 error_code="NOT_FOUND")
    store.record(connection="Portal B", method="user.current", status=200)
    sender = Sender.__new__(Sender)
    sender.opened = []
    panel = make_panel(qtbot, store, sender, current_connection=lambda: "Portal A")
    assert arun(panel.refresh()) == 3

    panel.search_edit.setText("deal")
    assert arun(panel.refresh()) == 2
    panel.search_edit.setText("STAGE_ID")  # params text
    assert arun(panel.refresh()) == 1
    assert methods_shown(panel) == ["crm.deal.list"]
    panel.search_edit.setText("not_found")  # error code, any case
    assert arun(panel.refresh()) == 1
    assert methods_shown(panel) == ["crm.deal.get"]
    panel.search_edit.setText("")
    panel.errors_box.setChecked(True)
    assert arun(panel.refresh()) == 1
    panel.errors_box.setChecked(False)
    panel.this_connection_box.setChecked(True)
    assert arun(panel.refresh()) == 2
    panel.this_connection_box.setChecked(False)
    assert arun(panel.refresh()) == 3

    # Open hands the request (params as JSON values) to the editor.
    panel.select_id(panel.row_ids()[2])
    arun(panel.open_selected())
    assert sender.opened == [StoredRequest("Portal A", "call", "crm.deal.list", 2,
                                           {"filter": {"STAGE_ID": "WON"}}, "", entry_id=panel.row_ids()[2])]
    arun(panel._load_details(panel.row_ids()[2]))
    assert "STAGE_ID" in panel.details.toPlainText()

    arun(panel.delete_selected())
    assert methods_shown(panel) == ["user.current", "crm.deal.get"]
    assert store.count() == 2

    # The keyboard: Enter opens, Delete deletes.
    panel.table.setFocus()
    panel.select_id(panel.row_ids()[1])
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    arun(until(lambda: len(sender.opened) == 2, what="Enter to open"))
    assert sender.opened[-1].method == "crm.deal.get"
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    arun(until(lambda: store.count() == 1, what="Delete to delete"))
    arun(panel.refresh())
    assert methods_shown(panel) == ["user.current"]

    arun(panel.clear_history(confirm=False))
    assert panel.model.rowCount() == 0
    assert store.count() == 0
    assert "cleared" in panel.status.text()
    assert "(1 request)" in panel.status.text()
    store.close()


def test_saved_requests_are_named_and_grouped_per_connection(qtbot: Any, sb: Sandbox, client: B24Client, db: Path,
                                                             arun: Callable[..., Any]) -> None:
    store = HistoryStore(db)
    store.record(connection="Sandbox", method="crm.deal.get", params={"id": 5}, status=200)
    current = StoredRequest("Other portal", "call", "user.current", 2, {})
    sender = Sender(client, store, sb.secret)
    panel = make_panel(qtbot, store, sender, current_request=lambda: current,
                       secrets=lambda: (sb.secret,))
    arun(panel.refresh())

    panel.select_id(panel.row_ids()[0])
    arun(panel.save_selected())  # no name yet
    assert "name" in panel.status.text()
    panel.save_name_edit.setText("deal five")
    arun(panel.save_selected())
    panel.saved_name_edit.setText("who am I")
    arun(panel.save_current())
    assert panel.saved_names() == {"Other portal": ["who am I"], "Sandbox": ["deal five"]}

    # Saved requests survive a restart too, and can be sent.
    store.close()
    again = HistoryStore(db)
    sender.store = again
    panel2 = make_panel(qtbot, again, sender)
    arun(panel2.refresh())
    assert panel2.saved_names() == {"Other portal": ["who am I"], "Sandbox": ["deal five"]}
    assert panel2.select_saved("deal five", "Sandbox")
    before = sb.counters.requests("crm.deal.get")
    arun(panel2.send_saved())
    assert sb.counters.requests("crm.deal.get") == before + 1
    assert sender.results[-1]["ID"] == "5"

    arun(panel2.delete_saved())
    assert panel2.saved_names() == {"Other portal": ["who am I"]}
    again.close()


def test_a_corrupt_database_is_moved_aside_with_a_message(qtbot: Any, db: Path, arun: Callable[..., Any]) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    store = HistoryStore(db)
    panel = make_panel(qtbot, store, None)
    notices: list[str] = []
    panel.notice.connect(notices.append)
    assert arun(panel.refresh()) == 0
    assert notices
    assert "moved" in panel.status.text()
    store.record(connection="x", method="profile")
    assert arun(panel.refresh()) == 1
    store.close()


# --- in the window ----------------------------------------------------------------------------------------------


def test_the_window_records_every_mode_and_resends_after_a_restart(make_window: Any, sb: Sandbox, qtbot: Any,
                                                                   arun: Callable[..., Any], until: Any,
                                                                   app_home: Path) -> None:
    ctx = make_window(sb)
    window, power = ctx.window, ctx.power
    panel = power.history_panel

    async def first_run() -> None:
        window.set_mode("single")
        window.choose_method("crm.deal.get")
        window.params_editor.set_text('{"id": 4}')
        await window.send()
        window.set_mode("batch")
        power.batch.set_text('{"a": ["crm.deal.get", {"id": 1}], "b": ["crm.deal.get", {"id": 2}]}')
        await window.send()
        window.set_mode("list")
        power.list_all.set_request("crm.deal.list", {"filter": {"<ID": 120}, "select": ["ID"]})
        await window.send()
        await until(lambda: panel.model.rowCount() == 3, what="three history rows")

    arun(first_run())
    assert [panel.model.index(r, HistoryPanel.METHOD_COLUMN).data() for r in range(3)] == [
        "crm.deal.list (all items)", "batch ×2", "crm.deal.get"]
    answer = jn.to_python(window.response_view.root_value)
    arun(ctx.aclose())
    window.close()

    # Restart: a new window (new services, new history store) on the same app home.
    ctx2 = make_window(sb)
    window2, power2 = ctx2.window, ctx2.power
    panel2 = power2.history_panel
    arun(until(lambda: panel2.model.rowCount() == 3 and started(window2),
               what="the history and the start-up work after a restart"))
    before = sb.counters.requests("crm.deal.get")
    assert panel2.select_id(panel2.row_ids()[2])

    async def resend() -> None:
        await panel2.send_selected()  # loads it into the editor and sends it as the window does
        await until(lambda: panel2.model.rowCount() == 4, what="the re-sent request in the history")

    arun(resend())
    newest = power2.history.get(panel2.row_ids()[0])
    assert sb.counters.requests("crm.deal.get") == before + 1, (newest, window2.error_banner.text())
    assert window2.current_mode() == "single"
    assert window2.method_field.method() == "crm.deal.get"
    assert jn.to_python(window2.response_view.root_value)["result"] == answer["result"]
    assert answer["result"]["ID"] == "4"

    # Copy an entry as code: its connection's portal, the secret a placeholder.
    panel2.select_id(panel2.row_ids()[0])
    arun(panel2.copy_selected_as("curl"))
    copied = QGuiApplication.clipboard().text()
    assert "/crm.deal.get" in copied
    assert f"127.0.0.1:{sb.port}" in copied
    assert sb.secret not in copied
    panel2.select_id(panel2.row_ids()[2])
    arun(panel2.copy_selected_as("python"))
    assert "/batch" in QGuiApplication.clipboard().text()

    # Re-open a batch: the batch editor gets its commands back.
    panel2.select_id(panel2.row_ids()[2])  # the batch, now third newest
    arun(panel2.open_selected())
    assert window2.current_mode() == "batch"
    assert json.loads(power2.batch.editor.toPlainText()) == {"a": ["crm.deal.get", {"id": 1}],
                                                            "b": ["crm.deal.get", {"id": 2}]}
    arun(ctx2.aclose())

    written = [p for p in app_home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("history") for p in written)
    for path in written:
        assert sb.secret.encode() not in path.read_bytes(), path.name


def test_a_locked_database_is_moved_aside_with_a_message(qtbot: Any, db: Path, arun: Callable[..., Any]) -> None:
    import sqlite3

    first = HistoryStore(db)
    first.record(connection="x", method="profile")
    first.close()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another program holds the file
    try:
        store = HistoryStore(db, busy_timeout=0.1)
        panel = make_panel(qtbot, store, None)
        notices: list[str] = []
        panel.notice.connect(notices.append)
        arun(panel.refresh())
        assert notices
        assert "locked" in panel.status.text()
        store.record(connection="x", method="user.current")  # a fresh history takes new requests
        assert arun(panel.refresh()) == 1
        store.close()
    finally:
        blocker.rollback()
        blocker.close()


def test_a_saved_list_all_request_reopens_in_list_all_mode(make_window: Any, sb: Sandbox, arun: Callable[..., Any],
                                                           until: Any) -> None:
    ctx = make_window(sb)
    window, power = ctx.window, ctx.power
    panel = power.history_panel
    arun(until(lambda: started(window), what="the start-up work"))
    window.set_mode("list")
    params = {"filter": {"STAGE_ID": "WON"}, "select": ["ID", "TITLE"]}
    power.list_all.set_request("crm.deal.list", params)
    panel.saved_name_edit.setText("all won deals")
    arun(panel.save_current())
    assert panel.saved_names() == {"Sandbox": ["all won deals"]}

    window.set_mode("single")
    window.choose_method("server.time")
    assert panel.select_saved("all won deals", "Sandbox")
    arun(panel.open_saved())
    assert window.current_mode() == "list"
    request = power.list_all.request()
    assert (request.method, request.params) == ("crm.deal.list", params)


def test_requests_saved_before_kinds_were_kept_still_open(db: Path) -> None:
    """A history file of schema 1 (no kind on saved requests) is brought up to date, its rows kept."""
    import sqlite3

    db.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(db)
    raw.executescript("""
        CREATE TABLE saved_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, connection TEXT NOT NULL,
            name TEXT NOT NULL, method TEXT NOT NULL, api INTEGER NOT NULL DEFAULT 2,
            params TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL, updated REAL NOT NULL, UNIQUE(connection, name));
        INSERT INTO saved_requests (connection, name, method, api, params, created, updated)
            VALUES ('Prod', 'two deals', 'batch', 2, '{"cmd": {"a": "crm.deal.get?id=1"}}', 1, 1),
                   ('Prod', 'me', 'profile', 2, '{}', 1, 1);
        PRAGMA user_version = 1;
    """)
    raw.close()
    store = HistoryStore(db)
    saved = {s.name: StoredRequest.from_saved(s) for s in store.saved_requests()["Prod"]}
    assert {name: request.kind for name, request in saved.items()} == {"two deals": "batch", "me": "call"}
    store.save_request("Prod", "deals", "crm.deal.list", {"select": ["ID"]}, kind="list")
    [deals] = [s for s in store.saved_requests()["Prod"] if s.name == "deals"]
    assert StoredRequest.from_saved(deals).kind == "list"
    store.close()
