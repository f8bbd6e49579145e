"""`b24x call METHOD`: one REST call; the answer's envelope on stdout as JSON, the log on stderr (masked)."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from ..core.errors import AjaxError, SdkError
from .base import BadInput, Environment, ExitStatus, error_object
from .check import add_check_option, refuse_writes_on_read_only, run_check
from .parsing import (
    WEBHOOK_ENV,
    add_command,
    add_connection_options,
    add_request_options,
    check_timeout,
    read_params,
)
from .target import Target, resolve, workspace_of

if TYPE_CHECKING:
    from ..core.client import B24Client


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "call", run, help="call one REST method and print the answer as JSON",
        description="Call one REST method. The answer's envelope is printed to stdout as JSON, log records to "
        f"stderr. The webhook comes from --profile, --webhook or the {WEBHOOK_ENV} environment variable.")
    parser.add_argument("method", help="the method, e.g. crm.deal.list")
    parser.add_argument("--params", metavar="JSON|@file", help="params as a JSON object, or @path to a JSON file")
    add_request_options(parser, request_id_help="the bx24_request_id to send (default: a new UUIDv7)")
    parser.add_argument("--idempotency-key", metavar="KEY",
                        help="the Idempotency-Key of a v3 write (default: a new one; re-sends after a timeout reuse it)")
    add_connection_options(parser, plans=("standard", "enterprise", "unlimited", "batch_processing", "realtime"))
    parser.add_argument("-v", "--verbose", action="store_true", help="also print DEBUG log records")
    add_check_option(parser)
    # hidden: the same call N times through one client (soak runs; the limiter sees every call)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    params = read_params(args.params, env)
    check_timeout(args)
    async with workspace_of(env, verbose=args.verbose) as workspace:
        if args.check:
            return await run_check(workspace, args, env, args.method, params, args.api)
        target = await resolve(workspace, args, env)
        refuse_writes_on_read_only(target.connection, args.method, params, args.api)
        async with target.new_client() as client:
            worst = ExitStatus.SUCCESS
            for _ in range(max(1, args.repeat)):  # one client, so its rate limiter sees every call
                status = await call(target, client, args.method, params, args.api, args.request_id, args, env,
                                    idempotency_key=args.idempotency_key)
                if status is ExitStatus.BAD_INPUT:
                    return status
                worst = max(worst, status)
            return worst


async def call(target: Target, client: B24Client, method: str, params: Any, api: int, request_id: str | None,
               args: argparse.Namespace, env: Environment, *, idempotency_key: str | None = None) -> ExitStatus:
    """One call: the envelope (or the error) on stdout, recorded in the history."""
    outcome = target.outcome("call", method, api, params, request_id)
    started = time.monotonic()
    try:
        res = await client.call(method, params, api=api, request_id=request_id, idempotency_key=idempotency_key)
    except AjaxError as err:
        if err.code == "JSSDK_INVALID_PARAMS":
            raise BadInput(err.message) from None
        env.dump(error_object(err))
        await target.record(outcome.failed(err, time.monotonic() - started), args, env)
        return ExitStatus.ERROR
    except SdkError as err:  # the client refused the input (a bad method name …): nothing was sent
        raise BadInput(err.message) from None
    await target.record(outcome.answered(res, time.monotonic() - started), args, env)
    env.dump(res.envelope())
    replayed = f" · replayed (Idempotency-Key {res.idempotency_key})" if res.replayed else ""
    env.say(f"HTTP {res.status} · {res.elapsed * 1000:.0f} ms · {res.size} bytes · request id {res.request_id}"
            f"{replayed}")
    return ExitStatus.SUCCESS if res.is_success else ExitStatus.ERROR
