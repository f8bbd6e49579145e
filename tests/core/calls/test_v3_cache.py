"""The v3 migration advice only where it is true: the portal's own list, cached on disk per portal."""

from __future__ import annotations

import json
import time
from pathlib import Path

from b24explorer.core import paths
from b24explorer.core.v3 import MIGRATION_CODE
from b24explorer.core.v3cache import V3Cache

OPENAPI = "rest.documentation.openapi"


def read_entry(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def age_entry(path: Path, seconds: float) -> None:
    data = read_entry(path)
    data["fetched_at"] = time.time() - seconds
    path.write_text(json.dumps(data), encoding="utf-8")


async def test_a_second_connection_reads_the_list_from_disk(make_client, sb) -> None:
    first, _, _ = make_client(sb.webhook_url)
    async with first:
        await first.call("tasks.task.get", {"taskId": 1})
    second, log, _ = make_client(sb.webhook_url)
    async with second:
        await second.call("tasks.task.get", {"taskId": 1})
        document = await second.v3_openapi()
    assert sb.counters.requests(OPENAPI) == 1  # one look-up per portal, not per connection
    assert second.v3.source == "cache"
    assert second.v3.age is not None
    assert 0 <= second.v3.age < 60
    assert "/tasks.task.get" in document["paths"]  # the catalog gets the document from the cache too
    assert log.with_code(MIGRATION_CODE)[0].context["source"] == "cache"
    cached = V3Cache(second.webhook.portal).path
    assert cached.is_relative_to(paths.cache_dir())
    assert sb.secret not in cached.read_text(encoding="utf-8")


async def test_an_old_entry_is_used_and_read_again_in_the_background(make_client, sb) -> None:
    warm, _, _ = make_client(sb.webhook_url)
    async with warm:
        await warm.v3.methods()
    path: Path = V3Cache(warm.webhook.portal).path
    age_entry(path, 3 * 24 * 3600)
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        assert await client.v3.contains("tasks.task.get")  # answered at once from the old entry
        assert client.v3.source == "cache"
        assert client.v3.age > 2 * 24 * 3600
        await client._v3_refresh  # the background read
        assert client.v3.source == "portal"
    assert sb.counters.requests(OPENAPI) == 2
    assert read_entry(path)["fetched_at"] > time.time() - 60


async def test_a_portal_without_rest_v3_gets_no_advice(make_client, make_sandbox) -> None:
    plain = make_sandbox(deals=3, rest_v3=False)
    client, log, _ = make_client(plain.webhook_url)
    async with client:
        res = await client.call("tasks.task.get", {"taskId": 1})
        listed = await client.call_list("tasks.task.list", {"select": ["ID"]})
    again, again_log, _ = make_client(plain.webhook_url)
    async with again:
        await again.call("tasks.task.get", {"taskId": 1})
    assert res.is_success
    assert listed.complete
    assert log.with_code(MIGRATION_CODE) == []
    assert again_log.with_code(MIGRATION_CODE) == []
    assert client.v3.source == again.v3.source == "none"
    assert plain.counters.requests(OPENAPI) == 1  # "no REST v3" is cached too


async def test_a_transient_failure_falls_back_to_the_built_in_list_and_says_so(make_client, sb) -> None:
    sb.faults.add("status", method=OPENAPI, count=1, status=500, code="INTERNAL_SERVER_ERROR")
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        await client.call("tasks.task.get", {"taskId": 1})
    warning = log.with_code(MIGRATION_CODE)[0]
    assert client.v3.source == "builtin"
    assert warning.context["source"] == "builtin"
    assert warning.context["fallback_reason"] == "INTERNAL_SERVER_ERROR"
    assert "built-in list" in warning.message
    later, later_log, _ = make_client(sb.webhook_url)  # nothing was cached: the next connection asks again
    async with later:
        await later.call("tasks.task.get", {"taskId": 1})
    assert later.v3.source == "portal"
    assert "built-in" not in later_log.with_code(MIGRATION_CODE)[0].message


async def test_the_advice_says_when_the_webhook_lacks_the_v3_scope(make_client, sb) -> None:
    limited = sb.add_webhook(scopes=["crm", "task"])  # the v2 scope, not the v3 one
    client, log, _ = make_client(limited)
    async with client:
        await client.call("tasks.task.get", {"taskId": 1})
    advice = log.with_code(MIGRATION_CODE)[0]
    assert advice.context["missing_scope"] == "tasks"
    assert "lacks the scope `tasks`" in advice.message
    full, full_log, _ = make_client(sb.webhook_url)
    async with full:
        await full.call("tasks.task.get", {"taskId": 1})
    assert full_log.with_code(MIGRATION_CODE)[0].context["missing_scope"] is None
    assert sb.counters.requests("rest.scope.list") == 1  # the portal's scope map is cached with its entry
