"""List-all of 10,000 deals at the standard rate limit (2/s over a 50 burst), against the Python peers.

Issue 7, target 2: b24explorer's `call_list("crm.deal.list")` takes at most 5 HTTP requests, and its wall time
is no worse than the fastest of b24pysdk `as_list_fast` and fast_bitrix24 `get_all`, all three run here against
the same sandbox (its own process, standard plan) with the same `select`. Each run starts from a reset sandbox
(counters, and a full 50-request burst); after one uncounted warm-up run each (imports), the contenders take
turns round by round, and each figure is the median of the rounds. A run's wall time covers making the client
and listing every deal: b24explorer's one-time look-up of the portal's v3 methods is included, as a fresh
connection pays it. Requests are the sandbox's own count; refusals (503 QUERY_LIMIT_EXCEEDED) are counted at
the sandbox's rate bucket. Informative rows: each contender's client CPU time and the sandbox's time answering
it, to tell a slow client from a slow portal. A contender that does not get every deal id exactly once fails.

Usage: python bench/bench_list_all.py [--rounds 15] [--deals 10000] [--in-process] [--profile]
       (or through `make bench`: rows())
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib
import io
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _table import Row, render  # noqa: E402

from b24explorer.core.redact import redact_text  # noqa: E402
from b24explorer.sandbox import Costs, Sandbox  # noqa: E402

DEALS = 10_000
SELECT = ["ID", "TITLE", "STAGE_ID", "OPPORTUNITY"]
MAX_REQUESTS = 5
ROUNDS = 15  # rounds are cheap (~0.3 s each); the peers vary by a third from run to run, and a median of 15 holds


@dataclass
class Run:
    seconds: float
    cpu: float  # this process's CPU time: the client's work (the sandbox runs elsewhere unless --in-process)
    server: float  # the sandbox's time answering
    requests: int
    refused: int  # 503 QUERY_LIMIT_EXCEEDED answers
    ids: list[int]
    problem: str = ""  # an exception or warning the contender raised


@dataclass
class Outcome:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def server(self) -> float:
        return statistics.median(r.server for r in self.runs)

    @property
    def requests(self) -> int:
        return max(r.requests for r in self.runs)

    @property
    def refused(self) -> int:
        return max(r.refused for r in self.runs)

    def defects(self, expected: list[int]) -> list[str]:
        out = []
        for i, run in enumerate(self.runs, 1):
            if run.problem:
                out.append(f"run {i}: {run.problem}")
            if len(run.ids) != len(set(run.ids)):
                out.append(f"run {i}: {len(run.ids) - len(set(run.ids))} ids came twice")
            if sorted(set(run.ids)) != expected:
                out.append(f"run {i}: {len(set(run.ids)):,} distinct ids of {len(expected):,}")
        return out


# --- the contenders: each lists every deal of the sandbox and returns the rows ------------------------------
def b24explorer_list(portal: Portal) -> list[dict[str, Any]]:
    from b24explorer.core.client import B24Client
    from b24explorer.core.limits import LimitsConfig
    from b24explorer.core.webhook import Webhook

    async def main() -> list[dict[str, Any]]:
        async with B24Client(Webhook.parse(portal.webhook_url), limits=LimitsConfig.standard()) as client:
            result = await client.call_list("crm.deal.list", {"select": SELECT})
        if not result.is_success:
            raise RuntimeError(f"incomplete list: {result.error_messages}")
        return result.items

    return asyncio.run(main())


@contextlib.contextmanager
def b24pysdk_on(portal: Portal) -> Iterator[None]:
    """The SDK hard-codes https://; aim it at the plain-http loopback portal, and undo that afterwards."""
    caller = importlib.import_module("b24pysdk.api.callers.call_method")._MethodCaller
    saved = caller.__dict__["_base_url"]
    base = f"{portal.base_url}/rest"
    caller._base_url = property(lambda self: base)
    try:
        yield
    finally:
        caller._base_url = saved


def b24pysdk_list(portal: Portal) -> list[dict[str, Any]]:
    from b24pysdk import BitrixWebhook, Client

    with b24pysdk_on(portal):
        client = Client(BitrixWebhook(domain="portal.test", webhook_token=f"1/{portal.secret}"))
        return list(client.crm.deal.list(select=SELECT).as_list_fast().result)


def fast_bitrix24_list(portal: Portal) -> list[dict[str, Any]]:
    from fast_bitrix24 import BitrixAsync

    async def main() -> list[dict[str, Any]]:
        bx = BitrixAsync(portal.webhook_url, verbose=False, ssl=False)
        return await bx.get_all("crm.deal.list", {"select": SELECT})

    return asyncio.run(main())


CONTENDERS: dict[str, Callable[[Portal], list[dict[str, Any]]]] = {
    "b24explorer call_list": b24explorer_list,
    "b24pysdk as_list_fast": b24pysdk_list,
    "fast_bitrix24 get_all": fast_bitrix24_list,
}


# --- measuring ----------------------------------------------------------------------------------------------
class Watch:
    """Counts the sandbox's rate-bucket refusals (each becomes a 503 QUERY_LIMIT_EXCEEDED answer) and its
    operating-limit blocks (429 OPERATION_TIME_LIMIT), and adds up the time its handler spends answering, so a
    slow run can be told apart from a slow portal."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.refused = 0
        self.blocked = 0
        self.handling = 0.0
        portal = sandbox.portal
        admit, handle, blocked = portal.bucket.admit, portal.handle, portal.meter.blocked

        def counting_admit(now: float) -> bool:
            admitted = admit(now)
            self.refused += not admitted
            return admitted

        def counting_blocked(key: tuple[str, str], now: float) -> bool:
            refused = blocked(key, now)
            self.blocked += refused
            return refused

        def timed_handle(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return handle(*args)
            finally:
                self.handling += time.perf_counter() - started

        portal.bucket.admit = counting_admit  # type: ignore[method-assign]
        portal.meter.blocked = counting_blocked  # type: ignore[method-assign]
        portal.handle = timed_handle  # type: ignore[method-assign]

    def clear(self) -> None:
        self.refused = 0
        self.blocked = 0
        self.handling = 0.0


class Portal:
    """The sandbox as the contenders see it: its addresses, plus reset and counts for the benchmark.

    By default the sandbox runs in its own process, as a real portal is elsewhere: its work then neither
    shares this process's GIL with the client being timed nor shows in the client's CPU time. `costs` gives it
    a real portal's pace (none: loopback speed).
    """

    def __init__(self, deals: int, in_process: bool = False, costs: Costs | None = None) -> None:
        self._sandbox: Sandbox | None = None
        self._conn: Any = None
        self._process: Any = None
        if in_process:
            self._sandbox = Sandbox(seed=1, deals=deals, plan="standard", costs=costs).start()
            self._watch = Watch(self._sandbox)
            info = _describe(self._sandbox)
        else:
            ctx = multiprocessing.get_context("spawn")
            self._conn, child = ctx.Pipe()
            self._process = ctx.Process(target=_serve, args=(child, deals, costs), daemon=True)
            self._process.start()
            info = self._conn.recv()
        self.webhook_url: str = info["webhook_url"]
        self.base_url: str = info["base_url"]
        self.secret: str = info["secret"]
        self.ids: list[int] = info["ids"]

    def _ask(self, command: str) -> Any:
        if self._sandbox is not None:
            return _answer(self._sandbox, self._watch, command)
        self._conn.send(command)
        return self._conn.recv()

    def reset(self) -> None:
        """Counters, and the rate bucket back to a full burst."""
        self._ask("reset")

    def counts(self) -> tuple[int, int, float, int]:
        """HTTP requests that reached the sandbox, how many of them it refused (503 QUERY_LIMIT_EXCEEDED), the
        seconds its handler spent answering them, and the calls its operating limit blocked (429)."""
        return self._ask("counts")  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
        else:
            self._ask("stop")
            self._process.join(timeout=10)

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _describe(sandbox: Sandbox) -> dict[str, Any]:
    return {"webhook_url": sandbox.webhook_url, "base_url": sandbox.base_url, "secret": sandbox.secret,
            "ids": sorted(sandbox.store.deals.ids)}


def _answer(sandbox: Sandbox, watch: Watch, command: str) -> Any:
    if command == "reset":
        sandbox.reset()
        watch.clear()
        return None
    if command == "counts":
        return sandbox.counters.requests(), watch.refused, watch.handling, watch.blocked
    raise ValueError(command)


def _serve(conn: Any, deals: int, costs: Costs | None = None) -> None:
    """The sandbox's process: serve until told to stop, answering the benchmark's commands on a pipe."""
    with Sandbox(seed=1, deals=deals, plan="standard", costs=costs) as sandbox:
        watch = Watch(sandbox)
        conn.send(_describe(sandbox))
        while (command := conn.recv()) != "stop":
            conn.send(_answer(sandbox, watch, command))
        conn.send(None)


def list_timed(portal: Any, fn: Callable[[Any], list[dict[str, Any]]],
               profile: cProfile.Profile | None = None) -> tuple[float, float, list[int], str]:
    """One list-all by a contender: wall seconds, CPU seconds, the ids it returned, and what it raised or warned."""
    problem = ""
    items: list[dict[str, Any]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            if profile is not None:
                profile.enable()
            items = fn(portal)
        except Exception as exc:  # a contender that breaks gets a FAIL row, not a crashed benchmark
            problem = redact_text(f"{type(exc).__name__}: {exc}")[:200]  # a peer's error may hold the webhook
        finally:
            if profile is not None:
                profile.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if not problem:
        noisy = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
        if noisy:
            problem = redact_text(f"warned: {noisy[0].message}")[:200]
    return seconds, cpu, [int(row["ID"]) for row in items], problem


def run_once(portal: Portal, fn: Callable[[Portal], list[dict[str, Any]]],
             profile: cProfile.Profile | None = None) -> Run:
    portal.reset()
    seconds, cpu, ids, problem = list_timed(portal, fn, profile)
    requests, refused, server, _ = portal.counts()
    return Run(seconds, cpu, server, requests, refused, ids, problem)


def measure(deals: int = DEALS, rounds: int = ROUNDS, in_process: bool = False) -> tuple[dict[str, Outcome], list[int]]:
    outcomes = {name: Outcome(name) for name in CONTENDERS}
    with Portal(deals, in_process) as portal, _app_home():
        # warm-up, not counted: imports and first-use costs of each library (for b24explorer also its one
        # look-up of the portal's v3 methods, cached on disk per portal)
        for fn in CONTENDERS.values():
            run_once(portal, fn)
        for _ in range(rounds):
            for name, fn in CONTENDERS.items():
                outcomes[name].runs.append(run_once(portal, fn))
    return outcomes, portal.ids


@contextlib.contextmanager
def _app_home() -> Iterator[None]:
    """The app's files (the portal's cached v3 list) go to a scratch directory, not the user's own."""
    if os.environ.get("B24X_HOME"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="b24x-bench-") as home:
        os.environ["B24X_HOME"] = home
        try:
            yield
        finally:
            del os.environ["B24X_HOME"]


def rows_from(outcomes: dict[str, Outcome], expected: list[int], rounds: int) -> list[Row]:
    ours = outcomes["b24explorer call_list"]
    peers = [o for name, o in outcomes.items() if o is not ours]
    fastest = min(peers, key=lambda o: o.seconds)
    n = len(expected)
    out = [
        Row(f"List-all {n:,} deals, standard limit: b24explorer call_list wall time, median of {rounds}",
            ours.seconds, "s", f"fastest peer ({fastest.name})", fastest.seconds, target=1.0,
            note=f"best runs: {ours.best * 1000:.0f} ms vs {min(p.best for p in peers) * 1000:.0f} ms"),
        Row("  b24explorer call_list HTTP requests (most in a run)", ours.requests, "", "at most",
            MAX_REQUESTS, target=1.0, note=f"{ours.refused} refused 503"),
    ]
    for peer in peers:
        out.append(Row(f"  {peer.name}: wall time, median of {rounds}", peer.seconds, "s",
                       note=f"{peer.requests} requests, {peer.refused} refused 503, best {peer.best * 1000:.0f} ms"))
    for outcome in outcomes.values():
        out.append(Row(f"  {outcome.name}: client CPU time, median of {rounds}", outcome.cpu, "s",
                       note=f"sandbox answering: {outcome.server * 1000:.0f} ms"))
    for outcome in outcomes.values():
        defects = outcome.defects(expected)
        if defects:
            # A FAIL row: the ratio 1 is held against a bound of 0, so it cannot pass.
            out.append(Row(f"  {outcome.name} did not list every deal once", 1, "", "(must not happen)", 1,
                           target=0.0, note="; ".join(defects)[:300]))
    return out


def rows(quick: bool = False) -> list[Row]:
    rounds = 1 if quick else ROUNDS
    outcomes, expected = measure(DEALS, rounds)
    return rows_from(outcomes, expected, rounds)


def profile_ours(deals: int, in_process: bool) -> str:
    """Where b24explorer's time goes in one list-all (top entries by own time, then cumulative)."""
    profile = cProfile.Profile()
    with Portal(deals, in_process) as portal:
        run_once(portal, b24explorer_list)  # warm imports
        run = run_once(portal, b24explorer_list, profile)
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return f"profiled run: {run.seconds * 1000:.0f} ms, {run.requests} requests\n" + text.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--deals", type=int, default=DEALS)
    parser.add_argument("--profile", action="store_true", help="also profile one b24explorer run")
    parser.add_argument("--in-process", action="store_true", help="run the sandbox in this process (threads)")
    args = parser.parse_args()
    outcomes, expected = measure(args.deals, args.rounds, args.in_process)
    for outcome in outcomes.values():
        each = ", ".join(f"{r.seconds * 1000:.0f} ms (cpu {r.cpu * 1000:.0f}, sandbox {r.server * 1000:.0f})/{r.requests}"
                         for r in outcome.runs)
        print(f"{outcome.name:24} {each}")
    print()
    table = rows_from(outcomes, expected, args.rounds)
    print(render(table))
    if args.profile:
        print()
        print(profile_ours(args.deals, args.in_process))
    return 1 if any(r.passed is False for r in table) else 0


if __name__ == "__main__":
    raise SystemExit(main())
