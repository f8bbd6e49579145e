"""A long v2 list-all goes on in id windows walked at once: every id once, in order, no count, the user's filter
kept; the cases that stay one sequential walk; an error in one window; cancel drops every request in flight."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from test_lists import break_a_batch, pending_tasks, record_bodies

from b24explorer.core.list_windows import MAX_WINDOWS, WINDOW_AFTER_ROWS
from b24explorer.sandbox import Costs, Sandbox

DEALS = 30_000


def decoded(cmd: str) -> dict[str, str]:
    """A batch command's query as `{key: value}` (keys like `filter[>ID]`)."""
    return dict(parse_qsl(cmd.split("?", 1)[1]))


def track_in_flight(client: Any) -> dict[str, int]:
    """How many batch requests the client has on the wire at once: now and at most."""
    seen = {"now": 0, "most": 0}
    send = client._send

    async def tracking(url: str, *args: Any) -> Any:
        batch = url.endswith("/batch")
        seen["now"] += batch
        seen["most"] = max(seen["most"], seen["now"])
        try:
            return await send(url, *args)
        finally:
            seen["now"] -= batch

    client._send = tracking
    return seen


@pytest.fixture(scope="module")
def long_list() -> Iterator[Sandbox]:
    """One stand-in portal with a list long enough to go on in windows, shared by the tests that only read it."""
    sandbox = Sandbox(seed=1, deals=DEALS, plan="unlimited").start()
    yield sandbox
    sandbox.stop()


async def test_a_long_list_goes_on_in_windows_walked_at_once(make_client, long_list) -> None:
    sb = long_list
    sb.reset()
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    sent = record_bodies(client)
    in_flight = track_in_flight(client)
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID", "TITLE"]})
    assert [int(i["ID"]) for i in res.items] == sb.store.deals.ids  # every id once, ascending
    assert res.complete
    assert not res.errors
    assert res.requests == sb.counters.requests() == len(sent)
    # the first page, four batches, then one request for the last id: ordered by id descending, no count
    assert [url.rsplit("/", 1)[1] for url, _ in sent[:6]] == ["crm.deal.list"] + ["batch"] * 4 + ["crm.deal.list"]
    probe = json.loads(sent[5][1])
    assert probe["start"] == -1
    assert probe["order"] == {"ID": "DESC"}
    assert probe["select"] == ["ID"]
    assert probe["filter"] == {">ID": WINDOW_AFTER_ROWS}
    assert sb.counters.requests("crm.deal.list") == 2
    # the windows: `>ID`/`<=ID` bounds that tile the ids after the walk so far, each walked as chained batches
    commands = [decoded(cmd) for _, body in sent[1:5] + sent[6:] for cmd in json.loads(body)["cmd"].values()]
    assert all(c["start"] == "-1" for c in commands)
    bounds = sorted({int(c["filter[<=ID]"]) for c in commands if "filter[<=ID]" in c})
    assert 1 <= len(bounds) <= MAX_WINDOWS - 1
    assert bounds[0] > WINDOW_AFTER_ROWS
    assert bounds[-1] < DEALS
    assert in_flight["most"] == len(bounds) + 1  # one request per window, all on the wire at once


async def test_the_users_filter_is_kept_in_every_window(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=12_000)  # (the stand-in scans its table for each filtered page: kept small)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.call_list("crm.deal.list", {"filter": {"!STAGE_ID": "LOSE"}, "select": ["ID"]})
    rows = sb.store.deals.rows
    expected = [i for i in sb.store.deals.ids if rows[i]["STAGE_ID"] != "LOSE"]
    assert len(expected) > WINDOW_AFTER_ROWS  # long enough to go on in windows…
    assert sb.counters.requests("crm.deal.list") == 2  # …and it did: the first page and the last id
    assert [int(i["ID"]) for i in res.items] == expected
    assert res.complete


@pytest.mark.parametrize(
    ("params", "chained"),
    [({"order": {"TITLE": "DESC"}}, True), ({"filter": {"<=ID": 25_000}}, True), ({}, False)],
)
async def test_cases_that_stay_one_sequential_walk(make_client, long_list, params, chained) -> None:
    sb = long_list
    sb.reset()
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    async with client:
        res = await client.call_list("crm.deal.list", {**params, "select": ["ID"]}, chained=chained)
    top = 25_000 if "filter" in params else DEALS
    assert [int(i["ID"]) for i in res.items] == list(range(1, top + 1))
    assert res.complete
    if chained:
        assert sb.counters.requests("crm.deal.list") == 1  # the first page only: no last-id request
        assert sb.counters.requests("batch") == 1 + (top - 50) // 2500


async def test_an_error_in_one_window_keeps_the_windows_before_it(make_client, long_list) -> None:
    sb = long_list
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    broken: list[int] = []

    def second_window_at_17_000(_nth: int, commands: list[Any]) -> bool:
        first = commands[0][2]["filter"]
        low, high = first.get(">ID"), first.get("<=ID")
        if isinstance(low, int) and high is not None and 12_000 < low < 17_000 <= high:
            broken.append(low)
            return True
        return False

    break_a_batch(client, second_window_at_17_000)
    async with client:
        res = await client.call_list("crm.deal.list", {"select": ["ID"]})
        assert pending_tasks() == []
    assert broken
    assert [e.code for e in res.errors] == ["ERROR_METHOD_NOT_FOUND"]
    assert not res.complete
    # every id up to the broken batch (the first window whole), then its ten pages before the bad command
    assert [int(i["ID"]) for i in res.items] == list(range(1, broken[0] + 10 * 50 + 1))


async def test_cancel_drops_every_request_in_flight(make_client, make_sandbox) -> None:
    sb = make_sandbox(deals=DEALS)
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    in_flight = track_in_flight(client)
    send = client._send
    cancel = asyncio.Event()

    async def slowing(url: str, *args: Any) -> Any:
        answer = await send(url, *args)
        if url.endswith("/crm.deal.list") and sb.counters.requests("crm.deal.list") == 2:
            sb.costs = Costs(request=3.0)  # the last id is in: every window's batch now stays at the portal
        return answer

    client._send = slowing
    async with client:
        task = asyncio.ensure_future(client.call_list("crm.deal.list", {"select": ["ID"]}, cancel=cancel))
        for _ in range(1000):
            if in_flight["now"] >= 2 and sb.counters.requests("batch") == 4 + in_flight["now"]:
                break
            await asyncio.sleep(0.01)
        at_cancel = sb.counters.requests()
        dropped = in_flight["now"]
        started = asyncio.get_running_loop().time()
        cancel.set()
        res = await asyncio.wait_for(task, 2.0)
        assert asyncio.get_running_loop().time() - started < 1.0  # no window waited for its answer
        assert in_flight["now"] == 0
        assert pending_tasks() == []
        await asyncio.sleep(0.3)
    assert dropped >= 2  # several windows had a batch on the wire, and all of them were dropped
    assert sb.counters.requests() == at_cancel == client.requests_sent  # nothing sent after the cancel
    assert res.cancelled
    assert not res.complete
    assert [int(i["ID"]) for i in res.items] == list(range(1, WINDOW_AFTER_ROWS + 1))


async def test_a_consumer_that_pauses_leaves_each_window_at_its_hold(make_client, long_list, monkeypatch) -> None:
    from b24explorer.core import list_windows

    monkeypatch.setattr(list_windows, "AHEAD_PAGES", 50)  # a window holds one batch before it waits
    sb = long_list
    client, _, _ = make_client(sb.webhook_url, v3_methods=())
    sent = record_bodies(client)
    got: list[int] = []
    async with client:
        pages = client.fetch_list("crm.deal.list", {"select": ["ID"]})
        while len(got) <= WINDOW_AFTER_ROWS:  # the walk before the windows, and the first window's first page
            got.extend(int(i["ID"]) for i in await anext(pages))
        await asyncio.sleep(0.5)  # the consumer pauses with the iterator open
        commands = [decoded(cmd) for _, body in sent[6:] for cmd in json.loads(body)["cmd"].values()]
        windows = len({c.get("filter[<=ID]") for c in commands})  # (the last window has no upper bound)
        # every window one batch; the first one, whose pages the consumer took, one more: then they all wait
        assert client.requests_sent == 6 + windows + 1
        async for page in pages:
            got.extend(int(i["ID"]) for i in page)
    assert got == sb.store.deals.ids
