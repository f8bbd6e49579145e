"""Limits on a fake clock: the request-rate leaky bucket per plan and per-method operating time."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from b24explorer.sandbox import Sandbox


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(("plan", "burst", "rate"), [("standard", 50, 2.0), ("enterprise", 250, 5.0)])
def test_leaky_bucket(make_sandbox: Callable[..., Sandbox], plan: str, burst: int, rate: float) -> None:
    clock = FakeClock()
    sandbox = make_sandbox(deals=5, plan=plan, clock=clock)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        for _ in range(burst):
            assert c.post("server.time").status_code == 200
        refused = c.post("server.time")
        assert refused.status_code == 503
        assert refused.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        clock.advance(1 / rate)  # one request drains away
        assert c.post("server.time").status_code == 200
        assert c.post("server.time").status_code == 503
        clock.advance(burst / rate)  # the whole bucket drains
        for _ in range(burst):
            assert c.post("server.time").status_code == 200


def test_batch_counts_as_one_request(make_sandbox: Callable[..., Sandbox]) -> None:
    clock = FakeClock()
    sandbox = make_sandbox(deals=5, plan="standard", clock=clock)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        for _ in range(50):
            r = c.post("batch", json={"cmd": {f"c{i}": "server.time" for i in range(50)}})
            assert r.status_code == 200
            assert len(r.json()["result"]["result"]) == 50
        assert c.post("batch", json={"cmd": {"a": "server.time"}}).status_code == 503


def test_unlimited_plan_has_no_rate_limit(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5, plan="unlimited", clock=FakeClock())
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        assert all(c.post("server.time").status_code == 200 for _ in range(300))


def test_operating_time_limit(make_sandbox: Callable[..., Sandbox]) -> None:
    clock = FakeClock(1_800_000_010.0)
    sandbox = make_sandbox(deals=100, plan="unlimited", clock=clock, operating_limit=0.5)
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        first = c.post("crm.deal.list").json()["time"]
        assert first["operating"] == pytest.approx(0.05)
        assert first["operating_reset_at"] == int(clock.now) + 600
        seen = [first["operating"]]
        for _ in range(9):
            clock.advance(10)
            seen.append(c.post("crm.deal.list").json()["time"]["operating"])
        assert seen == pytest.approx([0.05 * (i + 1) for i in range(10)])
        blocked = c.post("crm.deal.list")
        assert blocked.status_code == 429
        assert blocked.json()["error"] == "OPERATION_TIME_LIMIT"
        # other methods keep working; the limit is per method
        assert c.post("crm.deal.get", json={"id": 1}).status_code == 200
        # a batch is billed to `batch`, not to its commands: the blocked list still runs inside one ...
        batch = c.post("batch", json={"cmd": {"l": "crm.deal.list", "g": "crm.deal.get?id=2"}}).json()
        assert batch["result"]["result_error"] == []
        assert batch["time"]["operating"] == pytest.approx(0.06)
        # ... until `batch` itself is over its budget: then the whole batch gets the 429
        while c.post("batch", json={"cmd": ["crm.deal.list"] * 5}).status_code == 200:
            pass
        blocked_batch = c.post("batch", json={"cmd": ["server.time"]})
        assert blocked_batch.status_code == 429
        assert blocked_batch.json()["error"] == "OPERATION_TIME_LIMIT"
        # the oldest one-minute bucket expires ten minutes after its first call
        clock.advance(600 - 90)
        assert c.post("crm.deal.list").status_code == 200


def test_operating_limit_follows_plan(make_sandbox: Callable[..., Sandbox]) -> None:
    assert make_sandbox(deals=1, plan="standard").portal.meter.limit == 480.0
    assert make_sandbox(deals=1, plan="unlimited").portal.meter.limit is None


def test_reset_clears_limit_state(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(deals=5, plan="standard", clock=FakeClock())
    with httpx.Client(base_url=sandbox.webhook_url) as c:
        for _ in range(50):
            c.post("server.time")
        assert c.post("server.time").status_code == 503
        sandbox.reset()
        assert c.post("server.time").status_code == 200


def test_a_v3_batch_answers_operating_zero_but_its_commands_spend_the_batch_budget(
        make_sandbox: Callable[..., Sandbox]) -> None:
    clock = FakeClock(1_800_000_010.0)
    sandbox = make_sandbox(deals=100, plan="unlimited", clock=clock, operating_limit=0.5)
    lists = [{"method": "main.eventlog.list", "query": {"pagination": {"limit": 2}}}] * 5
    with httpx.Client(base_url=f"{sandbox.base_url}/rest/api/1/{sandbox.secret}/") as c:
        first = c.post("batch", json=lists)
        assert first.status_code == 200
        assert first.json()["time"]["operating"] == 0
        assert first.json()["time"]["operating_reset_at"] == int(clock.now) + 600
        answers = 1
        while (r := c.post("batch", json=lists)).status_code == 200:
            assert r.json()["time"]["operating"] == 0
            answers += 1
        assert answers * 5 * 0.05 >= 0.5  # refused only once the batch budget is spent
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "OPERATION_TIME_LIMIT"
        # the commands were billed to `batch`, not to their own method
        assert c.post("main.eventlog.list", json={"pagination": {"limit": 2}}).json()["time"]["operating"] \
            == pytest.approx(0.05)
