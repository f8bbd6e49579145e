"""Fault matrix through the core: every sandbox fault × {single call, batch, list-all}.

Each cell ends in a successful retry (where the retry table allows it) or a classified, readable error; the
sandbox's request counter shows how many attempts it took; waits run on a FakeClock, so the matrix is fast.
Plus: a write hit by a timeout or a dropped connection is performed once, never twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rel_matrix import (
    BATCH_COMMANDS,
    CALL_METHOD,
    CALL_PARAMS,
    CASE_IDS,
    CASES,
    DELAY,
    LIST_METHOD,
    LIST_PARAMS,
    MODES,
    OK,
    SHORT_TIMEOUT,
    V3_METHOD,
    V3_PARAMS,
    FaultCase,
    arm,
    assert_readable,
    http_method,
    webhook_for,
)

from b24explorer.core import AjaxError, B24Client, LimitsConfig, LogBus, LogRecord
from b24explorer.core.clock import FakeClock

HANG_GUARD = 15.0  # seconds: a cell that takes longer than this has hung


class Outcome:
    def __init__(self, code: str, message: str = "", detail: Any = None) -> None:
        self.code = code
        self.message = message
        self.detail = detail


def deal_ids(sb: Any) -> list[int]:
    return sorted(int(row["ID"]) for row in sb.store.deals)


async def run_mode(client: B24Client, mode: str, sb: Any) -> Outcome:
    """Runs one mode; folds a raised AjaxError, a failed result and list errors into one Outcome."""
    try:
        if mode == "call_v3":
            res = await client.call(V3_METHOD, V3_PARAMS, api=3)
            if not res.is_success:
                assert res.error is not None
                return Outcome(res.error.code, res.error.message, res.error)
            assert res.result["item"]["id"] == 1
            return Outcome(OK)
        if mode == "call":
            res = await client.call(CALL_METHOD, CALL_PARAMS)
            if not res.is_success:
                assert res.error is not None
                return Outcome(res.error.code, res.error.message, res.error)
            assert int(res.result["ID"]) == 7
            return Outcome(OK)
        if mode == "batch":
            batch = await client.batch(BATCH_COMMANDS, halt=True)
            if not batch.is_success:
                err = next(iter(batch.errors.values()))
                return Outcome(err.code, err.message, err)
            assert int(batch["one"].result["ID"]) == 7
            assert int(batch["ref"].result["ID"]) == int(batch["page"].result[1]["ID"])
            return Outcome(OK)
        lst = await client.call_list(LIST_METHOD, LIST_PARAMS)
        if lst.errors:
            err = lst.errors[0]
            return Outcome(err.code, err.message, err)
        assert lst.complete
        assert sorted(int(r["ID"]) for r in lst.items) == deal_ids(sb)
        return Outcome(OK)
    except AjaxError as err:
        return Outcome(err.code, err.message, err)


def make_client(url: str, timeout: float) -> tuple[B24Client, list[LogRecord], FakeClock]:
    clock = FakeClock()
    bus = LogBus()
    records: list[LogRecord] = []
    bus.subscribe(records.append)
    client = B24Client(url, timeout=timeout, limits=LimitsConfig.standard(), log=bus, clock=clock)
    return client, records, clock


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
async def test_fault_matrix_core(case: FaultCase, mode: str, sb: Any) -> None:
    url = webhook_for(sb, case)
    arm(sb, case, mode)
    client, records, clock = make_client(url, case.timeout)
    async with client:
        outcome = await asyncio.wait_for(run_mode(client, mode, sb), HANG_GUARD)

    expected = case.outcome_for(mode)
    assert outcome.code == expected, f"{case.name}/{mode}: got {outcome.code}: {outcome.message}"
    assert sb.counters.requests(http_method(mode)) == case.requests, case.notes
    if expected != OK:
        assert_readable(outcome.message, sb.secret)
        assert_readable(str(outcome.detail), sb.secret)
        assert outcome.detail.code == expected
        assert outcome.detail.request_id, "the error names the request id"
    for record in records:
        assert sb.secret not in record.format_line()
        assert sb.secret not in repr(record.context)
    if case.name.startswith("429"):
        assert clock.slept >= 10, "the operating-limit retry waited (on the fake clock)"
    if case.name == "503_burst":
        assert clock.slept > 0


# --- a write is performed once, never twice -----------------------------------------------------------------

ADD_PARAMS = {"fields": {"TITLE": "reliability: written once", "OPPORTUNITY": 10}}

# (fault, expected error or OK, writes performed, requests sent)
WRITE_CASES = [
    ("delay_timeout", dict(kind="delay", seconds=DELAY), "REQUEST_TIMEOUT", 1, 1),
    ("reset_after", dict(kind="reset_after"), "NETWORK_ERROR", 1, 1),
    ("reset_before", dict(kind="reset_before"), "NETWORK_ERROR", 0, 1),
    ("502_html", dict(kind="html", status=502), "ERR_BAD_RESPONSE", 0, 1),
    ("503_burst", dict(kind="status", status=503, code="QUERY_LIMIT_EXCEEDED", count=2), OK, 1, 3),
    ("truncated", dict(kind="truncated"), "ERROR_UNEXPECTED_ANSWER", 1, 1),
]


@pytest.mark.parametrize(("name", "fault", "expected", "writes", "requests"), WRITE_CASES,
                         ids=[c[0] for c in WRITE_CASES])
@pytest.mark.parametrize("shape", ["call", "batch"])
async def test_add_hit_by_a_fault_is_performed_at_most_once(
    wsb: Any, name: str, fault: dict[str, Any], expected: str, writes: int, requests: int, shape: str
) -> None:
    http = "crm.deal.add" if shape == "call" else "batch"
    wsb.faults.add(method=http, **{"count": 1, **fault})
    timeout = SHORT_TIMEOUT if name == "delay_timeout" else 20.0
    client, records, _clock = make_client(wsb.webhook_url, timeout)
    before = len(wsb.store.deals)
    async with client:
        try:
            if shape == "call":
                res = await asyncio.wait_for(client.call("crm.deal.add", ADD_PARAMS), HANG_GUARD)
                code = OK if res.is_success else res.error.code  # type: ignore[union-attr]
            else:
                batch = await asyncio.wait_for(
                    client.batch({"new": ["crm.deal.add", ADD_PARAMS], "read": ["crm.deal.get", {"id": 1}]}),
                    HANG_GUARD,
                )
                code = OK if batch.is_success else next(iter(batch.errors.values())).code
        except AjaxError as exc:
            code, message = exc.code, exc.message
        else:
            message = ""
    if message:
        assert_readable(message, wsb.secret)
        if expected in ("REQUEST_TIMEOUT", "NETWORK_ERROR") and writes:
            assert "may have performed it" in message, message
    if name == "delay_timeout":
        await asyncio.sleep(DELAY)  # let the sandbox finish the delayed answer before counting

    assert code == expected
    assert wsb.counters.writes("crm.deal.add") == writes, "a write must never be performed twice"
    assert len(wsb.store.deals) == before + writes
    assert wsb.counters.requests(http) == requests
    if expected != OK:
        assert any(r.code == "NOT_RETRIED_AMBIGUOUS" for r in records) or requests == 1


async def test_reads_are_retried_after_a_timeout_writes_are_not(wsb: Any) -> None:
    """The same fault on a read and on a write: the read retries to success, the write stops after one try."""
    wsb.faults.add(kind="delay", method="crm.deal.get", count=1, seconds=DELAY)
    wsb.faults.add(kind="delay", method="crm.deal.update", count=1, seconds=DELAY)
    client, _records, _clock = make_client(wsb.webhook_url, SHORT_TIMEOUT)
    async with client:
        read = await asyncio.wait_for(client.call("crm.deal.get", {"id": 3}), HANG_GUARD)
        with pytest.raises(AjaxError) as caught:
            await asyncio.wait_for(
                client.call("crm.deal.update", {"id": 3, "fields": {"TITLE": "once"}}), HANG_GUARD
            )
    await asyncio.sleep(DELAY)
    assert read.is_success
    assert wsb.counters.requests("crm.deal.get") == 2
    assert caught.value.code == "REQUEST_TIMEOUT"
    assert wsb.counters.requests("crm.deal.update") == 1
    assert wsb.counters.writes("crm.deal.update") == 1
