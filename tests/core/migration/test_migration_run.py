"""Both forms of a call sent through the real client to the sandbox, and the outcome the CLI turns into its exit code."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from b24explorer.core import B24Client, LimitsConfig, LogBus
from b24explorer.core.migration import Match, NoV3Twin, run_migration
from b24explorer.core.v3 import MIGRATION_CODE
from b24explorer.sandbox import Sandbox


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[B24Client]:
    async with B24Client(sb.webhook_url, log=LogBus(), limits=LimitsConfig.unlimited()) as c:
        yield c


async def test_get_both_succeed_and_match(client: B24Client, sb: Sandbox) -> None:
    run = await run_migration(client, "tasks.task.get", {"taskId": 7, "select": ["ID", "TITLE", "CREATED_BY"]})
    assert run.exit_code == 0
    assert run.translation.schema_source == "portal"  # the sandbox's OpenAPI document
    assert run.v3 is not None
    assert run.v3.params == {"id": 7, "select": ["id", "title", "creatorId"]}
    assert run.v2 is not None
    assert run.v2.result is not None
    assert run.v2.result.api == 2
    assert [(r.path_v2, r.path_v3, r.status) for r in run.rows] == [
        ("task.id", "item.id", Match.SAME), ("task.title", "item.title", Match.SAME),
        ("task.createdBy", "item.creatorId", Match.SAME)]
    assert sb.counters.requests("tasks.task.get") == 2


async def test_list_both_succeed(client: B24Client) -> None:
    run = await run_migration(client, "tasks.task.list", {"select": ["ID"], "filter": {">=ID": 148}, "start": 0})
    assert run.exit_code == 0
    assert [r.value_v3 for r in run.rows] == [148, 149, 150]


async def test_untranslatable_params_send_nothing_over_v3_unless_asked(client: B24Client, sb: Sandbox) -> None:
    params = {"select": ["ID"], "filter": {"%TITLE": "Call", "<ID": 4}}
    run = await run_migration(client, "tasks.task.list", params)
    assert run.exit_code == 2
    assert run.v3 is None
    assert run.rows == ()
    assert sb.counters.requests("tasks.task.list") == 1  # the v2 call only
    partial = await run_migration(client, "tasks.task.list", params, send_partial=True)
    assert partial.exit_code == 0
    assert partial.v3 is not None
    assert partial.v3.params == {"select": ["id"], "filter": [["id", "<", 4]]}
    # v2 found the tasks below 4 with "call" in the title; v3 (without the `%` condition) every task below 4
    called = {i for i in (1, 2, 3) if "call" in sb.store.tasks.rows[i]["TITLE"].lower()}
    only_v3 = {r.value_v3 for r in partial.rows if r.status is Match.ONLY_V3}
    assert only_v3 == {1, 2, 3} - called
    assert {r.value_v3 for r in partial.rows if r.status is Match.SAME} == called


async def test_a_failing_v3_call_is_exit_code_1(client: B24Client) -> None:
    run = await run_migration(client, "tasks.task.get", {"taskId": 999999})
    assert run.exit_code == 1
    assert run.v3 is not None
    assert run.v3.error is not None
    assert run.v3.error.code == "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION"
    assert run.rows == ()


async def test_a_write_is_sent_once_and_a_given_v2_answer_is_reused(client: B24Client, sb: Sandbox) -> None:
    before = len(sb.store.tasks)
    run = await run_migration(client, "tasks.task.add", {"fields": {"TITLE": "Once", "RESPONSIBLE_ID": 2,
                                                                     "CREATED_BY": 1}})
    assert run.exit_code == 0
    assert run.v2 is None
    assert len(sb.store.tasks) == before + 1
    v2_answer = await client.call("tasks.task.get", {"taskId": 3})
    reused = await run_migration(client, "tasks.task.get", {"taskId": 3}, v2_result=v2_answer)
    assert reused.exit_code == 0
    assert sb.counters.requests("tasks.task.get") == 2  # the given v2 call and the v3 one
    # fields one side lacks are one-sided; every field both have means the same
    assert {r.status for r in reused.rows} == {Match.SAME, Match.ONLY_V2, Match.ONLY_V3}
    title = next(r for r in reused.rows if r.path_v3 == "item.title")
    assert title.value_v2 == title.value_v3 == sb.store.tasks.rows[3]["TITLE"]


async def test_the_v2_call_still_warns_and_unknown_pairs_raise(sb: Sandbox) -> None:
    records = []
    bus = LogBus()
    bus.subscribe(records.append)
    async with B24Client(sb.webhook_url, log=bus, limits=LimitsConfig.unlimited()) as client:
        await run_migration(client, "tasks.task.get", {"taskId": 1})
        with pytest.raises(NoV3Twin):
            await run_migration(client, "crm.deal.get", {"id": 1})
    assert [r.code for r in records].count(MIGRATION_CODE) == 1
