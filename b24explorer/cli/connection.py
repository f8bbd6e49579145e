"""`b24x connection list | add | rename | read-only | remove`: the saved connections, without the window.

The webhook of ``add`` comes from the environment (``B24X_WEBHOOK``) or from stdin — never from an argument,
which would land in the shell's history. It goes to the OS keyring; settings keep only the connection's name,
portal, user and id.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..core.connections import LIMIT_PRESETS, Connection, ConnectionChangeError
from ..core.vault import VaultError
from ..core.workspace import Workspace
from .base import BadInput, Environment, ExitStatus
from .parsing import WEBHOOK_ENV, add_command
from .target import parse_webhook, workspace_of


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "connection", run, help="list, add, rename or remove saved connections",
        description="The saved connections the window shows. `add` reads the webhook from "
        f"${WEBHOOK_ENV} or, when that is not set, from stdin (never from an argument).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = actions.add_parser("list", help="the saved connections")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    add = actions.add_parser("add", help=f"save a connection (webhook from ${WEBHOOK_ENV} or stdin)")
    add.add_argument("name", help="its name")
    add.add_argument("--limits", default="standard", choices=LIMIT_PRESETS, help="client-side rate limits")
    add.add_argument("--read-only", action="store_true", help="refuse methods that may change data")
    rename = actions.add_parser("rename", help="give a connection a new name (its history stays with it)")
    rename.add_argument("connection", help="its name or id")
    rename.add_argument("new_name")
    read_only = actions.add_parser("read-only", help="refuse (on) or allow (off) methods that may change data")
    read_only.add_argument("connection", help="its name or id")
    read_only.add_argument("switch", choices=("on", "off"))
    remove = actions.add_parser("remove", help="forget a connection and delete its webhook from the keyring")
    remove.add_argument("connection", help="its name or id")
    return parser


async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    async with workspace_of(env) as workspace:
        try:
            if args.action == "list":
                _list(workspace, args.json, env)
            elif args.action == "add":
                conn = await workspace.connections.add(args.name, _webhook(env), args.limits)
                if args.read_only:
                    conn = workspace.connections.set_read_only(conn.id, True)
                env.say(f"saved {conn.name!r} ({conn.host}, user {conn.user_id}) as {conn.id}")
                print(conn.id, file=env.stdout, flush=True)
            elif args.action == "rename":
                conn = workspace.connections.rename(args.connection, args.new_name)
                env.say(f"renamed to {conn.name!r} ({conn.id})")
            elif args.action == "read-only":
                conn = workspace.connections.set_read_only(args.connection, args.switch == "on")
                env.say(f"{conn.name!r} is {'read-only' if conn.read_only else 'allowed to change data'}")
            else:
                conn = await workspace.connections.remove(args.connection)
                env.say(f"removed {conn.name!r} and its keyring entry")
        except ConnectionChangeError as exc:
            raise BadInput(str(exc)) from None
        except VaultError as exc:
            env.say(f"b24x connection: {exc.message} {exc.action}")
            return ExitStatus.ERROR
    return ExitStatus.SUCCESS


def _webhook(env: Environment) -> Any:
    url = env.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        if env.stdin.isatty():
            env.say(f"Paste the webhook URL (or set {WEBHOOK_ENV}), then press Enter:")
        url = env.stdin.readline().strip()
    if not url:
        raise BadInput(f"no webhook: set {WEBHOOK_ENV} or pass it on stdin")
    return parse_webhook(url)


def as_json(conn: Connection) -> dict[str, Any]:
    return {"id": conn.id, "name": conn.name, "portal": conn.portal, "user_id": conn.user_id,
            "limits": conn.limits, "auth": str(conn.auth), "read_only": conn.read_only}


def _list(workspace: Workspace, as_lines: bool, env: Environment) -> None:
    for conn in workspace.connections:
        if as_lines:
            env.dump(as_json(conn), indent=None)
        else:
            mode = "read-only" if conn.read_only else ""
            print(f"{conn.name:<24.24}  {conn.host:<32.32}  user {conn.user_id:<6}  {conn.limits:<10}  {mode:<9}  "
                  f"{conn.id}",
                  file=env.stdout, flush=True)
