"""List-all against the sandbox: every id once, in at most ceil(N/2500)+1 HTTP requests; progress, cancel, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from b24explorer.core import LimitsConfig, SdkError
from b24explorer.core.lists import ListProgress


def pending_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]


def arm_before_batch(client: Any, nth: int, arm: Callable[[], Any]) -> None:
    """Call `arm()` (e.g. add a sandbox fault) just before the client sends its `nth` batch request."""
    send = client._send
    batches = 0

    async def arming(url: str, *args: Any) -> Any:
        nonlocal batches
        if url.endswith("/batch"):
            batches += 1
            if batches == nth:
                arm()
        return await send(url, *args)

    client._send = arming


def record_bodies(client: Any) -> list[tuple[str, bytes]]:
    """The (url, body) of every request the client sends."""
    sent: list[tuple[str, bytes]] = []
    send = client._send

    async def recording(url: str, query: Any, body: bytes, *args: Any) -> Any:
        sent.append((url, body))
        return await send(url, query, body, *args)

    client._send = recording
    return sent


def break_a_batch(client: Any, chosen: Callable[[int, list[Any]], bool]) -> None:
    """The first list batch that `chosen(nth, commands)` picks names, in its 11th command, a method the portal
    does not have."""
    real = client.batch_encoded
    sent, broken = 0, False

    async def breaking(commands: list[Any], **kw: Any) -> Any:
        nonlocal sent, broken
        sent += 1
        if not broken and chosen(sent, commands):
            broken = True
            label, method, params, cmd = commands[10]
            commands = [*commands[:10], (label, method, params, cmd.replace(method, "crm.nothing.list", 1)),
                        *commands[11:]]
        return await real(commands, **kw)

    client.batch_encoded = breaking


def list_requests(n: int) -> int:
    """One plain page; after a full one, batches of 50 pages until a short (or empty) page ends the list."""
    return 1 if n < 50 else 2 + (n - 50) // 2500


@pytest.mark.parametrize("n", [37, 50, 120, 2_551, 10_000])
async def test_list_all_never_counts_and_starts_with_one_plain_page(make_client, make_sandbox, n) -> None:
    sb = make_sandbox(deals=n)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    sent = record_bodies(client)
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID", "TITLE"]})
    ids = [int(item["ID"]) for item in res.items]
    assert ids == sorted(sb.store.deals.ids)  # every id once, in order, none missing
    assert res.complete
    assert res.incomplete_reason is None
    assert not res.errors
    assert res.requests == sb.counters.requests() == list_requests(n) <= math.ceil(n / 2500) + 1
    # the first request is one plain page, asked with start=-1: the portal never counts the table
    first_url, first_body = sent[0]
    assert first_url.endswith("/crm.deal.list")
    assert json.loads(first_body)["start"] == -1
    # every chained command goes with start=-1 too; a list shorter than a page sends none
    commands = [cmd for url, body in sent[1:] for cmd in json.loads(body)["cmd"].values()]
    assert all("start=-1" in cmd and "start=0" not in cmd for cmd in commands)
    assert len(commands) == (0 if n < 50 else 50 * (len(sent) - 1))
    assert sb.counters.requests("batch") == len(sent) - 1
    assert res.items[0]["TITLE"]


async def test_rows_of_commands_past_the_end_never_reach_the_result(make_client, make_sandbox) -> None:
    # 120 deals: the batch after the first page has p0 full, p1 short (20 rows); p2 points at p1's 50th row,
    # which does not exist, so the portal gives it the whole p1 page and p2 answers deals from the start
    sb = make_sandbox(deals=120)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        answer = await client.batch_encoded(
            [("a", "crm.deal.list", {}, "crm.deal.list?start=-1&order[ID]=ASC&filter[>ID]=100"),
             ("b", "crm.deal.list", {}, "crm.deal.list?start=-1&order[ID]=ASC&filter[>ID]=$result[a][49][ID]")],
            halt=True,
        )
        res = await client.call_list("crm.deal.list", {"select": ["ID"]})
    assert [int(r["ID"]) for r in answer.rows[1].result][:2] == [2, 3]  # the stand-in answers as a portal
    assert [int(i["ID"]) for i in res.items] == list(range(1, 121))  # no duplicates from p2…p49
    assert sb.counters.calls("crm.deal.list") == 2 + 1 + 50  # the stand-in really ran the extra commands


async def test_fetch_list_yields_pages_as_they_arrive(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=2_600)
    client, _, _ = make_client(sb.webhook_url)
    pages = []
    async with client:
        async for page in client.fetch_list("crm.deal.list", {"select": ["ID"]}):
            pages.append(page)
    assert [len(p) for p in pages] == [50] * 52
    assert [int(i["ID"]) for p in pages for i in p] == list(range(1, 2_601))


async def test_user_filter_is_kept_and_order_is_replaced_with_a_warning(make_client, sb) -> None:
    client, log, _ = make_client(sb.webhook_url)
    async with client:
        plain = await client.call("crm.deal.list", {"filter": {"STAGE_ID": "NEW"}, "select": ["ID"]})
        res = await client.call_list(
            "crm.deal.list",
            {"filter": {"STAGE_ID": "NEW"}, "select": ["ID", "STAGE_ID"], "order": {"TITLE": "DESC"}},
        )
    assert len(res.items) == plain.total > 0
    assert {i["STAGE_ID"] for i in res.items} == {"NEW"}
    assert "LIST_ORDER_IGNORED" in log.codes()


async def test_a_users_own_id_bound_starts_the_cursor(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call_list("crm.deal.list", {"filter": {">ID": 150}, "select": ["ID"]})
    assert [int(i["ID"]) for i in res.items][:3] == [151, 152, 153]
    assert all(int(i["ID"]) > 150 for i in res.items)


async def test_crm_item_list_and_tasks_task_list_keys(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        items = await client.call_list("crm.item.list", {"entityTypeId": 2, "select": ["id", "title"]})
        tasks = await client.call_list("tasks.task.list", {"select": ["ID", "TITLE"]})
    assert len(items.items) == len(sb.store.deals)
    assert items.complete
    assert [int(i["id"]) for i in items.items] == sorted(sb.store.deals.ids)
    assert len(tasks.items) == len(sb.store.tasks)
    assert tasks.complete
    assert len({t["id"] for t in tasks.items}) == len(tasks.items)


async def test_non_chained_mode_fetches_the_same_items_page_by_page(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=260)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]}, chained=False)
    assert [int(i["ID"]) for i in res.items] == list(range(1, 261))
    assert res.requests == 6
    assert sb.counters.requests("crm.deal.list") == 6


async def test_progress_reports_items_requests_and_waits(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=5_000)
    seen: list[tuple[int, int, bool]] = []

    totals: list[int | None] = []

    def progress(p: ListProgress) -> None:
        seen.append((p.items, p.requests, p.done))
        totals.append(p.total)

    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]}, progress=progress)
    assert seen[-1] == (5_000, list_requests(5_000), True)
    assert set(totals) == {None}  # never counted: the portal is not asked for the list's size
    assert [s[0] for s in seen] == sorted(s[0] for s in seen)  # monotonic
    assert res.requests == list_requests(5_000)


async def test_progress_counts_rate_limit_waits(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=120)
    sb.faults.add("status", method="batch", count=1, status=503, code="QUERY_LIMIT_EXCEEDED")
    last: list[ListProgress] = []
    client, _, clock = make_client(sb.webhook_url, v3_methods=(), limits=LimitsConfig.standard())
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]}, progress=last.append)
    assert len(res.items) == 120
    assert res.waited == pytest.approx(clock.slept)
    assert res.waited >= 1.5
    assert last[-1].waited == pytest.approx(res.waited)


async def test_cancel_keeps_the_pages_already_fetched(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=10_000)
    cancel = asyncio.Event()

    def progress(p: ListProgress) -> None:
        if p.items >= 2_550:
            cancel.set()

    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]}, progress=progress, cancel=cancel)
    assert res.cancelled
    assert not res.complete
    assert res.incomplete_reason == "cancelled"
    assert [int(i["ID"]) for i in res.items] == list(range(1, 2_551))  # the first page and the first batch
    # the next batch went out before the first one's pages were handed out; its answer is dropped
    assert res.requests == 3
    assert pending_tasks() == []


async def test_cancel_abandons_a_request_in_flight(make_client, sb) -> None:
    sb.faults.add("delay", method="crm.deal.list", count=1, seconds=3.0)
    cancel = asyncio.Event()
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        task = asyncio.create_task(client.call_list("crm.deal.list", {"select": ["ID"]}, cancel=cancel))
        await asyncio.sleep(0.2)
        cancel.set()
        res = await asyncio.wait_for(task, 1.0)
    assert res.cancelled
    assert res.items == []


@pytest.mark.parametrize("failing", [2, 3])
async def test_an_error_mid_list_keeps_what_arrived(make_client, make_sandbox, failing) -> None:
    sb = make_sandbox(deals=10_000)
    client, log, _ = make_client(sb.webhook_url, v3_methods=())
    # batch `failing` (a prefetch, sent while the pages before it are handed out) is refused
    arm_before_batch(client, failing, lambda: sb.faults.add("status", method="batch", status=403,
                                                             code="ACCESS_DENIED"))
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]})
    assert [int(i["ID"]) for i in res.items] == list(range(1, 50 + 2_500 * (failing - 1) + 1))
    assert not res.complete
    assert [e.code for e in res.errors] == ["ACCESS_DENIED"]
    assert res.incomplete_reason.startswith("ACCESS_DENIED")
    assert "LIST_STOPPED" in log.codes()
    assert res.requests == sb.counters.requests("batch") + 1 == failing + 1  # nothing after the failed batch
    assert pending_tasks() == []


async def test_a_sub_command_error_in_a_prefetched_batch_keeps_the_pages_before_it(
    make_client, make_sandbox
) -> None:
    sb = make_sandbox(deals=10_000)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    break_a_batch(client, lambda n, _: n == 2)  # the second batch
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]})
    assert not res.complete
    assert [e.code for e in res.errors] == ["ERROR_METHOD_NOT_FOUND"]
    assert [int(i["ID"]) for i in res.items] == list(range(1, 50 + 2_500 + 10 * 50 + 1))
    assert res.requests == 3
    assert pending_tasks() == []


async def test_cancel_with_a_prefetch_in_flight_keeps_the_rows_and_leaves_no_task(
    make_client, make_sandbox
) -> None:
    sb = make_sandbox(deals=10_000)
    cancel = asyncio.Event()
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    # the prefetched second batch hangs on the server
    arm_before_batch(client, 2, lambda: sb.faults.add("delay", method="batch", seconds=3.0))

    def progress(p: ListProgress) -> None:
        if p.items == 2_550:
            assert p.requests == 3  # the prefetch is on the wire
            cancel.set()

    async with client:
        started = asyncio.get_running_loop().time()
        res = await client.call_list("crm.deal.list", {"select": ["ID"]}, progress=progress, cancel=cancel)
        assert asyncio.get_running_loop().time() - started < 2.0  # not waiting for the hanging batch
        assert pending_tasks() == []
    assert res.cancelled
    assert not res.complete
    assert not res.errors
    assert [int(i["ID"]) for i in res.items] == list(range(1, 2_551))
    assert res.requests == 3


async def test_a_task_cancelled_with_a_prefetch_in_flight_leaves_no_task(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=10_000)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    arm_before_batch(client, 2, lambda: sb.faults.add("delay", method="batch", seconds=3.0))
    got: list[int] = []

    async def consume() -> None:
        async for page in client.fetch_list("crm.deal.list", {"select": ["ID"]}):
            got.extend(int(i["ID"]) for i in page)

    async with client:
        task = asyncio.ensure_future(consume())
        for _ in range(400):
            if len(got) == 2_550:
                break
            await asyncio.sleep(0.005)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2.0)
        assert done
        assert task.cancelled()
        assert pending_tasks() == []
    assert got == list(range(1, 2_551))
    assert client.requests_sent == 3  # the first page, the first batch and the prefetch that was in flight


@pytest.mark.parametrize("closing", [True, False])
async def test_a_consumer_that_stops_early_leaves_no_request_running(make_client, make_sandbox, closing) -> None:
    sb = make_sandbox(deals=10_000)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    arm_before_batch(client, 1, lambda: sb.faults.add("delay", method="batch", seconds=3.0))
    async with client:
        if closing:
            async with contextlib.aclosing(client.fetch_list("crm.deal.list", {"select": ["ID"]})) as pages:
                async for page in pages:
                    first = page
                    break
            assert pending_tasks() == []  # closing the iterator ended the prefetch at once
        else:
            async for page in client.fetch_list("crm.deal.list", {"select": ["ID"]}):
                first = page
                break
            for _ in range(20):  # the event loop closes an abandoned async generator within a few turns
                if not pending_tasks():
                    break
                await asyncio.sleep(0)
            assert pending_tasks() == []
    assert [int(i["ID"]) for i in first] == list(range(1, 51))
    assert client.requests_sent == 2  # the first page and the abandoned prefetch, nothing more


async def test_fetch_list_raises_after_the_pages_before_the_error(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=3_000)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    arm_before_batch(client, 2, lambda: sb.faults.add("status", method="batch", status=403, code="ACCESS_DENIED"))
    got = 0

    async def consume() -> None:
        nonlocal got
        async for page in client.fetch_list("crm.deal.list", {"select": ["ID"]}):
            got += len(page)

    async with client:
        with pytest.raises(SdkError) as info:
            await consume()
    assert got == 2_550
    assert info.value.code == "JSSDK_CORE_B24_FETCH_LIST_METHOD_API_V2"
    assert info.value.original_error.code == "ACCESS_DENIED"


async def test_v3_list_with_the_filter_triple_cursor(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call_list("tasks.task.list", {"select": ["id", "title"]}, api=3)
        events = await client.call_list("main.eventlog.list", {"select": ["id"]}, api=3, limit=200)
    assert [t["id"] for t in res.items] == sorted(t["id"] for t in res.items)
    assert len(res.items) == len(sb.store.tasks)
    assert res.complete
    assert len(events.items) == len(sb.store.eventlog)
    assert events.complete


async def test_v3_list_refuses_a_v2_style_filter(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        with pytest.raises(SdkError):
            await client.call_list("tasks.task.list", {"filter": {"ID": 1}}, api=3)
    assert sb.counters.requests() == 0


async def test_tail_with_the_native_cursor(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url)
    async with client:
        res = await client.call_tail("main.eventlog.tail", {"select": ["id", "severity"]}, limit=100)
        pages = [p async for p in client.fetch_tail("main.eventlog.tail", {"select": ["id"]}, limit=200)]
        with pytest.raises(SdkError) as info:
            await client.call_tail("main.eventlog.tail", {}, order="DESC")
    assert [e["id"] for e in res.items] == sorted(sb.store.eventlog.ids)
    assert res.complete
    assert sum(len(p) for p in pages) == len(sb.store.eventlog)
    assert info.value.code == "JSSDK_CORE_B24_CALL_TAIL_DESC_REQUIRES_INITIAL_VALUE"


async def test_a_select_without_the_id_still_pages(make_client, sb) -> None:
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        items = await client.call_list("crm.item.list", {"entityTypeId": 2, "select": ["title"]})
        tasks = await client.call_list("tasks.task.list", {"select": ["TITLE"]})
    assert items.complete
    assert len(items.items) == len(sb.store.deals)
    assert tasks.complete
    assert len(tasks.items) == len(sb.store.tasks)


async def test_the_list_runs_at_most_one_batch_ahead_of_a_consumer_that_pauses(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=10_000)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        pages = client.fetch_list("crm.deal.list", {"select": ["ID"]})
        first = await anext(pages)
        await asyncio.sleep(0.3)  # the consumer pauses, the iterator still open: the next batch arrives meanwhile
        assert client.requests_sent == 2  # the first page and the batch sent ahead, no more
        rest = [item for page in [p async for p in pages] for item in page]
    assert [int(i["ID"]) for i in first + rest] == list(range(1, 10_001))
    assert client.requests_sent == sb.counters.requests("batch") + 1 == 5


async def test_a_list_cancelled_while_the_v3_lookup_hangs_leaves_no_task(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=10_000)
    client, _, _ = make_client(sb.webhook_url)

    async def never() -> Any:
        await asyncio.Event().wait()

    client.v3._fetch = never  # the look-up never ends: the first pages wait for it (the warning comes first)
    async with client:
        task = asyncio.ensure_future(client.call_list("crm.deal.list", {"select": ["ID"]}))
        for _ in range(400):
            if sb.counters.requests("batch") >= 2:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)  # the batch sent ahead is back too, its own wait for the look-up pending
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2.0)
        assert done
        assert task.cancelled()
        assert pending_tasks() == []
    assert client.requests_sent == 2  # the first batch and the one sent ahead: nothing more while waiting
