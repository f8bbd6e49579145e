"""The REST v3 migration warning and the v3-only method error, against the sandbox's own OpenAPI document."""

from __future__ import annotations

import asyncio

import pytest

from b24explorer.core import AjaxError, Level
from b24explorer.core.v3 import BUILTIN_V3_METHODS, MIGRATION_CODE

TEXT = "The method tasks.task.get is available in restApi:v3. It's worth migrating to the new API."


async def test_v2_call_of_a_v3_method_warns_on_every_call(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        results = [await client.call("tasks.task.get", {"taskId": 1}) for _ in range(3)]
    warnings = log.with_code(MIGRATION_CODE)
    assert len(warnings) == 3
    for record, res in zip(warnings, results, strict=True):
        assert record.level == Level.WARNING
        assert record.message == TEXT
        assert record.method == "tasks.task.get"
        assert record.request_id == res.request_id
        assert record.context["method"] == "tasks.task.get"
        assert record.context["request_id"] == res.request_id
        assert record.context["source"] == "portal"
        assert record.context["fallback_reason"] is None
    assert sb.counters.requests("rest.documentation.openapi") == 1  # fetched once per client


async def test_no_warning_for_v3_calls_or_v2_only_methods(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        await client.call("tasks.task.get", {"id": 1}, api=3)
        await client.call("crm.deal.get", {"id": 1})
        await client.batch([["tasks.task.get", {"taskId": 1}]])  # as the SDK: batch does not warn
    assert log.with_code(MIGRATION_CODE) == []


async def test_every_page_request_of_a_v2_list_warns(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call_list("tasks.task.list", {"select": ["ID"]})
    assert res.complete
    page_requests = sb.counters.requests("tasks.task.list") + sb.counters.requests("batch")
    assert page_requests >= 1
    assert len(log.with_code(MIGRATION_CODE)) == page_requests
    assert res.requests == page_requests + client.lookup_requests  # the one-time v3 look-up counts too
    assert {r.message for r in log.with_code(MIGRATION_CODE)} == {
        "The method tasks.task.list is available in restApi:v3. It's worth migrating to the new API."
    }


async def test_v3_only_method_on_v2_names_the_v3_endpoint(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("main.eventlog.list", {})
    err = info.value
    assert (err.code, err.status) == ("ERROR_METHOD_NOT_FOUND", 404)
    assert "exists only in REST v3" in err.message
    assert f"{client.webhook.masked_v3_base}/main.eventlog.list" in err.message
    assert "api=3" in err.message
    assert sb.secret not in f"{err} {err!r} {log.text()}"


async def test_an_unknown_method_is_not_blamed_on_v3(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError) as info:
            await client.call("no.such.method")
    assert info.value.code == "ERROR_METHOD_NOT_FOUND"
    assert "v3" not in info.value.message


async def test_the_portal_list_wins_over_the_builtin_one(make_client, sb) -> None:
    assert "mail.message.list" in BUILTIN_V3_METHODS
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(AjaxError):
            await client.call("mail.message.list")  # not offered by this portal at all
    assert client.v3.source == "portal"
    assert log.with_code(MIGRATION_CODE) == []


async def test_failed_openapi_fetch_falls_back_to_the_builtin_list_once(make_client, sb) -> None:
    sb.faults.add(
        "status", method="rest.documentation.openapi", count=1, status=500, code="INTERNAL_SERVER_ERROR"
    )
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        await client.call("tasks.task.get", {"taskId": 1})
        await client.call("tasks.task.get", {"taskId": 2})
    notices = log.with_code("V3_METHODS_FALLBACK")
    assert len(notices) == 1
    assert notices[0].level == Level.NOTICE
    assert client.v3.source == "builtin"
    assert len(log.with_code(MIGRATION_CODE)) == 2
    assert sb.counters.requests("rest.documentation.openapi") == 1


async def test_concurrent_first_calls_fetch_the_openapi_once(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        await asyncio.gather(*(client.call("tasks.task.get", {"taskId": i}) for i in range(1, 6)))
    assert sb.counters.requests("rest.documentation.openapi") == 1
    assert len(log.with_code(MIGRATION_CODE)) == 5


async def test_list_all_of_a_v3_only_method_over_v2_says_so(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call_list("main.eventlog.list", {})
    assert not res.complete
    assert [e.code for e in res.errors] == ["ERROR_METHOD_NOT_FOUND"]
    assert "exists only in REST v3" in res.errors[0].message
