"""`b24x events`: bind and unbind a portal's events, pull its offline-event queue, listen for online handlers.

Offline events (`event.bind` with `event_type=offline`, `event.offline.get/list`) work in an application's context
only: `bind`, `unbind` and `pull` need a saved app connection (`--profile NAME`); a webhook gets the portal's
own error. `listen` needs no connection: it serves the handler URL and shows each incoming event with its `auth`
block masked, checked against the app's application token when `B24X_APPLICATION_TOKEN` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from ..core.errors import SdkError
from ..core.event_catalog import is_event_name
from ..core.events import EventsService, OfflineEvent
from ..core.events_listener import EventListener, OnlineEvent, Verdict
from .base import BadInput, Environment, ExitStatus, error_object
from .parsing import add_command, add_connection_options, check_timeout
from .target import Target, resolve, workspace_of

APPLICATION_TOKEN_ENV = "B24X_APPLICATION_TOKEN"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, "events", _no_action, help="bind events, pull the offline queue, listen for online events",
        description="A portal's events for an application connection: bind and unbind them as offline events, "
        "pull the queue (event.offline.get clears what it reads; --keep reads with event.offline.list), or "
        "listen on a local port for online handlers.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    bind = actions.add_parser("bind", help="bind events (offline by default)",
                              description="Bind events for the app connection: offline (queued on the portal, "
                              "read with `b24x events pull`) or online to a handler URL.")
    _add_binding_options(bind)
    bind.set_defaults(handler=_bind)

    unbind = actions.add_parser("unbind", help="unbind events", description="Unbind the app's offline (or, with "
                                "--handler, online) bindings of the events.")
    _add_binding_options(unbind)
    unbind.set_defaults(handler=_unbind)

    pull = actions.add_parser("pull", help="print the offline queue's records",
                              description="Print the offline queue's records, newest first, and clear them "
                              "(event.offline.get); --keep reads without removing (event.offline.list).")
    add_connection_options(pull)
    pull.add_argument("--keep", action="store_true", help="read without clearing (event.offline.list)")
    pull.add_argument("--json", action="store_true", help="one JSON object per line")
    pull.add_argument("--limit", type=int, default=50, help="at most N records taken (default 50; not with --keep)")
    pull.set_defaults(handler=_pull)

    listen = actions.add_parser("listen", help="serve a handler URL for online events",
                                description="Listen for online events (event.bind with a handler URL) until "
                                "Ctrl+C; each event is printed with its auth block masked. Set "
                                f"${APPLICATION_TOKEN_ENV} to the app's application token to check each event's "
                                "token (a mismatch is refused with 403).")
    listen.add_argument("--port", type=int, required=True, help="the local port (0: any free port)")
    listen.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1; a portal in the network needs this "
                             "machine's address)")
    listen.add_argument("--json", action="store_true", help="one JSON object per line (the masked payload)")
    listen.add_argument("--count", type=int, default=0, help="stop after N events (default: until Ctrl+C)")
    listen.set_defaults(handler=_listen)
    return parser


def _add_binding_options(parser: argparse.ArgumentParser) -> None:
    add_connection_options(parser)
    parser.add_argument("events", nargs="+", metavar="EVENT", help="event names, e.g. ONCRMDEALADD")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--offline", action="store_true", default=True, help="offline events (the default)")
    kind.add_argument("--handler", dest="handler_url", default="", metavar="URL",
                      help="an online handler URL instead")


async def _no_action(args: argparse.Namespace, env: Environment) -> ExitStatus:
    raise BadInput("name an action: bind, unbind, pull or listen (see b24x events --help)")


def _check_names(names: list[str]) -> list[str]:
    cleaned = [n.strip().upper() for n in names]
    bad = [n for n in cleaned if not is_event_name(n)]
    if bad:
        raise BadInput(f"not an event name: {bad[0]!r} (event names are like ONCRMDEALADD)")
    return cleaned


async def _with_service(args: argparse.Namespace, env: Environment, what: str, work: Any) -> ExitStatus:
    """Resolve the connection, run `work(service)` on its client; an error answer is printed as the one error
    shape and exits 1."""
    check_timeout(args)
    if not getattr(args, "profile", None) and not getattr(args, "webhook", None):
        raise BadInput("events need an application connection: pass --profile NAME")
    async with workspace_of(env) as workspace:
        target: Target = await resolve(workspace, args, env)
        try:
            async with target.new_client() as client:
                await work(EventsService(client))
        except SdkError as exc:
            env.dump(error_object(exc), indent=None)
            env.say(f"b24x events {what}: {exc.code}: {exc.message}")
            if exc.code in ("WRONG_AUTH_TYPE", "ACCESS_DENIED", "INSUFFICIENT_SCOPE", "ERROR_METHOD_NOT_FOUND") or (
                    "application" in exc.message.lower()):
                env.say("b24x events: offline events need an application (OAuth) connection of an administrator")
            return ExitStatus.ERROR
    return ExitStatus.SUCCESS


async def _bind(args: argparse.Namespace, env: Environment) -> ExitStatus:
    names = _check_names(args.events)

    async def work(service: EventsService) -> None:
        for outcome in await service.bind(names, offline=not args.handler_url, handler=args.handler_url):
            env.say(f"{outcome.event}: {'bound' if outcome.bound else outcome.note}")

    return await _with_service(args, env, "bind", work)


async def _unbind(args: argparse.Namespace, env: Environment) -> ExitStatus:
    names = _check_names(args.events)

    async def work(service: EventsService) -> None:
        counts = await service.unbind(names, offline=not args.handler_url, handler=args.handler_url)
        for name, count in counts.items():
            env.say(f"{name}: {count} binding{'s' if count != 1 else ''} removed")

    return await _with_service(args, env, "unbind", work)


async def _pull(args: argparse.Namespace, env: Environment) -> ExitStatus:
    if not 1 <= args.limit <= 1000:
        raise BadInput("--limit must be between 1 and 1000")

    async def work(service: EventsService) -> None:
        pull = await service.pull(keep=args.keep, limit=args.limit)
        for record in pull.records:
            if args.json:
                env.dump(record_json(record), indent=None)
            else:
                env.stdout.write(record_line(record) + "\n")
        env.stdout.flush()
        kept = "kept in the queue" if args.keep else "cleared from the queue"
        env.say(f"{len(pull.records)} record{'s' if len(pull.records) != 1 else ''} {kept}")

    return await _with_service(args, env, "pull", work)


def record_json(record: OfflineEvent) -> dict[str, Any]:
    """A record as `--json` prints it: its fields and the event's data (offline records carry no tokens)."""
    return {**record.to_dict(), "data": record.data}


def record_line(record: OfflineEvent) -> str:
    when = record.time.isoformat() if record.time else "-"
    return f"{when}  {record.event:<24} {record.object_id if record.object_id is not None else '-':>8}  " \
           f"{record.message_id}"


async def _listen(args: argparse.Namespace, env: Environment) -> ExitStatus:
    if not 0 <= args.port <= 65535:
        raise BadInput("--port must be between 0 and 65535")
    if args.count < 0:
        raise BadInput("--count must not be negative")
    token = env.environ.get(APPLICATION_TOKEN_ENV, "").strip() or None
    done = asyncio.Event()
    seen = 0

    def show(event: OnlineEvent) -> None:
        nonlocal seen
        seen += 1
        if args.json:
            env.dump(event.to_dict(), indent=None)
        else:
            env.stdout.write(f"{event.event:<24} {event.object_id if event.object_id is not None else '-':>8}  "
                             f"{event.verdict}  {json.dumps(event.payload, ensure_ascii=False)}\n")
            env.stdout.flush()
        if args.count and seen >= args.count:
            done.set()

    listener = EventListener(show, application_token=token, host=args.host, port=args.port)
    try:
        await listener.start()
    except SdkError as exc:
        raise BadInput(exc.message) from None
    try:
        env.say(f"listening for events at {listener.handler_url} "
                f"({'checking' if token else 'not checking'} the application token; Ctrl+C to stop)")
        await done.wait()
    finally:
        await listener.close()
    refused = sum(1 for e in listener.received if e.verdict is Verdict.REFUSED)
    env.say(f"{seen} event{'s' if seen != 1 else ''} received" + (f", {refused} refused" if refused else ""))
    return ExitStatus.SUCCESS
