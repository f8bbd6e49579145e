"""List-all does not wait for the one-time look-up of the portal's v3 methods before its first request."""

from __future__ import annotations

import asyncio
from typing import Any

from b24explorer.core.v3 import MIGRATION_CODE


def gate_lookup(client: Any, until: Any) -> list[str]:
    """Make the client's v3 look-up wait until `until()` holds (polled); returns the events seen."""
    seen: list[str] = []
    fetch = client.v3._fetch

    async def gated() -> Any:
        for _ in range(2000):  # at most ~10 s, then the look-up goes on (the test then fails on `seen`)
            if until():
                seen.append("batch went out first")
                break
            await asyncio.sleep(0.005)
        return await fetch()

    client.v3._fetch = gated
    return seen


def pending_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]


async def test_the_first_page_goes_out_while_the_v3_lookup_is_pending(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    seen = gate_lookup(client, lambda: sb.counters.requests("tasks.task.list") >= 1)
    async with client:
        res = await client.call_list("tasks.task.list", {"select": ["ID"]})
    assert seen == ["batch went out first"]
    assert res.complete
    assert res.items
    sent = sb.counters.requests("batch") + sb.counters.requests("tasks.task.list")
    assert sent == 2  # 150 tasks: the first page, then one batch
    assert len(log.with_code(MIGRATION_CODE)) == sent  # still one warning per page request
    assert res.requests == sent + client.lookup_requests == sb.counters.requests()


async def test_cancelling_the_list_also_ends_the_pending_lookup(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    gate_lookup(client, lambda: False)  # the look-up never finishes by itself
    async with client:
        task = asyncio.ensure_future(client.call_list("tasks.task.list", {"select": ["ID"]}))
        for _ in range(2000):
            if sb.counters.requests("tasks.task.list") >= 1:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # the first page's answer is in; the list now waits for the look-up
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done
        assert task.cancelled()
        assert pending_tasks() == []  # nothing left running behind the cancelled list
    assert log.with_code(MIGRATION_CODE) == []


async def test_a_cancel_during_the_first_request_ends_the_lookup_too(make_client, sb) -> None:
    sb.faults.add("delay", method="tasks.task.list", count=1, seconds=3.0)
    client, _, _ = make_client(sb.webhook_url)
    gate_lookup(client, lambda: False)
    cancel = asyncio.Event()
    async with client:
        task = asyncio.ensure_future(client.call_list("tasks.task.list", {"select": ["ID"]}, cancel=cancel))
        await asyncio.sleep(0.2)
        cancel.set()
        res = await asyncio.wait_for(task, 2.0)
        assert res.cancelled
        assert res.items == []
        assert pending_tasks() == []


async def test_a_task_cancelled_during_the_first_request_ends_the_lookup_too(make_client, sb) -> None:
    sb.faults.add("delay", method="tasks.task.list", count=1, seconds=3.0)
    client, _, _ = make_client(sb.webhook_url)
    gate_lookup(client, lambda: False)
    async with client:
        task = asyncio.ensure_future(client.call_list("tasks.task.list", {"select": ["ID"]}))
        await asyncio.sleep(0.2)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2.0)
        assert done
        assert task.cancelled()
        assert pending_tasks() == []
