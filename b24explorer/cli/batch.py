"""`b24x batch --cmd JSON`: up to 50 commands in one request; the rows as JSON on stdout."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..core.errors import AjaxError, SdkError
from ..core.result import BASE_ERROR, BatchResult
from .base import BadInput, Environment, ExitStatus, error_object
from .check import add_check_option, refuse_writes_on_read_only, run_check
from .parsing import add_command, add_connection_options, add_request_options, check_timeout, read_batch
from .target import Target, resolve, workspace_of


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "batch", run, help="send up to 50 commands in one batch request",
        description="Send up to 50 commands in one `batch` request. --cmd takes a JSON map "
        '{"label": ["method", {params}]} or a list, inline or as @file; later commands may reference '
        "earlier results with $result[label][path].")
    add_connection_options(parser)
    parser.add_argument("--cmd", required=True, metavar="JSON|@file", help="the commands (map or list)")
    parser.add_argument("--no-halt", dest="halt", action="store_false", help="run every command even after an error")
    add_request_options(parser)
    add_check_option(parser)
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    commands, halt = read_batch(args.cmd, args.halt, env)
    check_timeout(args)
    async with workspace_of(env) as workspace:
        if args.check:
            return await run_check(workspace, args, env, "batch", {"cmd": commands}, args.api)
        target = await resolve(workspace, args, env)
        refuse_writes_on_read_only(target.connection, "batch", {"cmd": commands}, args.api)
        return await send(target, commands, halt, args.api, args.request_id, args, env)


async def send(target: Target, commands: Any, halt: bool, api: int, request_id: str | None,
               args: argparse.Namespace, env: Environment) -> ExitStatus:
    outcome = target.outcome("batch", "batch", api, {"cmd": commands, "halt": halt}, request_id)
    started = time.monotonic()
    try:
        async with target.new_client() as client:
            result = await client.batch(commands, halt=halt, api=api, request_id=request_id)
    except SdkError as exc:
        if exc.status == 400 and (exc.code.startswith("JSSDK_") or not isinstance(exc, AjaxError)):
            raise BadInput(f"{exc.code}: {exc.message}") from None
        env.dump(error_object(exc))
        if isinstance(exc, AjaxError):
            await target.record(outcome.failed(exc, time.monotonic() - started), args, env)
        return ExitStatus.ERROR
    await target.record(outcome.batch_answered(result, time.monotonic() - started), args, env)
    base = result.errors.get(BASE_ERROR)
    if base is not None:
        env.dump(error_object(base))
        return ExitStatus.ERROR
    env.dump(rows_as_json(batch_rows(result), keyed=result.labelled))
    return ExitStatus.SUCCESS if result.is_success else ExitStatus.ERROR


def batch_rows(result: BatchResult) -> list[dict[str, Any]]:
    """The per-command rows of a batch answer as plain dicts: label, method, result, error, total, next, time."""
    rows = []
    for row in result.rows:
        error = None
        if row.error is not None:
            error = {"error": row.error.code, "error_description": row.error.description}
        elif not row.executed:
            error = {"error": "NOT_RUN", "error_description": "not run: an earlier command failed and halt is on"}
        rows.append({"label": str(row.key), "method": row.method, "result": row.result, "error": error,
                     "total": row.total, "next": row.next,
                     "time": row.time.to_dict() if row.time is not None else None})
    return rows


def rows_as_json(rows: list[dict[str, Any]], *, keyed: bool) -> Any:
    if keyed:
        return {row["label"]: {k: v for k, v in row.items() if k != "label"} for row in rows}
    return [{k: v for k, v in row.items() if k != "label"} for row in rows]
