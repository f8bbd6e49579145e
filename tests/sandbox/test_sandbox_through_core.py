"""The same protocol facts seen through b24explorer.core's client (skipped while core is not importable)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from b24explorer.sandbox import Sandbox

core = pytest.importorskip("b24explorer.core")


def client_for(url: str):  # type: ignore[no-untyped-def]
    from b24explorer.core.limits import LimitsConfig

    unlimited = getattr(LimitsConfig, "unlimited", None)
    return core.B24Client(url, limits=unlimited() if unlimited else None)


async def test_call_time_and_errors(sb: Sandbox) -> None:
    async with client_for(sb.webhook_url) as client:
        res = await client.call("crm.deal.get", {"id": 3})
        assert res.result["ID"] == "3"
        assert res.time.operating is not None
        assert res.time.operating_reset_at is not None
        with pytest.raises(core.AjaxError) as caught:
            await client.call("crm.deal.nope")
        assert caught.value.code == "ERROR_METHOD_NOT_FOUND"
        assert caught.value.status == 404


@pytest.mark.parametrize("deals", [120, 2551])
async def test_call_list_every_id_once(make_sandbox: Callable[..., Sandbox], deals: int) -> None:
    sandbox = make_sandbox(seed=deals, deals=deals)
    async with client_for(sandbox.webhook_url) as client:
        listed = await client.call_list("crm.deal.list", {"select": ["ID"]})
    got = [int(item["ID"]) for item in listed.items]
    assert sorted(got) == sandbox.store.deals.ids
    assert len(got) == len(set(got))


async def test_batch_references(sb: Sandbox) -> None:
    async with client_for(sb.webhook_url) as client:
        out = await client.batch({"first": ["crm.deal.list", {"select": ["ID"], "start": -1}],
                                  "next": ["crm.deal.list", {"select": ["ID"], "start": -1,
                                                             "filter": {">ID": "$result[first][49][ID]"}}]})
    assert out.is_success
    assert out.data["next"][0]["ID"] == "51"
    assert sb.counters.requests("batch") == 1


async def test_v3_call(sb: Sandbox) -> None:
    async with client_for(sb.webhook_url) as client:
        res = await client.call("tasks.task.get", {"id": 1, "select": ["id", "title"]}, api=3)
    assert res.result["item"] == {"id": 1, "title": sb.store.tasks.rows[1]["TITLE"]}
