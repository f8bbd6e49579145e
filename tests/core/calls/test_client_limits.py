"""The client drives the limits layer: the token bucket paces calls, `time.operating` blocks a method, per-row
batch times count per command — all waits on a fake clock."""

from __future__ import annotations

import json

import httpx
import pytest

from b24explorer.core import AjaxError, LimitsConfig
from b24explorer.core.clock import FakeClock


async def test_token_bucket_paces_calls_beyond_the_burst(make_client, sb) -> None:
    client, log, clock = make_client(sb.webhook_url, limits=LimitsConfig.standard(), v3_methods=())
    async with client:
        for _ in range(52):
            await client.call("server.time")
    # burst 50 at 2/s: calls 51 and 52 each wait half a second
    assert clock.slept == pytest.approx(1.0)
    assert sb.counters.requests("server.time") == 52
    assert "RATE_LIMIT_BLOCKED" in log.codes()


async def test_enterprise_preset_has_a_bigger_burst(make_client, sb) -> None:
    client, _, clock = make_client(sb.webhook_url, limits=LimitsConfig.enterprise(), v3_methods=())
    async with client:
        for _ in range(60):
            await client.call("server.time")
    assert clock.sleeps == []


def _operating_portal(clock: FakeClock, operating: float):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reset_at = clock.time() + 30
        time_block = {"start": clock.time(), "operating": operating, "operating_reset_at": reset_at}
        if request.url.path.endswith("/batch"):
            cmd = json.loads(request.content)["cmd"]
            # PHP answers sequential keys as JSON arrays, labels as objects
            rows = [[] for _ in cmd] if isinstance(cmd, list) else {k: [] for k in cmd}
            times = (
                [dict(time_block) for _ in cmd]
                if isinstance(cmd, list)
                else {k: dict(time_block) for k in cmd}
            )
            body = {
                "result": {
                    "result": rows,
                    "result_error": [],
                    "result_total": [],
                    "result_next": [],
                    "result_time": times,
                },
                "time": dict(time_block),  # the portal bills the whole batch to `batch`
            }
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"result": [], "time": time_block})

    return seen, httpx.MockTransport(handler)


def _operating_client(make_client, clock: FakeClock, operating: float):
    """A standard-limits client on `_operating_portal`: (client, its log, the requests the portal saw)."""
    seen, transport = _operating_portal(clock, operating=operating)
    client, log, _ = make_client(
        "https://portal.example.com/rest/1/abcdefgh1234/",
        transport=transport,
        clock=clock,
        limits=LimitsConfig.standard(),
        v3_methods=(),
    )
    return client, log, seen


async def test_operating_budget_blocks_the_method_until_reset(make_client) -> None:
    clock = FakeClock()
    client, log, seen = _operating_client(make_client, clock, operating=476.0)  # over 475 s of the 480 s budget
    async with client:
        await client.call("crm.deal.list")
        await client.call("crm.deal.get", {"id": 1})  # another method is not blocked
        assert clock.sleeps == []
        await client.call("crm.deal.list")
    assert clock.sleeps == [pytest.approx(31.0)]  # until operating_reset_at, plus 1 s
    assert "OPERATING_LIMIT_BLOCKED" in log.codes()
    assert len(seen) == 3


async def test_a_batch_is_billed_to_batch_not_to_its_commands(make_client) -> None:
    clock = FakeClock()
    client, _, _ = _operating_client(make_client, clock, operating=478.0)
    async with client:
        await client.batch([["crm.deal.list", {}], ["crm.deal.get", {"id": 1}]])
        assert clock.sleeps == []
        # the commands' result_time (one running total) is information only: the method itself is free
        await client.call("crm.deal.list")
        assert clock.sleeps == []
        await client.batch([["user.get", {}]])  # `batch` is over its budget, whatever the commands
    assert clock.sleeps == [pytest.approx(31.0)]


async def test_a_503_storm_lowers_the_rate_and_ends_in_a_readable_error(make_client, sb) -> None:
    sb.faults.add("status", method="crm.deal.get", count=9, status=503, code="QUERY_LIMIT_EXCEEDED")
    client, log, clock = make_client(sb.webhook_url, limits=LimitsConfig.standard(), v3_methods=())
    async with client:
        for _ in range(3):  # two recorded 503s per call (the last attempt is not waited on)
            with pytest.raises(AjaxError) as info:
                await client.call("crm.deal.get", {"id": 1})
            assert "Too many requests" in str(info.value)
        rate = client.limiter(2).stats()["rate"]
    assert "RATE_LIMITS_LOWERED" in log.codes()  # five 503s within a minute
    assert rate["drain_rate"] < 2.0
    assert sb.counters.requests("crm.deal.get") == 9
    assert len(clock.sleeps) == 6
