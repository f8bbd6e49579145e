"""`b24x history`: search, show, re-send, delete or clear the requests the window and the command line recorded."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.history import HistoryEntry, HistoryStore, SavedRequest, method_label
from ..core.workspace import Workspace
from . import batch, call, list_all
from .base import BadInput, Environment, ExitStatus
from .parsing import add_command, add_connection_options, check_timeout
from .target import resolve, workspace_of


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "history", run, help="search, show, re-send or delete recorded requests",
        description="The request history (newest first): search it (method, params text or error code), show "
        "one entry with its response, re-send it, delete it, or clear it. Saved requests are kept on --clear.")
    add_connection_options(parser)
    parser.add_argument("--search", default="", metavar="TEXT", help="text in the method, params or error code")
    parser.add_argument("--connection", default=None, help="only this connection (its name or id)")
    parser.add_argument("--errors", action="store_true", help="only failed requests")
    parser.add_argument("--limit", type=int, default=20, help="at most N entries (default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--show", type=int, metavar="ID", help="print one entry with its params and response")
    group.add_argument("--resend", type=int, metavar="ID", help="send an entry again (needs a webhook)")
    group.add_argument("--delete", type=int, metavar="ID", help="delete one entry")
    group.add_argument("--clear", action="store_true", help="delete every entry (of --connection, if given)")
    group.add_argument("--saved", action="store_true", help="list the saved (named) requests per connection")
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    async with workspace_of(env) as workspace:
        store = workspace.history
        for notice in await workspace.open_history():
            env.say(f"notice: {notice}")
        connection = _connection_key(workspace, args.connection)
        if args.clear:
            env.say(f"history cleared ({store.clear(connection)} entries)")
        elif args.delete is not None:
            if not store.delete(args.delete):
                raise BadInput(f"no history entry {args.delete}")
            env.say(f"deleted entry {args.delete}")
        elif args.show is not None:
            env.dump(entry_as_json(workspace, _entry(store, args.show), with_response=True))
        elif args.saved:
            _print_saved(workspace, store.saved_requests(connection), args.json, env)
        elif args.resend is not None:
            return await resend(workspace, _entry(store, args.resend), args, env)
        else:
            for entry in store.search(args.search, connection=connection, errors_only=args.errors,
                                      limit=args.limit):
                if args.json:
                    env.dump(entry_as_json(workspace, entry), indent=None)
                else:
                    print(entry_line(workspace, entry), file=env.stdout, flush=True)
        return ExitStatus.SUCCESS


def _connection_key(workspace: Workspace, given: str | None) -> str | None:
    """A saved connection's id for its name; anything else as given (a gone connection's name or id)."""
    if given is None:
        return None
    found = workspace.connections.get(given)
    return found.id if found is not None else given


def _entry(store: HistoryStore, entry_id: int) -> HistoryEntry:
    entry = store.get(entry_id)
    if entry is None:
        raise BadInput(f"no history entry {entry_id}")
    return entry


def connection_name(workspace: Workspace, row: HistoryEntry | SavedRequest) -> str:
    """The row's connection by its name now, else the name it was recorded under."""
    found = workspace.connections.get(row.connection) if row.connection else None
    return found.name if found is not None else (row.connection_name or row.connection)


def _print_saved(workspace: Workspace, groups: dict[str, list[SavedRequest]], as_json: bool,
                 env: Environment) -> None:
    for items in groups.values():
        for saved in items:
            name = connection_name(workspace, saved)
            if as_json:
                env.dump({"id": saved.id, "connection": name, "connection_id": saved.connection, "name": saved.name,
                          "kind": saved.kind or None, "method": saved.method, "api": saved.api,
                          "params": json.loads(saved.params)}, indent=None)
            else:
                print(f"{name:<16.16}  {saved.name:<24.24}  v{saved.api}  {saved.method}", file=env.stdout, flush=True)


async def resend(workspace: Workspace, entry: HistoryEntry, args: argparse.Namespace, env: Environment
                 ) -> ExitStatus:
    """Sends a history entry again (a call, a batch or a list-all, as it was recorded)."""
    check_timeout(args)
    target = await resolve(workspace, args, env)
    params = entry.params_value()
    if entry.kind == "batch":
        body = params if isinstance(params, dict) else {}
        return await batch.send(target, body.get("cmd", body), bool(body.get("halt", True)), entry.api, None, args,
                                env)
    if entry.kind == "list":
        return await list_all.fetch(target, entry.method, params if isinstance(params, dict) else {}, entry.api,
                                    None, {}, args, env)
    async with target.new_client() as client:
        return await call.call(target, client, entry.method, params, entry.api, None, args, env)


def entry_as_json(workspace: Workspace, entry: HistoryEntry, *, with_response: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry.id,
        "time": entry.when.isoformat(timespec="seconds"),
        "connection": connection_name(workspace, entry),
        "connection_id": entry.connection,
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


def entry_line(workspace: Workspace, entry: HistoryEntry) -> str:
    status = entry.error_code or (str(entry.status) if entry.status is not None else "")
    duration = f"{entry.duration:.3f}s" if entry.duration is not None else ""
    method = method_label(entry.kind, entry.method, entry.params)
    return (
        f"{entry.id:>6}  {entry.when.astimezone().strftime('%Y-%m-%d %H:%M:%S')}  "
        f"{connection_name(workspace, entry):<16.16}  v{entry.api}  {method:<36}  {status:<24}  {duration}"
    )
