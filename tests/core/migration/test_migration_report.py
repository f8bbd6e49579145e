"""The migration report from a real history file: v2 calls the portal offers in v3, counted and checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from migration_portal import Portal

from b24explorer.core import history as hi
from b24explorer.core.migration import SchemaSet, report, report_for_connection, translate
from b24explorer.core.v3 import methods_from_openapi


@pytest.fixture
def store(app_home: Path) -> Iterator[hi.HistoryStore]:
    s = hi.HistoryStore()
    yield s
    s.close()


def test_report_counts_v2_calls_of_v3_methods_and_checks_their_params(
        store: hi.HistoryStore, portal: Portal, schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_PAGE", 2)  # several pages even with a short history
    document = portal.v3.post("rest.documentation.openapi", json={}).json()
    rec = store.record
    for task_id in (1, 2, 3):
        rec(connection="Main", method="tasks.task.get", params={"taskId": task_id, "select": ["ID", "TITLE"]},
            timestamp=100.0 + task_id)
    rec(connection="Main", method="tasks.task.list", params={"select": ["ID"], "filter": {">ID": 5}}, timestamp=110.0)
    rec(connection="Main", method="tasks.task.list", params={"filter": {"%TITLE": "Call", "!STATUS": 5}},
        timestamp=120.0)
    rec(connection="Main", method="main.eventlog.list", params={}, timestamp=130.0)  # offered in v3, no v2 twin rule
    rec(connection="Main", method="crm.deal.list", params={}, timestamp=140.0)  # not a v3 method
    rec(connection="Main", method="tasks.task.get", api=3, params={"id": 1}, timestamp=150.0)  # already v3
    rec(connection="Main", kind="batch", method="batch", params={"cmd": {"a": "tasks.task.get?taskId=1"}})
    rec(connection="Other", method="tasks.task.get", params={"taskId": 1})

    got = report_for_connection(store, "Main", methods_from_openapi(document), document)
    assert got.scanned == 7  # the v2 single calls and list-alls of this connection
    assert got.schema_sources == {"TaskDto": "portal"}
    summary = {m.method: (m.calls, m.clean, m.last_called, m.has_rule, m.translates_cleanly) for m in got.methods}
    assert summary == {
        "tasks.task.get": (3, 3, 103.0, True, True),
        "tasks.task.list": (2, 1, 120.0, True, False),
        "main.eventlog.list": (1, 0, 130.0, False, False),
    }
    assert [m.method for m in got.methods] == ["tasks.task.get", "tasks.task.list", "main.eventlog.list"]
    listed = got.methods[1]
    assert listed.example == {"filter": {"%TITLE": "Call", "!STATUS": 5}}
    assert len(listed.reasons) == 2
    assert listed.reasons[0].startswith("filter.%TITLE: the v2 filter operator substring match")
    assert "filters on `id` only" in listed.reasons[1]
    assert [m.method for m in got.ready] == ["tasks.task.get"]
    # what the report calls ready is: the translated params of its latest call succeed on the portal
    ready = got.ready[0]
    assert ready.example == {"taskId": 3, "select": ["ID", "TITLE"]}
    item = portal.call_v3("tasks.task.get", translate(ready.method, ready.example, schemas).params)["item"]
    assert item == {"id": 3, "title": portal.sb.store.tasks.rows[3]["TITLE"]}


def test_report_on_an_empty_history_and_the_built_in_method_list(store: hi.HistoryStore) -> None:
    empty = report_for_connection(store, "Nobody")
    assert (empty.methods, empty.scanned, empty.ready) == ((), 0, ())
    store.record(connection="Main", method="Tasks.Task.Get", params={"taskId": 1})
    built_in = report_for_connection(store, "Main")
    assert [(m.method, m.calls, m.clean) for m in built_in.methods] == [("tasks.task.get", 1, 1)]
    assert built_in.schema_sources == {"TaskDto": "builtin"}
