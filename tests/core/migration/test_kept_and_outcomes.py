"""Methods kept on REST v3 per connection (a file that survives a restart and a bad copy), and the calls of a
migration run as history outcomes (a given v2 answer is not recorded twice)."""

from __future__ import annotations

import json
from pathlib import Path

from b24explorer.core import migration
from b24explorer.core.client import B24Client
from b24explorer.core.history import HistoryStore
from b24explorer.core.limits import LimitsConfig
from b24explorer.core.outcome import RequestOutcome
from b24explorer.sandbox import Sandbox


def test_kept_methods_are_per_connection_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "config" / "v3-methods.json"
    kept = migration.KeptV3(path)
    assert not kept.keeps("c1", "tasks.task.get")
    kept.set("c1", "Tasks.Task.Get")
    kept.set("c2", "tasks.task.list")
    kept.save()
    again = migration.KeptV3(path)
    assert again.keeps("c1", "tasks.task.get")
    assert not again.keeps("c2", "tasks.task.get")
    assert again.methods("c2") == ["tasks.task.list"]
    again.set("c2", "tasks.task.list", keep=False)
    again.save()
    assert json.loads(path.read_text()) == {"c1": ["tasks.task.get"]}


def test_an_unreadable_file_keeps_nothing_and_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "v3-methods.json"
    path.write_text("{not json")
    kept = migration.KeptV3(path)
    assert kept.methods("c1") == []
    kept.set("c1", "tasks.task.get")
    kept.save()
    assert json.loads(path.read_text()) == {"c1": ["tasks.task.get"]}


def outcome_factory(made: list[RequestOutcome], method: str):
    def make(api: int, params, request_id):
        outcome = RequestOutcome("conn", "Conn", "call", method, api, params, request_id)
        made.append(outcome)
        return outcome
    return make


async def test_outcomes_of_a_run_go_into_the_history(sb: Sandbox, tmp_path: Path) -> None:
    async with B24Client(sb.webhook_url, limits=LimitsConfig.unlimited()) as client:
        run = await migration.run_migration(client, "tasks.task.get", {"taskId": 1})
        given = await migration.run_migration(client, "tasks.task.get", {"taskId": 2},
                                              v2_result=await client.call("tasks.task.get", {"taskId": 2}))
    made: list[RequestOutcome] = []
    outcomes = migration.outcomes_of(run, outcome_factory(made, "tasks.task.get"))
    assert [(o.api, o.params) for o in outcomes] == [(2, {"taskId": 1}), (3, {"id": 1})]
    assert all(o.status == 200 and not o.is_error for o in outcomes)
    assert [o.api for o in migration.outcomes_of(given, outcome_factory(made, "tasks.task.get"),
                                                 v2_given=True)] == [3]
    store = HistoryStore(tmp_path / "history.sqlite3")
    for outcome in outcomes:
        store.record_outcome(outcome)
    assert [(e.api, e.params_value()) for e in store.search()] == [(3, {"id": 1}), (2, {"taskId": 1})]


async def test_a_failed_v3_call_is_an_error_outcome(sb: Sandbox) -> None:
    async with B24Client(sb.webhook_url, limits=LimitsConfig.unlimited()) as client:
        run = await migration.run_migration(client, "tasks.task.get", {"taskId": 999999})
    outcomes = migration.outcomes_of(run, outcome_factory([], "tasks.task.get"))
    assert outcomes[-1].api == 3
    assert outcomes[-1].is_error
    assert outcomes[-1].error_code
