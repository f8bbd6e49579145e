"""Throughput of the sandbox portal on this machine, so later benchmarks know it is not their bottleneck.

Figures: simple calls per second over one keep-alive connection (httpx, and a minimal raw-socket client that
shows the server without a client library's cost), over 8 concurrent connections, and 50-command batches of
50-item crm.deal.list pages (2,500 deals per answer) over HTTP and in-process. Reference: a 2,500-deal batch
should take well under 100 ms.

Usage: python bench/bench_sandbox.py [--deals 10000] [--seconds 3]   (or through `make bench`: rows())
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import httpx
from _table import Row

from b24explorer.sandbox import Sandbox

BATCH_BUDGET_S = 0.100


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, list[float]]:
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return len(times) / sum(times), times


def raw_socket_calls(sandbox: Sandbox, seconds: float) -> float:
    """Calls/s with a minimal HTTP/1.1 keep-alive client."""
    request = (f"POST /rest/1/{sandbox.secret}/server.time HTTP/1.1\r\nHost: sandbox\r\n"
               "Content-Length: 0\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", sandbox.port)) as conn, conn.makefile("rb") as reader:
        def one() -> None:
            conn.sendall(request)
            reader.readline()
            length = 0
            while (header := reader.readline()) not in (b"\r\n", b""):
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":", 1)[1])
            reader.read(length)

        calls, _ = rate(one, seconds)
    return calls


def measure(deals: int, seconds: float) -> dict[str, float]:
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    sandbox = Sandbox(seed=1, deals=deals, plan="unlimited").start()
    out["start"] = time.perf_counter() - t0
    batch = {"cmd": {f"p{i}": f"crm.deal.list?start={i * 50}" for i in range(50)}}
    chained = {"cmd": {"p0": "crm.deal.list?order[ID]=ASC&filter[>ID]=0&start=-1",
                       **{f"p{i}": f"crm.deal.list?order[ID]=ASC&filter[>ID]=$result[p{i - 1}][49][ID]&start=-1"
                          for i in range(1, 50)}}}
    try:
        with httpx.Client(base_url=sandbox.webhook_url, timeout=60) as c:
            for _ in range(20):
                c.post("server.time")
            out["httpx_calls"], _ = rate(lambda: c.post("server.time"), seconds)
            out["raw_calls"] = raw_socket_calls(sandbox, seconds)
            out["get_calls"], _ = rate(lambda: c.post("crm.deal.get", json={"id": 7}), seconds)
            out["batch_mb"] = len(c.post("batch", json=batch).content) / 1e6
            _, times = rate(lambda: c.post("batch", json=batch), seconds)
            out["batch_http"] = statistics.median(times)
            _, times = rate(lambda: c.post("batch", json=chained), seconds)
            out["chained_http"] = statistics.median(times)
        with httpx.Client(base_url=sandbox.webhook_url, limits=httpx.Limits(max_connections=8)) as c:
            def burst() -> None:
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda _: c.post("server.time"), range(200)))

            burst()
            t0 = time.perf_counter()
            burst()
            out["concurrent_calls"] = 200 / (time.perf_counter() - t0)
        body = b'{"cmd":{' + ",".join(f'"p{i}":"crm.deal.list?start={i * 50}"' for i in range(50)).encode() + b"}}"
        headers = {"content-type": "application/json"}
        target = f"/rest/1/{sandbox.secret}/batch"
        _, times = rate(lambda: sandbox.portal.handle("POST", target, headers, body), seconds)
        out["batch_inprocess"] = statistics.median(times)
    finally:
        sandbox.stop()
    return out


def rows(quick: bool = False) -> list[Row]:
    deals = 10_000
    m = measure(deals, 1.0 if quick else 3.0)
    return [
        Row(f"Sandbox: seed {deals:,} deals and start", m["start"], "s"),
        Row("Sandbox: server.time, httpx, 1 keep-alive connection", m["httpx_calls"], "/s"),
        Row("Sandbox: server.time, raw-socket keep-alive client", m["raw_calls"], "/s"),
        Row("Sandbox: crm.deal.get, httpx, 1 keep-alive connection", m["get_calls"], "/s"),
        Row("Sandbox: server.time, httpx, 8 concurrent connections", m["concurrent_calls"], "/s"),
        Row("Sandbox: batch of 50 crm.deal.list pages (2,500 deals), over HTTP, median", m["batch_http"], "s",
            "budget", BATCH_BUDGET_S, target=1.0, note=f"{m['batch_mb']:.2f} MB each, httpx client included"),
        Row("  same batch in-process (no HTTP), median", m["batch_inprocess"], "s", "budget", BATCH_BUDGET_S,
            target=0.5),
        Row("  $result-chained >ID batch (start=-1), over HTTP, median", m["chained_http"], "s", "budget",
            BATCH_BUDGET_S, target=1.0),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    m = measure(args.deals, args.seconds)
    print(f"seed {args.deals:,} deals + start:                   {m['start']:8.2f} s")
    print(f"server.time, httpx, 1 keep-alive connection:      {m['httpx_calls']:8.0f} calls/s")
    print(f"server.time, raw-socket keep-alive client:        {m['raw_calls']:8.0f} calls/s")
    print(f"crm.deal.get, httpx, 1 keep-alive connection:     {m['get_calls']:8.0f} calls/s")
    print(f"server.time, httpx, 8 concurrent connections:     {m['concurrent_calls']:8.0f} calls/s")
    print(f"batch 50 x crm.deal.list (2,500 deals, {m['batch_mb']:.2f} MB), HTTP:  median "
          f"{m['batch_http'] * 1000:6.1f} ms = {1 / m['batch_http']:5.1f} batches/s (reference: well under 100 ms)")
    print(f"same batch in-process (no HTTP):                  median {m['batch_inprocess'] * 1000:6.1f} ms")
    print(f"$result-chained >ID batch (start=-1), HTTP:       median {m['chained_http'] * 1000:6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
