"""`b24x list METHOD`: every item of a list method, streamed to stdout as NDJSON as the pages arrive."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ..core.errors import SdkError
from ..core.lists import ListProgress
from .base import BadInput, Environment, ExitStatus, error_object
from .check import add_check_option, run_check
from .parsing import add_command, add_connection_options, add_request_options, check_timeout, read_params
from .target import Target, resolve, workspace_of


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "list", run, help="fetch every item of a list method, streamed as NDJSON",
        description="Fetch every item of a list method through the chained fast path (start=-1, ID cursor "
        "inside a batch). Items stream to stdout as NDJSON as pages arrive (an error ends the stream as its last "
        "line); a summary `requests=N items=M` goes to stderr.")
    add_connection_options(parser)
    parser.add_argument("method", help="a list method, e.g. crm.deal.list")
    parser.add_argument("--params", default=None, metavar="JSON|@file", help="filter/select params")
    add_request_options(parser, request_id_help="the bx24_request_id of every page")
    parser.add_argument("--id-key", default=None, help="the item's id field (default ID on v2, id on v3)")
    parser.add_argument("--cursor-id-key", default=None, help="the field the cursor filters on (default: id key)")
    parser.add_argument("--result-key", default=None, help="items sit under result[KEY] (e.g. items, tasks)")
    add_check_option(parser)
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    params = read_params(args.params, env, allow_list=False)
    check_timeout(args)
    options = {key: value for key, value in (("id_key", args.id_key), ("cursor_id_key", args.cursor_id_key),
                                             ("result_key", args.result_key)) if value}
    async with workspace_of(env) as workspace:
        if args.check:
            return await run_check(workspace, args, env, args.method, params, args.api)
        target = await resolve(workspace, args, env)
        return await fetch(target, args.method, params, args.api, args.request_id, options, args, env)


async def fetch(target: Target, method: str, params: dict[str, Any], api: int, request_id: str | None,
                options: dict[str, str], args: argparse.Namespace, env: Environment) -> ExitStatus:
    outcome = target.outcome("list", method, api, params, request_id)
    progress: list[ListProgress] = []
    items = 0
    status = ExitStatus.SUCCESS
    started = time.monotonic()
    out = env.stdout
    client = target.new_client()
    try:
        async with client:
            pages = client.fetch_list(method, params, api=api, progress=progress.append, request_id=request_id,
                                      **options)
            async for page in pages:
                for item in page:
                    out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str))
                    out.write("\n")
                items += len(page)
                out.flush()
    except SdkError as exc:
        outcome.failed(exc, time.monotonic() - started)
        original = exc.original_error
        shown = original if isinstance(original, SdkError) else exc
        if exc.status == 400 and exc.code.startswith("JSSDK_INVALID") and not items:
            raise BadInput(f"{shown.code}: {shown.message}") from None
        env.dump(error_object(shown), indent=None)
        env.say(f"b24x list: {shown.code}: {shown.message}")
        status = ExitStatus.ERROR
    requests = progress[-1].requests if progress else client.requests_sent
    elapsed = time.monotonic() - started
    await target.record(outcome.listed(items, requests, elapsed), args, env)
    env.say(f"requests={requests} items={items}")
    return status
