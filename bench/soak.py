"""Soak: N calls through the CLI (`b24x call --repeat N`, one process, one client) against a sandbox on the
standard plan (2 requests/s over a 50 burst).

What it shows: how many QUERY_LIMIT_EXCEEDED answers the server sent (the client's limiter should stay under
its bucket) and how many reached the user (must be zero: the retry rule absorbs any), other errors, and the
process's resident memory before, after the first 10 % of the calls, and at the end (flat = no leak).

`python bench/soak.py [--calls 1000] [--scale 1]`. With `--scale K` the portal's and the client's clocks both run
K times faster (the sandbox takes a clock; the CLI's client uses the system clock, which is sped up the same way),
so the limits are the same in portal time while the run takes 1/K of the wall time — the test suite's short soak.
At scale 1 the sandbox runs in a separate process, so the memory figures are the CLI's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QLE = "QUERY_LIMIT_EXCEEDED"


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _ScaledTime:
    """monotonic/time/sleep K times faster, for the client's SystemClock (and a matching sandbox clock)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.mono0 = time.monotonic()
        self.wall0 = time.time()

    def monotonic(self) -> float:
        return self.mono0 + (time.monotonic() - self.mono0) * self.scale

    def time(self) -> float:
        return self.wall0 + (time.time() - self.wall0) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)


@contextlib.contextmanager
def _scaled_system_clock(scaled: _ScaledTime | None) -> Any:
    from b24explorer.core.clock import SystemClock

    if scaled is None:
        yield
        return
    saved = {name: SystemClock.__dict__[name] for name in ("monotonic", "time", "sleep")}
    SystemClock.monotonic = lambda self: scaled.monotonic()  # type: ignore[method-assign]
    SystemClock.time = lambda self: scaled.time()  # type: ignore[method-assign]

    async def sleep(self: Any, seconds: float) -> None:
        await scaled.sleep(seconds)

    SystemClock.sleep = sleep  # type: ignore[method-assign]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(SystemClock, name, value)


@contextlib.contextmanager
def _sandbox(scaled: _ScaledTime | None) -> Any:
    """A standard-plan portal: in-process on the scaled clock, else in a child process (`b24x sandbox`)."""
    if scaled is not None:
        from b24explorer.sandbox import Sandbox

        with Sandbox(seed=1, deals=50, plan="standard", clock=scaled.time) as sb:
            yield sb.webhook_url
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "b24explorer.cli", "sandbox", "--plan", "standard", "--deals", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        if not first.startswith("WEBHOOK "):
            raise RuntimeError(f"the sandbox did not start: {first!r}")
        yield first.split(" ", 1)[1]
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


class _Sampler(threading.Thread):
    def __init__(self, every: float) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.samples.append(rss_mb())


class _Answers(io.TextIOBase):
    """The CLI's stdout: answers are parsed and counted as they stream, then dropped (nothing accumulates here,
    so the memory figures are the CLI's own). Notes RSS once the first tenth has arrived."""

    def __init__(self, early_at: int) -> None:
        self.pending = ""
        self.early_at = early_at
        self.early_rss: float | None = None
        self.answers = 0
        self.ok = 0
        self.codes: dict[str, int] = {}

    def write(self, text: str) -> int:
        self.pending += text
        if text.endswith("\n") and self.pending.rstrip().endswith("}"):
            try:
                answer = json.loads(self.pending)
            except ValueError:
                return len(text)  # an answer's JSON is still arriving
            self.pending = ""
            self.answers += 1
            if "error" in answer:
                code = str(answer["error"])
                self.codes[code] = self.codes.get(code, 0) + 1
            elif "result" in answer:
                self.ok += 1
            if self.early_rss is None and self.answers >= self.early_at:
                self.early_rss = rss_mb()
        return len(text)

    def flush(self) -> None:
        return


class _LogCounter(io.TextIOBase):
    """The CLI's stderr: counts the lines that matter, keeps nothing."""

    def __init__(self) -> None:
        self.server_503 = 0
        self.limiter_waits = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.server_503 += text.count(f"rateLimiter recognized the {QLE}")
        self.limiter_waits += text.count("rateLimiter blocked method")
        return len(text)

    def flush(self) -> None:
        return


def _portal_requests(webhook_url: str, method: str) -> int:
    """Requests of `method` that reached the portal (its control API's counters), 503s included."""
    import httpx

    base, _, rest = webhook_url.partition("/rest/")
    secret = rest.strip("/").split("/")[1]
    data = httpx.get(f"{base}/_sandbox/{secret}/counters", timeout=10).json()["result"]
    return int(data["requests"].get(method, 0))


def run_soak(calls: int = 1000, scale: float = 1.0, method: str = "server.time") -> dict[str, Any]:
    """Runs the soak and returns its figures (see the module docstring)."""
    from b24explorer import cli

    scaled = _ScaledTime(scale) if scale != 1 else None
    stdout = _Answers(max(1, calls // 10))
    stderr = _LogCounter()
    sampler = _Sampler(every=max(0.2, 2.0 / scale))
    with _sandbox(scaled) as url, _scaled_system_clock(scaled):
        rss_before = rss_mb()
        sampler.start()
        started = time.monotonic()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):  # type: ignore[type-var]
            code = cli.main(["call", method, "--webhook", url, "--repeat", str(calls), "--timeout", "30"])
        wall = time.monotonic() - started
        sampler.stop.set()
        rss_after = rss_mb()
        seen = _portal_requests(url, method)
    return {
        "calls": calls,
        "answers": stdout.answers,
        "exit_code": code,
        "ok": stdout.ok,
        "user_qle": stdout.codes.get(QLE, 0),
        "user_errors": sum(stdout.codes.values()),
        "server_503": stderr.server_503,
        "requests_seen_by_portal": seen,
        "limiter_waits": stderr.limiter_waits,
        "wall_s": round(wall, 1),
        "portal_s": round(wall * scale, 1),
        "scale": scale,
        "rss_before_mb": round(rss_before, 1),
        "rss_early_mb": round(stdout.early_rss or rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_peak_mb": round(max([rss_after, *sampler.samples]), 1),
    }


def report(fig: dict[str, Any]) -> str:
    return (
        f"soak: {fig['calls']} calls via `b24x call --repeat` at the standard limit (2/s over 50), "
        f"{fig['wall_s']} s wall ({fig['portal_s']} s portal time, scale {fig['scale']:g})\n"
        f"  answers {fig['answers']}, ok {fig['ok']}, errors shown to the user {fig['user_errors']} "
        f"(QUERY_LIMIT_EXCEEDED {fig['user_qle']}), exit {fig['exit_code']}\n"
        f"  requests that reached the portal {fig['requests_seen_by_portal']}, 503s it sent {fig['server_503']}, "
        f"limiter waits {fig['limiter_waits']}\n"
        f"  RSS before {fig['rss_before_mb']} MB, after 10 % {fig['rss_early_mb']} MB, "
        f"after {fig['rss_after_mb']} MB (peak {fig['rss_peak_mb']} MB)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    fig = run_soak(args.calls, args.scale)
    print(json.dumps(fig) if args.json else report(fig))
    return 0 if fig["user_qle"] == 0 and fig["answers"] == fig["calls"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
