"""Limits at a glance: the buckets, per-method budgets and the bucket's recent history, read from a client that
talks to the sandbox."""

from __future__ import annotations

import time
from typing import Any

from b24explorer.core import LimitsConfig
from b24explorer.core.clock import FakeClock
from b24explorer.core.limits_glance import LimitsMonitor


async def test_each_request_is_sampled_and_the_budgets_are_read(sb: Any, make_client: Any) -> None:
    # virtual time from now: the portal's reset times are on the real clock
    client, _, clock = make_client(sb.webhook_url, limits=LimitsConfig.standard(), clock=FakeClock(start_time=time.time()))
    changes: list[int] = []
    monitor = LimitsMonitor.for_client(client, on_change=lambda: changes.append(1))
    assert [s.tokens for s in monitor.series(2)] == [50.0]
    async with client:
        for _ in range(3):
            await client.call("crm.deal.list", {"select": ["ID"]})
        await client.call("crm.deal.get", {"id": 1})
    series = monitor.series(2)
    # a sample when each request took its token and one when its answer came back
    assert [s.tokens for s in series] == [50.0, 49.0, 49.0, 48.0, 48.0, 47.0, 47.0, 46.0, 46.0]
    # the client's one-time look-up of the portal's v3 methods goes through the v3 limiter
    assert [s.tokens for s in monitor.series(3)] == [50.0, 49.0, 49.0]
    assert len(changes) == 10

    snap = monitor.snapshot()
    assert snap.time == clock.time()
    bucket = snap.buckets[2]
    assert (bucket.tokens, bucket.burst, bucket.drain_rate, bucket.fill, bucket.lowered) == (46.0, 50, 2.0, 0.92, False)
    assert snap.buckets[3].tokens == 49.0
    budgets = {b.method: b for b in snap.budgets}
    assert set(budgets) == {"crm.deal.list", "crm.deal.get"}
    listed = budgets["crm.deal.list"]
    assert listed.api == 2
    assert listed.limit == 480
    assert listed.used > 0
    assert listed.fraction == listed.used / 480
    assert listed.reset_at is not None
    assert 0 < listed.reset_in <= 600
    assert listed.blocked_for == 0
    assert not listed.heavy
    assert snap.budgets[0].used >= snap.budgets[1].used  # most used first


async def test_the_timer_sample_shows_the_bucket_refilling_and_old_samples_go(sb: Any, make_client: Any) -> None:
    client, _, clock = make_client(sb.webhook_url, limits=LimitsConfig.standard())
    monitor = LimitsMonitor.for_client(client, window=60)
    async with client:
        await client.call("crm.deal.get", {"id": 1})
    clock.advance(0.25)
    monitor.sample()
    assert monitor.series(2)[-1].tokens == 49.5  # refilled at 2 a second, nothing taken
    clock.advance(61)
    monitor.sample()
    assert [s.tokens for s in monitor.series(2)] == [50.0]  # the minute before has left the picture
    clock.advance(700)
    assert monitor.budgets() == []  # the portal's window is long over


async def test_a_rate_limit_answer_empties_the_bucket_in_the_picture(sb: Any, make_client: Any) -> None:
    client, _, _ = make_client(sb.webhook_url, limits=LimitsConfig.standard())
    monitor = LimitsMonitor.for_client(client)
    sb.faults.add(kind="status", method="crm.deal.get", count=1, status=503, code="QUERY_LIMIT_EXCEEDED")
    async with client:
        await client.call("crm.deal.get", {"id": 1})
    tokens = [s.tokens for s in monitor.series(2)]
    # emptied by the 503; the retry waited 1.5 s (3 tokens at 2 a second) and took one
    assert tokens == [50.0, 49.0, 0.0, 2.0, 2.0]


async def test_a_closed_monitor_stops_sampling(sb: Any, make_client: Any) -> None:
    client, _, _ = make_client(sb.webhook_url, limits=LimitsConfig.standard())
    monitor = LimitsMonitor.for_client(client)
    monitor.close()
    async with client:
        await client.call("crm.deal.get", {"id": 1})
    assert len(monitor.series(2)) == 1
    assert monitor.bucket(2).tokens == 49.0  # a snapshot still reads the limiter as it is now
