"""Throughput of the sandbox portal on this machine, so later benchmarks know it is not their bottleneck.

Prints: simple calls per second over one keep-alive connection (and over 8 concurrent ones), and 50-command
batches of 50-item crm.deal.list pages (2,500 deals per answer) per second, with the same work measured
in-process (no HTTP) beside it. Reference: a 2,500-deal batch should take well under 100 ms.

Usage: python bench/bench_sandbox.py [--deals 10000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from b24explorer.sandbox import Sandbox


def rate(fn, seconds: float) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return len(times) / sum(times), times


def raw_socket_calls(sandbox: Sandbox, seconds: float) -> float:
    """Calls/s with a minimal HTTP/1.1 keep-alive client, to see the server without a client library's cost."""
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    sandbox = Sandbox(seed=1, deals=args.deals, plan="unlimited").start()
    print(f"seed {args.deals} deals + start: {time.perf_counter() - t0:.2f} s")
    batch = {"cmd": {f"p{i}": f"crm.deal.list?start={i * 50}" for i in range(50)}}
    fast_batch = {"cmd": {"p0": "crm.deal.list?order[ID]=ASC&filter[>ID]=0&start=-1",
                          **{f"p{i}": f"crm.deal.list?order[ID]=ASC&filter[>ID]=$result[p{i - 1}][49][ID]&start=-1"
                             for i in range(1, 50)}}}
    try:
        with httpx.Client(base_url=sandbox.webhook_url, timeout=60) as c:
            for _ in range(20):
                c.post("server.time")
            calls, _ = rate(lambda: c.post("server.time"), args.seconds)
            print(f"server.time, 1 keep-alive connection:      {calls:8.0f} calls/s")
            print(f"server.time, raw-socket keep-alive client: {raw_socket_calls(sandbox, args.seconds):8.0f} calls/s")
            gets, _ = rate(lambda: c.post("crm.deal.get", json={"id": 7}), args.seconds)
            print(f"crm.deal.get, 1 keep-alive connection:     {gets:8.0f} calls/s")

            size = len(c.post("batch", json=batch).content)
            per_s, times = rate(lambda: c.post("batch", json=batch), args.seconds)
            print(f"batch 50 x crm.deal.list (start=): {per_s:6.1f} batches/s, median "
                  f"{statistics.median(times) * 1000:.1f} ms, {size / 1e6:.2f} MB each "
                  f"(= {per_s * 2500:,.0f} deals/s; reference: well under 100 ms)")
            per_s, times = rate(lambda: c.post("batch", json=fast_batch), args.seconds)
            print(f"batch 50 x crm.deal.list ($result >ID chain, start=-1): {per_s:6.1f} batches/s, median "
                  f"{statistics.median(times) * 1000:.1f} ms")

        with httpx.Client(base_url=sandbox.webhook_url, limits=httpx.Limits(max_connections=8)) as c:
            def burst() -> None:
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda _: c.post("server.time"), range(200)))

            burst()
            t0 = time.perf_counter()
            burst()
            print(f"server.time, 8 concurrent connections:    {200 / (time.perf_counter() - t0):8.0f} calls/s")

        body = ("{" + ",".join(f'"p{i}":"crm.deal.list?start={i * 50}"' for i in range(50)) + "}").encode()
        body = b'{"cmd":' + body + b"}"
        headers = {"content-type": "application/json"}
        target = f"/rest/1/{sandbox.secret}/batch"
        per_s, times = rate(lambda: sandbox.portal.handle("POST", target, headers, body), args.seconds)
        print(f"same batch in-process (no HTTP):           {per_s:8.1f} batches/s, median "
              f"{statistics.median(times) * 1000:.1f} ms")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
