"""`b24x batch | list | history | export`: the explorer's power features on the command line.

Same core as the window: one `B24Client` per run, the same batch/list fast paths, the same history database
and the same code generators. Exit codes as everywhere in `b24x`: 0 success, 1 an API error, 2 bad input.
Log records go to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_BAD_INPUT = 2

WEBHOOK_ENV = "B24X_WEBHOOK"
EXPORT_FORMATS = ("curl", "python", "b24pysdk", "js", "php")


class BadInput(Exception):
    """The user's input is unusable; the message says why (and never echoes a secret)."""


# --------------------------------------------------------------------------------------------------------------
# Registration


def register(subparsers: Any) -> None:
    """Adds the power subcommands to `b24x`'s argparse subparsers."""
    batch = subparsers.add_parser(
        "batch",
        help="send up to 50 commands in one batch request",
        description="Send up to 50 commands in one `batch` request. --cmd takes a JSON map "
        '{"label": ["method", {params}]} or a list, inline or as @file; later commands may reference '
        "earlier results with $result[label][path].",
    )
    _add_connection_options(batch)
    batch.add_argument("--cmd", required=True, metavar="JSON|@file", help="the commands (map or list)")
    batch.add_argument("--no-halt", dest="halt", action="store_false", help="run every command even after an error")
    batch.add_argument("--api", type=int, choices=(2, 3), default=2, help="REST version (default 2)")
    batch.add_argument("--request-id", default=None, metavar="ID", help="the bx24_request_id to send")
    batch.set_defaults(func=dispatch, handler=run_batch)

    lst = subparsers.add_parser(
        "list",
        help="fetch every item of a list method, streamed as NDJSON",
        description="Fetch every item of a list method through the chained fast path (start=-1, ID cursor "
        "inside a batch). Items stream to stdout as NDJSON as pages arrive; a summary `requests=N items=M` "
        "goes to stderr.",
    )
    _add_connection_options(lst)
    lst.add_argument("method", help="a list method, e.g. crm.deal.list")
    lst.add_argument("--params", default=None, metavar="JSON|@file", help="filter/select params")
    lst.add_argument("--api", type=int, choices=(2, 3), default=2, help="REST version (default 2)")
    lst.add_argument("--request-id", default=None, metavar="ID", help="the bx24_request_id of every page")
    lst.add_argument("--id-key", default=None, help="the item's id field (default ID on v2, id on v3)")
    lst.add_argument("--cursor-id-key", default=None, help="the field the cursor filters on (default: id key)")
    lst.add_argument("--result-key", default=None, help="items sit under result[KEY] (e.g. items, tasks)")
    lst.set_defaults(func=dispatch, handler=run_list)

    hist = subparsers.add_parser(
        "history",
        help="search, show, re-send or delete recorded requests",
        description="The request history (newest first): search it (method, params text or error code), show "
        "one entry with its response, re-send it, delete it, or clear it. Saved requests are kept on --clear.",
    )
    _add_connection_options(hist)
    hist.add_argument("--search", default="", metavar="TEXT", help="text in the method, params or error code")
    hist.add_argument("--connection", default=None, help="only this connection")
    hist.add_argument("--errors", action="store_true", help="only failed requests")
    hist.add_argument("--limit", type=int, default=20, help="at most N entries (default 20)")
    hist.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    group = hist.add_mutually_exclusive_group()
    group.add_argument("--show", type=int, metavar="ID", help="print one entry with its params and response")
    group.add_argument("--resend", type=int, metavar="ID", help="send an entry again (needs a webhook)")
    group.add_argument("--delete", type=int, metavar="ID", help="delete one entry")
    group.add_argument("--clear", action="store_true", help="delete every entry (of --connection, if given)")
    group.add_argument("--saved", action="store_true", help="list the saved (named) requests per connection")
    hist.set_defaults(func=dispatch, handler=run_history)

    exp = subparsers.add_parser(
        "export",
        help="print a request (or a batch) as curl / Python / JavaScript / PHP code",
        description="Print a request as code. The webhook appears as a placeholder (the programs read it from "
        "$B24_WEBHOOK) unless --include-secret is given — then the code holds your secret: keep it out of "
        "shared places.",
    )
    exp.add_argument(
        "--as", dest="fmt", required=True, choices=EXPORT_FORMATS,
        help="curl, python (httpx), b24pysdk (Python SDK), js (b24jssdk), php (b24phpsdk)",
    )
    exp.add_argument("method", nargs="?", help="the method (or use --cmd for a batch, --from-history for an entry)")
    exp.add_argument("--params", default=None, metavar="JSON|@file")
    exp.add_argument("--cmd", default=None, metavar="JSON|@file", help="export a batch of these commands")
    exp.add_argument("--no-halt", dest="halt", action="store_false", help="(batch) run every command")
    exp.add_argument("--api", type=int, choices=(2, 3), default=2)
    exp.add_argument("--request-id", default=None, metavar="ID")
    exp.add_argument("--from-history", type=int, metavar="ID", help="export the request of a history entry")
    exp.add_argument("--include-secret", action="store_true", help="put the real webhook into the code")
    exp.add_argument("-o", "--output", default=None, metavar="FILE", help="write to FILE instead of stdout")
    exp.add_argument("--webhook", default=None, metavar="URL", help=f"the portal (or ${WEBHOOK_ENV})")
    exp.add_argument("--profile", default=None, metavar="NAME", help="a saved connection")
    exp.set_defaults(func=dispatch, handler=run_export)


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--webhook", default=None, metavar="URL",
        help=f"the incoming webhook URL (better: set ${WEBHOOK_ENV}, which keeps it out of shell history)",
    )
    parser.add_argument("--profile", default=None, metavar="NAME", help="a saved connection (webhook from the keyring)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request (default 30)")
    parser.add_argument("--plan", default=None, choices=("standard", "enterprise", "unlimited"),
                        help="client-side rate limits (default: the profile's, else standard)")
    parser.add_argument("--no-history", action="store_true", help="do not record this request in the history")


def dispatch(args: argparse.Namespace) -> int:
    """Runs a parsed power subcommand and maps failures to exit codes."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except BadInput as exc:
        _err(f"error: {exc}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


# --------------------------------------------------------------------------------------------------------------
# Shared input handling


def read_json_arg(value: str | None, what: str, default: Any = None) -> Any:
    """Inline JSON or `@file` (`@-` reads stdin)."""
    if value is None:
        return default
    text = value
    if value.startswith("@"):
        name = value[1:]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot read {what} file {name!r}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


def resolve_connection(args: argparse.Namespace, *, required: bool = True) -> tuple[Any, str]:
    """The webhook (a parsed `Webhook`) and the connection name, from --profile, --webhook or the environment."""
    from .core.errors import SdkError
    from .core.webhook import Webhook

    url: str | None = None
    name = "cli"
    if getattr(args, "profile", None):
        url, preset = webhook_from_profile(args.profile)
        args.limits_preset = preset
        name = args.profile
    elif getattr(args, "webhook", None):
        url = args.webhook
    elif os.environ.get(WEBHOOK_ENV, "").strip():
        url = os.environ[WEBHOOK_ENV]
    if not url:
        if required:
            raise BadInput(f"no webhook: pass --profile NAME, --webhook URL or set {WEBHOOK_ENV}")
        return None, name
    try:
        hook = Webhook.parse(url)
    except SdkError as exc:
        raise BadInput(exc.message) from None
    if name == "cli":
        name = saved_name_for(hook) or hook.host or "cli"
    return hook, name


def saved_name_for(hook: Any) -> str | None:
    """The saved connection with this portal and user, so CLI history lines up with the window's."""
    try:
        from .core.settings import SettingsStore

        for profile in SettingsStore().load().connections:
            if profile.portal == hook.portal and profile.user_id == hook.user_id:
                return str(profile.name)
    except Exception:  # settings are a nicety here; the command works without them
        return None
    return None


def webhook_from_profile(name: str) -> tuple[str, str]:
    """The webhook URL of a saved connection (read from the keyring) and its rate-limit preset."""
    from .core.settings import SettingsStore
    from .core.vault import VaultError, read_webhook

    store = SettingsStore()
    settings = store.load()
    profile = settings.connection(name)
    if profile is None:
        known = ", ".join(sorted(c.name for c in settings.connections)) or "none saved yet"
        raise BadInput(f"no saved connection named {name!r} (known: {known})")
    try:
        return read_webhook(profile.keyring_ref), profile.limits
    except VaultError as exc:
        raise BadInput(f"the webhook of {name!r} could not be read from the keyring: {exc}") from None


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _log_to_stderr(record: Any) -> None:
    from .core.logbus import Level

    if record.level >= Level.INFO:
        _err(record.format_line())


def _preset(args: argparse.Namespace) -> str | None:
    return getattr(args, "plan", None) or getattr(args, "limits_preset", None)


def _make_client(hook: Any, timeout: float, preset: str | None = None) -> Any:
    from .core.client import B24Client
    from .core.limits import LimitsConfig
    from .core.logbus import LogBus

    bus = LogBus()
    bus.subscribe(_log_to_stderr)
    limits = getattr(LimitsConfig, preset)() if preset in ("standard", "enterprise", "unlimited") else None
    return B24Client(hook, timeout=timeout, log=bus, limits=limits)


def _dump(obj: Any, out: TextIO, *, indent: int | None = 2) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, indent=indent, default=str))
    out.write("\n")
    out.flush()


# --------------------------------------------------------------------------------------------------------------
# batch


def parse_batch_commands(value: Any) -> tuple[Any, bool | None]:
    """Accepts a map or list of commands, or the wire form {"cmd": …, "halt": …}; returns (commands, halt)."""
    halt = None
    if isinstance(value, dict) and "cmd" in value and set(value) <= {"cmd", "halt"}:
        halt = bool(value.get("halt", True))
        value = value["cmd"]
    if not isinstance(value, dict | list):
        raise BadInput('batch commands must be a JSON object {"label": ["method", {params}]} or a list')
    if not value:
        raise BadInput("the batch has no commands")
    if len(value) > 50:
        raise BadInput(f"the batch has {len(value)} commands; a batch takes at most 50")
    return value, halt


def run_batch(args: argparse.Namespace) -> int:
    commands, wire_halt = parse_batch_commands(read_json_arg(args.cmd, "--cmd"))
    halt = args.halt if wire_halt is None or not args.halt else wire_halt
    hook, name = resolve_connection(args)
    return asyncio.run(_run_batch(hook, name, commands, halt, args.api, args))


async def _run_batch(hook: Any, name: str, commands: Any, halt: bool, api: int, args: argparse.Namespace) -> int:
    from .core.errors import AjaxError, SdkError
    from .core.result import BASE_ERROR

    client = _make_client(hook, args.timeout, _preset(args))
    wire = {"cmd": commands, "halt": halt}
    started = time.monotonic()
    try:
        async with client:
            result = await client.batch(commands, halt=halt, api=api,
                                        request_id=getattr(args, "request_id", None))
    except AjaxError as exc:
        if exc.status == 400 and exc.code.startswith("JSSDK_"):
            _err(f"error: {exc.code}: {exc.message}")
            return EXIT_BAD_INPUT
        _maybe_record(args, name, "batch", api, wire, kind="batch", hook=hook, status=exc.status or None,
                      duration=time.monotonic() - started, error_code=exc.code, request_id=exc.request_id or "")
        _dump({"error": exc.to_dict()}, sys.stdout)
        return EXIT_API_ERROR
    except SdkError as exc:
        _err(f"error: {exc.code}: {exc.message}")
        return EXIT_BAD_INPUT if exc.status == 400 else EXIT_API_ERROR
    res = result.response
    first_error = next(iter(result.errors.values()), None)
    _maybe_record(args, name, "batch", api, wire, kind="batch", hook=hook, status=res.status if res else None,
                  duration=res.elapsed if res else None, size=res.size if res else None,
                  error_code=first_error.code if first_error else None, response=res.raw if res else None,
                  request_id=result.request_id or "")
    base = result.errors.get(BASE_ERROR)
    if base is not None:
        _dump({"error": base.to_dict()}, sys.stdout)
        return EXIT_API_ERROR
    rows = batch_rows(result)
    _dump(rows_as_json(rows, keyed=result.labelled), sys.stdout)
    return EXIT_OK if result.is_success else EXIT_API_ERROR


def batch_rows(result: Any) -> list[dict[str, Any]]:
    """The per-command rows of a batch answer as plain dicts: label, method, result, error, total, next, time."""
    rows = []
    for row in result.rows:
        error = None
        if row.error is not None:
            error = {"error": row.error.code, "error_description": row.error.description}
        elif not row.executed:
            error = {"error": "NOT_RUN", "error_description": "not run: an earlier command failed and halt is on"}
        rows.append(
            {
                "label": str(row.key),
                "method": row.method,
                "result": row.result,
                "error": error,
                "total": row.total,
                "next": row.next,
                "time": row.time.to_dict() if row.time is not None else None,
            }
        )
    return rows


def rows_as_json(rows: list[dict[str, Any]], *, keyed: bool) -> Any:
    if keyed:
        return {row["label"]: {k: v for k, v in row.items() if k != "label"} for row in rows}
    return [{k: v for k, v in row.items() if k != "label"} for row in rows]


# --------------------------------------------------------------------------------------------------------------
# list


def run_list(args: argparse.Namespace) -> int:
    params = read_json_arg(args.params, "--params", default={})
    if not isinstance(params, dict):
        raise BadInput("--params must be a JSON object")
    hook, name = resolve_connection(args)
    options = {
        key: value
        for key, value in (
            ("id_key", args.id_key),
            ("cursor_id_key", args.cursor_id_key),
            ("result_key", args.result_key),
        )
        if value
    }
    return asyncio.run(_run_list(hook, name, args.method, params, args.api, options, args))


async def _run_list(hook: Any, name: str, method: str, params: dict[str, Any], api: int, options: dict[str, str],
                    args: argparse.Namespace) -> int:
    from .core.errors import SdkError

    progress: list[Any] = []
    items = 0
    client = _make_client(hook, args.timeout, _preset(args))
    out = sys.stdout
    code = EXIT_OK
    error_code: str | None = None
    started = time.monotonic()
    try:
        async with client:
            pages = client.fetch_list(method, params, api=api, progress=progress.append,
                                      request_id=getattr(args, "request_id", None), **options)
            async for page in pages:
                for item in page:
                    out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str))
                    out.write("\n")
                items += len(page)
                out.flush()
    except SdkError as exc:
        original = getattr(exc, "original_error", None)
        shown = original if isinstance(original, SdkError) else exc
        error_code = shown.code
        _err(f"error: {shown.code}: {shown.message}")
        code = EXIT_BAD_INPUT if exc.status == 400 and exc.code.startswith("JSSDK_INVALID") else EXIT_API_ERROR
    except BrokenPipeError:  # `b24x list … | head` is fine
        code = EXIT_OK
    requests = progress[-1].requests if progress else client.requests_sent
    elapsed = time.monotonic() - started
    summary = {"items": items, "requests": requests, "elapsed": round(elapsed, 3)}
    _maybe_record(args, name, method, api, params, kind="list", hook=hook, status=None if error_code else 200,
                  duration=elapsed, error_code=error_code, response=json.dumps(summary).encode(),
                  request_id=getattr(args, "request_id", None) or "")
    _err(f"requests={requests} items={items}")
    return code


# --------------------------------------------------------------------------------------------------------------
# history


def open_history() -> Any:
    """The history database the window uses, keeping as much of each body as its settings say."""
    from .core.history import DEFAULT_RESPONSE_CAP, HistoryStore

    cap = DEFAULT_RESPONSE_CAP
    try:
        from .core.settings import SettingsStore

        cap = int(SettingsStore().load().ui.history_response_cap)
    except Exception:  # unreadable settings: the default cap
        cap = DEFAULT_RESPONSE_CAP
    return HistoryStore(response_cap=cap)


def record_history(connection: str, method: str, api: int, params: Any, *, kind: str, hook: Any,
                   status: int | None = None, duration: float | None = None, size: int | None = None,
                   error_code: str | None = None, response: bytes | None = None, request_id: str = "") -> None:
    """Best effort: a history that cannot be written never fails the command itself."""
    try:
        store = open_history()
        try:
            store.record(connection=connection, kind=kind, method=method, api=api, params=params,
                         request_id=request_id or "", status=status, duration=duration, size=size,
                         error_code=error_code, response=response, secrets=(hook.secret,))
            for notice in store.notices:
                _err(f"notice: {notice}")
        finally:
            store.close()
    except Exception as exc:
        _err(f"warning: the request was not recorded in the history: {exc}")


def run_history(args: argparse.Namespace) -> int:
    store = open_history()
    try:
        for notice in store.notices:
            _err(f"notice: {notice}")
        if args.clear:
            count = store.clear(args.connection)
            _err(f"history cleared ({count} entries)")
            return EXIT_OK
        if args.delete is not None:
            if not store.delete(args.delete):
                raise BadInput(f"no history entry {args.delete}")
            _err(f"deleted entry {args.delete}")
            return EXIT_OK
        if args.show is not None:
            entry = store.get(args.show)
            if entry is None:
                raise BadInput(f"no history entry {args.show}")
            _dump(entry_as_json(entry, with_response=True), sys.stdout)
            return EXIT_OK
        if args.saved:
            for connection, items in store.saved_requests(args.connection).items():
                for saved in items:
                    if args.json:
                        _dump({"id": saved.id, "connection": connection, "name": saved.name,
                               "kind": saved.kind or None, "method": saved.method, "api": saved.api,
                               "params": json.loads(saved.params)},
                              sys.stdout, indent=None)
                    else:
                        print(f"{connection:<16.16}  {saved.name:<24.24}  v{saved.api}  {saved.method}", flush=True)
            return EXIT_OK
        if args.resend is not None:
            entry = store.get(args.resend)
            if entry is None:
                raise BadInput(f"no history entry {args.resend}")
            return resend_entry(args, entry)
        entries = store.search(args.search, connection=args.connection, errors_only=args.errors, limit=args.limit)
        for entry in entries:
            if args.json:
                _dump(entry_as_json(entry), sys.stdout, indent=None)
            else:
                print(entry_line(entry), flush=True)
        return EXIT_OK
    finally:
        store.close()


def resend_entry(args: argparse.Namespace, entry: Any) -> int:
    """Sends a history entry again (a call, a batch or a list-all, as it was recorded)."""
    params = entry.params_value()
    if entry.kind == "batch":
        body = params if isinstance(params, dict) else {}
        args.cmd = json.dumps(body.get("cmd", body))
        args.halt = bool(body.get("halt", True))
        args.api = entry.api
        return run_batch(args)
    if entry.kind == "list":
        args.method, args.params, args.api = entry.method, json.dumps(params), entry.api
        args.id_key = args.cursor_id_key = args.result_key = None
        return run_list(args)
    hook, name = resolve_connection(args)
    return asyncio.run(_run_call(hook, name, entry.method, params, entry.api, args.timeout, args))


async def _run_call(hook: Any, name: str, method: str, params: Any, api: int, request_timeout: float,
                    args: argparse.Namespace) -> int:
    from .core.errors import AjaxError

    client = _make_client(hook, request_timeout, _preset(args))
    started = time.monotonic()
    try:
        async with client:
            res = await client.call(method, params, api=api)
    except AjaxError as exc:
        _maybe_record(args, name, method, api, params, kind="call", hook=hook, status=exc.status or None,
                      duration=time.monotonic() - started, error_code=exc.code, request_id=exc.request_id or "")
        _dump({"error": exc.to_dict()}, sys.stdout)
        return EXIT_API_ERROR
    error_code = res.error.code if res.error is not None else None
    _maybe_record(args, name, method, api, params, kind="call", hook=hook, status=res.status, duration=res.elapsed,
                  size=res.size, error_code=error_code, response=res.raw, request_id=res.request_id or "")
    _dump(res.envelope(), sys.stdout)
    return EXIT_OK if res.is_success else EXIT_API_ERROR


def _maybe_record(args: argparse.Namespace, *a: Any, **kw: Any) -> None:
    if not getattr(args, "no_history", False):
        record_history(*a, **kw)


def entry_as_json(entry: Any, *, with_response: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry.id,
        "time": entry.when.isoformat(timespec="seconds"),
        "connection": entry.connection,
        "kind": entry.kind,
        "method": entry.method,
        "api": entry.api,
        "params": entry.params_value(),
        "request_id": entry.request_id,
        "status": entry.status,
        "duration": entry.duration,
        "size": entry.size,
        "error_code": entry.error_code,
    }
    if with_response:
        body = entry.response
        try:
            data["response"] = json.loads(body) if body else None
        except ValueError:
            data["response"] = body.decode("utf-8", "replace") if body else None
        data["response_truncated"] = entry.response_truncated
    return data


def entry_line(entry: Any) -> str:
    from .core.history import method_label

    status = entry.error_code or (str(entry.status) if entry.status is not None else "")
    duration = f"{entry.duration:.3f}s" if entry.duration is not None else ""
    method = method_label(entry.kind, entry.method, entry.params)
    return (
        f"{entry.id:>6}  {entry.when.astimezone().strftime('%Y-%m-%d %H:%M:%S')}  {entry.connection:<16.16}  "
        f"v{entry.api}  {method:<36}  {status:<24}  {duration}"
    )


# --------------------------------------------------------------------------------------------------------------
# export


@dataclass(frozen=True)
class _PlaceholderPortal:
    """Stands in for the webhook when none is given: the code then names a portal to replace."""

    portal: str = "https://your-portal.bitrix24.com"
    user_id: int = 1
    secret: str = ""


def run_export(args: argparse.Namespace) -> int:
    from .core import export as export_mod

    request: Any
    if args.from_history is not None:
        store = open_history()
        try:
            entry = store.get(args.from_history)
        finally:
            store.close()
        if entry is None:
            raise BadInput(f"no history entry {args.from_history}")
        params = entry.params_value()
        if entry.kind == "batch":
            body = params if isinstance(params, dict) else {}
            request = _batch_request(body.get("cmd", body), bool(body.get("halt", True)), entry.api, None)
        else:
            request = export_mod.CallRequest(entry.method, params, entry.api, entry.request_id or None)
    elif args.cmd is not None:
        commands, wire_halt = parse_batch_commands(read_json_arg(args.cmd, "--cmd"))
        halt = args.halt if wire_halt is None or not args.halt else wire_halt
        request = _batch_request(commands, halt, args.api, args.request_id)
    else:
        if not args.method:
            raise BadInput("name a method (or use --cmd JSON for a batch, --from-history ID for an entry)")
        params = read_json_arg(args.params, "--params", default={})
        request = export_mod.CallRequest(args.method, params, args.api, args.request_id)
    hook, _name = resolve_connection(args, required=args.include_secret)
    code = export_mod.export_code(args.fmt, hook or _PlaceholderPortal(), request,
                                  include_secret=bool(args.include_secret))
    if args.output:
        Path(args.output).write_text(code, encoding="utf-8")
        _err(f"written to {args.output}")
    else:
        sys.stdout.write(code)
        sys.stdout.flush()
    return EXIT_OK


def _batch_request(commands: Any, halt: bool, api: int, request_id: str | None) -> Any:
    from .core import export as export_mod
    from .core.errors import SdkError

    try:
        return export_mod.BatchRequest(commands, halt, api, request_id)
    except (SdkError, ValueError) as exc:
        raise BadInput(str(getattr(exc, "message", exc))) from None
