"""`b24x call METHOD`: one REST call from the command line.

The response envelope goes to stdout as JSON, log records to stderr (masked). Exit 0 on success, 1 on an API
error, 2 on bad input (nothing is sent then). The webhook comes from --profile (a saved connection, read from
the keyring), --webhook or, to keep it out of the shell history, the B24X_WEBHOOK environment variable. Each
call is recorded in the history (masked) unless --no-history is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .core import AjaxError, B24Client, Level, LimitsConfig, LogBus, LogRecord, SdkError, Webhook

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_BAD_INPUT = 2
WEBHOOK_ENV = "B24X_WEBHOOK"


class BadInput(Exception):
    """Unusable input; the message says why and never echoes a secret."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "call",
        help="call one REST method and print the answer as JSON",
        description="Call one REST method. The answer's envelope is printed to stdout as JSON, log records to "
        f"stderr. The webhook comes from --webhook or the {WEBHOOK_ENV} environment variable.",
    )
    parser.add_argument("method", help="the method, e.g. crm.deal.list")
    parser.add_argument(
        "--params", metavar="JSON|@file", help="params as a JSON object, or @path to a JSON file"
    )
    parser.add_argument("--webhook", metavar="URL", help=f"the webhook URL (default: ${WEBHOOK_ENV})")
    parser.add_argument("--profile", metavar="NAME", help="a saved connection (webhook from the keyring)")
    parser.add_argument("--no-history", action="store_true", help="do not record this call in the history")
    parser.add_argument("--api", type=int, choices=(2, 3), default=2, help="REST version (default 2)")
    parser.add_argument(
        "--request-id", metavar="ID", help="the bx24_request_id to send (default: a new UUIDv7)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="the Idempotency-Key of a v3 write (default: a new one; re-sends after a timeout reuse it)",
    )
    parser.add_argument(
        "--plan",
        default=None,
        choices=("standard", "enterprise", "unlimited", "batch_processing", "realtime"),
        help="client-side limits preset (default: the profile's, else standard)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also print DEBUG log records")
    # hidden: the same call N times through one client (soak runs; the limiter sees every call)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)
    return parser


def load_params(value: str | None) -> Any:
    """The params object from inline JSON or @file. Bad JSON names the line and column."""
    if value is None or value.strip() == "":
        return {}
    source = "--params"
    text = value
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        source = f"params file {path.name}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(f"{source}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{source}: cannot read it ({type(exc).__name__})") from None
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(params, dict | list):
        raise BadInput(f"{source}: params must be a JSON object (or an array for positional methods)")
    return params


def resolve_webhook(value: str | None, environ: dict[str, str] | None = None) -> Webhook:
    env = os.environ if environ is None else environ
    url = value if value else env.get(WEBHOOK_ENV, "")
    if not url:
        raise BadInput(f"no webhook: pass --webhook URL or set {WEBHOOK_ENV}")
    try:
        return Webhook.parse(url)
    except SdkError as exc:
        raise BadInput(f"webhook: {exc.message}") from None


def _stderr_printer(stream: TextIO, verbose: bool) -> Any:
    floor = Level.DEBUG if verbose else Level.INFO

    def show(record: LogRecord) -> None:
        if record.level >= floor:
            print(record.format_line(), file=stream, flush=True)

    return show


def _dump(obj: Any, out: TextIO) -> None:
    json.dump(obj, out, ensure_ascii=False, indent=2, default=str)
    out.write("\n")
    out.flush()


async def call_once(
    hook: Webhook,
    method: str,
    params: Any,
    *,
    api: int,
    request_id: str | None,
    request_timeout: float,
    plan: str,
    verbose: bool,
    stdout: TextIO,
    stderr: TextIO,
    repeat: int = 1,
    record: Callable[..., None] | None = None,
    idempotency_key: str | None = None,
) -> int:
    bus = LogBus()
    bus.subscribe(_stderr_printer(stderr, verbose))
    worst = EXIT_OK
    async with B24Client(
        hook, timeout=request_timeout, limits=LimitsConfig.from_plan(plan), log=bus
    ) as client:
        for _ in range(max(1, repeat)):  # one client, so its rate limiter sees every call
            code = await _call_and_print(
                client, method, params, api, request_id, stdout, stderr, record, idempotency_key
            )
            if code == EXIT_BAD_INPUT:
                return code
            worst = max(worst, code)
    return worst


async def _call_and_print(
    client: B24Client,
    method: str,
    params: Any,
    api: int,
    request_id: str | None,
    stdout: TextIO,
    stderr: TextIO,
    record: Callable[..., None] | None = None,
    idempotency_key: str | None = None,
) -> int:
    try:
        res = await client.call(method, params, api=api, request_id=request_id, idempotency_key=idempotency_key)
    except AjaxError as err:
        _dump({"error": err.code, "error_description": err.message, **_meta(err)}, stdout)
        if err.code == "JSSDK_INVALID_PARAMS":
            return EXIT_BAD_INPUT
        if record is not None:
            record(status=err.status or None, error_code=err.code, request_id=err.request_id or "")
        return EXIT_API_ERROR
    except SdkError as err:
        print(f"b24x call: {err.message}", file=stderr)
        return EXIT_BAD_INPUT
    if record is not None:
        record(status=res.status, duration=res.elapsed, size=res.size, response=res.raw,
               error_code=None if res.is_success else (res.error.code if res.error else None),
               request_id=res.request_id or "")
    _dump(res.envelope(), stdout)
    replayed = f" · replayed (Idempotency-Key {res.idempotency_key})" if res.replayed else ""
    print(
        f"HTTP {res.status} · {res.elapsed * 1000:.0f} ms · {res.size} bytes · request id {res.request_id}"
        f"{replayed}",
        file=stderr,
    )
    return EXIT_OK if res.is_success else EXIT_API_ERROR


def _meta(err: AjaxError) -> dict[str, Any]:
    return {"status": err.status, "method": err.method, "request_id": err.request_id}


def run(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    errs = stderr or sys.stderr
    from . import cli_power  # the connection and history helpers shared with batch/list

    try:
        if getattr(args, "profile", None):
            hook, connection = cli_power.resolve_connection(args)
        else:
            hook = resolve_webhook(args.webhook)
            connection = cli_power.saved_name_for(hook) or hook.host or "cli"
        params = load_params(args.params)
        if not args.timeout > 0:
            raise BadInput("--timeout must be a positive number of seconds")
    except (BadInput, cli_power.BadInput) as exc:
        print(f"b24x call: {exc}", file=errs)
        return EXIT_BAD_INPUT
    plan = args.plan or getattr(args, "limits_preset", None) or "standard"

    def record(**outcome: Any) -> None:
        cli_power.record_history(connection, args.method, args.api, params, kind="call", hook=hook, **outcome)
    try:
        return asyncio.run(
            call_once(
                hook,
                args.method,
                params,
                api=args.api,
                request_id=args.request_id,
                request_timeout=args.timeout,
                plan=plan,
                verbose=args.verbose,
                stdout=out,
                stderr=errs,
                repeat=getattr(args, "repeat", 1),
                record=None if getattr(args, "no_history", False) else record,
                idempotency_key=getattr(args, "idempotency_key", None),
            )
        )
    except KeyboardInterrupt:
        print("b24x call: interrupted", file=errs)
        return 130
