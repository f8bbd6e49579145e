"""`b24x export --as FORMAT`: a request (or a batch, or a history entry) as curl / Python / JavaScript / PHP."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import export as export_mod
from ..core.errors import SdkError
from .base import BadInput, Environment, ExitStatus
from .parsing import WEBHOOK_ENV, add_command, read_batch, read_params
from .target import resolve, workspace_of

FORMATS = ("curl", "python", "b24pysdk", "js", "php")


@dataclass(frozen=True)
class _PlaceholderPortal:
    """Stands in for the webhook when none is given: the code then names a portal to replace."""

    portal: str = "https://your-portal.bitrix24.com"
    user_id: int = 1
    secret: str = ""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "export", run, help="print a request (or a batch) as curl / Python / JavaScript / PHP code",
        description="Print a request as code. The webhook appears as a placeholder (the programs read it from "
        "$B24_WEBHOOK) unless --include-secret is given — then the code holds your secret: keep it out of "
        "shared places.")
    parser.add_argument("--as", dest="fmt", required=True, choices=FORMATS,
                        help="curl, python (httpx), b24pysdk (Python SDK), js (b24jssdk), php (b24phpsdk)")
    parser.add_argument("method", nargs="?",
                        help="the method (or use --cmd for a batch, --from-history for an entry)")
    parser.add_argument("--params", default=None, metavar="JSON|@file")
    parser.add_argument("--cmd", default=None, metavar="JSON|@file", help="export a batch of these commands")
    parser.add_argument("--no-halt", dest="halt", action="store_false", help="(batch) run every command")
    parser.add_argument("--api", type=int, choices=(2, 3), default=2)
    parser.add_argument("--request-id", default=None, metavar="ID")
    parser.add_argument("--from-history", type=int, metavar="ID", help="export the request of a history entry")
    parser.add_argument("--include-secret", action="store_true", help="put the real webhook into the code")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--webhook", default=None, metavar="URL", help=f"the portal (or ${WEBHOOK_ENV})")
    parser.add_argument("--profile", default=None, metavar="NAME", help="a saved connection")
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    async with workspace_of(env) as workspace:
        request: export_mod.Request
        if args.from_history is not None:
            entry = workspace.history.get(args.from_history)
            if entry is None:
                raise BadInput(f"no history entry {args.from_history}")
            params = entry.params_value()
            if entry.kind == "batch":
                body = params if isinstance(params, dict) else {}
                request = _batch_request(body.get("cmd", body), bool(body.get("halt", True)), entry.api, None)
            else:
                request = export_mod.CallRequest(entry.method, params, entry.api, entry.request_id or None)
        elif args.cmd is not None:
            commands, halt = read_batch(args.cmd, args.halt, env)
            request = _batch_request(commands, halt, args.api, args.request_id)
        else:
            if not args.method:
                raise BadInput("name a method (or use --cmd JSON for a batch, --from-history ID for an entry)")
            request = export_mod.CallRequest(args.method, read_params(args.params, env), args.api, args.request_id)
        hook: Any = _PlaceholderPortal()
        if args.include_secret or args.profile or args.webhook or env.environ.get(WEBHOOK_ENV, "").strip():
            hook = (await resolve(workspace, args, env)).export_subject
        code = export_mod.export_code(args.fmt, hook, request, include_secret=bool(args.include_secret))
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, code, encoding="utf-8")
        env.say(f"written to {args.output}")
    else:
        env.stdout.write(code)
        env.stdout.flush()
    return ExitStatus.SUCCESS


def _batch_request(commands: Any, halt: bool, api: int, request_id: str | None) -> export_mod.BatchRequest:
    try:
        return export_mod.BatchRequest(commands, halt, api, request_id)
    except SdkError as exc:
        raise BadInput(exc.message) from None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
