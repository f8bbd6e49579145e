"""The command line's parsing, in one place: the parser of `b24x`, the options shared by the commands that send
requests, and the readers of what those options carry (JSON inline or from a file, batch commands).

Each command module adds its own subparser with :func:`add_command` and the shared pieces here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from ..core.batch_input import BatchInputError, split_batch
from .base import BadInput, Environment, ExitStatus

WEBHOOK_ENV = "B24X_WEBHOOK"


class Command(Protocol):
    """A `b24x` subcommand module: it adds its subparser (with ``handler`` set by :func:`add_command`)."""

    def add_parser(self, subparsers: Any) -> argparse.ArgumentParser: ...


def build_parser(commands: list[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="b24x", description="Bitrix24 REST explorer on the command line.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        command.add_parser(subparsers)
    return parser


Handler = Callable[[argparse.Namespace, Environment], Awaitable[ExitStatus]]
"""A command: runs on the asyncio loop of :func:`b24explorer.cli.program`."""


def add_command(subparsers: Any, name: str, handler: Handler, *, help: str,
                description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def add_connection_options(parser: argparse.ArgumentParser, *, plans: tuple[str, ...] = (
        "standard", "enterprise", "unlimited")) -> None:
    """Where requests go (--profile, --webhook, the environment), their timeout, limits and history."""
    parser.add_argument("--webhook", default=None, metavar="URL",
                        help=f"the incoming webhook URL (better: set ${WEBHOOK_ENV}, which keeps it out of shell "
                             "history)")
    parser.add_argument("--profile", default=None, metavar="NAME",
                        help="a saved connection, by name or id (webhook from the keyring)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request (default 30)")
    parser.add_argument("--plan", default=None, choices=plans,
                        help="client-side rate limits (default: the profile's, else standard)")
    parser.add_argument("--no-history", action="store_true", help="do not record this request in the history")


def add_request_options(parser: argparse.ArgumentParser, *, request_id_help: str = "the bx24_request_id to send"
                        ) -> None:
    parser.add_argument("--api", type=int, choices=(2, 3), default=2, help="REST version (default 2)")
    parser.add_argument("--request-id", default=None, metavar="ID", help=request_id_help)


def check_timeout(args: argparse.Namespace) -> None:
    if not args.timeout > 0:
        raise BadInput("--timeout must be a positive number of seconds")


def read_json_arg(value: str | None, what: str, env: Environment, default: Any = None) -> Any:
    """Inline JSON or ``@file`` (``@-`` reads stdin). Bad JSON names the line and column."""
    if value is None or not value.strip():
        return default
    text = value
    if value.startswith("@"):
        name = value[1:]
        try:
            text = env.stdin.read() if name == "-" else Path(name).expanduser().read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(f"{what} file {Path(name).name}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read {what} file {Path(name).name!r}: {type(exc).__name__}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def read_params(value: str | None, env: Environment, *, allow_list: bool = True) -> Any:
    """The params of a request: a JSON object (or, for positional methods, an array)."""
    params = read_json_arg(value, "--params", env, default={})
    if not isinstance(params, dict) and not (allow_list and isinstance(params, list)):
        raise BadInput("--params must be a JSON object" + (" (or an array for positional methods)"
                                                           if allow_list else ""))
    return params


def read_batch(value: str | None, halt_flag: bool, env: Environment) -> tuple[Any, bool]:
    """Batch commands from ``--cmd`` (see :func:`~b24explorer.core.batch_input.split_batch`) and the halt flag
    (``--no-halt`` wins over the wire form's)."""
    try:
        commands, halt = split_batch(read_json_arg(value, "--cmd", env))
    except BatchInputError as exc:
        raise BadInput(str(exc)) from None
    return commands, halt_flag if halt is None or not halt_flag else halt
