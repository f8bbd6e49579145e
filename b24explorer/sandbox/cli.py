"""`b24x sandbox`: serve the local portal until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .costs import Costs
from .faults import SPEC_HELP, FaultError, parse_spec
from .limits import PLANS
from .server import Sandbox, check_loopback


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sandbox",
        help="serve a local Bitrix24 portal on loopback (seeded data, v2 and v3 protocol, limits, faults)",
        description="Serve a local Bitrix24 portal on loopback. The first line on stdout is "
                    "'WEBHOOK <url>', the second 'OAUTH client_id=<id> client_secret=<secret> server=<url>' (a local "
                    "application registered on it); it serves until SIGINT/SIGTERM.",
        epilog=SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--seed", type=int, default=1, help="data seed: same seed, same portal (default 1)")
    parser.add_argument("--deals", type=int, default=10_000, help="number of seeded deals (default 10000)")
    parser.add_argument("--plan", choices=sorted(PLANS), default="standard",
                        help="request-rate limits of the plan (default standard)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="inject a fault (repeatable); SPEC syntax below")
    parser.add_argument("--page-size", type=int, default=50,
                        help="list page size; anything but 50 is for big-answer benchmarks only")
    parser.add_argument("--request-delay-ms", type=float, default=0.0, metavar="MS",
                        help="simulated network round trip added to every answer (default 0)")
    parser.add_argument("--page-cost-ms", type=float, default=0.0, metavar="MS",
                        help="simulated query time of each list page, pages inside a batch too (default 0)")
    parser.add_argument("--count-cost-us", type=float, default=0.0, metavar="US",
                        help="simulated COUNT time per matching row, for list pages asked with start >= 0 "
                             "(a real portal: about 21; default 0)")
    parser.add_argument("--no-rest-v3", action="store_true",
                        help="a portal without REST v3: every /rest/api/ call answers method not found")
    parser.add_argument("--no-operating-time", action="store_true",
                        help="answers' time blocks carry no operating / operating_reset_at")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        check_loopback(args.host)
        faults = [parse_spec(spec) for spec in args.fault]
        if args.deals < 0:
            raise ValueError("--deals must not be negative")
        if not 0 <= args.port <= 65535:
            raise ValueError("--port must be between 0 and 65535")
        costs = Costs(request=args.request_delay_ms / 1000, page=args.page_cost_ms / 1000,
                      counted_row=args.count_cost_us / 1_000_000)
        sandbox = Sandbox(seed=args.seed, deals=args.deals, plan=args.plan, host=args.host, port=args.port,
                          page_size=args.page_size, costs=costs, rest_v3=not args.no_rest_v3,
                          operating_time=not args.no_operating_time)
    except (ValueError, FaultError) as exc:
        print(f"b24x sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        sandbox.start()
    except OSError as exc:
        print(f"b24x sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for fault in faults:
        sandbox.faults.add_fault(fault)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"WEBHOOK {sandbox.webhook_url}", flush=True)
        app = sandbox.portal.oauth.app
        print(f"OAUTH client_id={app.client_id} client_secret={app.client_secret} "
              f"server={sandbox.base_url}/oauth/token/", flush=True)
        print(f"b24x sandbox: {args.deals} deals, seed {args.seed}, plan {args.plan}; control API at "
              f"{sandbox.control_url}; Ctrl+C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
