"""Fault matrix through the CLI: each sandbox fault × {`b24x call`, `b24x batch`, `b24x list`}.

In-process runs of `b24x` (its real argument parsing, client, history and output). Retry waits are recorded but
not slept: the CLI has no clock option, so `SystemClock.sleep` is shortened here (the waits themselves are
checked on a FakeClock by the core matrix). Each cell: exit 0 with the answer, or exit 1 with the error code on
stdout/stderr; never a traceback, never the secret.
"""

from __future__ import annotations

import asyncio
import json
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
    http_method,
    webhook_for,
)
from rel_stats import count

from b24explorer import cli
from b24explorer.core.clock import SystemClock

pytestmark = pytest.mark.timeout(60)  # a hung CLI run fails its cell instead of the whole session


@pytest.fixture
def quick_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's waits pass at once: `sleep` moves the system clock's readings forward instead."""
    waits: list[float] = []
    skipped = [0.0]
    monotonic, wall = SystemClock.monotonic, SystemClock.time

    async def sleep(self: Any, seconds: float) -> None:
        waits.append(seconds)
        skipped[0] += max(0.0, seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(SystemClock, "sleep", sleep)
    monkeypatch.setattr(SystemClock, "monotonic", lambda self: monotonic(self) + skipped[0])
    monkeypatch.setattr(SystemClock, "time", lambda self: wall(self) + skipped[0])
    return waits


def b24x(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def cli_outcome(mode: str, code: int, out: str, err: str) -> str:
    if code == 0:
        return OK
    assert code == 1, f"exit {code}: API errors exit 1\n{err}"
    if mode == "list":  # the items so far, then the error as the stream's last line
        return str(json.loads(out.splitlines()[-1])["error"])
    answer = json.loads(out)
    error = answer.get("error")
    if isinstance(error, str):  # the one error shape of every command
        return error
    if isinstance(error, dict):  # a v3 answer's own error object
        return str(error["code"])
    return next(row["error"]["error"] for row in answer.values() if row["error"])


def argv_for(mode: str, case: FaultCase) -> list[str]:
    timeout = ["--timeout", str(case.timeout)]
    if mode == "call":
        return ["call", CALL_METHOD, "--params", json.dumps(CALL_PARAMS), *timeout]
    if mode == "call_v3":
        return ["call", V3_METHOD, "--params", json.dumps(V3_PARAMS), "--api", "3", *timeout]
    if mode == "batch":
        return ["batch", "--cmd", json.dumps(BATCH_COMMANDS), *timeout]
    return ["list", LIST_METHOD, "--params", json.dumps(LIST_PARAMS), *timeout]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fault_matrix_cli(case: FaultCase, mode: str, sb: Any, rel_home: Any, quick_waits: list[float],
                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24X_WEBHOOK", webhook_for(sb, case))
    arm(sb, case, mode)
    code, out, err = b24x(argv_for(mode, case), capsys)

    got = cli_outcome(mode, code, out, err)
    assert got == case.outcome_for(mode), f"{case.name}/{mode}: exit {code}\n{out[:500]}\n{err[-800:]}"
    assert sb.counters.requests(http_method(mode)) == case.requests
    assert "Traceback" not in err
    assert sb.secret not in out
    assert sb.secret not in err
    written = [p for p in rel_home.rglob("*") if p.is_file()]
    assert [p.name for p in written if sb.secret.encode() in p.read_bytes()] == []  # history and all
    if got == OK and mode == "list":
        assert len(out.splitlines()) == len(sb.store.deals)
        assert f"items={len(sb.store.deals)}" in err
    if case.name.startswith("429"):
        assert max(quick_waits) >= 10, "the operating-limit retry asked for its wait"
    count(f"matrix.cli.{mode}")


@pytest.mark.parametrize("fault", [dict(kind="reset_after"), dict(kind="delay", seconds=DELAY)],
                         ids=["reset_after", "delay_timeout"])
def test_cli_add_hit_after_sending_is_performed_once(fault: dict[str, Any], wsb: Any, rel_home: Any,
                                                     quick_waits: list[float], capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("B24X_WEBHOOK", wsb.webhook_url)
    wsb.faults.add(method="crm.deal.add", count=1, **fault)
    code, out, err = b24x(["call", "crm.deal.add", "--params", '{"fields": {"TITLE": "cli once"}}',
                           "--timeout", str(SHORT_TIMEOUT)], capsys)
    time.sleep(DELAY if fault["kind"] == "delay" else 0)
    assert code == 1
    assert json.loads(out)["error"] in ("NETWORK_ERROR", "REQUEST_TIMEOUT")
    assert "may have performed it" in out
    assert wsb.secret not in out + err
    assert wsb.counters.requests("crm.deal.add") == 1
    assert wsb.counters.writes("crm.deal.add") == 1
