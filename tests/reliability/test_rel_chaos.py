"""Chaos: every sandbox fault armed at once, each with a small probability on every method, under a mixed
workload (reads, creates, batches, list-all) through one core client.

Every operation must end — in its answer or in one of the classified errors — within its guard time; no write
may ever be performed twice (each create carries a unique title: at most one deal per title, exactly one when the
client reported success), and the sandbox's write counter must match the deals that exist.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest
from rel_matrix import DELAY, SHORT_TIMEOUT, assert_readable
from rel_stats import count

from b24explorer.core import AjaxError, B24Client, LimitsConfig, LogBus
from b24explorer.core.clock import FakeClock

CLASSIFIED = {
    "QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "INTERNAL_SERVER_ERROR", "ERR_BAD_RESPONSE",
    "ERROR_UNEXPECTED_ANSWER", "NETWORK_ERROR", "REQUEST_TIMEOUT", "PORTAL_REDIRECT", "ERROR_CORE",
}
P = 0.035  # per fault kind and request: about a third of the requests meet one fault or another
FAULTS: list[dict[str, Any]] = [
    dict(kind="status", status=503, code="QUERY_LIMIT_EXCEEDED"),
    dict(kind="status", status=429, code="OPERATION_TIME_LIMIT"),
    dict(kind="status", status=500, code="INTERNAL_SERVER_ERROR"),
    dict(kind="html", status=502),
    dict(kind="truncated"),
    dict(kind="reset_before"),
    dict(kind="reset_after"),
    dict(kind="delay", seconds=DELAY),
    dict(kind="redirect"),
    dict(kind="error_in_200", code="ERROR_CORE", description="Core error"),
]
OPERATIONS = 160


async def operate(client: B24Client, rng: random.Random, n: int, titles: dict[str, str]) -> str:
    """One operation; returns "OK" or the classified code it ended in."""
    pick = rng.random()
    try:
        if pick < 0.35:
            res = await client.call("crm.deal.get", {"id": rng.randint(1, 100)})
            return "OK" if res.is_success else res.error.code  # type: ignore[union-attr]
        if pick < 0.6:
            title = f"chaos-{n}"
            res = await client.call("crm.deal.add", {"fields": {"TITLE": title}})
            titles[title] = "OK" if res.is_success else res.error.code  # type: ignore[union-attr]
            return titles[title]
        if pick < 0.85:
            batch = await client.batch({"a": ["crm.deal.get", {"id": 1}],
                                        "b": ["crm.deal.list", {"select": ["ID"], "filter": {"<=ID": 60}}]})
            if batch.is_success:
                return "OK"
            return next(iter(batch.errors.values())).code
        listed = await client.call_list("crm.deal.list", {"select": ["ID"], "filter": {"<=ID": 100}})
        if listed.errors:
            return listed.errors[0].code
        assert [int(r["ID"]) for r in listed.items] == list(range(1, 101))
        return "OK"
    except AjaxError as err:
        assert_readable(err.message, client.webhook.secret)
        if err.method == "crm.deal.add":
            titles[f"chaos-{n}"] = err.code
        return err.code


@pytest.mark.slow
async def test_chaos_every_fault_at_once(make_sandbox: Any) -> None:
    sb = make_sandbox(deals=100, plan="unlimited")
    for fault in FAULTS:
        sb.faults.add(probability=P, **fault)
    rng = random.Random(20261128)
    client = B24Client(sb.webhook_url, timeout=SHORT_TIMEOUT, limits=LimitsConfig.standard(), log=LogBus(),
                       clock=FakeClock())
    outcomes: Counter[str] = Counter()
    titles: dict[str, str] = {}
    async with client:
        for n in range(OPERATIONS):
            outcomes[await asyncio.wait_for(operate(client, rng, n, titles), 15)] += 1
    fired = sum(f.fired for f in sb.faults.list())
    sb.faults.clear()
    await asyncio.sleep(DELAY)  # answers the client stopped waiting for are finished server-side

    assert set(outcomes) <= CLASSIFIED | {"OK"}, outcomes
    assert outcomes["OK"] > OPERATIONS // 2, outcomes
    assert fired > 20, f"the faults barely fired: {fired}"
    assert len(outcomes) > 3, f"the faults barely showed: {outcomes}"
    created = Counter(d["TITLE"] for d in sb.store.deals if str(d.get("TITLE", "")).startswith("chaos-"))
    assert all(n == 1 for n in created.values()), f"a create was performed twice: {created.most_common(3)}"
    for title, outcome in titles.items():
        if outcome == "OK":
            assert created[title] == 1, f"{title} was reported created but is not in the store"
    assert sb.counters.writes("crm.deal.add") == sum(created.values())
    print(f"\nchaos: {OPERATIONS} operations, {dict(outcomes)}; creates {len(titles)}, "
          f"performed {sum(created.values())}, reported OK {sum(o == 'OK' for o in titles.values())}; "
          f"faults fired {fired}")
    count("chaos.operations", OPERATIONS)
    count("chaos.faulted", OPERATIONS - outcomes["OK"])
